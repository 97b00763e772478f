"""A small DCGAN pair for 28×28 images, following Radford et al. (2016)'s guidelines.

Strided (transposed) convolutions instead of pooling, BatchNorm everywhere except G's output and D's
input, ReLU in G with Tanh out, LeakyReLU 0.2 in D, no hidden fully connected layers.
Generator:     z (N, latent) → (N, 2w, 7, 7) → (N, w, 14, 14) → (N, C, 28, 28)
Discriminator: (N, C, 28, 28) → (N, w, 14, 14) → (N, 2w, 7, 7) → (N,) logits
"""

from __future__ import annotations

from torch import Tensor, nn

from .layers import dcgan_init


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int = 100, width: int = 64, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0, bias=False),  # 1×1 → 7×7
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # 7 → 14
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),  # 14 → 28
            nn.Tanh(),
        )
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    def __init__(self, width: int = 64, channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),  # 28 → 14, no BatchNorm on the input layer
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # 14 → 7
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 7, 1, 0),  # 7×7 → 1×1 logit
        )
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten()  # (N,)
