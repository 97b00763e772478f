"""Noise-prediction networks ε_θ(x_t, t) for the diffusion model (``ganlab.diffusion``).

ToyDenoiser:  x (N, d) and t (N,) → [x, embed(t)] → [Linear, SiLU] × 3 → (N, d)
ImageDenoiser: a two-level U-Net (Ronneberger et al. 2015) as in Ho et al. (2020), much smaller:
    (N, C, 28, 28) → c → 2c @14 → 2c @7 → up to 14 (+ skip) → up to 28 (+ skip) → (N, C, 28, 28),
    with the step's embedding added after each down/up block.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def step_embedding(t: Tensor, dim: int, total: int) -> Tensor:
    """Sinusoidal features of the step index (Vaswani et al. 2017, as in Ho et al.): t (N,) → (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = (t.float() / total * 1000.0)[:, None] * freqs[None]  # (N, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ToyDenoiser(nn.Module):
    def __init__(self, data_dim: int = 2, hidden_dim: int = 128, total_steps: int = 1000, embed_dim: int = 32) -> None:
        super().__init__()
        self.total, self.embed_dim = total_steps, embed_dim
        self.net = nn.Sequential(nn.Linear(data_dim + embed_dim, hidden_dim), nn.SiLU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.SiLU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.SiLU(), nn.Linear(hidden_dim, data_dim))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """ε_θ(x, t): (N, d), (N,) → (N, d)."""
        return self.net(torch.cat([x, step_embedding(t, self.embed_dim, self.total)], dim=1))


class _Block(nn.Module):
    """conv 3×3 → GroupNorm → SiLU, plus the step embedding projected to the channels."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.GroupNorm(8, c_out)
        self.embed = nn.Linear(embed_dim, c_out)

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        return torch.nn.functional.silu(self.norm(self.conv(x) + self.embed(e)[:, :, None, None]))


class ImageDenoiser(nn.Module):
    def __init__(self, channels: int = 1, base: int = 32, total_steps: int = 1000, embed_dim: int = 64) -> None:
        super().__init__()
        c = max(8, base - base % 8)  # GroupNorm(8) needs a multiple of 8
        self.total, self.embed_dim = total_steps, embed_dim
        self.embed = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.SiLU())
        self.inc = _Block(channels, c, embed_dim)          # 28
        self.down1 = _Block(c, 2 * c, embed_dim)           # 14 after pooling
        self.down2 = _Block(2 * c, 2 * c, embed_dim)       # 7
        self.up1 = _Block(4 * c, 2 * c, embed_dim)         # 14, with the skip from down1
        self.up2 = _Block(3 * c, c, embed_dim)             # 28, with the skip from inc
        self.out = nn.Conv2d(c, channels, 1)
        self.pool = nn.AvgPool2d(2)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """ε_θ(x, t): (N, C, 28, 28), (N,) → (N, C, 28, 28)."""
        e = self.embed(step_embedding(t, self.embed_dim, self.total))  # (N, embed)
        h0 = self.inc(x, e)                              # (N, c, 28, 28)
        h1 = self.down1(self.pool(h0), e)                # (N, 2c, 14, 14)
        h2 = self.down2(self.pool(h1), e)                # (N, 2c, 7, 7)
        u1 = self.up1(torch.cat([self.upsample(h2), h1], 1), e)  # (N, 2c, 14, 14)
        u2 = self.up2(torch.cat([self.upsample(u1), h0], 1), e)  # (N, c, 28, 28)
        return self.out(u2)
