"""Mode coverage on 2-D mixtures with known modes: the protocol of VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018).
"""

from __future__ import annotations

import math

import torch

from .inputs import ArrayLike, as_int, as_pair


def _nearest_mode(samples: ArrayLike, modes: ArrayLike) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(distance to the nearest mode (N,), its index (N,), number of modes M) for samples (N, d), modes (M, d)."""
    x, centres = as_pair(samples, modes, ("samples", "modes"))
    nearest_dist, nearest = torch.cdist(x, centres).min(1)
    return nearest_dist, nearest, centres.shape[0]


def mode_shares(samples: ArrayLike, modes: ArrayLike, radius: float) -> torch.Tensor:
    """Share of *all* samples (N, d) lying within ``radius`` of their nearest mode, per mode: (M,) float64.

    A looser, continuous view than ``mode_coverage``'s 3·std test, for watching where a generator's mass
    sits while it is still blurry (the shares sum to at most 1; the rest is far from every mode).
    """
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius={radius!r} must be a positive distance")
    nearest_dist, nearest, m = _nearest_mode(samples, modes)
    inside = nearest[nearest_dist < radius]
    return torch.bincount(inside, minlength=m).double() / len(nearest)


def mode_coverage(samples: ArrayLike, modes: ArrayLike, std: float, min_count: int = 1) -> dict[str, float]:
    """Captured modes, high-quality fraction and reverse KL of samples (N, d) against modes (M, d).

    Each sample goes to its nearest mode and is *high quality* if it lies within 3·std of it. A mode
    is *captured* when at least ``min_count`` high-quality samples fall on it. Returns
    {"modes": captured count, "high_quality": fraction of all samples,
     "reverse_kl": Σ_m p̂(m) log(p̂(m)·M)}, p̂ being the histogram of the high-quality samples over the
    M modes: the KL from it to the uniform law over modes (0 when spread evenly, log M when all on
    one mode; +inf when there is no high-quality sample at all).
    """
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std={std!r} must be a positive number: the standard deviation of each mode")
    min_count = as_int(min_count, "min_count", 1)
    nearest_dist, nearest, m = _nearest_mode(samples, modes)
    good = nearest_dist <= 3 * std
    counts = torch.bincount(nearest[good], minlength=m).double()  # (M,)
    total = counts.sum()
    if total == 0:
        reverse_kl = math.inf
    else:
        p = counts / total
        reverse_kl = float(torch.xlogy(p, p * m).sum())
    return {"modes": int((counts >= min_count).sum()), "high_quality": float(good.double().mean()),
            "reverse_kl": reverse_kl}
