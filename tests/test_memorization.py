"""ganlab.metrics.memorization: copies are caught, new samples from the same distribution are not."""

from __future__ import annotations

import pytest
import torch

from ganlab.metrics import memorization, nearest_distances


def gaussian(n, d=8, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_nearest_distances_match_a_brute_force_search():
    q, r = gaussian(37, 5, 1), gaussian(50, 5, 2)
    expected = torch.stack([(r - row).norm(dim=1).min() for row in q])
    torch.testing.assert_close(nearest_distances(q, r, chunk=8), expected, rtol=1e-12, atol=1e-12)
    assert nearest_distances(r, r).abs().max() == 0.0  # every row is its own nearest neighbour


def test_copies_of_the_training_set_are_caught():
    train, heldout = gaussian(2000, seed=0), gaussian(500, seed=1)
    copies = train[torch.randperm(2000, generator=torch.Generator().manual_seed(3))[:500]]
    result = memorization(copies + 1e-6, train, heldout)
    assert result["ratio"] < 0.01 and result["copy_fraction"] == 1.0


def test_new_samples_from_the_data_distribution_look_like_held_out_data():
    # With 2000 training points in 8-D, medians of 500 nearest distances vary by a few per cent between
    # draws; over 10 draws the ratio stayed within 1.00-1.03 and the copy fraction within 0.04-0.06.
    train, heldout = gaussian(2000, seed=0), gaussian(500, seed=1)
    for seed in range(2, 5):
        result = memorization(gaussian(500, seed=seed), train, heldout)
        assert result["ratio"] == pytest.approx(1.0, abs=0.15)
        assert result["copy_fraction"] == pytest.approx(0.05, abs=0.05)


def test_far_away_samples_have_a_ratio_above_one_and_no_copies():
    train, heldout = gaussian(1000, seed=0), gaussian(300, seed=1)
    result = memorization(gaussian(300, seed=2) + 5.0, train, heldout)
    assert result["ratio"] > 2.0 and result["copy_fraction"] == 0.0


def test_bad_inputs_are_named():
    train = gaussian(100, seed=0)
    with pytest.raises(ValueError, match="overlaps the training set"):
        memorization(gaussian(50, seed=1), train, train[:40])
    with pytest.raises(ValueError, match="same feature extractor"):
        memorization(gaussian(50, d=4, seed=1), train, gaussian(40, seed=2))
    with pytest.raises(ValueError, match="quantile"):
        memorization(gaussian(50, seed=1), train, gaussian(40, seed=2), quantile=1.5)
