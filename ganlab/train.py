"""The Trainer: Algorithm 1 of Goodfellow et al. (2014) as one plain loop.

Per step: ``n_critic`` discriminator updates, each on a fresh real batch and fresh noise, then one
generator update. The updates themselves are the functions ``d_step`` and ``g_step`` of
``ganlab.updates`` (re-exported here), so every model works with every objective and regulariser; a
remedy can pass its own.

Speed: the data is resident on the device and indexed there, noise is drawn there, and per-step
statistics stay there as tensors until a log point (every ``check_every`` steps, at the end of
``fit``, or when ``history`` is read) copies them to the host in one go. At each log point the
statistics are checked for NaN/inf; a bad value restores the last checked state (weights, optimizers,
random state, remedy state and the config it was taken with: ``ganlab.train_state``) and raises
``TrainingDiverged`` naming the step and the config changes it undid. ``ganlab.fast`` adds fused Adam and
one D pass over real and fake where that is exact; ``ganlab.graph`` replays the whole step as one CUDA graph
on CUDA (``Trainer.fast_path``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from . import train_state
from .checkpoint import write_checkpoint
from .config import GANConfig, resolve_device
from .data import DATASETS, ImageData, load_images, next_batch
from .fast import to_channels_last
from .graph import Stepper
from .losses import Objective, get_objective
from .nets import build_models
from .train_state import LIVE_FIELDS, STATS, apply_config, capture, check_live, make_optimizer, restore
from .train_state import TrainingDiverged as TrainingDiverged  # re-exported: ganlab.train.TrainingDiverged
from .updates import adversarial_d_loss, d_step, d_update, g_step, g_update, grad_norm

# The updates are re-exported: remedies and the conditional trainer build their steps from them.
__all__ = ["Trainer", "TrainingDiverged", "load_data", "make_optimizer", "STATS", "EVENTS", "LIVE_FIELDS",
           "d_step", "g_step", "d_update", "g_update", "adversarial_d_loss", "grad_norm"]

EVENTS = ("on_step_end", "on_epoch_end")


def load_data(name: str, device: torch.device) -> Any:
    """An image set (``ImageData``) or a toy distribution (from ``ganlab.toy``) by name."""
    if name in DATASETS:
        return load_images(name, "train", device)
    from . import toy  # toy sets are the theory notebooks' business; imported only when asked for

    return toy.get(name)


class Trainer:
    """Trains a generator against a discriminator; see the module docstring.

    ``data``: an ``ImageData`` (epochs are passes over it) or anything with ``sample(n, generator=)``
    (a toy distribution; an epoch is ``steps_per_epoch`` steps). Default: ``cfg.dataset``.
    ``generator``/``discriminator``: default ``ganlab.nets.build_models(cfg)``. ``check_every``: steps
    between log points (statistics copied to the host, checked, and the state remembered as good).
    """

    def __init__(self, cfg: GANConfig | None = None, data: Any = None, generator: nn.Module | None = None,
                 discriminator: nn.Module | None = None, *, progress: bool = True, check_every: int = 100,
                 steps_per_epoch: int | None = None,
                 d_step: Callable[..., tuple[Tensor, ...]] = d_step,
                 g_step: Callable[..., tuple[Tensor, ...]] = g_step, cuda_graph: bool = True,
                 channels_last: bool = False) -> None:
        self.cfg = cfg = cfg if cfg is not None else GANConfig()
        for name, value in (("check_every", check_every), ("steps_per_epoch", steps_per_epoch)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}={value!r} must be an integer >= 1, e.g. {name}=100")
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weight initialisation and dropout
        if (generator is None) != (discriminator is None):
            raise ValueError("pass both generator and discriminator, or neither to build them from cfg.model")
        if generator is None:
            generator, discriminator = build_models(cfg)
        self.generator, self.discriminator = generator.to(self.device), discriminator.to(self.device)
        self.channels_last = bool(channels_last) and to_channels_last(self.generator, self.discriminator)
        self.data = load_data(cfg.dataset, self.device) if data is None else _to_device(data, self.device)
        _check_data(self.data, cfg)
        self.d_step, self.g_step = d_step, g_step
        self.progress, self.check_every = progress, check_every
        self._steps_per_epoch = steps_per_epoch
        self.opt_g = make_optimizer(cfg.optimizer, self.generator.parameters(), cfg.lr_g, cfg.betas)
        self.opt_d = make_optimizer(cfg.optimizer, self.discriminator.parameters(), cfg.lr_d, cfg.betas)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(cfg.seed)
        self.fixed_noise = self.noise(64)  # the same z for every progress grid
        self.step_count, self.epoch = 0, 0
        self._perm: Tensor | None = None
        self._pos = 0
        self._pending: list[Tensor] = []
        self._history: dict[str, list[float]] = {k: [] for k in STATS}
        self.callbacks: dict[str, list[Callable[[Trainer], None]]] = {e: [] for e in EVENTS}
        self._stepper = Stepper(cuda_graph)  # ganlab.graph: CUDA-graph replay of `updates` when possible
        self.parts: dict[str, Any] = {}  # name → object with state_dict()/load_state_dict(): see register_state
        self._good = self.state_dict()

    # ------------------------------------------------------------------ pieces the steps use
    @property
    def objective(self) -> Objective:
        return get_objective(self.cfg.loss)

    @property
    def steps_per_epoch(self) -> int:
        if self._steps_per_epoch is not None:
            return self._steps_per_epoch
        if isinstance(self.data, ImageData):
            return max(1, len(self.data) // (self.cfg.batch_size * self.cfg.n_critic))
        return 100

    def noise(self, n: int) -> Tensor:
        """z ~ N(0, I), shape (n, latent_dim), from the trainer's own generator on the device."""
        return torch.randn(n, self.cfg.latent_dim, device=self.device, generator=self.rng)

    def real_batch(self) -> Tensor:
        """The next real batch (batch_size, ...): a slice of a per-epoch permutation, or fresh toy samples."""
        batch, self._perm, self._pos = next_batch(self.data, self.cfg.batch_size, self.rng, self.device,
                                                  self._perm, self._pos)
        return batch

    def noisy(self, x: Tensor) -> Tensor:
        """Instance noise (Sønderby et al. 2017): x + N(0, σ²) when cfg.instance_noise = σ > 0."""
        sigma = self.cfg.instance_noise
        if sigma == 0:
            return x
        return x + sigma * torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=self.rng)

    def targets(self, n: int) -> tuple[Tensor | float, Tensor | float]:
        """D's targets for real and fake: smoothed real label, and a random fraction swapped if label_flip > 0."""
        real, flip = self.cfg.real_label, self.cfg.label_flip
        if flip == 0:
            return real, 0.0
        swap = torch.rand(2, n, device=self.device, generator=self.rng) < flip
        return (torch.where(swap[0], 0.0, real), torch.where(swap[1], real, 0.0))

    def inputs(self) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """One step's random inputs: n_critic real batches and noise batches for D, then G's noise batch."""
        b = self.cfg.batch_size
        reals, zs = [], []
        for _ in range(self.cfg.n_critic):
            reals.append(self.real_batch())
            zs.append(self.noise(b))
        return reals, zs, self.noise(b)

    def updates(self, reals: list[Tensor], zs: list[Tensor], z_g: Tensor) -> Tensor:
        """A D update per (real, z) pair, then a G update on z_g; returns the step's STATS as a (6,) tensor."""
        for real, z in zip(reals, zs):
            d_loss, d_real, d_fake, d_norm = self.d_step(self, real, z)
        g_loss, g_norm = self.g_step(self, z_g)
        return torch.stack([d_loss, g_loss, d_real, d_fake, d_norm, g_norm]).float()

    @property
    def fast_path(self) -> str:
        """How the next step runs: "cuda-graph", or "eager: <why not>" (see ``ganlab.graph``)."""
        return self._stepper.describe(self) + (", channels-last" if self.channels_last else "")

    def drop_graph(self) -> None:
        """Capture the step again before the next replay: for changes the setup fingerprint of
        ``ganlab.graph`` cannot see (a number held in a custom hook's closure, say)."""
        self.graph_generation = getattr(self, "graph_generation", 0) + 1

    # ------------------------------------------------------------------ the loop
    def step(self) -> None:
        """One iteration of Algorithm 1: n_critic D updates, then one G update.

        Runs ``updates(*inputs())``, replayed as one CUDA graph when ``fast_path`` says "cuda-graph". The
        step and epoch counts advance together before any callback runs, so they agree even when a callback
        raises (Ctrl-C included); ``on_epoch_end`` runs after ``on_step_end`` on an epoch's last step, also
        when an ``on_step_end`` callback raised.
        """
        self.generator.train()
        self.discriminator.train()
        self._pending.append(self._stepper(self))
        self.step_count += 1
        epoch_done = self.step_count % self.steps_per_epoch == 0
        if epoch_done:
            self.epoch += 1
        try:
            for callback in self.callbacks["on_step_end"]:
                callback(self)
        finally:
            if epoch_done:
                for callback in self.callbacks["on_epoch_end"]:
                    callback(self)
        if self.step_count % self.check_every == 0:
            self.flush()

    def fit(self, epochs: int | None = None, steps: int | None = None, progress: bool | None = None
            ) -> dict[str, list[float]]:
        """Train for ``steps`` steps, or ``epochs`` epochs (default ``cfg.epochs``); returns ``history``."""
        from tqdm.auto import tqdm

        for name, value in (("epochs", epochs), ("steps", steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name}={value!r} must be a whole number >= 0, e.g. fit({name}=10)")
        if steps is None:
            steps = (epochs if epochs is not None else self.cfg.epochs) * self.steps_per_epoch
        show = self.progress if progress is None else progress
        with tqdm(total=steps, disable=not show, desc=f"{self.cfg.model} GAN", unit="step") as bar:
            for _ in range(steps):
                self.step()
                bar.update(1)
                if self.step_count % self.check_every == 0 and self._history["d_loss"]:
                    bar.set_postfix(d_loss=f"{self._history['d_loss'][-1]:.3f}",
                                    g_loss=f"{self._history['g_loss'][-1]:.3f}", refresh=False)
        self.flush()
        return self.history

    def add_callback(self, event: str, fn: Callable[[Trainer], None]) -> None:
        """Call ``fn(trainer)`` at ``event``: "on_step_end" or "on_epoch_end"."""
        if event not in self.callbacks:
            raise ValueError(f"event {event!r} is unknown; use one of {EVENTS}")
        self.callbacks[event].append(fn)

    def flush(self) -> None:
        """Copy pending statistics to the host (one sync), check them, and remember this good state."""
        if not self._pending:
            return
        stats, first_step, bad = train_state.drain(self._pending, self.step_count)  # (steps, len(STATS))
        if bad is not None:
            before = self.cfg
            self.load_state_dict(self._good)
            undone = [f"{f.name} {getattr(before, f.name)!r} → {getattr(self.cfg, f.name)!r}"
                      for f in dataclasses.fields(before) if getattr(before, f.name) != getattr(self.cfg, f.name)]
            raise train_state.diverged(STATS, stats, first_step, bad, self.step_count,
                                       "Lower the learning rates, add a penalty, or check the data.", undone)
        train_state.extend_history(self._history, STATS, stats)
        self._good = self.state_dict()

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-step statistics as host lists: d_loss, g_loss, D(real), D(fake) and both gradient norms."""
        self.flush()
        return self._history

    # ------------------------------------------------------------------ using the result
    @torch.no_grad()
    def sample(self, n: int = 64, z: Tensor | None = None) -> Tensor:
        """n generated samples (n, *image_shape) on the CPU, with G in eval mode (BatchNorm running stats)."""
        z = self.noise(n) if z is None else z.to(self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(z).float().cpu()
        finally:
            self.generator.train(was_training)

    def update(self, **changes: Any) -> None:
        """Change live config fields mid-run (the dashboard's sliders), effective from the next step.

        ``LIVE_FIELDS`` can change: learning rates, betas, optimizer (rebuilt, so its moments restart),
        loss, penalty, clip, label tricks, instance noise, batch size, n_critic, spectral norm (switched on
        D's layers in place), epochs, bf16. The fields the trainer was built from (``config.BUILD_FIELDS``)
        raise ValueError: build a new Trainer for those. The change is validated as a whole before any of
        it applies. A later divergence restore puts back the config of the restored state.
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self.cfg)})
        if unknown:
            raise ValueError(f"GANConfig has no field {unknown}; update changes {', '.join(LIVE_FIELDS)}")
        new = dataclasses.replace(self.cfg, **changes)  # runs __post_init__ validation
        check_live(self.cfg, new)
        apply_config(self, new)

    def register_state(self, name: str, part: Any) -> None:
        """Keep ``part``'s ``state_dict()`` in this trainer's state (checkpoints, divergence restores).

        For the state a remedy adds (a replay buffer, running averages); ``load_state_dict`` hands it back,
        its tensors moved to the trainer's device.
        """
        if not (callable(getattr(part, "state_dict", None)) and callable(getattr(part, "load_state_dict", None))):
            raise ValueError(f"{type(part).__name__} needs state_dict() and load_state_dict() to be kept")
        self.parts[name] = part
        self._good["parts"][name] = copy.deepcopy(part.state_dict())

    # ------------------------------------------------------------------ state and checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (``ganlab.train_state.capture``): config, weights, optimizer
        moments, RNG states, data position, history, registered parts."""
        return capture(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a ``state_dict``: afterwards ``cfg``, the optimizers and the weights all agree with it."""
        restore(self, state)

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (temp file + rename) with a SHA-256 of its contents (``ganlab.checkpoint``)."""
        self.flush()
        return write_checkpoint(path, self.cfg.to_dict(), self.state_dict())

    @classmethod
    def load(cls, path: str | Path, data: Any = None, generator: nn.Module | None = None,
             discriminator: nn.Module | None = None, *, device: str | None = None, **kwargs: Any) -> Trainer:
        """Rebuild a trainer from ``save`` and resume it exactly; also restores torch's global RNG (dropout).

        ``device``: where to put it (default the saved ``cfg.device``); a checkpoint saved on CUDA opens on a
        CPU-only machine with ``device="cpu"`` (see ``ganlab.train_state`` for its random stream). A
        checkpoint of a trainer with remedies must be loaded with ``ganlab.remedies.load_trainer``.
        """
        cfg, state = train_state.read_trainer_checkpoint(path, device)
        remedies = cfg.extra.get("remedies")
        if remedies:
            raise ValueError(f"{path} was saved by a trainer with the remedies {sorted(remedies)}, which "
                             f"Trainer.load cannot rebuild; use ganlab.remedies.load_trainer({str(path)!r})")
        return train_state.resume(cls(cfg, data, generator, discriminator, **kwargs), state, path)


def _check_data(data: Any, cfg: GANConfig) -> None:
    """The data's sample shape must be ``cfg.image_shape``, and an image set must hold one step's samples."""
    shape = None  # unknown for data that is neither an image set nor a toy distribution
    if isinstance(data, ImageData):
        shape = data.shape
    elif isinstance(getattr(data, "dim", None), int):
        shape = (data.dim,)
    if shape is not None and tuple(shape) != cfg.image_shape:
        raise ValueError(f"the data's samples have shape {tuple(shape)} but cfg.image_shape={cfg.image_shape}; "
                         f"set image_shape={tuple(shape)} in the GANConfig (or pass data of shape "
                         f"(N, {', '.join(map(str, cfg.image_shape))}))")
    if isinstance(data, ImageData) and len(data) < cfg.batch_size * cfg.n_critic:
        raise ValueError(f"the dataset has {len(data)} samples, fewer than one step needs "
                         f"(batch_size × n_critic = {cfg.batch_size * cfg.n_critic})")


def _to_device(data: Any, device: torch.device) -> Any:
    if isinstance(data, ImageData):
        return data.to(device)
    if isinstance(data, Tensor):  # a bare tensor of samples (N, ...) is treated as an image set
        labels = torch.zeros(data.shape[0], dtype=torch.long)
        return ImageData(data.float(), labels, "tensor", "train", ()).to(device)
    return data
