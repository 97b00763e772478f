"""Trainers for image-to-image translation: paired (pix2pix) and unpaired (CycleGAN).

pix2pix (Isola et al. 2017). G maps an input x to an output; D judges (input, output) pairs, patch by patch:
    D: min  ½ [ℓ_D(D(x, y), real) + ℓ_D(D(x, G(x)), fake)]            (the ½ slows D, as in the paper)
    G: min  ℓ_G(D(x, G(x))) + λ · E|y − G(x)|₁,   λ = 100.
``adversarial=False`` drops D and trains the L1 term alone, the baseline the GAN term is measured against.

CycleGAN (Zhu et al. 2017). G_ab: A → B and G_ba: B → A, with discriminators D_a and D_b, LSGAN losses and
    G: min  ℓ_G(D_b(G_ab(a))) + ℓ_G(D_a(G_ba(b))) + λ_cyc (|G_ba(G_ab(a)) − a|₁ + |G_ab(G_ba(b)) − b|₁)
            + λ_id (|G_ab(b) − b|₁ + |G_ba(a) − a|₁),   λ_cyc = 10, λ_id = 5;
    D: min  ℓ_D(D_b(b), D_b(pool_b(G_ab(a)))) + the same for A, where the pool (``ImagePool``) replays past fakes.

Both run on ``ganlab.translation_loop.TranslationLoop``, which keeps ``ganlab.train.Trainer``'s habits (resident
data, fused Adam, no host sync inside a step, checked statistics, checkpoints through ``ganlab.checkpoint``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .data import ImageData
from .nets.translation import ImagePool, PatchDiscriminator, UNetGenerator
from .translation_data import PairedData
from .translation_loop import TranslationConfig, TranslationLoop, read_translation_checkpoint

__all__ = ["TranslationConfig", "Pix2PixTrainer", "CycleGANTrainer", "cycle_config", "pix2pix_g_loss",
           "reconstruction_loss"]


def reconstruction_loss(a: Tensor, a_back: Tensor, b: Tensor, b_back: Tensor) -> Tensor:
    """E|a_back − a|₁ + E|b_back − b|₁ over (N, C, H, W) pairs: CycleGAN's cycle term (a_back = G_ba(G_ab(a)), and
    the same for b) and its identity term (a_back = G_ba(a), b_back = G_ab(b)); a scalar."""
    return (a_back - a).abs().mean() + (b_back - b).abs().mean()


def pix2pix_g_loss(g_loss: Callable[[Tensor], Tensor], fake_logits: Tensor, fake: Tensor, target: Tensor,
                   l1_weight: float = 100.0) -> Tensor:
    """pix2pix's generator objective ℓ_G(D(x, G(x))) + λ · E|y − G(x)|₁ on patch logits (N, 1, h, w), a scalar."""
    return g_loss(fake_logits.flatten()) + l1_weight * (fake - target).abs().mean()


def _frozen(module: nn.Module, frozen: bool) -> None:
    for p in module.parameters():  # no D weight gradients during G's update
        p.requires_grad_(not frozen)


class Pix2PixTrainer(TranslationLoop):
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
        d_loss = d_real = d_fake = zero
        fake_logits_g = None  # no D: the L1 term alone (pix2pix_g_loss with no adversarial term)
        if self.cfg.adversarial:
            real_logits = self.discriminator(torch.cat([x, y], 1)).flatten()
            fake_logits = self.discriminator(torch.cat([x, fake.detach()], 1)).flatten()
            d_loss = 0.5 * self.objective.d_loss(real_logits, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            _frozen(self.discriminator, True)
            fake_logits_g = self.discriminator(torch.cat([x, fake], 1))
            _frozen(self.discriminator, False)
            d_real, d_fake = torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
        g_adv = self.objective.g_loss(fake_logits_g.flatten()) if fake_logits_g is not None else zero
        g_total = (pix2pix_g_loss(self.objective.g_loss, fake_logits_g, fake, y, self.cfg.l1_weight)
                   if fake_logits_g is not None else self.cfg.l1_weight * (fake - y).abs().mean())
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        l1 = (fake - y).abs().mean()
        return torch.stack([d_loss, g_adv, l1, d_real, d_fake]).detach().float()

    def translate(self, inputs: Tensor) -> Tensor:
        """G(inputs), (N, 1, H, W) → (N, 1, H, W) on the CPU, with G in eval mode (its BatchNorm statistics
        recomputed for the current weights over training inputs: ``TranslationLoop._apply``)."""
        return self._apply(self.generator, inputs, self.data.images[:, :1])

    @classmethod
    def load(cls, path: str | Path, data: PairedData, **kwargs: Any) -> Pix2PixTrainer:
        """Rebuild a trainer from ``save`` (same data) and continue exactly."""
        cfg, state = read_translation_checkpoint(path, cls.__name__)
        trainer = cls(cfg, data, **kwargs)
        trainer.load_state_dict(state)
        return trainer


class CycleGANTrainer(TranslationLoop):
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
        cycle = reconstruction_loss(a, self.g_ba(fake_b), b, self.g_ab(fake_a))
        identity = torch.zeros((), device=self.device)
        if cfg.identity_weight > 0:  # skipped at weight 0: two generator passes saved
            identity = reconstruction_loss(a, self.g_ba(a), b, self.g_ab(b))
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
        net, source = (self.g_ab, self.a) if direction == "ab" else (self.g_ba, self.b)
        return self._apply(net, images, source.images)

    @classmethod
    def load(cls, path: str | Path, domain_a: Tensor, domain_b: Tensor, **kwargs: Any) -> CycleGANTrainer:
        """Rebuild a trainer from ``save`` (same domains) and continue exactly."""
        cfg, state = read_translation_checkpoint(path, cls.__name__)
        trainer = cls(cfg, domain_a, domain_b, **kwargs)
        trainer.load_state_dict(state)
        return trainer


def cycle_config(**changes: Any) -> TranslationConfig:
    """CycleGAN's recipe (LSGAN loss, λ_cyc 10, λ_id 5, pool 50) with ``changes`` applied."""
    return dataclasses.replace(TranslationConfig(loss="least_squares"), **changes)
