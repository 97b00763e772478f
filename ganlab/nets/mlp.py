"""The seed notebook's MLP GAN for 28×28 images.

Generator:     z (N, latent) → 256 → 512 → 1024 → 784 → (N, 1, 28, 28), BatchNorm1d on all hidden
               layers but the first, LeakyReLU 0.2, Tanh out (images live in [-1, 1]).
Discriminator: (N, 1, 28, 28) → 1024 → 512 → 256 → 1 logit, LeakyReLU 0.2 and Dropout 0.3 after each
               hidden layer, no BatchNorm (batch statistics would mix real and fake batches).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from .layers import activation, dcgan_init


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int = 100, hidden_dim: int = 256, image_shape: tuple[int, ...] = (1, 28, 28),
                 act: str = "leaky_relu") -> None:
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        widths = [latent_dim, hidden_dim, 2 * hidden_dim, 4 * hidden_dim]
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.Linear(w_in, w_out))
            if i > 0:
                layers.append(nn.BatchNorm1d(w_out))
            layers.append(activation(act))
        layers += [nn.Linear(widths[-1], math.prod(image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)  # (N, latent) → (N, C, H, W)


class MLPDiscriminator(nn.Module):
    def __init__(self, hidden_dim: int = 256, image_shape: tuple[int, ...] = (1, 28, 28), dropout: float = 0.3,
                 act: str = "leaky_relu") -> None:
        super().__init__()
        widths = [math.prod(image_shape), 4 * hidden_dim, 2 * hidden_dim, hidden_dim]
        layers: list[nn.Module] = [nn.Flatten()]
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Linear(w_in, w_out), activation(act)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)  # (N, C, H, W) → (N,) logits
