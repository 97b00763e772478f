"""Input checks shared by the metrics: every metric takes (N, d) arrays or tensors and fails loudly on bad ones."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
from torch import Tensor

ArrayLike = np.ndarray | Tensor


def as_matrix(x: ArrayLike, name: str, min_rows: int = 1) -> Tensor:
    """``x`` as a float64 CPU tensor of shape (N, d); ValueError for other shapes, d = 0, NaN/inf, or N < min_rows."""
    t = x.detach() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (N, d); got {tuple(t.shape)}. "
                         f"Flatten images with x.reshape(len(x), -1), or pass features.")
    if t.shape[1] == 0:
        raise ValueError(f"{name} has shape {tuple(t.shape)}: zero features per row, so there is nothing to compare; "
                         f"pass feature vectors with at least one entry (d ≥ 1)")
    t = t.to("cpu", torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values; check the model or the feature extractor")
    if t.shape[0] < min_rows:
        raise ValueError(f"{name} has {t.shape[0]} rows; this metric needs at least {min_rows}")
    return t


def as_pair(a: ArrayLike, b: ArrayLike, names: tuple[str, str], min_rows: int = 1) -> tuple[Tensor, Tensor]:
    """Two (N, d) sets with the same d (see ``as_matrix``)."""
    a, b = as_matrix(a, names[0], min_rows), as_matrix(b, names[1], min_rows)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names[0]} has {a.shape[1]} features per row but {names[1]} has {b.shape[1]}; "
                         f"both must come from the same feature extractor")
    return a, b


def as_int(value: Any, name: str, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """``value`` as a Python int in [low, high) (either bound None = open); numpy and torch integers are accepted.

    A bool, a float (even 3.0), a string or a value out of range raises a ValueError that names ``name`` and
    the range, followed by ``hint`` (what to do about it).
    """
    bounds = f"in [{'-∞' if low is None else low}, {'∞' if high is None else high})"
    try:
        if isinstance(value, (bool, np.bool_)) or (isinstance(value, Tensor) and value.dtype == torch.bool):
            raise TypeError
        number = operator.index(value)  # ints, numpy integers, integer 0-d tensors; not floats or strings
    except TypeError:
        raise ValueError(f"{name}={value!r} must be an integer {bounds}, not {type(value).__name__}"
                         + (f"; {hint}" if hint else "")) from None
    if (low is not None and number < low) or (high is not None and number >= high):
        raise ValueError(f"{name}={number!r} must be an integer {bounds}" + (f"; {hint}" if hint else ""))
    return number
