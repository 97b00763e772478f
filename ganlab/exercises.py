"""Self-checks for the notebooks' exercises: ``check(name, answer)`` says right or wrong, and why.

An unanswered exercise (``None``, or a function that returns ``None``) prints a hint instead of failing,
so the notebooks run under nbval with the exercises left open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def _smoothed_optimum(answer: Callable[[float], float]) -> tuple[bool, str]:
    for alpha in (1.0, 0.9, 0.7):
        got, want = answer(alpha), alpha / 2
        if got is None:
            return False, "your function returned None; it should return a number"
        if not math.isclose(got, want, abs_tol=1e-9):
            return False, (f"for real_label={alpha} you returned {got}, but D*(x) = α·p/(p + q) and p = q at the "
                           f"equilibrium, which gives {want}")
    return True, "D* = α/2: with 0.9 the balanced discriminator says 0.45, not ½"


def _optimal_logit(answer: Callable[[float], float]) -> tuple[bool, str]:
    for alpha in (0.9, 0.8, 0.99):
        got, want = answer(alpha), math.log(alpha / (1 - alpha))
        if got is None:
            return False, "your function returned None; it should return a number"
        if not math.isclose(got, want, rel_tol=1e-6):
            return False, (f"for real_label={alpha} you returned {got}; the BCE loss on real-only inputs is "
                           f"minimised where σ(logit) = α, i.e. logit = log(α/(1 − α)) = {want:.4f}")
    return True, "logit* = log(α/(1 − α)): 2.197 for α = 0.9, infinite for α = 1"


def _constant_discriminator(answer: Callable[[float], float]) -> tuple[bool, str]:
    for c in (0.5, 0.1, 0.9, 0.999):
        got, want = answer(c), math.log(c) + math.log1p(-c)
        if got is None:
            return False, "your function returned None; it should return V for D(x) = c"
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            return False, (f"for c={c} you returned {got}; with D ≡ c both expectations are constants: "
                           f"V = log c + log(1 − c) = {want:.6f}, whatever p_data and p_g are")
    return True, "V = log c + log(1 − c), largest at c = ½ where it is −log 4: a blind D gains nothing"


def _optimal_logit_gaussians(answer: Callable[..., Any]) -> tuple[bool, str]:
    import torch

    from . import theory, toy

    x = torch.linspace(-4, 4, 9, dtype=torch.float64)[:, None]
    for mu_data, mu_g, sigma in ((0.0, 1.0, 1.0), (-1.0, 2.0, 0.5), (0.5, 0.5, 2.0)):
        want = theory.optimal_logit(toy.gaussian(mu_data, sigma), toy.gaussian(mu_g, sigma))(x)
        got = answer(x[:, 0], mu_data, mu_g, sigma)
        if got is None:
            return False, "your function returned None; it should return the logit at each x"
        got = torch.as_tensor(got, dtype=torch.float64).reshape(-1)
        if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-9, atol=1e-9):
            return False, (f"for μ_data={mu_data}, μ_g={mu_g}, σ={sigma} you returned {got.tolist()[:3]}…, "
                           f"expected {want.tolist()[:3]}…; expand log p_data − log p_g: the x² terms cancel")
    return True, "log p_data − log p_g = (μ_data − μ_g)·x/σ² − (μ_data² − μ_g²)/(2σ²): D* is a logistic regression"


def _jsd_histogram(answer: Callable[[Any, Any], float]) -> tuple[bool, str]:
    from . import theory

    cases = (([1, 1, 0], [0, 2, 2]), ([5, 3, 2], [5, 3, 2]), ([1, 0], [0, 1]), ([0.2, 0.3, 0.5], [10, 10, 80]))
    for p, q in cases:
        got, want = answer(p, q), theory.js_divergence(p, q)
        if got is None:
            return False, "your function returned None; it should return the JSD in nats"
        if not math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-12):
            hint = "normalise the counts first" if p == [0.2, 0.3, 0.5] else "use 0·log 0 = 0 for empty bins"
            return False, f"for p={p}, q={q} you returned {got}, expected {want:.6f}; {hint}"
    return True, "JSD is finite even with empty bins (m > 0 wherever p or q is) and log 2 for disjoint ones"


def _kl_gaussians(answer: Callable[[float, float, float, float], float]) -> tuple[bool, str]:
    from . import theory, toy

    for m1, s1, m2, s2 in ((0.0, 1.0, 1.0, 1.0), (0.0, 0.5, 2.0, 3.0), (1.0, 2.0, -1.0, 0.7)):
        got, want = answer(m1, s1, m2, s2), theory.kl_divergence(toy.gaussian(m1, s1), toy.gaussian(m2, s2))
        if got is None:
            return False, "your function returned None; it should return KL in nats"
        if not math.isclose(float(got), want, rel_tol=1e-8, abs_tol=1e-10):
            return False, (f"KL(N({m1}, {s1}²) ‖ N({m2}, {s2}²)): you returned {got}, quadrature gives {want:.8f}; "
                           f"check the log(σ₂/σ₁) term and the 1/2")
    return True, "KL = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½, and it matches quadrature to 1e-8"


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "01.smoothed_optimum": _smoothed_optimum,
    "01.optimal_logit": _optimal_logit,
    "02.constant_discriminator": _constant_discriminator,
    "02.optimal_logit_gaussians": _optimal_logit_gaussians,
    "03.jsd_histogram": _jsd_histogram,
    "03.kl_gaussians": _kl_gaussians,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise named {name!r}; known: {sorted(EXERCISES)}")
    if answer is None:
        print(f"… {name}: not answered yet")
        return False
    ok, why = EXERCISES[name](answer)
    print(f"{'✓' if ok else '✗'} {name}: {why}")
    return ok
