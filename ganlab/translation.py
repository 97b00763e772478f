"""Trainers for image-to-image translation: paired (pix2pix) and unpaired (CycleGAN).

pix2pix (Isola et al. 2017). G maps an input x to an output; D judges (input, output) pairs, patch by patch:
    D: min  ½ [ℓ_D(D(x, y), real) + ℓ_D(D(x, G(x)), fake)]            (the ½ slows D, as in the paper)
    G: min  ℓ_G(D(x, G(x))) + λ · E|y − G(x)|₁,   λ = 100.
``adversarial=False`` drops D and trains the L1 term alone, the baseline the GAN term is measured against.

CycleGAN (Zhu et al. 2017). G_ab: A → B and G_ba: B → A, with discriminators D_a and D_b, LSGAN losses and
    G: min  ℓ_G(D_b(G_ab(a))) + ℓ_G(D_a(G_ba(b))) + λ_cyc (|G_ba(G_ab(a)) − a|₁ + |G_ab(G_ba(b)) − b|₁)
            + λ_id (|G_ab(b) − b|₁ + |G_ba(a) − a|₁),   λ_cyc = 10, λ_id = 5;
    D: min  ℓ_D(D_b(b), D_b(pool_b(G_ab(a)))) + the same for A, where the pool (``ImagePool``) replays past fakes.

Both follow ``ganlab.train.Trainer``'s habits: data resident on the device and batches drawn by
``data.next_batch``; fused Adam from ``train_state.make_optimizer``; per-step statistics kept on the device
and copied to the host in one go every ``check_every`` steps, where NaN/inf raises ``TrainingDiverged`` (no
restore: rebuild and lower the learning rate); checkpoints through ``ganlab.checkpoint``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .checkpoint import read_checkpoint, write_checkpoint
from .config import resolve_device
from .data import ImageData, next_batch
from .losses import get_objective
from .nets.translation import ImagePool, PatchDiscriminator, UNetGenerator
from .train import TrainingDiverged
from .train_state import make_optimizer
from .translation_data import PairedData


@dataclass
class TranslationConfig:
    """One recipe for both trainers; the defaults are the papers' except the widths, sized for a CPU."""

    width_g: int = 32        # U-Net width w (pix2pix uses 64 at 256×256)
    depth: int = 2           # U-Net halvings: 2 fits 28×28 (28 → 14 → 7)
    skips: bool = True       # False: the encoder–decoder without skips
    width_d: int = 32        # PatchGAN width (pix2pix: 64)
    d_layers: int = 1        # PatchGAN stride-2 layers: 1 → 16-pixel patches, 3 → 70 (the whole 28×28 image)
    batch_size: int = 32     # pix2pix used 1-10 at 256×256; small images want bigger batches
    lr: float = 2e-4         # both papers
    betas: tuple[float, float] = (0.5, 0.999)  # both papers (β₁ = 0.5, as in DCGAN)
    adversarial: bool = True  # False: only the L1 / cycle / identity terms
    loss: str = "non_saturating"  # pix2pix: BCE; CycleGAN: "least_squares"
    l1_weight: float = 100.0  # pix2pix's λ
    cycle_weight: float = 10.0  # CycleGAN's λ_cyc
    identity_weight: float = 5.0  # CycleGAN's λ_id = ½ λ_cyc
    pool_size: int = 50       # CycleGAN's history of fakes
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # a checkpoint stores a list
        get_objective(self.loss)  # names the known losses when this one is not
        for name in ("width_g", "depth", "width_d", "d_layers", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be an integer >= 1")
        for name in ("lr", "l1_weight", "cycle_weight", "identity_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be >= 0")


class _TranslationTrainer:
    """The loop, statistics, and checkpoints both trainers share; subclasses define ``_build`` and ``updates``."""

    STATS: tuple[str, ...] = ()
    NETS: tuple[str, ...] = ()

    def __init__(self, cfg: TranslationConfig, check_every: int = 50, progress: bool = False) -> None:
        self.cfg, self.check_every, self.progress = cfg, check_every, progress
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weight initialisation
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(cfg.seed)
        self.objective = get_objective(cfg.loss)
        self.step_count = 0
        self._pending: list[Tensor] = []
        self._history: dict[str, list[float]] = {k: [] for k in self.STATS}
        self._positions: dict[str, tuple[Tensor | None, int]] = {}

    def _optimizer(self, *modules: nn.Module) -> torch.optim.Optimizer:
        return make_optimizer("adam", [p for m in modules for p in m.parameters()], self.cfg.lr, self.cfg.betas)

    def _batch(self, name: str, data: ImageData) -> Tensor:
        """The next (batch_size, ...) slice of ``data``'s per-epoch permutation; ``name`` keeps positions apart."""
        perm, pos = self._positions.get(name, (None, 0))
        batch, perm, pos = next_batch(data, self.cfg.batch_size, self.rng, self.device, perm, pos)
        self._positions[name] = (perm, pos)
        return batch

    def step(self) -> None:
        """One update of every player; statistics stay on the device until the next log point."""
        for name in self.NETS:
            getattr(self, name).train()
        self._pending.append(self.updates())
        self.step_count += 1
        if self.step_count % self.check_every == 0:
            self.flush()

    def fit(self, steps: int) -> dict[str, list[float]]:
        """Train ``steps`` steps; returns ``history``."""
        from tqdm.auto import tqdm

        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps={steps!r} must be a whole number >= 0, e.g. fit(200)")
        for _ in tqdm(range(steps), disable=not self.progress, desc=type(self).__name__, unit="step"):
            self.step()
        return self.history

    def flush(self) -> None:
        """Copy pending statistics to the host (one sync) and check them for NaN/inf."""
        if not self._pending:
            return
        stats = torch.stack(self._pending).cpu()  # (steps, len(STATS))
        first = self.step_count - len(self._pending) + 1
        self._pending.clear()
        bad = (~torch.isfinite(stats)).nonzero()
        if len(bad):
            row, col = bad[0].tolist()
            raise TrainingDiverged(f"{self.STATS[col]} became {stats[row, col].item()} at step {first + row}; "
                                   f"build a new trainer with a lower lr (now {self.cfg.lr})")
        for i, key in enumerate(self.STATS):
            self._history[key] += stats[:, i].tolist()

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-step statistics (``STATS``) as host lists."""
        self.flush()
        return self._history

    @torch.no_grad()
    def _apply(self, net: nn.Module, images: Tensor, batch: int = 500) -> Tensor:
        """``net`` in eval mode (BatchNorm's running statistics) over (N, C, H, W) images, in batches → CPU."""
        was = net.training
        net.eval()
        try:
            return torch.cat([net(images[i:i + batch].to(self.device)).float().cpu()
                              for i in range(0, images.shape[0], batch)])
        finally:
            net.train(was)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        self.flush()
        return {"nets": {n: getattr(self, n).state_dict() for n in self.NETS},
                "optimizers": {n: o.state_dict() for n, o in self._optimizers().items()},
                "pools": {n: p.state_dict() for n, p in self._pools().items()},
                "rng": self.rng.get_state(), "step": self.step_count, "history": self._history,
                "positions": {k: [p, i] for k, (p, i) in self._positions.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for n in self.NETS:
            getattr(self, n).load_state_dict(state["nets"][n])
        for n, opt in self._optimizers().items():
            opt.load_state_dict(state["optimizers"][n])
        for n, pool in self._pools().items():
            saved = state["pools"][n]
            images = saved["images"].to(self.device) if saved["images"] is not None else None
            pool.load_state_dict({**saved, "images": images})
        self.rng.set_state(state["rng"])
        self.step_count = int(state["step"])
        self._history = {k: list(v) for k, v in state["history"].items()}
        self._positions = {k: (p.to(self.device) if p is not None else None, int(i))
                           for k, (p, i) in state["positions"].items()}

    def save(self, path: str | Path) -> Path:
        """Write config and state atomically with a checksum (``ganlab.checkpoint.write_checkpoint``)."""
        return write_checkpoint(path, {"trainer": type(self).__name__, **asdict(self.cfg)}, self.state_dict())

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def _pools(self) -> dict[str, ImagePool]:
        return {}

    def updates(self) -> Tensor:
        raise NotImplementedError


def _read(path: str | Path, kind: str) -> tuple[TranslationConfig, dict[str, Any]]:
    config, state = read_checkpoint(path)
    saved = config.pop("trainer", None)
    if saved != kind:
        raise ValueError(f"{path} holds a {saved} checkpoint; load it with {saved}.load")
    return TranslationConfig(**config), state


def _frozen(module: nn.Module, frozen: bool) -> None:
    for p in module.parameters():  # no D weight gradients during G's update
        p.requires_grad_(not frozen)


class Pix2PixTrainer(_TranslationTrainer):
    """pix2pix on aligned pairs: a U-Net G(x) and a PatchGAN D(x, y); see the module docstring."""

    STATS = ("d_loss", "g_adv", "l1", "d_real", "d_fake")
    NETS = ("generator", "discriminator")

    def __init__(self, cfg: TranslationConfig, data: PairedData, **kwargs: Any) -> None:
        super().__init__(cfg, **kwargs)
        self.data = data.stacked().to(self.device)  # (N, 2, H, W): input and target, drawn together
        c = data.inputs.shape[1]
        self.generator = UNetGenerator(c, data.targets.shape[1], cfg.width_g, cfg.depth, cfg.skips).to(self.device)
        self.discriminator = PatchDiscriminator(2 * c, cfg.width_d, cfg.d_layers).to(self.device)
        self.opt_g, self.opt_d = self._optimizer(self.generator), self._optimizer(self.discriminator)

    def updates(self) -> Tensor:
        """One D update (if adversarial) and one G update on a fresh batch; returns the (5,) STATS."""
        pair = self._batch("pairs", self.data)
        x, y = pair[:, :1], pair[:, 1:]
        fake = self.generator(x)
        zero = torch.zeros((), device=self.device)
        d_loss = g_adv = d_real = d_fake = zero
        if self.cfg.adversarial:
            real_logits = self.discriminator(torch.cat([x, y], 1)).flatten()
            fake_logits = self.discriminator(torch.cat([x, fake.detach()], 1)).flatten()
            d_loss = 0.5 * self.objective.d_loss(real_logits, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            _frozen(self.discriminator, True)
            g_adv = self.objective.g_loss(self.discriminator(torch.cat([x, fake], 1)).flatten())
            _frozen(self.discriminator, False)
            d_real, d_fake = torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
        l1 = (fake - y).abs().mean()
        self.opt_g.zero_grad(set_to_none=True)
        (g_adv + self.cfg.l1_weight * l1).backward()
        self.opt_g.step()
        return torch.stack([d_loss, g_adv, l1, d_real, d_fake]).detach().float()

    def translate(self, inputs: Tensor) -> Tensor:
        """G(inputs), (N, 1, H, W) → (N, 1, H, W) on the CPU, with G in eval mode."""
        return self._apply(self.generator, inputs)

    @classmethod
    def load(cls, path: str | Path, data: PairedData, **kwargs: Any) -> Pix2PixTrainer:
        """Rebuild a trainer from ``save`` (same data) and continue exactly."""
        cfg, state = _read(path, cls.__name__)
        trainer = cls(cfg, data, **kwargs)
        trainer.load_state_dict(state)
        return trainer


class CycleGANTrainer(_TranslationTrainer):
    """CycleGAN between unpaired image sets A and B; see the module docstring."""

    STATS = ("d_loss", "g_adv", "cycle", "identity")
    NETS = ("g_ab", "g_ba", "d_a", "d_b")

    def __init__(self, cfg: TranslationConfig, domain_a: Tensor, domain_b: Tensor, **kwargs: Any) -> None:
        super().__init__(cfg, **kwargs)
        if domain_a.shape[1:] != domain_b.shape[1:]:
            raise ValueError(f"domains A {tuple(domain_a.shape[1:])} and B {tuple(domain_b.shape[1:])} must have "
                             f"one image shape; pad the smaller (ganlab.translation_data.pad_to)")
        self.a, self.b = (ImageData(d.to(self.device).float(), torch.zeros(d.shape[0], dtype=torch.long,
                                    device=self.device), name, "train", ()) for d, name in ((domain_a, "A"),
                                                                                            (domain_b, "B")))
        c = domain_a.shape[1]
        self.g_ab, self.g_ba = (UNetGenerator(c, c, cfg.width_g, cfg.depth, cfg.skips).to(self.device)
                                for _ in range(2))
        self.d_a, self.d_b = (PatchDiscriminator(c, cfg.width_d, cfg.d_layers).to(self.device) for _ in range(2))
        # One optimizer for both generators and one for both discriminators, as in the reference code.
        self.opt_g, self.opt_d = self._optimizer(self.g_ab, self.g_ba), self._optimizer(self.d_a, self.d_b)
        self.pool_a, self.pool_b = ImagePool(cfg.pool_size, self.rng), ImagePool(cfg.pool_size, self.rng)

    def _pools(self) -> dict[str, ImagePool]:
        return {"pool_a": self.pool_a, "pool_b": self.pool_b}

    def updates(self) -> Tensor:
        """One G update (both generators), then one D update (both discriminators); returns the (4,) STATS."""
        a, b = self._batch("a", self.a), self._batch("b", self.b)
        cfg, obj = self.cfg, self.objective
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        cycle = (self.g_ba(fake_b) - a).abs().mean() + (self.g_ab(fake_a) - b).abs().mean()
        identity = torch.zeros((), device=self.device)
        if cfg.identity_weight > 0:
            identity = (self.g_ab(b) - b).abs().mean() + (self.g_ba(a) - a).abs().mean()
        g_adv = d_loss = torch.zeros((), device=self.device)
        if cfg.adversarial:
            _frozen(self.d_a, True)
            _frozen(self.d_b, True)
            g_adv = obj.g_loss(self.d_b(fake_b).flatten()) + obj.g_loss(self.d_a(fake_a).flatten())
            _frozen(self.d_a, False)
            _frozen(self.d_b, False)
        self.opt_g.zero_grad(set_to_none=True)
        (g_adv + cfg.cycle_weight * cycle + cfg.identity_weight * identity).backward()
        self.opt_g.step()
        if cfg.adversarial:
            old_b, old_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
            d_loss = (obj.d_loss(self.d_b(b).flatten(), self.d_b(old_b).flatten())
                      + obj.d_loss(self.d_a(a).flatten(), self.d_a(old_a).flatten()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        return torch.stack([d_loss, g_adv, cycle, identity]).detach().float()

    def translate(self, images: Tensor, direction: str = "ab") -> Tensor:
        """G_ab(images) for direction "ab", G_ba(images) for "ba"; (N, C, H, W) → (N, C, H, W) on the CPU."""
        if direction not in ("ab", "ba"):
            raise ValueError(f"direction={direction!r} must be 'ab' (A → B) or 'ba' (B → A)")
        return self._apply(self.g_ab if direction == "ab" else self.g_ba, images)

    @classmethod
    def load(cls, path: str | Path, domain_a: Tensor, domain_b: Tensor, **kwargs: Any) -> CycleGANTrainer:
        """Rebuild a trainer from ``save`` (same domains) and continue exactly."""
        cfg, state = _read(path, cls.__name__)
        trainer = cls(cfg, domain_a, domain_b, **kwargs)
        trainer.load_state_dict(state)
        return trainer


def cycle_config(**changes: Any) -> TranslationConfig:
    """CycleGAN's recipe (LSGAN loss, λ_cyc 10, λ_id 5, pool 50) with ``changes`` applied."""
    return dataclasses.replace(TranslationConfig(loss="least_squares"), **changes)
