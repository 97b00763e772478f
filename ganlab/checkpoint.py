"""Checkpoints that are written atomically and can never run code when read.

Writing goes to a temporary file in the target's folder, is flushed to disk, and then renamed over
the target: a crash mid-write leaves the old checkpoint intact. Reading uses
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "ganlab-checkpoint-v1"


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary sibling, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def safe_load(path: str | Path, what: str = "file") -> Any:
    """``torch.load(weights_only=True)`` on the CPU, with errors that name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        raise ValueError(f"{path} is not a readable {what} (truncated, corrupt, or not saved by ganlab): "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err


def write_checkpoint(path: str | Path, config: dict[str, Any], state: dict[str, Any]) -> Path:
    """Save a trainer checkpoint: ``{"format", "config", "state"}``."""
    return atomic_save({"format": FORMAT, "config": config, "state": state}, path)


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load and check a trainer checkpoint; returns (config dict, state dict)."""
    payload = safe_load(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a ganlab trainer checkpoint (expected format {FORMAT!r})")
    if not isinstance(payload.get("config"), dict) or not isinstance(payload.get("state"), dict):
        raise ValueError(f"{path} is missing its config or state; it is damaged")
    return payload["config"], payload["state"]
