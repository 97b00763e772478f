"""How well a score ranks anomalies above normal points: the area under the ROC curve."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .inputs import ArrayLike


def _as_vector(x: ArrayLike, name: str) -> Tensor:
    t = x.detach() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.ndim != 1:
        raise ValueError(f"{name} must be one value per point, shape (N,); got {tuple(t.shape)}")
    return t.to("cpu", torch.float64)


def auroc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` (N,) (higher = more anomalous) for binary ``labels`` (N,) (1 = anomaly).

    Computed as the Mann–Whitney statistic: the probability that a random anomaly scores above a random normal
    point, a tie counting one half. Ranks (average ranks for ties) make it O(N log N). 1 is a perfect ranking,
    0.5 chance, 0 a perfectly inverted one.
    """
    s, y = _as_vector(scores, "scores"), _as_vector(labels, "labels")
    if len(s) != len(y):
        raise ValueError(f"scores has {len(s)} entries but labels has {len(y)}; pass one label per score")
    if not torch.isfinite(s).all():
        raise ValueError("scores contains NaN or infinite values; an anomaly score must be a finite number per point")
    if not ((y == 0) | (y == 1)).all():
        raise ValueError(f"labels must be 0 (normal) or 1 (anomaly); got values {sorted(set(y.tolist()))[:5]}")
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"labels hold only one class ({n_pos} anomalies, {n_neg} normal points): AUROC compares "
                         "the two, so pass at least one of each")
    order = torch.argsort(s, stable=True)
    sorted_scores = s[order]
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, len(s) + 1, dtype=torch.float64)
    # Average the ranks within each run of tied scores (counts a tie as half a win).
    _, inverse, counts = torch.unique_consecutive(sorted_scores, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).to(torch.float64)
    mean_rank = ends - (counts.to(torch.float64) - 1) / 2  # average of ranks end-count+1 .. end
    ranks[order] = mean_rank[inverse]
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))
