"""The way back from x to z: BiGAN/ALI training, inversion by optimisation, and paths in z.

BiGAN (Donahue et al. 2017) and ALI (Dumoulin et al. 2017) train an encoder E beside G; the discriminator
judges joint pairs, real (x, E(x)) with x ~ p_data against fake (G(z), z) with z ~ p_z:
    min_{G,E} max_D  E_x[log D(x, E(x))] + E_z[log(1 − D(G(z), z))].
``BiGANTrainer`` is the ordinary ``Trainer`` with two other step functions: its "generator" is a
``BiGANPair`` (G and E under one optimizer), and G and E's update uses the step's last real batch for the
encoder's side. The loop, fused Adam, resident data, NaN checks and checkpoints are the base class's.
G and E's loss swaps the labels of each side: the objective's G loss on the fake pairs' logits, plus the
same G loss on the *negated* real pairs' logits (for the non-saturating loss: −log D(G(z), z) − log(1 − D(x, E(x)))).

Without an encoder, ``invert`` finds z for an image by gradient descent on ‖G(z) − x‖², from a random
start or from E's guess. ``lerp`` and ``slerp`` give paths between two codes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .config import GANConfig
from .fast import graph_safe
from .nets.apply import apply_in_batches
from .nets.bigan import BiGANPair, Encoder, JointDiscriminator
from .nets.dcgan import DCGANGenerator
from .train import Trainer, adversarial_d_loss, g_update, grad_norm


# ---------------------------------------------------------------------- training
def build_bigan(cfg: GANConfig) -> tuple[BiGANPair, JointDiscriminator]:
    """G (the DCGAN generator), E and the joint D for cfg's (C, 28, 28) images, seeded with cfg.seed.

    Options in ``cfg.extra``: width (32, the DCGAN width unit w), hidden (256, D's joint width), dropout (0.2).
    """
    if len(cfg.image_shape) != 3 or cfg.image_shape[1:] != (28, 28):
        raise ValueError(f"the BiGAN nets are built for (C, 28, 28) images, not image_shape={cfg.image_shape}")
    width, channels = cfg.extra.get("width", 32), cfg.image_shape[0]
    torch.manual_seed(cfg.seed)
    pair = BiGANPair(DCGANGenerator(cfg.latent_dim, width, channels), Encoder(cfg.latent_dim, width, channels))
    discriminator = JointDiscriminator(cfg.latent_dim, width, channels, cfg.extra.get("hidden", 256),
                                       cfg.extra.get("dropout", 0.2))
    return pair, discriminator


@graph_safe
def bigan_d_step(t: Trainer, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One D update on real images (N, C, H, W) paired with E(x) against G(z) paired with z (N, latent).

    Returns (loss, mean D(x, E(x)), mean D(G(z), z), ‖∇D‖) as device scalars.
    """
    pair, D = t.generator, t.discriminator
    with torch.no_grad():  # G and E are constants in D's update
        fake, code = pair(z), pair.encode(real)
    real_logits, fake_logits = D(real, code), D(fake, z)
    loss = adversarial_d_loss(t, real_logits, fake_logits)
    t.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    norm = grad_norm(D)
    t.opt_d.step()
    with torch.no_grad():
        return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean(), norm


def bigan_g_loss(t: Trainer, real: Tensor, z: Tensor) -> Tensor:
    """G and E's loss: the objective's G loss on D(G(z), z) plus the same loss on −D(x, E(x)) (labels swapped)."""
    pair, D, objective = t.generator, t.discriminator, t.objective
    return objective.g_loss(D(pair(z), z)) + objective.g_loss(-D(real, pair.encode(real)))


@graph_safe
def bigan_g_step(t: Trainer, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
    """One update of G and E together (D frozen) on real images (N, C, H, W) and noise (N, latent).

    Returns (loss, ‖∇(G, E)‖).
    """
    return g_update(t, lambda: bigan_g_loss(t, real, z))


class BiGANTrainer(Trainer):
    """A ``Trainer`` for BiGAN/ALI: ``generator`` is a ``BiGANPair`` (G and E), ``discriminator`` a joint D(x, z).

    Built from ``cfg`` (``build_bigan``) unless both are passed. Penalties, clipping and instance noise
    are not defined for the joint game here and are refused.
    """

    def __init__(self, cfg: GANConfig | None = None, data: Any = None, generator: BiGANPair | None = None,
                 discriminator: nn.Module | None = None, **kwargs: Any) -> None:
        cfg = cfg if cfg is not None else GANConfig(model="dcgan", latent_dim=32)
        if cfg.penalty != "none" or cfg.clip is not None or cfg.instance_noise != 0:
            raise ValueError("BiGANTrainer supports no penalty, clip or instance noise; set penalty='none', "
                             "clip=None, instance_noise=0.0")
        if (generator is None) != (discriminator is None):
            raise ValueError("pass both the BiGANPair and the joint discriminator, or neither to build them from cfg")
        if generator is None:
            generator, discriminator = build_bigan(cfg)
        if not isinstance(generator, BiGANPair):
            raise ValueError(f"generator must be a BiGANPair (G and E together), got {type(generator).__name__}; "
                             f"wrap them: BiGANPair(generator, encoder)")
        super().__init__(cfg, data, generator, discriminator, d_step=bigan_d_step, g_step=bigan_g_step, **kwargs)

    def updates(self, reals: list[Tensor], zs: list[Tensor], z_g: Tensor) -> Tensor:
        """D updates on each (real, z) pair, then G and E's update on the last real batch and z_g; STATS (6,)."""
        for real, z in zip(reals, zs):
            d_loss, d_real, d_fake, d_norm = self.d_step(self, real, z)
        g_loss, g_norm = self.g_step(self, reals[-1], z_g)
        return torch.stack([d_loss, g_loss, d_real, d_fake, d_norm, g_norm]).float()

    @property
    def encoder(self) -> Encoder:
        return self.generator.encoder


# ---------------------------------------------------------------------- using G and E
def encode(encoder: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """E(x) for images (N, C, H, W) in eval mode (BatchNorm running statistics), batched: (N, latent) on the CPU."""
    return apply_in_batches(encoder, images, batch_size=batch_size)


def generate(generator: nn.Module, z: Tensor, batch_size: int = 500) -> Tensor:
    """G(z) for codes (N, latent) in eval mode, batched: (N, C, H, W) on the CPU."""
    return apply_in_batches(generator, z, batch_size=batch_size)


def reconstruction_error(x: Tensor, x_hat: Tensor) -> Tensor:
    """Per-image root-mean-square distance ‖x − x̂‖₂ / √(pixels): (N,) for images (N, C, H, W).

    On images in [−1, 1]: 0 is a perfect copy; two unrelated Fashion-MNIST images are typically 0.5–1 apart.
    """
    if x.shape != x_hat.shape:
        raise ValueError(f"x {tuple(x.shape)} and its reconstruction {tuple(x_hat.shape)} must have the same shape")
    return (x - x_hat).flatten(1).pow(2).mean(dim=1).sqrt()


def invert(generator: nn.Module, target: Tensor, steps: int = 200, lr: float = 0.05, z0: Tensor | None = None,
           rng: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Find z with G(z) ≈ target by Adam on the squared error, G fixed and in eval mode.

    target: (N, C, H, W); z0: the start (N, latent), default z ~ N(0, I) from ``rng``. Each image's code is
    optimised on its own error only (the loss is a sum over images). Returns (z (N, latent), errors
    (steps + 1, N)): the ``reconstruction_error`` of every image before each step and after the last.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps={steps!r} must be a whole number >= 0, e.g. steps=200")
    if not lr > 0:
        raise ValueError(f"lr={lr} must be positive, e.g. lr=0.05")
    latent = getattr(generator, "latent_dim", None)
    device = next(generator.parameters()).device
    target = target.to(device)
    if z0 is None:
        if latent is None:
            raise ValueError("the generator has no latent_dim attribute; pass a start z0 of shape (N, latent)")
        z0 = torch.randn(target.shape[0], latent, generator=rng).to(device)
    if z0.ndim != 2 or z0.shape[0] != target.shape[0] or (latent is not None and z0.shape[1] != latent):
        raise ValueError(f"z0 must have shape ({target.shape[0]}, {latent if latent is not None else 'latent'}) "
                         f"for {target.shape[0]} targets, got {tuple(z0.shape)}")
    z = z0.detach().clone().to(device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    was_training, grads = generator.training, [p.requires_grad for p in generator.parameters()]
    generator.eval()
    generator.requires_grad_(False)
    errors = []
    try:
        for _ in range(steps + 1):
            x_hat = generator(z)
            if x_hat.shape != target.shape:
                raise ValueError(f"G(z) has shape {tuple(x_hat.shape)} but the targets {tuple(target.shape)}")
            err = reconstruction_error(target, x_hat)
            errors.append(err.detach())
            if len(errors) > steps:
                break
            opt.zero_grad(set_to_none=True)
            (target - x_hat).pow(2).flatten(1).sum(dim=1).sum().backward()  # per-image losses, summed
            opt.step()
    finally:
        generator.train(was_training)
        for p, g in zip(generator.parameters(), grads):
            p.requires_grad_(g)
    return z.detach(), torch.stack(errors).cpu()


# ---------------------------------------------------------------------- paths in z
def _check_pair(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be two codes of the same shape (latent,), got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}; interpolate one pair at a time")
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D tensor of positions, e.g. torch.linspace(0, 1, 9); "
                         f"got shape {tuple(t.shape)}")
    return t


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """The straight path (1 − t)·a + t·b: codes (T, latent) for two codes (latent,) and positions t (T,)."""
    t = _check_pair(a, b, t)
    return (1 - t)[:, None] * a + t[:, None] * b


def slerp(a: Tensor, b: Tensor, t: Tensor, eps: float = 1e-6) -> Tensor:
    """The great-circle path from a to b (Shoemake 1985; for GANs White 2016): (T, latent).

    The direction turns at a constant rate along the arc between a/‖a‖ and b/‖b‖, and the norm moves linearly
    from ‖a‖ to ‖b‖, so two codes of equal norm are joined by a path of that norm (a straight line dips
    towards 0, where the prior has almost no mass in many dimensions). Nearly parallel codes fall back to
    the straight path between the directions; exactly opposite codes have no single great circle: ValueError.
    """
    t = _check_pair(a, b, t)
    norm_a, norm_b = a.norm(), b.norm()
    if norm_a <= eps or norm_b <= eps:
        raise ValueError("slerp needs two nonzero codes: a direction is undefined at z = 0; use lerp")
    u, v = a / norm_a, b / norm_b
    omega = torch.arccos(torch.clamp(u @ v, -1.0, 1.0))  # angle between the directions
    if math.pi - float(omega) < 1e-4:
        raise ValueError("a and b point in opposite directions, so every great circle through them is equally "
                         "short; slerp is undefined there (pick another endpoint, or use lerp)")
    if float(omega) < 1e-4:  # sin(ω) ≈ 0: the arc is a straight segment to within float error
        direction = (1 - t)[:, None] * u + t[:, None] * v
    else:
        direction = (torch.sin((1 - t) * omega)[:, None] * u + torch.sin(t * omega)[:, None] * v) / torch.sin(omega)
    direction = direction / direction.norm(dim=1, keepdim=True)
    return ((1 - t) * norm_a + t * norm_b)[:, None] * direction


__all__ = ["build_bigan", "bigan_d_step", "bigan_g_step", "bigan_g_loss", "BiGANTrainer", "encode", "generate",
           "reconstruction_error", "invert", "lerp", "slerp"]
