"""The DCGAN pair with each of Radford et al. (2016)'s guidelines as a switch, to measure what each one buys.

``variant_generator`` and ``variant_discriminator`` build the same layer stack as ``DCGANGenerator`` and
``DCGANDiscriminator`` (``nets.dcgan``) when every switch is at its default, so a baseline built here is the
package's DCGAN (same state-dict keys and shapes). The switches undo one guideline each:

- ``batchnorm=False``: no BatchNorm in that net (the conv layers then get biases);
- G ``upsample="resize"``: nearest-neighbour ×2 then a 3×3 convolution instead of a stride-2 transposed
  convolution (the checkerboard fix of Odena et al. 2016);
- D ``downsample="avgpool"``: a 3×3 convolution then 2×2 average pooling instead of a stride-2 convolution;
  both of these are computed as the single 4×4 stride-2 (transposed) convolution they equal (``nets.resample``),
  which gives the same function, to float32 rounding, in about half the time;
- D ``activation="relu"``: ReLU instead of LeakyReLU(0.2).

Generator:     z (N, latent) → (N, 2w, 7, 7) → (N, w, 14, 14) → (N, C, 28, 28)
Discriminator: (N, C, 28, 28) → (N, w, 14, 14) → (N, 2w, 7, 7) → (N,) logits

``VARIANTS`` names the ablations the DCGAN notebook trains: name → (generator options, discriminator options).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .layers import dcgan_init
from .resample import ConvAvgPool2d, ResizeConv2d

UPSAMPLES = ("transposed", "resize")
DOWNSAMPLES = ("strided", "avgpool")
ACTIVATIONS = ("leaky_relu", "relu")

VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "DCGAN": ({}, {}),
    "no BN in G": ({"batchnorm": False}, {}),
    "pooling / resize": ({"upsample": "resize"}, {"downsample": "avgpool"}),
    "ReLU in D": ({}, {"activation": "relu"}),
}


def _choose(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is unknown; use one of {allowed}")
    return value


def _up(c_in: int, c_out: int, upsample: str, bias: bool) -> list[nn.Module]:
    """Layers that double H and W: (N, c_in, H, W) → (N, c_out, 2H, 2W)."""
    if upsample == "transposed":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]  # (H − 1)·2 − 2 + 4 = 2H
    return [ResizeConv2d(c_in, c_out, bias=bias)]  # nearest ×2 then 3×3, run as the transposed conv it equals


def _down(c_in: int, c_out: int, downsample: str, bias: bool) -> list[nn.Module]:
    """Layers that halve H and W: (N, c_in, H, W) → (N, c_out, H/2, W/2)."""
    if downsample == "strided":
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias)]  # ⌊(H + 2 − 4)/2⌋ + 1 = H/2
    return [ConvAvgPool2d(c_in, c_out, bias=bias)]  # 3×3 then 2×2 average, run as the strided conv it equals


class VariantGenerator(nn.Module):
    """DCGAN generator with switches: z (N, latent_dim) → images (N, channels, 28, 28) in (−1, 1)."""

    def __init__(self, latent_dim: int = 100, width: int = 64, channels: int = 1, batchnorm: bool = True,
                 upsample: str = "transposed") -> None:
        super().__init__()
        self.latent_dim = latent_dim
        _choose("upsample", upsample, UPSAMPLES)
        norm = (lambda c: [nn.BatchNorm2d(c)]) if batchnorm else (lambda c: [])
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0, bias=not batchnorm),  # 1×1 → 7×7
            *norm(2 * width), nn.ReLU(),
            *_up(2 * width, width, upsample, bias=not batchnorm),  # 7 → 14
            *norm(width), nn.ReLU(),
            *_up(width, channels, upsample, bias=True),  # 14 → 28: never BatchNorm on G's output
            nn.Tanh(),
        )
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        """(N, latent_dim) → (N, channels, 28, 28)."""
        return self.net(z[:, :, None, None])


class VariantDiscriminator(nn.Module):
    """DCGAN discriminator with switches: images (N, channels, 28, 28) → logits (N,)."""

    def __init__(self, width: int = 64, channels: int = 1, batchnorm: bool = True, downsample: str = "strided",
                 activation: str = "leaky_relu") -> None:
        super().__init__()
        _choose("downsample", downsample, DOWNSAMPLES)
        act = nn.LeakyReLU(0.2) if _choose("activation", activation, ACTIVATIONS) == "leaky_relu" else nn.ReLU()
        self.net = nn.Sequential(
            *_down(channels, width, downsample, bias=True), act,  # 28 → 14; never BatchNorm on D's input
            *_down(width, 2 * width, downsample, bias=not batchnorm),  # 14 → 7
            *([nn.BatchNorm2d(2 * width)] if batchnorm else []), act,
            nn.Conv2d(2 * width, 1, 7, 1, 0),  # 7×7 → 1×1 logit
        )
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        """(N, channels, 28, 28) → (N,)."""
        return self.net(x).flatten()


def build_variant(name: str, latent_dim: int = 100, width: int = 64,
                  channels: int = 1) -> tuple[VariantGenerator, VariantDiscriminator]:
    """(generator, discriminator) for a name in ``VARIANTS``; seed torch first for a reproducible start."""
    if name not in VARIANTS:
        raise ValueError(f"variant {name!r} is unknown; use one of {list(VARIANTS)}")
    g_options, d_options = VARIANTS[name]
    return (VariantGenerator(latent_dim, width, channels, **g_options),
            VariantDiscriminator(width, channels, **d_options))


__all__ = ["VariantGenerator", "VariantDiscriminator", "VARIANTS", "build_variant", "UPSAMPLES", "DOWNSAMPLES",
           "ACTIVATIONS"]
