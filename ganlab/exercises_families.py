"""Self-checks for the exercises of the notebook on GANs, VAEs and diffusion models.

``check(name, answer)`` prints ✓ or ✗ and why, like ``ganlab.exercises.check``; an unanswered exercise
(``None``, or a function that returns ``None``) prints a hint instead of failing, so nbval runs the notebook
with the exercises left open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from .diffusion import ddpm_step, linear_schedule
from .exercises import run_check
from .nets.denoisers import ToyDenoiser


def _ddpm_step(answer: Callable[..., Any]) -> tuple[bool, str]:
    """The learner's ``step(model, x_t, t, noise, schedule)`` against ``ganlab.diffusion.ddpm_step``."""
    schedule = linear_schedule(50, 1e-3, 0.2)
    torch.manual_seed(0)
    model = ToyDenoiser(2, 16, 50).double()
    g = torch.Generator().manual_seed(1)
    x_t = torch.randn(6, 2, generator=g, dtype=torch.float64)
    noise = torch.randn(6, 2, generator=g, dtype=torch.float64)
    for t in (49, 17, 1, 0):
        with torch.no_grad():
            got = answer(model, x_t.clone(), t, noise.clone(), schedule)
            want = ddpm_step(model, x_t, t, noise, schedule)
        if got is None:
            return False, "your function returned None; it should return x_{t-1}, a tensor shaped like x_t"
        got = torch.as_tensor(got, dtype=torch.float64)
        if got.shape != want.shape:
            return False, f"at t={t} you returned shape {tuple(got.shape)}; x_(t-1) has x_t's shape {tuple(want.shape)}"
        if not torch.allclose(got, want, rtol=1e-6, atol=1e-8):
            if t == 0:
                return False, ("right for t > 0 but not at t = 0: the last step returns the mean, adding no noise "
                               "(there is no x_{-1} to be uncertain about)")
            error = float((got - want).abs().max())
            return False, (f"at t={t} your x_(t-1) is off by up to {error:.3g}. The step is "
                           "(x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t + √β_t · noise, with ε_θ called on a (N,) "
                           "tensor of t's and ᾱ_t = schedule.alpha_bars[t]")
    return True, ("one reverse step: remove the predicted noise's share, rescale by 1/√α_t, add fresh noise of "
                  "variance β_t (none at t = 0); the package's ddpm_sample is this step T times")


def _kl_to_standard(answer: Callable[[float, float], float]) -> tuple[bool, str]:
    """KL(N(μ, v) ‖ N(0, 1)) for a mean μ and a *variance* v."""
    for mu, var in ((0.0, 1.0), (1.0, 1.0), (0.0, 0.25), (-2.0, 3.0)):
        got = answer(mu, var)
        want = 0.5 * (mu**2 + var - math.log(var) - 1)
        if got is None:
            return False, "your function returned None; it should return a number of nats"
        if not math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-12):
            return False, (f"for μ={mu}, v={var} you returned {float(got):.6g}, but ½(μ² + v − log v − 1) = "
                           f"{want:.6g}" + (" (did you pass the standard deviation where the variance goes?)"
                                            if math.isclose(float(got), 0.5 * (mu**2 + var**2 - 2 * math.log(var) - 1),
                                                            rel_tol=1e-9) else ""))
    return True, "½(μ² + v − log v − 1): zero only at μ = 0, v = 1; gaussian_kl sums it over the latent dimensions"


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "families.ddpm_step": _ddpm_step,
    "families.kl_to_standard": _kl_to_standard,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    return run_check(EXERCISES, name, answer)
