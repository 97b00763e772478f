"""ganlab.metrics.auroc against the slow definition: every (anomaly, normal) pair counted, ties as one half."""

import numpy as np
import pytest
import torch

from ganlab.metrics import auroc


def _all_pairs(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_the_pairwise_count_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=80).astype(float)  # six distinct values: ties everywhere
    labels = rng.integers(0, 2, size=80)
    assert auroc(scores, labels) == pytest.approx(_all_pairs(scores, labels), abs=1e-12)
    continuous = rng.normal(size=80) + labels  # and without ties, as a tensor
    assert auroc(torch.tensor(continuous), torch.tensor(labels)) == pytest.approx(
        _all_pairs(continuous, labels), abs=1e-12)


def test_auroc_extremes_and_chance():
    labels = np.array([0, 0, 0, 1, 1])
    assert auroc([0.1, 0.2, 0.3, 0.8, 0.9], labels) == 1.0
    assert auroc([0.9, 0.8, 0.7, 0.1, 0.2], labels) == 0.0
    assert auroc(np.zeros(5), labels) == 0.5  # every pair a tie
    rng = np.random.default_rng(0)
    assert abs(auroc(rng.normal(size=20000), rng.integers(0, 2, size=20000)) - 0.5) < 0.02


@pytest.mark.parametrize("scores, labels, match", [
    ([0.1, 0.2], [1, 1], "one class"),
    ([0.1, float("nan")], [0, 1], "NaN"),
    ([0.1, 0.2, 0.3], [0, 1], "one label per score"),
    ([0.1, 0.2], [0, 2], "0 \\(normal\\) or 1"),
    ([[0.1, 0.2]], [[0, 1]], "shape \\(N,\\)"),
])
def test_auroc_refuses_bad_input(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        auroc(scores, labels)
