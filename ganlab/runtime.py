"""What every notebook's setup cell needs: fast mode, seeds, the device, a one-line report."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .config import resolve_device

SEED_VARIABLE = "GANLAB_SEED"


def fast_mode() -> bool:
    """True when ``GANLAB_FAST`` is set to 1 (``make test`` does): notebooks shrink their budgets."""
    return os.environ.get("GANLAB_FAST", "0").strip().lower() not in ("", "0", "false", "no")


def pick(fast: object, full: object) -> object:
    """``fast`` in fast mode, else ``full``: the one switch a notebook uses for its budgets."""
    return fast if fast_mode() else full


def seed_from_env() -> int:
    """The notebook's base seed: ``GANLAB_SEED`` as a non-negative integer, 0 when unset or empty.

    Every seed a notebook uses is derived from this one (``seed=SEED``, ``seed=SEED + k``), so running a
    notebook with ``GANLAB_SEED=1`` changes every training trajectory in it: its checks must hold for any
    seed, not only for the trajectory they were written against (``make notebooks-seeds``).
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer such as {SEED_VARIABLE}=1, "
                         f"got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer such as {SEED_VARIABLE}=1, "
                         f"got {value}")
    return value


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(seed: int | None = None, device: str = "auto", quiet: bool = False) -> torch.device:
    """Seed everything (with ``GANLAB_SEED``, see :func:`seed_from_env`, when ``seed`` is None), apply the plot style,
    and report device, fast mode, torch threads and the seed."""
    from . import plots

    chosen = seed_from_env() if seed is None else seed
    seed_everything(chosen)
    plots.set_style()
    dev = resolve_device(device)
    if not quiet:
        print(f"ganlab: device={dev}, fast mode={'on' if fast_mode() else 'off'}, "
              f"torch {torch.__version__} with {torch.get_num_threads()} CPU threads, seed={chosen}")
    return dev
