"""Networks. Discriminators return logits of shape (N,); generators map (N, latent_dim) to (N, *shape).

``MODELS`` maps ``GANConfig.model`` to a builder ``cfg → (generator, discriminator)``; model-specific
options come from ``cfg.extra`` (e.g. ``{"dropout": 0.0}`` for the MLP, ``{"width": 32}`` for DCGAN).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import nn

from .dcgan import DCGANDiscriminator, DCGANGenerator
from .layers import apply_spectral_norm, dcgan_init, set_spectral_norm
from .mlp import MLPDiscriminator, MLPGenerator
from .toy import ToyDiscriminator, ToyGenerator

if TYPE_CHECKING:
    from ..config import GANConfig


def _mlp(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    act = cfg.extra.get("activation", "leaky_relu")
    return (MLPGenerator(cfg.latent_dim, cfg.hidden_dim, cfg.image_shape, act),
            MLPDiscriminator(cfg.hidden_dim, cfg.image_shape, cfg.extra.get("dropout", 0.3), act))


def _dcgan(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    if len(cfg.image_shape) != 3 or cfg.image_shape[1:] != (28, 28):
        raise ValueError(f"the DCGAN nets are built for (C, 28, 28) images, not image_shape={cfg.image_shape}")
    width, channels = cfg.extra.get("width", 64), cfg.image_shape[0]
    return DCGANGenerator(cfg.latent_dim, width, channels), DCGANDiscriminator(width, channels)


def _toy(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    if len(cfg.image_shape) != 1:
        raise ValueError(f"the toy nets take flat samples, image_shape=(d,), not {cfg.image_shape}")
    layers, d = cfg.extra.get("layers", 3), cfg.image_shape[0]
    return (ToyGenerator(cfg.latent_dim, cfg.hidden_dim, d, layers),
            ToyDiscriminator(cfg.extra.get("d_hidden_dim", cfg.hidden_dim), d, layers))


MODELS: dict[str, Callable[[GANConfig], tuple[nn.Module, nn.Module]]] = {
    "mlp": _mlp, "dcgan": _dcgan, "toy": _toy,
}


def build_models(cfg: GANConfig) -> tuple[nn.Module, nn.Module]:
    """Build (generator, discriminator) for ``cfg.model``, with spectral norm on D if ``cfg.spectral_norm``."""
    generator, discriminator = MODELS[cfg.model](cfg)
    if cfg.spectral_norm:
        apply_spectral_norm(discriminator)
    return generator, discriminator


__all__ = ["MODELS", "build_models", "apply_spectral_norm", "set_spectral_norm", "dcgan_init", "MLPGenerator",
           "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "ToyGenerator", "ToyDiscriminator"]

# The scale-era nets (notebook 10): progressive growing, StyleGAN, SAGAN.
from .scale_models import SCALE_MODELS  # noqa: E402

MODELS.update(SCALE_MODELS)
