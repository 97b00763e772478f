"""BiGAN / ALI networks for 28×28 images (Donahue et al. 2017; Dumoulin et al. 2017).

Beside the generator G: z → x, an encoder E: x → z learns the way back, and the discriminator judges
joint pairs (x, z): real pairs (x, E(x)) with x from the data, fake pairs (G(z), z) with z from the prior.
Encoder:             (N, C, 28, 28) → (N, w, 14, 14) → (N, 2w, 7, 7) → (N, latent)
JointDiscriminator:  x-path (N, C, 28, 28) → (N, 2w·7·7);  z-path (N, latent) → (N, hidden);
                     both concatenated → (N, hidden) → (N,) logits
``BiGANPair`` holds G and E in one module, so one optimizer (the trainer's ``opt_g``) updates both, as in
the papers; calling it on z runs G.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .layers import dcgan_init


class Encoder(nn.Module):
    """E: images (N, C, 28, 28) → codes (N, latent_dim); the DCGAN discriminator's body with a linear head.

    The head is linear (no squashing), because the prior it must match, N(0, I), is unbounded.
    """

    def __init__(self, latent_dim: int = 32, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),  # 28 → 14
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # 14 → 7
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(),  # (N, 2w·7·7)
            nn.Linear(2 * width * 7 * 7, latent_dim),
        )
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise ValueError(f"the encoder takes images of shape (N, C, 28, 28), got {tuple(x.shape)}; "
                             f"reshape flat images with x.view(-1, 1, 28, 28)")
        return self.net(x)


def joint_input(x_features: Tensor, z_features: Tensor) -> Tensor:
    """The joint discriminator's input: the image's features (N, a) and the code's features (N, b) side by side,
    (N, a + b). Concatenation lets the layers after it score how well x and z go *together*."""
    if x_features.shape[0] != z_features.shape[0]:
        raise ValueError(f"x and z must come in pairs: {x_features.shape[0]} images but {z_features.shape[0]} codes")
    return torch.cat([x_features, z_features], dim=1)


class JointDiscriminator(nn.Module):
    """D(x, z): logits (N,) for pairs of images (N, C, 28, 28) and codes (N, latent_dim).

    No BatchNorm: real and fake pairs are judged one pair at a time. Dropout on the joint layer follows
    both papers, which used it to keep D from memorising pairs (``dropout=0`` turns it off).
    """

    def __init__(self, latent_dim: int = 32, width: int = 32, channels: int = 1, hidden: int = 256,
                 dropout: float = 0.2) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must lie in [0, 1), e.g. dropout=0.2")
        self.latent_dim = latent_dim
        self.x_path = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),  # 28 → 14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),  # 14 → 7
            nn.Flatten(),  # (N, 2w·7·7)
        )
        self.z_path = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(2 * width * 7 * 7 + hidden, hidden), nn.LeakyReLU(0.2),
            nn.Dropout(dropout), nn.Linear(hidden, 1),
        )
        dcgan_init(self)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.joint(joint_input(self.x_path(x), self.z_path(z))).flatten()  # (N,)


class BiGANPair(nn.Module):
    """G and E in one module (one optimizer trains both); ``pair(z)`` is ``generator(z)``, ``pair.encode(x)`` is E."""

    def __init__(self, generator: nn.Module, encoder: Encoder) -> None:
        super().__init__()
        g_latent = getattr(generator, "latent_dim", encoder.latent_dim)
        if g_latent != encoder.latent_dim:
            raise ValueError(f"G takes {g_latent}-dimensional z but E gives {encoder.latent_dim}; "
                             f"build both with the same latent_dim")
        self.generator, self.encoder = generator, encoder
        self.latent_dim = encoder.latent_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.generator(z)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)


__all__ = ["Encoder", "JointDiscriminator", "BiGANPair", "joint_input"]
