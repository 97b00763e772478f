"""Mode coverage on 2-D mixtures with known modes: the protocol of VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018).
"""

from __future__ import annotations

import math

import torch

from .inputs import ArrayLike, as_pair


def mode_coverage(samples: ArrayLike, modes: ArrayLike, std: float, min_count: int = 1) -> dict[str, float]:
    """Captured modes, high-quality fraction and reverse KL of samples (N, d) against modes (M, d).

    Each sample goes to its nearest mode and is *high quality* if it lies within 3·std of it. A mode
    is *captured* when at least ``min_count`` high-quality samples fall on it. Returns
    {"modes": captured count, "high_quality": fraction of all samples,
     "reverse_kl": Σ_m p̂(m) log(p̂(m)·M)}, p̂ being the histogram of the high-quality samples over the
    M modes: the KL from it to the uniform law over modes (0 when spread evenly, log M when all on
    one mode; +inf when there is no high-quality sample at all).
    """
    x, centres = as_pair(samples, modes, ("samples", "modes"))
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std={std!r} must be a positive number: the standard deviation of each mode")
    if not (isinstance(min_count, int) and min_count >= 1):
        raise ValueError(f"min_count={min_count!r} must be an integer ≥ 1")
    dist = torch.cdist(x, centres)  # (N, M)
    nearest_dist, nearest = dist.min(1)
    good = nearest_dist <= 3 * std
    counts = torch.bincount(nearest[good], minlength=centres.shape[0]).double()  # (M,)
    total = counts.sum()
    if total == 0:
        reverse_kl = math.inf
    else:
        p = counts / total
        reverse_kl = float(torch.xlogy(p, p * centres.shape[0]).sum())
    return {"modes": int((counts >= min_count).sum()), "high_quality": float(good.double().mean()),
            "reverse_kl": reverse_kl}
