"""Progressive growing (Karras et al. 2018) on 28×28 images: 7×7 → 14×14 → 28×28.

Pieces: the equalised learning rate (weights drawn N(0, 1) and scaled at run time by √(2/fan_in), so Adam's
per-parameter step means the same for every layer), minibatch standard deviation (D sees how varied the batch
is), pixel norm (``nets.style.pixel_norm``) and the fade-in that blends a new, larger stage in:

    image = (1 − α) · upsample(toRGB_old(h)) + α · toRGB_new(block(upsample(h)))

``stage`` (0, 1 or 2 for 7, 14 or 28 pixels) and ``alpha`` are plain attributes the notebook's callback sets
while the ordinary ``Trainer`` runs. The generator always returns (N, C, 28, 28) (a 7×7 or 14×14 image
upsampled by nearest neighbour) and the discriminator average-pools its input to the current resolution, so
the data, the Trainer and the metrics never change size. Stage 2 with α = 1 is the same network trained at
full size from the start.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .style import pixel_norm

SIZES = (7, 14, 28)


class EqualizedLinear(nn.Module):
    """A linear layer whose N(0, 1) weight is multiplied by √(gain / fan_in) at every call (Karras et al. 2018)."""

    def __init__(self, in_features: int, out_features: int, gain: float = 2.0, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = math.sqrt(gain / in_features) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x: Tensor) -> Tensor:
        """(N, in) → (N, out)."""
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualizedConv2d(nn.Module):
    """A stride-1 'same' convolution whose N(0, 1) weight is scaled by √(gain / fan_in), fan_in = C_in·k·k."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = 2.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = math.sqrt(gain / (in_channels * kernel_size * kernel_size))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) → (N, C_out, H, W)."""
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)


def minibatch_std(x: Tensor, eps: float = 1e-8) -> Tensor:
    """Append one channel holding the batch's mean standard deviation: (N, C, H, W) → (N, C + 1, H, W).

    The std of every feature over the batch, averaged over features and pixels, is one number; a generator
    that makes the same image over and over gets a value near 0 that D can spot.
    """
    if x.dim() != 4 or x.shape[0] < 2:
        raise ValueError(f"minibatch_std needs a batch (N ≥ 2, C, H, W), got shape {tuple(x.shape)}")
    std = torch.sqrt(x.var(dim=0, unbiased=False) + eps).mean()  # a scalar
    return torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


def _check_stage(stage: int, alpha: float) -> None:
    if stage not in (0, 1, 2):
        raise ValueError(f"stage={stage!r} must be 0, 1 or 2 (7, 14 or 28 pixels)")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha={alpha!r} must lie in [0, 1]: 0 is the old stage, 1 the new one")


class _Block(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, norm: bool) -> None:
        layers: list[nn.Module] = [EqualizedConv2d(c_in, c_out, 3), nn.LeakyReLU(0.2)]
        if norm:
            layers.append(_PixelNorm())
        layers += [EqualizedConv2d(c_out, c_out, 3), nn.LeakyReLU(0.2)]
        if norm:
            layers.append(_PixelNorm())
        super().__init__(*layers)


class _PixelNorm(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return pixel_norm(x)


class ProgressiveGenerator(nn.Module):
    """z (N, latent) → images (N, C, 28, 28), built at 7×7, 14×14 and 28×28 with a fade-in between stages."""

    def __init__(self, latent_dim: int = 64, width: int = 32, channels: int = 1, stage: int = 2,
                 alpha: float = 1.0) -> None:
        super().__init__()
        _check_stage(stage, alpha)
        self.latent_dim, self.stage, self.alpha = latent_dim, stage, alpha
        self.project = EqualizedLinear(latent_dim, width * 7 * 7, gain=2.0 / 16)  # ProGAN's 'dense' start
        self.width = width
        self.blocks = nn.ModuleList([_Block(width, width, True) for _ in SIZES])
        self.to_rgb = nn.ModuleList([EqualizedConv2d(width, channels, 1, gain=1.0) for _ in SIZES])

    def features(self, z: Tensor, stage: int) -> Tensor:
        """The feature map of ``stage`` (N, width, s, s), every earlier stage at full strength."""
        h = F.leaky_relu(self.project(pixel_norm(z)).view(-1, self.width, 7, 7), 0.2)
        h = self.blocks[0](pixel_norm(h))
        for k in range(1, stage + 1):
            h = self.blocks[k](F.interpolate(h, scale_factor=2, mode="nearest"))
        return h

    def image(self, z: Tensor) -> Tensor:
        """The image at the current resolution (N, C, s, s): the fade-in of the old and the new stage."""
        if self.stage == 0 or self.alpha == 1.0:
            return self.to_rgb[self.stage](self.features(z, self.stage))
        old = self.features(z, self.stage - 1)  # (N, width, s/2, s/2)
        faded = F.interpolate(self.to_rgb[self.stage - 1](old), scale_factor=2, mode="nearest")  # (N, C, s, s)
        if self.alpha == 0.0:
            return faded
        new = self.to_rgb[self.stage](self.blocks[self.stage](F.interpolate(old, scale_factor=2, mode="nearest")))
        return (1 - self.alpha) * faded + self.alpha * new

    def forward(self, z: Tensor) -> Tensor:
        _check_stage(self.stage, self.alpha)
        x = self.image(z)
        return torch.tanh(F.interpolate(x, size=SIZES[-1], mode="nearest"))  # (N, C, 28, 28)


class ProgressiveDiscriminator(nn.Module):
    """Images (N, C, 28, 28) → logits (N,), reading them at the current stage's resolution, with a fade-in."""

    def __init__(self, width: int = 32, channels: int = 1, stage: int = 2, alpha: float = 1.0) -> None:
        super().__init__()
        _check_stage(stage, alpha)
        self.stage, self.alpha = stage, alpha
        self.from_rgb = nn.ModuleList([EqualizedConv2d(channels, width, 1) for _ in SIZES])
        # blocks[k] works at SIZES[k]; blocks 1 and 2 are followed by a 2× average pool.
        self.blocks = nn.ModuleList([_Block(width, width, False) for _ in SIZES[1:]])
        self.final = EqualizedConv2d(width + 1, width, 3)  # after minibatch std, at 7×7
        self.head = EqualizedLinear(width * 7 * 7, 1, gain=1.0)

    def _from(self, x: Tensor, k: int) -> Tensor:
        return F.leaky_relu(self.from_rgb[k](x), 0.2)

    def forward(self, x: Tensor) -> Tensor:
        _check_stage(self.stage, self.alpha)
        x = F.adaptive_avg_pool2d(x, SIZES[self.stage])  # (N, C, s, s)
        h = self._from(x, self.stage)
        for k in range(self.stage, 0, -1):
            h = F.avg_pool2d(self.blocks[k - 1](h), 2)
            if k == self.stage and self.alpha < 1.0:  # fade the new input layer in
                old = self._from(F.avg_pool2d(x, 2), k - 1)
                h = old if self.alpha == 0.0 else (1 - self.alpha) * old + self.alpha * h
        h = F.leaky_relu(self.final(minibatch_std(h)), 0.2)  # (N, width, 7, 7)
        return self.head(h.flatten(1)).flatten()  # (N,)


def set_stage(generator: nn.Module, discriminator: nn.Module, stage: int, alpha: float) -> None:
    """Put a progressive pair at ``stage`` with fade-in weight ``alpha`` (the schedule's callback calls this)."""
    _check_stage(stage, alpha)
    for net in (generator, discriminator):
        net.stage, net.alpha = stage, float(alpha)


def schedule(step: int, steps_per_phase: int) -> tuple[int, float]:
    """(stage, alpha) at ``step``: stage 0 for one phase, then each later stage fades in over one phase and
    trains at α = 1 for one more. Phases: 0 | fade 1 | 1 | fade 2 | 2 …"""
    if steps_per_phase < 1:
        raise ValueError(f"steps_per_phase={steps_per_phase!r} must be >= 1")
    phase, within = divmod(step, steps_per_phase)
    if phase == 0:
        return 0, 1.0
    stage = min(2, (phase + 1) // 2)
    fading = phase % 2 == 1 and phase < 5
    return stage, (within / steps_per_phase if fading else 1.0)
