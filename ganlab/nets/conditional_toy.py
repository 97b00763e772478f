"""Class-conditional MLPs for 2-D toy data: the conditioning schemes of ``ganlab.nets.conditional`` at toy size.

The bodies are the small MLPs of ``ganlab.nets.toy``; only the way the label y (N,) int64 enters differs:
  ``ToyConditionalGenerator``   G(z, y) = MLP([z, embed(y)]): (N, latent), (N,) → (N, d);
  ``ToyConcatDiscriminator``    D(x, y) = MLP([x, one-hot(y)]) → (N,) logits (Mirza & Osindero 2014);
  ``ToyProjectionDiscriminator`` D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩ → (N,) logits (Miyato & Koyama 2018);
  ``ToyACGANDiscriminator``     D(x) → (source logits (N,), class logits (N, K)) (Odena et al. 2017).
No BatchNorm, as in ``ganlab.nets.toy``: on 2-D data it couples a batch's samples and hides mode collapse.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .toy import _mlp


class ToyConditionalGenerator(nn.Module):
    """G(z, y): a learned label embedding concatenated to z, through the toy generator's ReLU MLP."""

    def __init__(self, latent_dim: int = 2, n_classes: int = 4, hidden_dim: int = 64, data_dim: int = 2,
                 embed_dim: int = 4, layers: int = 3) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, embed_dim)  # default init N(0, 1): on the scale of z
        self.net = _mlp(latent_dim + embed_dim, hidden_dim, layers, data_dim, nn.ReLU)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.net(torch.cat([z, self.embed(y)], dim=1))  # (N, latent + embed) → (N, d)


class ToyConcatDiscriminator(nn.Module):
    """D(x, y) = MLP([x, one-hot(y)]): (N, d), (N,) → (N,) logits."""

    def __init__(self, n_classes: int = 4, hidden_dim: int = 64, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.net = _mlp(data_dim + n_classes, hidden_dim, layers, 1, nn.LeakyReLU(0.2))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.net(torch.cat([x, F.one_hot(y, self.n_classes).to(x.dtype)], dim=1)).squeeze(1)


class _ToyBody(nn.Module):
    """φ: (N, d) → (N, hidden) features (the toy D without its last layer)."""

    def __init__(self, hidden_dim: int, data_dim: int, layers: int) -> None:
        super().__init__()
        self.body = _mlp(data_dim, hidden_dim, layers - 1, hidden_dim, nn.LeakyReLU(0.2))
        self.act = nn.LeakyReLU(0.2)

    def features(self, x: Tensor) -> Tensor:
        return self.act(self.body(x))  # (N, hidden)


class ToyProjectionDiscriminator(_ToyBody):
    """D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩: the unconditional logit plus a class embedding's inner product."""

    def __init__(self, n_classes: int = 4, hidden_dim: int = 64, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__(hidden_dim, data_dim, layers)
        self.n_classes = n_classes
        self.head = nn.Linear(hidden_dim, 1)
        self.embed = nn.Embedding(n_classes, hidden_dim)
        nn.init.normal_(self.embed.weight, 0.0, hidden_dim ** -0.5)  # ⟨e_y, φ⟩ starts on the head's scale

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.features(x)  # (N, hidden)
        return self.head(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)  # (N,)


class ToyACGANDiscriminator(_ToyBody):
    """D(x) → (source logits (N,), class logits (N, K)); both heads read the same features."""

    def __init__(self, n_classes: int = 4, hidden_dim: int = 64, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__(hidden_dim, data_dim, layers)
        self.n_classes = n_classes
        self.head = nn.Linear(hidden_dim, 1)
        self.classify = nn.Linear(hidden_dim, n_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(x)
        return self.head(h).squeeze(1), self.classify(h)
