"""Small MLPs for 1-D and 2-D toy distributions (the scale of the mode-collapse papers' 2-D experiments).

Generator:     z (N, latent) → [Linear, ReLU] × layers → (N, d)
Discriminator: (N, d) → [Linear, LeakyReLU 0.2] × layers → (N,) logits
No BatchNorm: on 2-D data it couples the samples of a batch and hides mode collapse.
"""

from __future__ import annotations

from torch import Tensor, nn


def _mlp(d_in: int, hidden: int, layers: int, d_out: int, act: type[nn.Module] | nn.Module) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = d_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), act() if isinstance(act, type) else act]
        width = hidden
    mods.append(nn.Linear(width, d_out))
    return nn.Sequential(*mods)


class ToyGenerator(nn.Module):
    def __init__(self, latent_dim: int = 2, hidden_dim: int = 128, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim, hidden_dim, layers, data_dim, nn.ReLU)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    def __init__(self, hidden_dim: int = 128, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__()
        self.net = _mlp(data_dim, hidden_dim, layers, 1, nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
