"""ganlab.widgets.drawn_data: hand-drawn (N, 2) points → a mixture with one small Gaussian on each point."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from ganlab.widgets.drawn_data import MIN_POINTS, SPREAD, check_points, drawn_distribution


def test_one_gaussian_on_each_point() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, 2.0], [0.5, -1.0], [2.0, 2.0]])
    dist = drawn_distribution(points)
    assert_close(dist.means, torch.tensor(points, dtype=torch.float64))
    size = 3.0  # the longer side of the points' bounding box (x from -1 to 2)
    assert_close(dist.stds, torch.full((5, 2), SPREAD * size, dtype=torch.float64))
    assert_close(dist.weights, torch.full((5,), 0.2, dtype=torch.float64))
    x = dist.sample(2000, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(x, dist.means.float()).min(1).values
    assert nearest.max() < 5 * SPREAD * size  # every sample sits on a drawn point


def test_small_drawings_keep_a_floor_on_the_spread() -> None:
    points = 0.01 * np.arange(2 * MIN_POINTS).reshape(MIN_POINTS, 2)
    assert_close(drawn_distribution(points).stds, torch.full((MIN_POINTS, 2), SPREAD, dtype=torch.float64))


@pytest.mark.parametrize("points, message", [
    (np.zeros((10, 3)), r"\(N, 2\) array of \(x, y\) pairs, got shape \(10, 3\)"),
    (np.zeros(10), r"got shape \(10,\)"),
    (np.array([[0.0, np.nan]] * 10), "must be finite"),
    (np.zeros((MIN_POINTS - 1, 2)), f"need between {MIN_POINTS} and"),
    ([["a", "b"]] * 10, "must be numbers"),
])
def test_bad_points_are_named(points: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_points(points)


def test_lists_are_accepted() -> None:
    array = check_points([[0, 1]] * MIN_POINTS)
    assert array.dtype == np.float64 and array.shape == (MIN_POINTS, 2)
