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


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "01.smoothed_optimum": _smoothed_optimum,
    "01.optimal_logit": _optimal_logit,
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
