"""BigGAN's generator pieces (Brock et al. 2019) on the DCGAN 28×28 layout.

- A *shared class embedding* e(y) (one table for the whole generator) and a *hierarchical latent*: z is split
  into chunks, the first feeds the input layer, each later chunk is concatenated to e(y) and a linear layer
  maps [e(y), z_k] to that conditional BatchNorm's gain and bias.
- The *truncation trick with resampling*: z entries with |z| > threshold are redrawn until inside.
- *Orthogonal regularisation* β‖WWᵀ ⊙ (1 − I)‖²_F (``nets.orthogonal``), added to G's gradients by a hook
  with its closed form 4β(WWᵀ ⊙ (1 − I))W, so the ordinary (conditional) trainer's G step applies it.
G(z (N, latent), y (N,) int64) → (N, C, 28, 28): it plugs into ``ConditionalTrainer`` like ``CBNGenerator``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import dcgan_init


class LinearConditionalBatchNorm2d(nn.Module):
    """BatchNorm (no affine) whose gain 1 + Δγ and bias β are linear in a condition vector c (N, cond_dim)."""

    def __init__(self, num_features: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Linear(cond_dim, num_features, bias=False)
        self.bias = nn.Linear(cond_dim, num_features, bias=False)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        """x (N, C, H, W), c (N, cond_dim) → (N, C, H, W)."""
        return (1 + self.gain(c))[:, :, None, None] * self.norm(x) + self.bias(c)[:, :, None, None]


class BigGANGenerator(nn.Module):
    """Shared class embedding + hierarchical latent into conditional BatchNorm; (z, y) → (N, C, 28, 28)."""

    def __init__(self, latent_dim: int = 60, n_classes: int = 10, width: int = 32, channels: int = 1,
                 embed_dim: int = 16) -> None:
        super().__init__()
        if latent_dim % 3:
            raise ValueError(f"latent_dim={latent_dim!r} must split into 3 equal chunks (input, 2 BatchNorms), "
                             f"e.g. 60")
        self.latent_dim, self.n_classes, self.chunk = latent_dim, n_classes, latent_dim // 3
        self.embed = nn.Embedding(n_classes, embed_dim)  # the one shared table
        self.project = nn.ConvTranspose2d(self.chunk, 2 * width, 7, 1, 0, bias=False)  # 1×1 → 7×7
        self.norm1 = LinearConditionalBatchNorm2d(2 * width, embed_dim + self.chunk)
        self.up = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)  # 7 → 14
        self.norm2 = LinearConditionalBatchNorm2d(width, embed_dim + self.chunk)
        self.out = nn.ConvTranspose2d(width, channels, 4, 2, 1)  # 14 → 28
        dcgan_init(self)
        nn.init.normal_(self.embed.weight)  # N(0, 1) like z, not DCGAN's N(0, 0.02)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        z0, z1, z2 = z.split(self.chunk, dim=1)  # (N, latent/3) each
        e = self.embed(y)  # (N, embed_dim)
        h = F.relu(self.norm1(self.project(z0[:, :, None, None]), torch.cat([e, z1], dim=1)))  # (N, 2w, 7, 7)
        h = F.relu(self.norm2(self.up(h), torch.cat([e, z2], dim=1)))  # (N, w, 14, 14)
        return torch.tanh(self.out(h))  # (N, C, 28, 28)


def truncated_noise(n: int, dim: int, threshold: float, generator: torch.Generator | None = None,
                    device: torch.device | str = "cpu") -> Tensor:
    """(n, dim) N(0, 1) draws with every entry |z| > threshold redrawn until it falls inside (BigGAN)."""
    if not threshold > 0:
        raise ValueError(f"threshold={threshold!r} must be > 0; smaller keeps samples closer to the mode")
    z = torch.randn(n, dim, generator=generator, device=device)
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator, device=device)
        outside = z.abs() > threshold
    return z


def orthogonal_gradient(weight: Tensor) -> Tensor:
    """The closed-form gradient 4 (WWᵀ ⊙ (1 − I)) W of ``orthogonal_penalty``, shaped like ``weight``."""
    w = weight.reshape(weight.shape[0], -1)
    gram = w @ w.T
    off = gram - torch.diag_embed(torch.diagonal(gram))
    return (4 * off @ w).reshape(weight.shape)


def add_orthogonal_regularisation(params: Iterable[nn.Parameter], beta: float = 1e-4
                                  ) -> list[torch.utils.hooks.RemovableHandle]:
    """Add β·∇‖WWᵀ ⊙ (1 − I)‖²_F to each weight's gradient at every backward pass; returns removable hooks.

    Only weights with ≥ 2 axes are regularised (BigGAN skips gains, biases and embeddings; pass the ones you
    mean). The effect equals adding β·orthogonal_penalty(W) to the loss, without changing the loss function.
    """
    if not beta >= 0:
        raise ValueError(f"beta={beta!r} must be >= 0 (BigGAN uses 1e-4)")
    handles = []
    for p in params:
        if p.dim() >= 2:
            handles.append(p.register_hook(lambda g, p=p: g + beta * orthogonal_gradient(p.detach())))
    return handles


def orthogonal_weights(module: nn.Module) -> list[nn.Parameter]:
    """The conv and linear weights of ``module`` (the CBN projections included, the shared embedding not),
    as BigGAN regularises them."""
    return [m.weight for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
