"""SAGAN-style networks (Zhang et al. 2019): the DCGAN 28×28 layout with a self-attention block at 14×14.

Generator:     z (N, latent) → (N, 2w, 7, 7) → (N, w, 14, 14) → attention → (N, C, 28, 28)
Discriminator: (N, C, 28, 28) → (N, w, 14, 14) → attention → (N, 2w, 7, 7) → (N,) logits
SAGAN puts spectral norm on both networks and trains with the hinge loss; ``attention=False`` gives the same
networks without the block, for a with/without comparison on one budget. The block starts as the identity
(γ = 0), so with and without attention begin as the same function.
"""

from __future__ import annotations

from torch import Tensor, nn

from .attention import SelfAttention
from .layers import apply_spectral_norm, dcgan_init


class SAGANGenerator(nn.Module):
    def __init__(self, latent_dim: int = 64, width: int = 32, channels: int = 1, attention: bool = True,
                 spectral_norm: bool = True) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.attention = SelfAttention(width) if attention else nn.Identity()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0, bias=False),  # 1×1 → 7×7
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # 7 → 14
            nn.BatchNorm2d(width), nn.ReLU(),
            self.attention,
            nn.ConvTranspose2d(width, channels, 4, 2, 1),  # 14 → 28
            nn.Tanh(),
        )
        dcgan_init(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, z: Tensor) -> Tensor:
        """z (N, latent) → (N, C, 28, 28)."""
        return self.net(z[:, :, None, None])


class SAGANDiscriminator(nn.Module):
    def __init__(self, width: int = 32, channels: int = 1, attention: bool = True,
                 spectral_norm: bool = True) -> None:
        super().__init__()
        self.attention = SelfAttention(width) if attention else nn.Identity()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.1),  # 28 → 14
            self.attention,
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.1),  # 14 → 7
            nn.Conv2d(2 * width, 1, 7, 1, 0),  # 7×7 → 1×1 logit
        )
        dcgan_init(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, 28, 28) → (N,) logits."""
        return self.net(x).flatten()
