"""k-nearest-neighbour estimates of the real and generated manifolds.

Each point of a set gets a ball reaching to its k-th nearest neighbour in the same set; the union of
the balls estimates the set's support.

- precision (Kynkäänniemi et al. 2019): the fraction of fake points inside the real balls — quality;
- recall: the fraction of real points inside the fake balls — diversity;
- density (Naeem et al. 2020): how many real balls hold each fake point, over k, averaged — quality
  that a few outliers in the real set cannot inflate; 1 when both sets come from one law;
- coverage: the fraction of real balls that hold at least one fake point — diversity measured
  around real points, so fake outliers cannot inflate it.

Balls are open (distance < radius), as in Naeem et al.'s reference code: a point's k-th neighbour is
on its ball's boundary and so outside. With open balls a set compared with itself scores exactly 1
on all four. Distances are computed in chunks of the ball-owning set's rows, so the same pair of
points always gets the same bits, whichever function asks.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from .inputs import ArrayLike, as_pair

_CHUNK_ELEMENTS = 4_000_000  # distances held at once (32 MB in float64)


def _chunks(owners: Tensor, others: Tensor) -> Iterator[tuple[slice, Tensor]]:
    """(rows, squared distances (rows, M)) from chunks of ``owners`` (N, d) to all of ``others`` (M, d)."""
    step = max(1, _CHUNK_ELEMENTS // max(1, others.shape[0]))
    others_sq = others.square().sum(1)
    for start in range(0, owners.shape[0], step):
        rows = slice(start, start + step)
        block = owners[rows]
        yield rows, (block.square().sum(1, keepdim=True) + others_sq - 2 * block @ others.T).clamp_(min=0)


def knn_radii(x: Tensor, k: int) -> Tensor:
    """Squared distance from each row of x (N, d) to its k-th nearest other row → (N,)."""
    radii = torch.empty(x.shape[0], dtype=x.dtype)
    for rows, dist in _chunks(x, x):
        radii[rows] = dist.topk(k + 1, dim=1, largest=False).values[:, k]  # index 0 is the point itself
    return radii


def _check_k(real: Tensor, fake: Tensor, k: int) -> None:
    if not (isinstance(k, int) and 1 <= k < min(real.shape[0], fake.shape[0])):
        raise ValueError(f"k={k!r} must be an integer in [1, N) for both sets ({real.shape[0]} real, "
                         f"{fake.shape[0]} fake rows); use more samples or a smaller k")


def _fraction_inside(owners: Tensor, others: Tensor, k: int) -> Tensor:
    """For each row of ``others``, whether it lies inside some k-NN ball of ``owners`` → (M,) bool."""
    radii = knn_radii(owners, k)
    inside = torch.zeros(others.shape[0], dtype=torch.bool)
    for rows, dist in _chunks(owners, others):
        inside |= (dist < radii[rows, None]).any(0)
    return inside


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> dict[str, float]:
    """Improved precision and recall {"precision", "recall"} of fake (M, d) against real (N, d), each in [0, 1]."""
    real_t, fake_t = as_pair(real, fake, ("real", "fake"), min_rows=2)
    _check_k(real_t, fake_t, k)
    precision = _fraction_inside(real_t, fake_t, k).double().mean()
    recall = _fraction_inside(fake_t, real_t, k).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> dict[str, float]:
    """Density and coverage {"density", "coverage"} of fake (M, d) against real (N, d).

    density = (1 / kM) Σ_j #{i : fake_j in ball_i} (in [0, N/k], ≈ 1 for matching laws);
    coverage = (1 / N) #{i : some fake_j in ball_i} (in [0, 1]).
    """
    real_t, fake_t = as_pair(real, fake, ("real", "fake"), min_rows=2)
    _check_k(real_t, fake_t, k)
    radii = knn_radii(real_t, k)
    hits = torch.zeros(fake_t.shape[0], dtype=torch.float64)  # balls holding each fake point
    covered = torch.zeros(real_t.shape[0], dtype=torch.bool)
    for rows, dist in _chunks(real_t, fake_t):
        inside = dist < radii[rows, None]  # (rows, M)
        hits += inside.sum(0)
        covered[rows] = inside.any(1)
    return {"density": float(hits.mean() / k), "coverage": float(covered.double().mean())}
