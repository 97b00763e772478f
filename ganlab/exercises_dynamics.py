"""Exercise checkers for the training-dynamics notebook (04): the learner writes code, we compare it with
``ganlab.dynamics`` and say what is wrong, not only that it is.

``check_dirac_field(dirac_field)`` checks a learner's Dirac-GAN vector field with R1,

    dirac_field(theta, psi, gamma) -> (v_theta, v_psi),    tensors of one shape, float64,

against ``DiracGAN(r1=gamma).vector_field`` on a grid of points, for several weights γ, through
``exercises.run_check``: an unanswered exercise (``None``, or the stub returning ``None``, which also gets a
hint) reads "not answered yet" instead of failing, so the notebook runs under nbval with the exercise left open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .dynamics import DiracGAN
from .exercises import run_check

Field = Callable[[Tensor, Tensor, float], tuple[Tensor, Tensor]]  # (θ, ψ, γ) ↦ (v_θ, v_ψ), same shapes
GAMMAS = (0.0, 0.3, 1.0)  # R1 weights tried: off, under-damped, critically damped (γ = 2 f'(0) = 1)
HINT = ("Hint: L(θ, ψ) = f(ψθ) + f(0) with f(t) = −log(1 + e^{−t}), so f'(t) = σ(−t). G descends L, "
        "D ascends L − γ/2·ψ²: v_θ = −∂L/∂θ, v_ψ = ∂L/∂ψ − γψ.")


def _grid() -> tuple[Tensor, Tensor]:
    """(θ, ψ) points (6, 7) in float64, away from 0 so that every sign mistake shows."""
    theta, psi = torch.meshgrid(torch.linspace(-2.0, 2.0, 7, dtype=torch.float64),
                                torch.linspace(-1.5, 1.5, 6, dtype=torch.float64), indexing="xy")
    return theta, psi


def _truth(theta: Tensor, psi: Tensor, gamma: float) -> tuple[Tensor, Tensor]:
    v_theta, v_psi = DiracGAN(r1=gamma).vector_field(theta.numpy(), psi.numpy())
    return torch.from_numpy(v_theta), torch.from_numpy(v_psi)


def _close(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 answers pass


def _diagnose(got: tuple[Tensor, Tensor], theta: Tensor, psi: Tensor, gamma: float) -> str:
    """Name the likely mistake behind a wrong field (γ is the weight it was wrong for)."""
    v_theta, v_psi = _truth(theta, psi, gamma)
    g_theta, g_psi = got
    slope = torch.sigmoid(-psi * theta)  # f'(ψθ)
    if _close(g_theta, -v_theta) and _close(g_psi, v_psi):
        return "v_θ has the wrong sign: G *descends* L, so v_θ = −∂L/∂θ = −ψ f'(ψθ)"
    if _close(g_theta, v_theta) and _close(g_psi, -v_psi):
        return "v_ψ has the wrong sign: D *ascends* its objective, so v_ψ = +∂L/∂ψ − γψ"
    if gamma > 0 and _close(g_theta, v_theta) and _close(g_psi, v_psi + gamma * psi):
        return f"R1 is missing (γ = {gamma}): D's objective loses γ/2·ψ², which adds −γψ to v_ψ"
    if gamma > 0 and _close(g_theta, v_theta) and _close(g_psi, v_psi + gamma * psi / 2):
        return "the derivative of γ/2·ψ² is γψ, not γψ/2"
    other = torch.sigmoid(psi * theta)  # σ(+t): the derivative of log σ taken as σ itself
    if _close(g_theta, -psi * other) or _close(g_psi, theta * other - gamma * psi):
        return "f'(t) = σ(−t) = 1/(1 + e^t) for f(t) = −log(1 + e^{−t}); you used σ(t)"
    if _close(g_theta, -psi / 2) or _close(g_psi, theta / 2 - gamma * psi):
        return "you used f'(0) = ½ everywhere (the linearisation at the equilibrium); use f'(ψθ) = σ(−ψθ)"
    i, j = 1, 2  # one point to show
    return (f"at θ = {theta[i, j].item():g}, ψ = {psi[i, j].item():g}, γ = {gamma} you returned "
            f"({g_theta[i, j].item():.4f}, {g_psi[i, j].item():.4f}), expected ({v_theta[i, j].item():.4f}, "
            f"{v_psi[i, j].item():.4f}); f'(ψθ) = {slope[i, j].item():.4f} there")


def _dirac_field(answer: Field) -> tuple[bool, str]:
    """(right?, why) for a learner's ``dirac_field`` on the grid, for every γ in ``GAMMAS``."""
    theta, psi = _grid()
    for gamma in GAMMAS:
        got = answer(theta.clone(), psi.clone(), gamma)
        if got is None or (isinstance(got, (tuple, list)) and any(g is None for g in got)):
            return False, f"your function returned None; it should return (v_theta, v_psi). {HINT}"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False, "return a pair of tensors (v_theta, v_psi)"
        got = tuple(torch.as_tensor(g, dtype=torch.float64) for g in got)
        if any(g.shape != theta.shape for g in got):
            return False, (f"for inputs of shape {tuple(theta.shape)} return two tensors of that shape, "
                           f"got {[tuple(g.shape) for g in got]} (compute elementwise, no sums)")
        if not all(_close(g, t) for g, t in zip(got, _truth(theta, psi, gamma))):
            return False, _diagnose(got, theta, psi, gamma)
    return True, (f"matches DiracGAN(r1=γ).vector_field for γ in {GAMMAS}. At (0, 0) its Jacobian is "
                  "[[0, −½], [½, −γ]]: R1 damps only ψ, and that is enough.")


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {"dirac_field": _dirac_field}


def check_dirac_field(answer: Field | None) -> bool:
    """Exercise checker: is ``answer(theta, psi, gamma)`` the Dirac-GAN vector field with R1 weight γ?

    ``theta`` and ``psi`` are float64 tensors of one shape (here (6, 7)); the answer must return
    ``(v_theta, v_psi)`` of that shape. Prints ✓ or ✗ with the reason (``exercises.run_check``); returns whether
    it is right.
    """
    return run_check(EXERCISES, "dirac_field", answer)
