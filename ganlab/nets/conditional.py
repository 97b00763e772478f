"""Conditional networks on the DCGAN 28×28 layout, so the conditioning schemes compare on equal terms.

Every network here reuses the body of ``ganlab.nets.dcgan``; only the way the label enters differs.
Generators map (z (N, latent), y (N,) int64) to images (N, C, 28, 28):
  ``EmbeddingGenerator``  a learned label embedding concatenated to z (Mirza & Osindero 2014);
  ``CBNGenerator``        z alone, the label sets every BatchNorm's gain and bias (as in BigGAN).
Discriminators (the DCGAN body gives features φ(x) of shape (N, 2w, 7, 7)):
  ``ConcatDiscriminator``      the one-hot label as K extra input channels; D(x, y) → (N,) logits;
  ``ACGANDiscriminator``       D(x) → (adversarial logits (N,), class logits (N, K)) (Odena et al. 2017);
  ``ProjectionDiscriminator``  D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩ → (N,) logits (Miyato & Koyama 2018);
  ``InfoGANDiscriminator``     D(x) → (logits (N,), code logits (N, n_cat), code means (N, n_cont))
                               with the Q head on D's body (Chen et al. 2016).
The InfoGAN generator is the plain ``DCGANGenerator`` fed [z, one-hot(c_cat), c_cont].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .dcgan import DCGANDiscriminator, DCGANGenerator
from .layers import ConditionalBatchNorm2d, dcgan_init


class EmbeddingGenerator(nn.Module):
    """G(z, y) = DCGAN-G([z, embed(y)]): (N, latent), (N,) → (N, C, 28, 28)."""

    def __init__(self, latent_dim: int = 100, n_classes: int = 10, width: int = 64, channels: int = 1,
                 embed_dim: int = 10) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.body = DCGANGenerator(latent_dim + embed_dim, width, channels)
        self.embed = nn.Embedding(n_classes, embed_dim)
        # N(0, 1) like z itself, not DCGAN's N(0, 0.02): a tiny embedding would start out drowned by z.
        nn.init.normal_(self.embed.weight)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.body(torch.cat([z, self.embed(y)], dim=1))  # (N, latent + embed) → (N, C, 28, 28)


class CBNGenerator(nn.Module):
    """The DCGAN generator with each BatchNorm made class-conditional; z alone enters the input."""

    def __init__(self, latent_dim: int = 100, n_classes: int = 10, width: int = 64, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.project = nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0, bias=False)  # 1×1 → 7×7
        self.norm1 = ConditionalBatchNorm2d(2 * width, n_classes)
        self.up = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)  # 7 → 14
        self.norm2 = ConditionalBatchNorm2d(width, n_classes)
        self.out = nn.ConvTranspose2d(width, channels, 4, 2, 1)  # 14 → 28
        dcgan_init(self)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = F.relu(self.norm1(self.project(z[:, :, None, None]), y))  # (N, 2w, 7, 7)
        h = F.relu(self.norm2(self.up(h), y))  # (N, w, 14, 14)
        return torch.tanh(self.out(h))  # (N, C, 28, 28)


class _DCGANBody(nn.Module):
    """DCGAN-D split into its body φ: (N, C, 28, 28) → (N, 2w, 7, 7) and its 7×7 logit head ψ."""

    def __init__(self, width: int, channels: int) -> None:
        super().__init__()
        layers = list(DCGANDiscriminator(width, channels).net)
        self.body, self.head = nn.Sequential(*layers[:-1]), layers[-1]

    def logits(self, features: Tensor) -> Tensor:
        return self.head(features).flatten()  # (N, 2w, 7, 7) → (N,)


class ConcatDiscriminator(_DCGANBody):
    """D(x, y): the image stacked with K constant one-hot planes, through the DCGAN discriminator."""

    def __init__(self, n_classes: int = 10, width: int = 64, channels: int = 1) -> None:
        super().__init__(width, channels + n_classes)
        self.n_classes = n_classes

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        planes = F.one_hot(y, self.n_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.logits(self.body(torch.cat([x, planes], dim=1)))  # (N, C + K, 28, 28) → (N,)


class ACGANDiscriminator(_DCGANBody):
    """D(x) → (source logits (N,), class logits (N, K)); both heads read the same features."""

    def __init__(self, n_classes: int = 10, width: int = 64, channels: int = 1) -> None:
        super().__init__(width, channels)
        self.classify = dcgan_init(nn.Conv2d(2 * width, n_classes, 7, 1, 0))  # same form as the logit head

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return self.logits(h), self.classify(h).flatten(1)


class ProjectionDiscriminator(_DCGANBody):
    """D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩: the unconditional logit plus a class embedding's inner product.

    Miyato & Koyama (2018) derive this form from the log density ratio log p(y|x)/q(y|x) when the
    class posteriors are log-linear in φ(x); φ here is the flattened DCGAN feature map (2w·49 values).
    """

    def __init__(self, n_classes: int = 10, width: int = 64, channels: int = 1) -> None:
        super().__init__(width, channels)
        self.embed = nn.Embedding(n_classes, 2 * width * 7 * 7)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)  # the same scale as the logit head's weights

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.body(x)  # (N, 2w, 7, 7)
        return self.logits(h) + (self.embed(y) * h.flatten(1)).sum(dim=1)  # (N,)


class InfoGANDiscriminator(_DCGANBody):
    """D(x) → (logits (N,), categorical code logits (N, n_cat), continuous code means (N, n_cont)).

    The Q head shares D's body, so estimating the codes costs one extra linear layer (Chen et al. 2016).
    Q(c_cont | x) is a unit-variance Gaussian around the predicted mean.
    """

    def __init__(self, n_cat: int = 10, n_cont: int = 2, width: int = 64, channels: int = 1) -> None:
        super().__init__(width, channels)
        self.n_cat, self.n_cont = n_cat, n_cont
        self.q_head = dcgan_init(nn.Conv2d(2 * width, n_cat + n_cont, 7, 1, 0))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        h = self.body(x)
        q = self.q_head(h).flatten(1)  # (N, n_cat + n_cont)
        return self.logits(h), q[:, :self.n_cat], q[:, self.n_cat:]


class InfoGANGenerator(DCGANGenerator):
    """G(z, c) = DCGAN-G([z, c]) with c = [one-hot(c_cat), c_cont] of width n_cat + n_cont."""

    def __init__(self, latent_dim: int = 62, n_cat: int = 10, n_cont: int = 2, width: int = 64,
                 channels: int = 1) -> None:
        super().__init__(latent_dim + n_cat + n_cont, width, channels)
        self.latent_dim, self.n_cat, self.n_cont = latent_dim, n_cat, n_cont

    def forward(self, z: Tensor, code: Tensor) -> Tensor:
        return super().forward(torch.cat([z, code], dim=1))


def info_code(cat: Tensor, cont: Tensor, n_cat: int) -> Tensor:
    """The InfoGAN code vector [one-hot(cat), cont]: (N,) int64 and (N, n_cont) → (N, n_cat + n_cont)."""
    return torch.cat([F.one_hot(cat, n_cat).to(cont.dtype), cont], dim=1)


def truncated_noise(n: int, dim: int, threshold: float, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None) -> Tensor:
    """z ~ N(0, I) with every entry whose |z_i| exceeds ``threshold`` drawn again until none does: (n, dim).

    The truncation trick of Brock et al. (2019): a smaller threshold trades diversity for fidelity.
    ``threshold=inf`` gives plain N(0, I). Runs outside training, so its host syncs cost nothing.
    """
    if not threshold > 0:
        raise ValueError(f"threshold={threshold!r} must be > 0 (0.5 is strong truncation, inf none)")
    device = generator.device if generator is not None else device
    z = torch.randn(n, dim, device=device, generator=generator)
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), device=z.device, generator=generator)
        outside = z.abs() > threshold
    return z
