"""Name the usual ways GAN training goes wrong, from the training history alone.

``diagnose(history)`` is a pure function of a ``Trainer.history``-like dict of per-step lists (d_loss,
g_loss, d_real, d_fake, d_grad_norm, g_grad_norm). It compares the last ``window`` steps with the
first ``window`` and returns a ``Finding`` for each pattern it sees, each with a one-line hint. The
dashboard prints them; a notebook can assert on them.

Patterns (thresholds are module constants, chosen on the course's runs and the synthetic histories
in tests/test_diagnostics.py):
    d_wins      D's loss has collapsed towards its floor while G's has grown (not for the WGAN: no floor)
    pinned      D(real) and D(fake) are held far apart: D tells every sample apart
    vanishing   G's gradient norm has collapsed while D rejects the fakes (the saturating loss's failure)
    exploding   a gradient norm has grown by orders of magnitude, or is not finite
    oscillating a loss swings back and forth with a period of several steps instead of settling
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

D_LOSS_DROP = 0.35  # D's loss below 35 % of its value at chance (label smoothing keeps BCE's floor at 0.33)
PINNED_GAP = 0.8  # D(real) − D(fake) above this on average: D separates everything
VANISH_FACTOR = 0.01  # G's gradient norm below 1 % of its early value
EXPLODE_FACTOR = 100.0  # a gradient norm 100× its early value
OSCILLATION_SCORE = -0.5  # oscillation_strength below this: a back-and-forth swing (noise stays above)
MIN_PERIOD = 8  # shortest oscillation period (steps) we call oscillation rather than noise
SMOOTH = 3  # moving-average width that removes step-to-step noise before looking for a period


@dataclass(frozen=True)
class Finding:
    """One failure pattern seen in a history: a short ``name``, what was seen and what to try."""

    name: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.message} — try: {self.hint}"


History = Mapping[str, Sequence[float]]


def _arrays(history: History, window: int) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """(early, late) windows of each statistic, or None while the history is too short to judge."""
    n = len(history.get("d_loss", ()))
    if n < 2 * window:
        return None
    arrays = {key: np.asarray(values, dtype=float) for key, values in history.items()}
    return {key: (x[:window], x[-window:]) for key, x in arrays.items()}


def chance_d_loss(loss: str) -> float:
    """D's loss when it outputs logit 0 for everything (cannot tell real from fake): 2 log 2 for BCE."""
    from .losses import get_objective

    zero = torch.zeros(1)
    return float(get_objective(loss).d_loss(zero, zero))


def _d_wins(h: dict[str, tuple[np.ndarray, np.ndarray]], loss: str) -> Finding | None:
    if loss == "wasserstein":
        return None
    (d_early, d_late), (g_early, g_late) = h["d_loss"], h["g_loss"]
    reference = max(float(np.mean(d_early)), chance_d_loss(loss))
    if np.mean(d_late) < D_LOSS_DROP * reference and np.mean(g_late) > np.mean(g_early) + 0.5 * np.std(g_early) + 1e-3:
        return Finding("d_wins", f"D's loss fell from {np.mean(d_early):.2f} to {np.mean(d_late):.2f} while "
                       f"G's grew from {np.mean(g_early):.2f} to {np.mean(g_late):.2f}",
                       "lower lr_d or raise lr_g, add R1 or instance noise, or give D fewer steps per G step")
    return None


def _pinned(h: dict[str, tuple[np.ndarray, np.ndarray]], loss: str) -> Finding | None:
    gap = np.mean(h["d_real"][1]) - np.mean(h["d_fake"][1])
    if gap > PINNED_GAP:
        return Finding("pinned", f"D(real) and D(fake) are pinned {gap:.2f} apart: D tells every sample apart",
                       "use the non-saturating loss, slow D down, or add instance noise or R1")
    return None


def _vanishing(h: dict[str, tuple[np.ndarray, np.ndarray]], loss: str) -> Finding | None:
    early, late = np.median(h["g_grad_norm"][0]), np.median(h["g_grad_norm"][1])
    if early > 0 and late < VANISH_FACTOR * early and np.mean(h["d_fake"][1]) < 0.1:
        return Finding("vanishing", f"G's gradient norm fell from {early:.2g} to {late:.2g} as D rejects the fakes",
                       "switch to the non-saturating loss (minimax saturates), or slow D down")
    return None


def _exploding(h: dict[str, tuple[np.ndarray, np.ndarray]], loss: str) -> Finding | None:
    for key, who in (("d_grad_norm", "D"), ("g_grad_norm", "G")):
        early, late = h[key]
        if not np.all(np.isfinite(late)):
            return Finding("exploding", f"{who}'s gradient norm is no longer finite",
                           "lower the learning rates, add a gradient penalty or spectral norm")
        base, now = np.median(early), np.median(late)
        if base > 0 and now > EXPLODE_FACTOR * base:
            return Finding("exploding", f"{who}'s gradient norm grew {now / base:.0f}× (to {now:.3g})",
                           "lower the learning rates, add a gradient penalty, R1 or spectral norm")
    return None


def oscillation_strength(values: Sequence[float], min_period: int = MIN_PERIOD) -> float:
    """How clearly a series swings back and forth: a number in [−1, 1], below −0.5 for a clear swing.

    The series is smoothed over ``SMOOTH`` steps and detrended; r(k) is its autocorrelation at lag k.
    A swing of period P has r(P/2) ≈ −1 and r(P) ≈ +1, so the score is the minimum over half-periods
    k ≥ min_period/2 of max(r(k), −r(2k)): it is strongly negative only when both hold. Smoothed white
    noise and random walks stay above −0.5 (checked on thousands of draws in the tests' spirit).
    Returns 0 for series shorter than 4·min_period, constant, or not finite.
    """
    x = np.asarray(values, dtype=float)
    if len(x) < 4 * min_period or not np.all(np.isfinite(x)):
        return 0.0
    x = np.convolve(x, np.ones(SMOOTH) / SMOOTH, mode="valid")
    t = np.arange(len(x))
    x = x - np.polyval(np.polyfit(t, x, 1), t)  # remove a linear drift: a trend is not an oscillation
    energy = float(np.dot(x, x))
    if energy < 1e-12 * len(x):
        return 0.0
    r = np.array([np.dot(x[:len(x) - k], x[k:]) / energy for k in range(len(x))])  # biased ACF, |r| ≤ 1
    half_periods = range(max(min_period // 2, SMOOTH + 1), len(x) // 2)
    return min((max(r[k], -r[2 * k]) for k in half_periods), default=0.0)


def _oscillating(h: dict[str, tuple[np.ndarray, np.ndarray]], loss: str) -> Finding | None:
    for key, who in (("g_loss", "G's"), ("d_loss", "D's")):
        if oscillation_strength(h[key][1]) < OSCILLATION_SCORE:
            return Finding("oscillating", f"{who} loss swings back and forth instead of settling",
                           "lower both learning rates or add R1, which damps the rotation (see the Dirac-GAN)")
    return None


DETECTORS: dict[str, Callable[[dict[str, tuple[np.ndarray, np.ndarray]], str], Finding | None]] = {
    "d_wins": _d_wins, "pinned": _pinned, "vanishing": _vanishing, "exploding": _exploding,
    "oscillating": _oscillating,
}


def diagnose(history: History, loss: str = "non_saturating", window: int = 100) -> list[Finding]:
    """Failure patterns visible in ``history`` (first vs last ``window`` steps); [] while too short to judge.

    ``loss``: the objective's name in ``ganlab.losses.LOSSES`` (the WGAN's loss has no floor at 0).
    """
    if window < 2 * MIN_PERIOD:
        raise ValueError(f"window={window} is too short to see an oscillation; use at least {2 * MIN_PERIOD}")
    h = _arrays(history, window)
    if h is None:
        return []
    return [f for detect in DETECTORS.values() if (f := detect(h, loss)) is not None]


def summary(findings: Sequence[Finding]) -> str:
    """One line for the dashboard: every finding with its hint, or that nothing looks wrong."""
    if not findings:
        return "No failure pattern in the recent steps."
    return " | ".join(str(f) for f in findings)
