"""Is the generator copying its training set? Nearest-training-neighbour distances, against a real baseline.

FID, KID, precision and recall all reward a generator that returns its training images unchanged: a copy
is as close to the data as data can be. The check that sees copying compares two distance distributions
in the same feature space:

- ``d_gen``: for each generated sample, the distance to its nearest *training* image;
- ``d_real``: for each *held-out* real image (never trained on), the distance to its nearest training image.

Held-out images are what "new samples from the data distribution" look like, so a generator that makes new
images has ``d_gen`` distributed like ``d_real`` (ratio of medians ≈ 1), and one that copies has ``d_gen``
near 0 (ratio ≪ 1, most samples closer to a training image than almost any held-out image is). A ratio
well above 1 means samples far from every training image: poor quality, not memorisation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .inputs import ArrayLike, as_int, as_matrix, as_pair


def nearest_distances(queries: ArrayLike, reference: ArrayLike, chunk: int = 1024) -> Tensor:
    """Euclidean distance from each row of ``queries`` (N, d) to its nearest row of ``reference`` (M, d): (N,).

    Computed in float64 by the direct formula, ``chunk`` query rows at a time (memory O(chunk × M)).
    """
    q, r = as_pair(queries, reference, ("queries", "reference"))
    chunk = as_int(chunk, "chunk", 1)
    out = torch.empty(q.shape[0], dtype=torch.float64)
    for start in range(0, q.shape[0], chunk):
        # The direct formula, not the faster ‖a‖² + ‖b‖² − 2ab: an exact copy must be at distance exactly 0.
        dist = torch.cdist(q[start:start + chunk], r, compute_mode="donot_use_mm_for_euclid_dist")
        out[start:start + chunk] = dist.min(dim=1).values
    return out


def memorization(generated: ArrayLike, train: ArrayLike, heldout: ArrayLike, quantile: float = 0.05
                 ) -> dict[str, float]:
    """Nearest-training-neighbour distances of generated samples against held-out real images.

    ``generated`` (N, d), ``train`` (M, d), ``heldout`` (K, d): features of the same extractor; ``heldout``
    must not overlap ``train``. Returns
      - ``median_generated``, ``median_heldout``: the medians of ``d_gen`` and ``d_real``;
      - ``ratio``: median_generated / median_heldout (≈ 1: as new as real data; ≪ 1: copies);
      - ``copy_fraction``: the share of generated samples closer to the training set than the ``quantile``
        (default 5 %) of held-out images are; a generator that makes new images has about ``quantile`` here.
    """
    if not (0.0 < quantile < 1.0):
        raise ValueError(f"quantile={quantile!r} must lie in (0, 1), e.g. 0.05")
    generated = as_matrix(generated, "generated", 2)
    train, heldout = as_pair(train, heldout, ("train", "heldout"), 2)
    if generated.shape[1] != train.shape[1]:
        raise ValueError(f"generated has {generated.shape[1]} features per row but train has {train.shape[1]}; "
                         f"all three sets must come from the same feature extractor")
    d_gen, d_real = nearest_distances(generated, train), nearest_distances(heldout, train)
    if float(d_real.median()) == 0.0:
        raise ValueError("the median held-out image has an exact copy in train: the held-out set overlaps the "
                         "training set; pass images that were not trained on (e.g. the test split)")
    threshold = torch.quantile(d_real, quantile)
    return {"median_generated": float(d_gen.median()), "median_heldout": float(d_real.median()),
            "ratio": float(d_gen.median() / d_real.median()),
            "copy_fraction": float((d_gen < threshold).double().mean())}
