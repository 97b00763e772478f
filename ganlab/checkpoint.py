"""Checkpoints that are written atomically, checked for damage, and can never run code when read.

Writing goes to a temporary file in the target's folder, is flushed to disk, and then renamed over
the target: a crash mid-write leaves the old checkpoint intact. Reading uses
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers, onto the CPU (the
trainer then moves the tensors to its own device, so a CUDA checkpoint opens on a CPU-only machine).

A trainer checkpoint (format v2) stores a SHA-256 of its contents (``digest``: every tensor's dtype,
shape and bytes, and every plain value, in order) beside them; a file whose contents no longer match
(a flipped bit, a bad copy) is reported as damaged instead of loaded. Format v1 checkpoints (no
checksum) still load, with a warning that they could not be checked.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

FORMAT = "ganlab-checkpoint-v2"
OLD_FORMATS = ("ganlab-checkpoint-v1",)  # no checksum


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
    """``torch.load(weights_only=True)`` on the CPU, with errors that name the file and the fix.

    Whatever a damaged or foreign file makes the reader raise (UnpicklingError, struct.error, IndexError,
    zip errors, ...) becomes one ValueError; KeyboardInterrupt and other non-``Exception`` signals pass.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a junk file can fail anywhere inside torch.load's zip and pickle readers
        raise ValueError(f"{path} is not a readable {what} (truncated, corrupt, or not saved by ganlab): "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err


def digest(obj: Any) -> str:
    """SHA-256 over a nest of dicts, lists, tuples, tensors and plain values, in their order (hex string)."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def _feed(h: Any, obj: Any) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())  # the raw bytes, whatever the dtype
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)};".encode())
        for key, value in obj.items():
            _feed(h, key)
            _feed(h, value)
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)};".encode())
        for value in obj:
            _feed(h, value)
    else:
        h.update(f"{type(obj).__name__}:{obj!r};".encode())


def write_checkpoint(path: str | Path, config: dict[str, Any], state: dict[str, Any]) -> Path:
    """Save a trainer checkpoint: ``{"format", "config", "state", "sha256"}``."""
    payload = {"format": FORMAT, "config": config, "state": state}
    return atomic_save({**payload, "sha256": digest(payload)}, path)


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load and check a trainer checkpoint; returns (config dict, state dict)."""
    payload = safe_load(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, *OLD_FORMATS):
        raise ValueError(f"{path} is not a ganlab trainer checkpoint (expected format {FORMAT!r})")
    if not isinstance(payload.get("config"), dict) or not isinstance(payload.get("state"), dict):
        raise ValueError(f"{path} is missing its config or state; it is damaged")
    contents = {k: payload[k] for k in ("format", "config", "state")}
    if payload["format"] in OLD_FORMATS:
        warnings.warn(f"{path} was written by an older ganlab without a checksum, so it cannot be checked for "
                      f"damage; saving the loaded trainer again writes one", stacklevel=3)
    elif payload.get("sha256") != digest(contents):
        raise ValueError(f"{path} is damaged: its contents do not match the SHA-256 written with them (a flipped "
                         f"bit or a bad copy); load an intact copy")
    return payload["config"], payload["state"]
