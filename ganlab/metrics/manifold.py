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
on all four. A ball always holds its own centre and the centre's exact copies, even when k copies make
its radius 0 (a point mass, as a collapsed generator or a duplicated real image gives): so a set with
repeated rows, compared with itself, still has precision, recall and coverage 1.

Distances are computed in chunks of the ball-owning set's rows, so the same pair of points always gets
the same bits, whichever function asks. The fast form ‖a‖² + ‖b‖² − 2a·b leaves rounding noise where
two points (nearly) coincide, so those pairs are recomputed as ‖a − b‖²: a copy is at distance exactly 0.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from .inputs import ArrayLike, as_int, as_pair

_CHUNK_ELEMENTS = 4_000_000  # distances held at once (32 MB in float64)
# Pairs whose fast squared distance is below this fraction of ‖a‖² + max ‖b‖² are recomputed exactly: the fast
# form's rounding error is about d·eps64 of ‖a‖² + ‖b‖² (< 1e-9 for any d up to 10^6 features).
_NEAR = 1e-8


def _chunks(owners: Tensor, others: Tensor) -> Iterator[tuple[slice, Tensor]]:
    """(rows, squared distances (rows, M)) from chunks of ``owners`` (N, d) to all of ``others`` (M, d)."""
    step = max(1, _CHUNK_ELEMENTS // max(1, others.shape[0]))
    others_sq = others.square().sum(1)
    for start in range(0, owners.shape[0], step):
        rows = slice(start, start + step)
        block = owners[rows]
        block_sq = block.square().sum(1, keepdim=True)  # (rows, 1)
        dist = torch.addmm(others_sq, block, others.T, alpha=-2).add_(block_sq).clamp_(min=0)  # (rows, M)
        # (nearly) coinciding pairs; bounding ‖b‖² by its maximum keeps this one cheap comparison per entry
        i, j = torch.nonzero(dist <= _NEAR * (block_sq + others_sq.max()), as_tuple=True)
        per_batch = max(1, _CHUNK_ELEMENTS // max(1, owners.shape[1]))
        for at in range(0, len(i), per_batch):  # exact ‖a − b‖², in batches to bound memory
            a, b = i[at:at + per_batch], j[at:at + per_batch]
            dist[a, b] = (block[a] - others[b]).square().sum(1)
        yield rows, dist


def knn_radii(x: Tensor, k: int) -> Tensor:
    """Squared distance from each row of x (N, d) to its k-th nearest other row → (N,)."""
    k = as_int(k, "k", 1, x.shape[0], f"x has {x.shape[0]} rows")
    radii = torch.empty(x.shape[0], dtype=x.dtype)
    for rows, dist in _chunks(x, x):
        radii[rows] = dist.topk(k + 1, dim=1, largest=False).values[:, k]  # index 0 is the point itself
    return radii


def _check_k(real: Tensor, fake: Tensor, k: int) -> int:
    return as_int(k, "k", 1, min(real.shape[0], fake.shape[0]),
                  f"N is {real.shape[0]} real and {fake.shape[0]} fake rows; use more samples or a smaller k")


def _inside(dist: Tensor, radii: Tensor) -> Tensor:
    """Whether each point is in each ball: open balls that always hold their centre and its copies.

    dist: (rows, M) squared distances from ball centres to points; radii: (rows,) squared radii → (rows, M) bool.
    """
    return (dist < radii[:, None]) | (dist == 0)


def _fraction_inside(owners: Tensor, others: Tensor, k: int) -> Tensor:
    """For each row of ``others``, whether it lies inside some k-NN ball of ``owners`` → (M,) bool."""
    radii = knn_radii(owners, k)
    inside = torch.zeros(others.shape[0], dtype=torch.bool)
    for rows, dist in _chunks(owners, others):
        inside |= _inside(dist, radii[rows]).any(0)
    return inside


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> dict[str, float]:
    """Improved precision and recall {"precision", "recall"} of fake (M, d) against real (N, d), each in [0, 1]."""
    real_t, fake_t = as_pair(real, fake, ("real", "fake"), min_rows=2)
    k = _check_k(real_t, fake_t, k)
    precision = _fraction_inside(real_t, fake_t, k).double().mean()
    recall = _fraction_inside(fake_t, real_t, k).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> dict[str, float]:
    """Density and coverage {"density", "coverage"} of fake (M, d) against real (N, d).

    density = (1 / kM) Σ_j #{i : fake_j in ball_i} (in [0, N/k], ≈ 1 for matching laws);
    coverage = (1 / N) #{i : some fake_j in ball_i} (in [0, 1]).
    """
    real_t, fake_t = as_pair(real, fake, ("real", "fake"), min_rows=2)
    k = _check_k(real_t, fake_t, k)
    radii = knn_radii(real_t, k)
    hits = torch.zeros(fake_t.shape[0], dtype=torch.float64)  # balls holding each fake point
    covered = torch.zeros(real_t.shape[0], dtype=torch.bool)
    for rows, dist in _chunks(real_t, fake_t):
        inside = _inside(dist, radii[rows])  # (rows, M)
        hits += inside.sum(0)
        covered[rows] = inside.any(1)
    return {"density": float(hits.mean() / k), "coverage": float(covered.double().mean())}
