"""What every notebook's setup cell needs: fast mode, seeds, the device, a one-line report."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .config import resolve_device


def fast_mode() -> bool:
    """True when ``GANLAB_FAST`` is set to 1 (``make test`` does): notebooks shrink their budgets."""
    return os.environ.get("GANLAB_FAST", "0").strip().lower() not in ("", "0", "false", "no")


def pick(fast: object, full: object) -> object:
    """``fast`` in fast mode, else ``full``: the one switch a notebook uses for its budgets."""
    return fast if fast_mode() else full


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(seed: int = 0, device: str = "auto", quiet: bool = False) -> torch.device:
    """Seed everything, apply the plot style, and report device, fast mode and torch threads."""
    from . import plots

    seed_everything(seed)
    plots.set_style()
    dev = resolve_device(device)
    if not quiet:
        print(f"ganlab: device={dev}, fast mode={'on' if fast_mode() else 'off'}, "
              f"torch {torch.__version__} with {torch.get_num_threads()} CPU threads, seed={seed}")
    return dev
