"""Self-checks for the notebooks' exercises: ``check(name, answer)`` says right or wrong, and why.

An unanswered exercise (``None``, or a function that returns ``None``) prints a hint instead of failing,
so the notebooks run under nbval with the exercises left open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def _numbers(answer: Callable[..., Any], cases: Sequence[tuple[Any, ...]], want: Callable[..., float],
             returns: str, wrong: Callable[..., str], right: str, **tolerance: float) -> tuple[bool, str]:
    """The common checker: ``answer(*case)`` against ``want(*case)`` with ``math.isclose(**tolerance)``.

    ``returns`` says what the function should return (for a ``None`` answer); ``wrong(*case, got, want)``
    explains a wrong number; ``right`` is the remark for a correct answer.
    """
    for case in cases:
        got, expected = answer(*case), want(*case)
        if got is None:
            return False, f"your function returned None; it should return {returns}"
        if not math.isclose(float(got), expected, **tolerance):
            return False, wrong(*case, got, expected)
    return True, right


def _smoothed_optimum(answer: Callable[[float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(1.0,), (0.9,), (0.7,)], lambda alpha: alpha / 2, "a number",
                    lambda alpha, got, want: f"for real_label={alpha} you returned {got}, but D*(x) = α·p/(p + q) "
                                             f"and p = q at the equilibrium, which gives {want}",
                    "D* = α/2: with 0.9 the balanced discriminator says 0.45, not ½", rel_tol=1e-9, abs_tol=1e-9)


def _optimal_logit(answer: Callable[[float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(0.9,), (0.8,), (0.99,)], lambda alpha: math.log(alpha / (1 - alpha)), "a number",
                    lambda alpha, got, want: f"for real_label={alpha} you returned {got}; the BCE loss on real-only "
                                             f"inputs is minimised where σ(logit) = α, i.e. logit = log(α/(1 − α)) "
                                             f"= {want:.4f}",
                    "logit* = log(α/(1 − α)): 2.197 for α = 0.9, infinite for α = 1", rel_tol=1e-6)


def _constant_discriminator(answer: Callable[[float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(0.5,), (0.1,), (0.9,), (0.999,)], lambda c: math.log(c) + math.log1p(-c),
                    "V for D(x) = c",
                    lambda c, got, want: f"for c={c} you returned {got}; with D ≡ c both expectations are "
                                         f"constants: V = log c + log(1 − c) = {want:.6f}, whatever p_data and p_g are",
                    "V = log c + log(1 − c), largest at c = ½ where it is −log 4: a blind D gains nothing",
                    rel_tol=1e-9, abs_tol=1e-12)


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

    def wrong(p: list[float], q: list[float], got: float, want: float) -> str:
        hint = "normalise the counts first" if p == [0.2, 0.3, 0.5] else "use 0·log 0 = 0 for empty bins"
        return f"for p={p}, q={q} you returned {got}, expected {want:.6f}; {hint}"

    cases = [([1, 1, 0], [0, 2, 2]), ([5, 3, 2], [5, 3, 2]), ([1, 0], [0, 1]), ([0.2, 0.3, 0.5], [10, 10, 80])]
    return _numbers(answer, cases, theory.js_divergence, "the JSD in nats", wrong,
                    "JSD is finite even with empty bins (m > 0 wherever p or q is) and log 2 for disjoint ones",
                    rel_tol=1e-9, abs_tol=1e-12)


def _kl_gaussians(answer: Callable[[float, float, float, float], float]) -> tuple[bool, str]:
    from . import theory, toy

    return _numbers(answer, [(0.0, 1.0, 1.0, 1.0), (0.0, 0.5, 2.0, 3.0), (1.0, 2.0, -1.0, 0.7)],
                    lambda m1, s1, m2, s2: theory.kl_divergence(toy.gaussian(m1, s1), toy.gaussian(m2, s2)),
                    "KL in nats",
                    lambda m1, s1, m2, s2, got, want: f"KL(N({m1}, {s1}²) ‖ N({m2}, {s2}²)): you returned {got}, "
                                                      f"quadrature gives {want:.8f}; check the log(σ₂/σ₁) term and "
                                                      f"the 1/2",
                    "KL = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½, and it matches quadrature to 1e-8",
                    rel_tol=1e-8, abs_tol=1e-10)


def _projection_logit(answer: Callable[..., Any]) -> tuple[bool, str]:
    import torch

    g = torch.Generator().manual_seed(7)
    features, weight, embedding = (torch.randn(*shape, generator=g) for shape in ((6, 5), (5,), (3, 5)))
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    want = features @ weight + 0.25 + (embedding[labels] * features).sum(dim=1)
    got = answer(features, weight, 0.25, embedding, labels)
    if got is None:
        return False, "your function returned None; it should return the (N,) logits"
    got = torch.as_tensor(got, dtype=want.dtype).reshape(-1)
    if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-5, atol=1e-5):
        return False, ("not the projection logit: it is ψ(φ) + ⟨e_y, φ⟩ = φ·w + b + Σ_j embedding[y, j]·φ_j, "
                       "one class vector per sample, picked by its label")
    return True, "D(x, y) = ψ(φ(x)) + e_yᵀφ(x): the label only selects which vector φ(x) is projected on"


def _acgan_g_loss(answer: Callable[..., Any]) -> tuple[bool, str]:
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(3)
    logits, class_logits = torch.randn(8, generator=g), torch.randn(8, 4, generator=g)
    labels = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    want = F.softplus(-logits).mean() + F.cross_entropy(class_logits, labels)
    got = answer(logits, class_logits, labels)
    if got is None:
        return False, "your function returned None; it should return a scalar loss"
    got = torch.as_tensor(got, dtype=want.dtype)
    if not torch.allclose(got, want, rtol=1e-5, atol=1e-6):
        saturating = -F.softplus(logits).mean() + F.cross_entropy(class_logits, labels)
        hint = (" (that is the saturating adversarial term; use softplus(−logit))"
                if torch.allclose(got, saturating, rtol=1e-5, atol=1e-6) else "")
        return False, (f"you returned {float(got):.5f}, expected {float(want):.5f} = mean softplus(−logit) + "
                       f"cross-entropy(class logits, requested labels){hint}")
    return True, "G wants the source head to say 'real' and the class head to say the class it was asked for"


def _redrawn_share(answer: Callable[[float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(0.5,), (1.0,), (2.0,)], lambda psi: math.erfc(psi / math.sqrt(2)),  # 2(1 − Φ(ψ))
                    "a share in [0, 1]",
                    lambda psi, got, want: f"for ψ={psi} you returned {got}; an entry is redrawn when its first "
                                           f"draw has |z| > ψ, probability 2(1 − Φ(ψ)) = {want:.4f}",
                    "2(1 − Φ(ψ)): 62 % at ψ = 0.5, 32 % at ψ = 1, under 5 % at ψ = 2", rel_tol=1e-6)


def _fid_1d(answer: Callable[[float, float, float, float], float]) -> tuple[bool, str]:
    from .metrics import frechet_distance

    return _numbers(answer, [(1.0, 4.0, 3.0, 9.0), (0.0, 1.0, 0.0, 1.0), (2.0, 0.5, -1.0, 0.5), (0.0, 0.0, 0.0, 2.0)],
                    lambda m1, v1, m2, v2: frechet_distance([m1], [[v1]], [m2], [[v2]]), "the FID as a number",
                    lambda m1, v1, m2, v2, got, want: f"for N({m1}, {v1}) vs N({m2}, {v2}) you returned {got}, "
                                                      f"expected {want}; in 1-D the trace term is "
                                                      f"v1 + v2 − 2·√(v1·v2), and v are variances, not standard "
                                                      f"deviations",
                    "FID = (m1 − m2)² + (√v1 − √v2)²: zero only for equal Gaussians, the mean gap² for equal widths",
                    rel_tol=1e-9, abs_tol=1e-12)


def _mmd2_cubic(answer: Callable[[list[float], list[float]], float]) -> tuple[bool, str]:
    import torch

    from .metrics import mmd2_unbiased

    def want(x: list[float], y: list[float]) -> float:
        return mmd2_unbiased(*(torch.tensor(s, dtype=torch.float64)[:, None] for s in (x, y)))  # (m, 1), (n, 1)

    cases = [([0.0, 1.0], [1.0, 2.0]), ([0.5, -1.0, 2.0], [0.0, 0.3]), ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])]
    return _numbers(answer, cases, want, "the estimate as a number",
                    lambda x, y, got, want: f"for x={x}, y={y} you returned {got}, expected {want:.6f}; average k "
                                            f"over pairs i ≠ j within each set (m(m − 1) of them) and over all m·n "
                                            f"cross pairs",
                    "the i = j terms k(x, x) are not samples of k between two independent draws; leaving them out "
                    "makes the expectation exactly MMD² (9.5 for {0, 1} vs {1, 2})", rel_tol=1e-9, abs_tol=1e-12)


def _w1_sorted(answer: Callable[[Any, Any], float]) -> tuple[bool, str]:
    import numpy as np
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(0)
    cases = [(np.array([0.0, 1.0, 3.0]), np.array([2.0, 0.5, 1.0])),
             (rng.normal(size=200), rng.exponential(size=200) + 1.0)]
    return _numbers(answer, cases, wasserstein_distance, "W₁ as a number",
                    lambda x, y, got, want: f"for x={np.round(x[:3], 3).tolist()}…, y={np.round(y[:3], 3).tolist()}… "
                                            f"you returned {got}, expected {want:.6f}; sort both samples and average "
                                            f"|x₍ᵢ₎ − y₍ᵢ₎|",
                    "W₁ = mean |x₍ᵢ₎ − y₍ᵢ₎| over the sorted samples: the quantile coupling is optimal in 1-D",
                    rel_tol=1e-9, abs_tol=1e-12)


def _optimal_slope(answer: Callable[[float, float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(3.0, 10.0), (1.0, 100.0), (0.5, 0.25)], lambda mu, lam: 1.0 + mu / (2.0 * lam),
                    "the slope s",
                    lambda mu, lam, got, want: f"for μ={mu}, λ={lam} you returned {got}; E_P f − E_Q f = μs, so "
                                               f"maximise μs − λ(s − 1)²: the derivative μ − 2λ(s − 1) vanishes at "
                                               f"{want:.4f}",
                    "s* = 1 + μ/(2λ): a soft penalty lets the critic overshoot slope 1 by μ/(2λ)", rel_tol=1e-9)


def _hq_ceiling(answer: Callable[[float], float]) -> tuple[bool, str]:
    return _numbers(answer, [(3.0,), (1.0,), (2.0,), (0.5,)], lambda c: -math.expm1(-c * c / 2), "a fraction in [0, 1]",
                    lambda c, got, want: f"for c={c} you returned {got}; in 2-D ‖x − μ‖²/σ² is χ² with 2 degrees of "
                                         f"freedom, an exponential of mean 2, so P(‖x − μ‖ ≤ cσ) = 1 − exp(−c²/2) "
                                         f"= {want:.6f}",
                    "1 − exp(−c²/2): 98.9 % at c = 3, so no generator scores 100 % high quality",
                    rel_tol=1e-9, abs_tol=1e-12)


def _reverse_kl_k_of_m(answer: Callable[[int, int], float]) -> tuple[bool, str]:
    return _numbers(answer, [(1, 8), (4, 8), (8, 8), (5, 25)], lambda k, m: math.log(m / k),
                    "the reverse KL in nats",
                    lambda k, m, got, want: f"for k={k}, m={m} you returned {got}; p̂ = 1/k on k modes, so "
                                            f"Σ p̂ log(p̂·M) = log(M/k) = {want:.6f}",
                    "log(M/k): each halving of the modes covered adds log 2 ≈ 0.69 nats", rel_tol=1e-9, abs_tol=1e-12)


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "01.smoothed_optimum": _smoothed_optimum,
    "01.optimal_logit": _optimal_logit,
    "02.constant_discriminator": _constant_discriminator,
    "02.optimal_logit_gaussians": _optimal_logit_gaussians,
    "03.jsd_histogram": _jsd_histogram,
    "03.kl_gaussians": _kl_gaussians,
    "05.hq_ceiling": _hq_ceiling,
    "05.reverse_kl_k_of_m": _reverse_kl_k_of_m,
    "06.w1_sorted": _w1_sorted,
    "06.optimal_slope": _optimal_slope,
    "08.projection_logit": _projection_logit,
    "08.acgan_g_loss": _acgan_g_loss,
    "08.redrawn_share": _redrawn_share,
    "09.fid_1d": _fid_1d,
    "09.mmd2_cubic": _mmd2_cubic,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    return run_check(EXERCISES, name, answer)


def run_check(exercises: dict[str, Callable[[Any], tuple[bool, str]]], name: str, answer: Any,
              stub_says: str | None = "returned None") -> bool:
    """Look ``name`` up in ``exercises`` and check ``answer``: prints ✓/✗ and the reason, or … when the answer is
    None (an exercise not attempted yet) or, for code exercises, when the failure's reason contains ``stub_says``
    (an untouched stub function: by default one that returns None). Every ``ganlab.exercises_*`` module's
    ``check`` goes through here."""
    if name not in exercises:
        raise ValueError(f"no exercise named {name!r}; known: {sorted(exercises)}")
    if answer is None:
        print(f"… {name}: not answered yet")
        return False
    ok, why = exercises[name](answer)
    if not ok and stub_says is not None and stub_says in why:
        print(f"… {name}: not answered yet ({why})")
        return False
    print(f"{'✓' if ok else '✗'} {name}: {why}")
    return ok
