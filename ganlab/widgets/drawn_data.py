"""Data drawn by hand on the dashboard: an (N, 2) point set → a toy distribution the GAN can train on.

Each drawn point becomes a small Gaussian (a mixture with equal weights), so the real data has an exact
density and the dashboard's divergence chart works on it as on the built-in sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import toy

MIN_POINTS = 5  # fewer points make a "data set" that a batch of 128 only repeats
MAX_POINTS = 2000
SPREAD = 0.02  # each point's std, as a fraction of the drawing's size (its bounding box's longer side, ≥ 1)


def check_points(points: Any) -> np.ndarray:
    """``points`` as a float64 (N, 2) array, or a ValueError saying what is wrong and how to fix it."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"drawn points must be numbers in an (N, 2) array ({err})") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"drawn points must be an (N, 2) array of (x, y) pairs, got shape {array.shape}; "
                         "e.g. np.array([[0, 0], [1, 0.5], ...])")
    if not np.isfinite(array).all():
        raise ValueError("drawn points must be finite: remove the NaN or infinite rows")
    if not MIN_POINTS <= len(array) <= MAX_POINTS:
        raise ValueError(f"need between {MIN_POINTS} and {MAX_POINTS} drawn points, got {len(array)}; "
                         "draw more (or fewer) points")
    return array


def drawn_distribution(points: Any, spread: float = SPREAD) -> toy.Mixture:
    """An equal-weight mixture of Gaussians, one on each of ``points`` (N, 2), each of std ``spread`` × size."""
    array = check_points(points)
    size = max(float(np.ptp(array, axis=0).max()), 1.0)
    return toy.mixture(array, spread * size)
