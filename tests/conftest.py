"""Shared test setup: a headless plot backend, one torch thread per worker, tiny datasets."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "agg")

import pytest
import torch

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


@pytest.fixture
def tiny_images() -> torch.Tensor:
    """256 fake 'images' (256, 1, 28, 28) in [-1, 1]: two flat grey levels, an easy set to tell apart."""
    g = torch.Generator().manual_seed(0)
    levels = torch.where(torch.rand(256, generator=g) < 0.5, -0.5, 0.5)
    return (levels[:, None, None, None] + 0.05 * torch.randn(256, 1, 28, 28, generator=g)).clamp(-1, 1)


@pytest.fixture
def dash():
    """A headless training dashboard on ring8 (CPU, slow redraws, no slow-motion delay), closed afterwards."""
    pytest.importorskip("ipywidgets")
    from ganlab.widgets.dashboard import TrainingDashboard

    d = TrainingDashboard("ring8", device="cpu", max_fps=0.5, slow_delay=0.0)
    yield d
    d.close()
