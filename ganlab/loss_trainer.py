"""A trainer for models with one network and one loss to minimise: the VAE and the diffusion model.

It keeps ``Trainer``'s habits (``ganlab.train``): the data is resident on the device and indexed there, noise is
drawn there from the trainer's own generator, Adam is fused where torch has the kernel
(``train_state.make_optimizer``), per-step statistics stay on the device until a log point (every
``check_every`` steps and at the end of ``fit``) copies them to the host in one go and checks them for NaN/inf,
and checkpoints go through ``ganlab.checkpoint`` (atomic, with a SHA-256). A subclass supplies ``loss(batch)``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .checkpoint import read_checkpoint, write_checkpoint
from .config import require_positive, resolve_device
from .data import ImageData, next_batch
from .train import load_data
from .train_state import diverged, drain, extend_history, make_optimizer


@dataclass
class LossConfig:
    """The run fields ``LossTrainer`` reads; ``VAEConfig`` and ``DiffusionConfig`` add their model's fields.

    ``data_shape`` (2,) for the toys, (1, 28, 28) for Fashion-MNIST.
    """

    dataset: str = "fashion_mnist"
    data_shape: tuple[int, ...] = (1, 28, 28)
    batch_size: int = 128
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        self.data_shape = tuple(self.data_shape)
        require_positive(self, integers=("batch_size",), numbers=("lr",))


class LossTrainer:
    """Minimises ``self.loss(batch)`` over ``model``'s parameters with Adam; see the module docstring.

    ``cfg``: a ``LossConfig`` (or a subclass). ``data``: an ``ImageData``, a bare (N, ...) tensor, or a toy
    distribution with ``sample(n, generator=)``; default ``cfg.dataset``.
    ``STATS`` (class attribute) names what ``loss`` returns.
    """

    STATS: tuple[str, ...] = ("loss",)

    def __init__(self, cfg: LossConfig, model: nn.Module, data: Any = None, *, check_every: int = 100) -> None:
        if isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 1:
            raise ValueError(f"check_every={check_every!r} must be an integer >= 1, e.g. check_every=100")
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self.model = model.to(self.device)
        data = load_data(cfg.dataset, self.device) if data is None else data
        if isinstance(data, Tensor):
            data = ImageData(data.float(), torch.zeros(len(data), dtype=torch.long), "tensor", "train", ())
        self.data = data.to(self.device) if isinstance(data, ImageData) else data
        shape = self.data.shape if isinstance(self.data, ImageData) else (getattr(self.data, "dim", None),)
        if None not in shape and tuple(shape) != tuple(cfg.data_shape):
            raise ValueError(f"the data's samples have shape {tuple(shape)} but cfg.data_shape={cfg.data_shape}; "
                             f"set data_shape={tuple(shape)} in the config")
        if isinstance(self.data, ImageData) and len(self.data) < cfg.batch_size:
            raise ValueError(f"the dataset has {len(self.data)} samples, fewer than one batch ({cfg.batch_size}); "
                             f"lower batch_size")
        self.opt = make_optimizer("adam", self.model.parameters(), cfg.lr, cfg.betas)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(cfg.seed)
        self.check_every = check_every
        self.step_count = 0
        self._perm: Tensor | None = None
        self._pos = 0
        self._pending: list[Tensor] = []
        self._history: dict[str, list[float]] = {k: [] for k in self.STATS}
        self._good = self.state_dict()

    def loss(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        """(the scalar to minimise, the step's statistics as a (len(STATS),) tensor) for one batch."""
        raise NotImplementedError

    def real_batch(self) -> Tensor:
        """The next batch (batch_size, *data_shape): a slice of a per-epoch permutation, or fresh toy samples."""
        batch, self._perm, self._pos = next_batch(self.data, self.cfg.batch_size, self.rng, self.device,
                                                  self._perm, self._pos)
        return batch

    def step(self) -> None:
        """One Adam step on one batch; the statistics wait on the device until the next log point."""
        self.model.train()
        value, stats = self.loss(self.real_batch())
        self.opt.zero_grad(set_to_none=True)
        value.backward()
        self.opt.step()
        self._pending.append(stats.detach().float())
        self.step_count += 1
        if self.step_count % self.check_every == 0:
            self.flush()

    def fit(self, steps: int, decay: float = 0.0, progress: bool = False) -> dict[str, list[float]]:
        """Train for ``steps`` steps; returns ``history``.

        ``decay``: the learning rate falls linearly to 0 over the last ``decay`` fraction of these steps (the
        schedule ``ganlab.batched.LinearDecay`` gives the mode-collapse benchmark's GANs), then is put back.
        """
        from tqdm.auto import tqdm

        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps={steps!r} must be a whole number >= 0, e.g. fit(steps=1000)")
        if not 0 <= decay <= 1:
            raise ValueError(f"decay={decay!r} must be a fraction of the steps, from 0 to 1")
        start = [group["lr"] for group in self.opt.param_groups]
        try:
            for i in tqdm(range(steps), disable=not progress, desc=type(self).__name__, unit="step"):
                if decay > 0:
                    scale = min(1.0, max(0.0, (steps - i) / (decay * steps)))
                    for group, lr in zip(self.opt.param_groups, start):
                        group["lr"] = lr * scale
                self.step()
        finally:
            for group, lr in zip(self.opt.param_groups, start):
                group["lr"] = lr
        self.flush()
        return self.history

    def flush(self) -> None:
        """Copy pending statistics to the host (one sync), check them, and remember this good state."""
        if not self._pending:
            return
        stats, first, bad = drain(self._pending, self.step_count)  # (steps, len(STATS))
        if bad is not None:
            self.load_state_dict(self._good)
            raise diverged(self.STATS, stats, first, bad, self.step_count,
                           f"Lower the learning rate (now {self.cfg.lr}) or check the data.")
        extend_history(self._history, self.STATS, stats)
        self._good = self.state_dict()

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-step statistics as host lists, one per name in ``STATS``."""
        self.flush()
        return self._history

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimizer moments, random state, data position, step count and history (copies)."""
        return copy.deepcopy({"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                              "rng": self.rng.get_state(), "perm": self._perm, "pos": self._pos,
                              "step_count": self.step_count, "history": self._history})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a ``state_dict``, its tensors moved to this trainer's device."""
        state = copy.deepcopy(state)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.rng.set_state(state["rng"].cpu())
        self._perm = None if state["perm"] is None else state["perm"].to(self.device)
        self._pos, self.step_count, self._history = state["pos"], state["step_count"], state["history"]

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically with a SHA-256 of its contents (``ganlab.checkpoint``)."""
        self.flush()
        return write_checkpoint(path, dataclasses.asdict(self.cfg), self.state_dict())

    def load(self, path: str | Path) -> None:
        """Continue from a checkpoint written by ``save`` of a trainer with the same config."""
        config, state = read_checkpoint(path)
        mine = dataclasses.asdict(self.cfg)
        differ = sorted(k for k in set(config) | set(mine) if _plain(config.get(k)) != _plain(mine.get(k))
                        and k != "device")
        if differ:
            raise ValueError(f"{path} was saved with a different config ({', '.join(differ)}); build the trainer "
                             f"with the saved config to load it")
        self.load_state_dict(state)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
