"""Controlled damage to real images, and every metric of the result: a metric is trusted once it moves
the right way under damage whose kind and size we chose.

Each corruption draws ``n`` images from a pool of real images and damages them by ``strength`` ∈ [0, 1]
(0 = an undamaged random draw from the pool):

- "noise": additive Gaussian pixel noise, σ = 0.5·strength (pixels live in [-1, 1]), clipped back;
- "blur": Gaussian blur, σ = 2·strength pixels;
- "drop_classes": only the first 10 − ⌊9·strength + ½⌋ classes are drawn (a generator that lost modes);
- "duplicates": a fraction ``strength`` of the set is copies of 8 images (a generator repeating itself);
- "class_collapse": a fraction ``strength`` of the images is replaced by one fixed image of its class
  (within-class collapse: every class still present, in the right proportions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import ImageData
from .inputs import as_int
from .manifold import density_coverage, precision_recall
from .moments import fid, inception_score, kid

Corruption = Callable[[ImageData, int, float, torch.Generator], Tensor]


def _draw(pool: ImageData, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    idx = torch.randperm(len(pool), generator=g)[:n].to(pool.device)
    return pool.images[idx], pool.labels[idx]


def add_noise(pool: ImageData, n: int, strength: float, g: torch.Generator) -> Tensor:
    images, _ = _draw(pool, n, g)
    noise = torch.randn(images.shape, generator=g).to(images.device)
    return (images + 0.5 * strength * noise).clamp(-1, 1)


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Blur (N, C, H, W) images with a separable Gaussian of std ``sigma`` pixels (reflected borders)."""
    if sigma <= 0:
        return images
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    out = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)  # along W
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)  # along H


def blur(pool: ImageData, n: int, strength: float, g: torch.Generator) -> Tensor:
    images, _ = _draw(pool, n, g)
    return gaussian_blur(images, 2.0 * strength)


def drop_classes(pool: ImageData, n: int, strength: float, g: torch.Generator) -> Tensor:
    kept = 10 - math.floor(9 * strength + 0.5)  # half rounds up: strength 0.5 keeps classes 0-4
    subset = pool.images[pool.labels < kept]
    if len(subset) < n:
        raise ValueError(f"the pool holds {len(subset)} images of the {kept} kept classes, fewer than n={n}")
    idx = torch.randperm(len(subset), generator=g)[:n].to(subset.device)
    return subset[idx]


def duplicates(pool: ImageData, n: int, strength: float, g: torch.Generator) -> Tensor:
    images, _ = _draw(pool, n, g)
    copies = round(strength * n)
    if copies:
        images = images.clone()
        images[:copies] = images[torch.arange(copies, device=images.device) % 8]  # 8 images fill the first slots
    return images


def class_collapse(pool: ImageData, n: int, strength: float, g: torch.Generator) -> Tensor:
    images, labels = _draw(pool, n, g)
    exemplar = torch.stack([pool.images[(pool.labels == c).nonzero()[0, 0]] for c in range(10)])  # (10, 1, H, W)
    replace = torch.rand(n, generator=g).to(images.device) < strength
    return torch.where(replace[:, None, None, None], exemplar[labels], images)


CORRUPTIONS: dict[str, Corruption] = {
    "noise": add_noise, "blur": blur, "drop_classes": drop_classes,
    "duplicates": duplicates, "class_collapse": class_collapse,
}


def corrupt(kind: str, pool: ImageData, n: int, strength: float, seed: int = 0) -> Tensor:
    """``n`` images (n, 1, 28, 28) drawn from ``pool`` and damaged by ``strength`` ∈ [0, 1] (module docstring)."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"corruption {kind!r} is unknown; use one of {sorted(CORRUPTIONS)}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength={strength!r} must lie in [0, 1]")
    n = as_int(n, "n", 1)
    if n > len(pool):
        raise ValueError(f"n={n} is larger than the pool ({len(pool)} images)")
    return CORRUPTIONS[kind](pool, n, float(strength), torch.Generator().manual_seed(as_int(seed, "seed")))


def report(real_feats: Any, fake_feats: Any, fake_probs: Any = None, *, kid_subsets: int = 20,
           kid_subset_size: int = 1000, k_pr: int = 3, k_dc: int = 5, seed: int = 0) -> dict[str, float]:
    """Every feature metric of fake (M, d) against real (N, d) in one flat dict.

    Keys: fid, kid, kid_std, precision, recall, density, coverage, and inception_score (+ is_std) when
    ``fake_probs`` (M, C) is given. KID's subset size is capped at the smaller set.
    """
    size = min(kid_subset_size, len(real_feats), len(fake_feats))
    kid_result = kid(real_feats, fake_feats, subsets=kid_subsets, subset_size=size, seed=seed)
    out = {"fid": fid(real_feats, fake_feats), "kid": kid_result["mean"], "kid_std": kid_result["std"],
           **precision_recall(real_feats, fake_feats, k=k_pr), **density_coverage(real_feats, fake_feats, k=k_dc)}
    if fake_probs is not None:
        score = inception_score(fake_probs, splits=10)
        out.update(inception_score=score["mean"], is_std=score["std"])
    return out


def corruption_metrics(kind: str, strength: float, model: nn.Module, pool: ImageData, real_feats: Tensor,
                       n: int = 1000, seed: int = 0, **report_options: Any) -> tuple[dict[str, float], Tensor]:
    """Corrupt ``n`` pool images, embed them with ``model`` (``.features``/``.probs``), and report every metric
    against ``real_feats``; returns (metrics, the corrupted images). The widget's plain twin."""
    from ..features import extract

    images = corrupt(kind, pool, n, strength, seed)
    feats, probs = extract(model, images)
    return report(real_feats, feats, probs, seed=seed, **report_options), images
