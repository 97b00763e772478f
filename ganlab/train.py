"""The Trainer: Algorithm 1 of Goodfellow et al. (2014) as one plain loop.

Per step: ``n_critic`` discriminator updates, each on a fresh real batch and fresh noise, then one
generator update. The updates themselves are the functions ``d_step`` and ``g_step`` below, so every
model works with every objective and regulariser; a remedy can pass its own.

Speed: the data is resident on the device and indexed there, noise is drawn there, and per-step
statistics stay there as tensors until a log point (every ``check_every`` steps, at the end of
``fit``, or when ``history`` is read) copies them to the host in one go. At each log point the
statistics are checked for NaN/inf; a bad value restores the last checked state and raises
``TrainingDiverged`` naming the step. ``ganlab.fast`` adds fused Adam, one D pass over real and fake
where that is exact, and on CUDA the whole step replayed as one CUDA graph (``Trainer.fast_path``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .checkpoint import read_checkpoint, write_checkpoint
from .config import GANConfig, resolve_device
from .data import DATASETS, ImageData, load_images
from .fast import Stepper, adam_options, discriminate, graph_safe
from .losses import Objective, get_objective
from .nets import build_models
from .penalties import penalty_term, weight_clip

STATS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")
EVENTS = ("on_step_end", "on_epoch_end")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the trainer has been put back to its last checked state."""


def load_data(name: str, device: torch.device) -> Any:
    """An image set (``ImageData``) or a toy distribution (from ``ganlab.toy``) by name."""
    if name in DATASETS:
        return load_images(name, "train", device)
    from . import toy  # toy sets are the theory notebooks' business; imported only when asked for

    return toy.get(name)


def make_optimizer(name: str, params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam (with ``betas``; fused where torch has the kernel), plain SGD or RMSprop, by name."""
    params = list(params)
    table: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "adam": lambda: torch.optim.Adam(params, lr=lr, betas=betas, **adam_options(params)),
        "sgd": lambda: torch.optim.SGD(params, lr=lr),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr),
    }
    return table[name]()


def grad_norm(module: nn.Module) -> Tensor:
    """‖∇θ‖₂ over all of a module's parameter gradients, as a device scalar (no host sync)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def adversarial_d_loss(t: Trainer, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The objective's D loss on logits (N,), with the trainer's smoothed/flipped targets when it takes them."""
    objective = t.objective
    if objective.uses_targets:
        real_target, fake_target = t.targets(real_logits.shape[0])
        return objective.d_loss(real_logits, fake_logits, real_target, fake_target)
    return objective.d_loss(real_logits, fake_logits)


@graph_safe
def d_step(t: Trainer, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One discriminator update on a real batch (N, ...) and noise (N, latent).

    Returns (loss, mean D(real), mean D(fake), ‖∇D‖) as device scalars; D(·) = σ(logit).
    """
    with torch.no_grad():
        fake = t.generator(z)
    return d_update(t, real, fake)


def d_update(t: Trainer, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The discriminator update of ``d_step`` on given fakes (M, ...), e.g. mixed with replayed old ones."""
    cfg, D = t.cfg, t.discriminator
    real, fake = t.noisy(real), t.noisy(fake)
    real_logits, fake_logits = discriminate(D, real, fake)  # one pass over both when D is per-sample
    loss = adversarial_d_loss(t, real_logits, fake_logits)
    penalty = penalty_term(cfg.penalty, D, real, fake, cfg.penalty_weight, t.rng)
    total = loss if penalty is None else loss + penalty
    t.opt_d.zero_grad(set_to_none=True)
    total.backward()
    norm = grad_norm(D)
    t.opt_d.step()
    if cfg.clip is not None:
        weight_clip(D, cfg.clip)
    with torch.no_grad():
        return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean(), norm


@graph_safe
def g_step(t: Trainer, z: Tensor) -> tuple[Tensor, Tensor]:
    """One generator update on noise (N, latent); D's parameters are frozen so no D gradient is computed.

    Returns (loss, ‖∇G‖) as device scalars.
    """
    return g_update(t, lambda: t.objective.g_loss(t.discriminator(t.noisy(t.generator(z)))))


def g_update(t: Trainer, loss_fn: Callable[[], Tensor]) -> tuple[Tensor, Tensor]:
    """The generator update of ``g_step`` on the loss ``loss_fn()`` computes (e.g. a conditional G's loss).

    D's parameters are frozen while the loss is built and differentiated. Returns (loss, ‖∇G‖).
    """
    D = t.discriminator
    D.requires_grad_(False)
    try:
        loss = loss_fn()
        t.opt_g.zero_grad(set_to_none=True)
        loss.backward()
    finally:
        D.requires_grad_(True)
    norm = grad_norm(t.generator)
    t.opt_g.step()
    return loss.detach(), norm


class Trainer:
    """Trains a generator against a discriminator; see the module docstring.

    ``data``: an ``ImageData`` (epochs are passes over it) or anything with ``sample(n, generator=)``
    (a toy distribution; an epoch is ``steps_per_epoch`` steps). Default: ``cfg.dataset``.
    ``generator``/``discriminator``: default ``ganlab.nets.build_models(cfg)``.
    """

    def __init__(self, cfg: GANConfig | None = None, data: Any = None, generator: nn.Module | None = None,
                 discriminator: nn.Module | None = None, *, progress: bool = True, check_every: int = 100,
                 steps_per_epoch: int | None = None,
                 d_step: Callable[..., tuple[Tensor, ...]] = d_step,
                 g_step: Callable[..., tuple[Tensor, ...]] = g_step, cuda_graph: bool = True) -> None:
        self.cfg = cfg = cfg if cfg is not None else GANConfig()
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weight initialisation and dropout
        if (generator is None) != (discriminator is None):
            raise ValueError("pass both generator and discriminator, or neither to build them from cfg.model")
        if generator is None:
            generator, discriminator = build_models(cfg)
        self.generator, self.discriminator = generator.to(self.device), discriminator.to(self.device)
        self.data = load_data(cfg.dataset, self.device) if data is None else _to_device(data, self.device)
        if isinstance(self.data, ImageData) and len(self.data) < cfg.batch_size * cfg.n_critic:
            raise ValueError(f"the dataset has {len(self.data)} samples, fewer than one step needs "
                             f"(batch_size × n_critic = {cfg.batch_size * cfg.n_critic})")
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
        self._stepper = Stepper(cuda_graph)  # ganlab.fast: CUDA-graph replay of `updates` when possible
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
        b = self.cfg.batch_size
        if not isinstance(self.data, ImageData):
            return self.data.sample(b, generator=self.rng).to(self.device, torch.float32)
        if self._perm is None or self._pos + b > len(self.data):
            self._perm = torch.randperm(len(self.data), device=self.device, generator=self.rng)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + b]
        self._pos += b
        return self.data.images[idx]

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
        """How the next step runs: "cuda-graph", or "eager: <why not>" (see ``ganlab.fast``)."""
        return self._stepper.describe(self)

    def drop_graph(self) -> None:
        """Capture the step again before the next replay: for changes the setup fingerprint of
        ``ganlab.fast`` cannot see (a number held in a custom hook's closure, say)."""
        self.graph_generation = getattr(self, "graph_generation", 0) + 1

    # ------------------------------------------------------------------ the loop
    def step(self) -> None:
        """One iteration of Algorithm 1: n_critic D updates, then one G update.

        Runs ``updates(*inputs())``, replayed as one CUDA graph when ``fast_path`` says "cuda-graph".
        """
        self.generator.train()
        self.discriminator.train()
        self._pending.append(self._stepper(self))
        self.step_count += 1
        for callback in self.callbacks["on_step_end"]:
            callback(self)
        if self.step_count % self.check_every == 0:
            self.flush()

    def fit(self, epochs: int | None = None, steps: int | None = None, progress: bool | None = None
            ) -> dict[str, list[float]]:
        """Train for ``steps`` steps, or ``epochs`` epochs (default ``cfg.epochs``); returns ``history``."""
        from tqdm.auto import tqdm

        if steps is None:
            steps = (epochs if epochs is not None else self.cfg.epochs) * self.steps_per_epoch
        total = steps
        show = self.progress if progress is None else progress
        with tqdm(total=total, disable=not show, desc=f"{self.cfg.model} GAN", unit="step") as bar:
            for _ in range(total):
                self.step()
                bar.update(1)
                if self.step_count % self.steps_per_epoch == 0:
                    self.epoch += 1
                    for callback in self.callbacks["on_epoch_end"]:
                        callback(self)
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
        stats = torch.stack(self._pending).cpu()  # (steps, len(STATS))
        first_step = self.step_count - len(self._pending) + 1
        self._pending.clear()
        finite = torch.isfinite(stats)
        if not finite.all():
            row, col = (~finite).nonzero()[0].tolist()
            bad_step = first_step + row
            self.load_state_dict(self._good)
            raise TrainingDiverged(
                f"{STATS[col]} became {stats[row, col].item()} at step {bad_step}; the trainer was restored to "
                f"step {self.step_count}, its last checked good state. Lower the learning rates, add a "
                f"penalty, or check the data.")
        for i, key in enumerate(STATS):
            self._history[key] += stats[:, i].tolist()
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
        """Change config fields mid-run (the dashboard's sliders); validated, effective from the next step."""
        new = dataclasses.replace(self.cfg, **changes)  # runs __post_init__ validation
        rebuild = new.optimizer != self.cfg.optimizer
        self.cfg = new
        if rebuild:
            self.opt_g = make_optimizer(new.optimizer, self.generator.parameters(), new.lr_g, new.betas)
            self.opt_d = make_optimizer(new.optimizer, self.discriminator.parameters(), new.lr_d, new.betas)
        for opt, lr in ((self.opt_g, new.lr_g), (self.opt_d, new.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = new.betas

    # ------------------------------------------------------------------ state and checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizer moments, RNG states, data position."""
        flushed = len(self._history["d_loss"])
        state = {
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(), "torch_rng": torch.get_rng_state(),
            "step": self.step_count, "epoch": self.epoch, "perm": self._perm, "pos": self._pos,
            "history": torch.tensor([self._history[k] for k in STATS]).reshape(len(STATS), flushed),
            "fixed_noise": self.fixed_noise,
        }
        return copy.deepcopy(state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        self.step_count, self.epoch, self._pos = state["step"], state["epoch"], state["pos"]
        self._perm = None if state["perm"] is None else state["perm"].to(self.device)
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self._pending.clear()
        self._history = {k: state["history"][i].tolist() for i, k in enumerate(STATS)}

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (temp file + rename): config, weights, optimizers, RNG, history."""
        self.flush()
        return write_checkpoint(path, self.cfg.to_dict(), self.state_dict())

    @classmethod
    def load(cls, path: str | Path, data: Any = None, generator: nn.Module | None = None,
             discriminator: nn.Module | None = None, **kwargs: Any) -> Trainer:
        """Rebuild a trainer from ``save``; also restores torch's global RNG (dropout draws from it)."""
        cfg_dict, state = read_checkpoint(path)
        trainer = cls(GANConfig.from_dict(cfg_dict), data, generator, discriminator, **kwargs)
        try:
            trainer.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError) as err:
            raise ValueError(f"{path} does not match the models it should restore ({err}); was it saved "
                             f"with different networks or another ganlab version?") from err
        trainer._good = trainer.state_dict()
        return trainer


def _to_device(data: Any, device: torch.device) -> Any:
    if isinstance(data, ImageData):
        return data.to(device)
    if isinstance(data, Tensor):  # a bare tensor of samples (N, ...) is treated as an image set
        labels = torch.zeros(data.shape[0], dtype=torch.long)
        return ImageData(data.float(), labels, "tensor", "train", ()).to(device)
    return data
