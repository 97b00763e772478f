"""Builders ``cfg → (generator, discriminator)`` for the scale-era nets, registered in ``ganlab.nets.MODELS``.

Options from ``cfg.extra``: width (32) for all; "progressive": stage (2), alpha (1.0); "stylegan": w_dim
(latent_dim), mapping_layers (8), mixing_prob (0.0), and a DCGAN discriminator of the same width;
"sagan": attention (True), spectral norm on both nets (SAGAN's choice; use loss="hinge").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .dcgan import DCGANDiscriminator
from .progressive import ProgressiveDiscriminator, ProgressiveGenerator
from .sagan import SAGANDiscriminator, SAGANGenerator
from .stylegan import StyleGenerator

if TYPE_CHECKING:
    from ..config import GANConfig


def _layout(cfg: GANConfig) -> tuple[int, int]:
    if len(cfg.image_shape) != 3 or cfg.image_shape[1:] != (28, 28):
        raise ValueError(f"model={cfg.model!r} is built for (C, 28, 28) images, not image_shape={cfg.image_shape}")
    return cfg.extra.get("width", 32), cfg.image_shape[0]


def progressive(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    width, channels = _layout(cfg)
    stage, alpha = cfg.extra.get("stage", 2), cfg.extra.get("alpha", 1.0)
    return (ProgressiveGenerator(cfg.latent_dim, width, channels, stage, alpha),
            ProgressiveDiscriminator(width, channels, stage, alpha))


def stylegan(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    width, channels = _layout(cfg)
    generator = StyleGenerator(cfg.latent_dim, cfg.extra.get("w_dim", cfg.latent_dim), width, channels,
                               cfg.extra.get("mapping_layers", 8), mixing_prob=cfg.extra.get("mixing_prob", 0.0))
    return generator, DCGANDiscriminator(width, channels)


def sagan(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    width, channels = _layout(cfg)
    attention = cfg.extra.get("attention", True)
    return (SAGANGenerator(cfg.latent_dim, width, channels, attention),
            SAGANDiscriminator(width, channels, attention))


SCALE_MODELS = {"progressive": progressive, "stylegan": stylegan, "sagan": sagan}
