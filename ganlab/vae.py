"""The variational autoencoder (Kingma & Welling 2014): an encoder q(z|x), a decoder p(x|z), one ELBO to maximise.

With a diagonal Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)), a standard normal prior and a Gaussian decoder
p(x|z) = N(m(z), s² I) of fixed width s (``obs_std``), the negative ELBO per sample is

    ‖x − m(z)‖² / (2 s²) + β · KL(q(z|x) ‖ N(0, I)),   z = μ + σ ⊙ ε,  ε ~ N(0, I)   (the reparameterisation)

up to a constant; β = 1 is the ELBO, other values the β-VAE of Higgins et al. (2017). Samples are the decoder's
*mean* m(z) of z ~ N(0, I): the average of everything the decoder cannot tell apart, hence blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .config import require_positive
from .loss_trainer import LossConfig, LossTrainer


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) per sample, summed over dimensions: (N, d), (N, d) → (N,).

    Closed form: ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1).
    """
    if not isinstance(mu, Tensor) or not isinstance(logvar, Tensor):
        raise ValueError("mu and logvar must be tensors of shape (N, d)")
    if mu.dim() != 2 or mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must both have shape (N, d); got {tuple(mu.shape)} and "
                         f"{tuple(logvar.shape)} (reshape a single sample to (1, d))")
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1)


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """z = μ + σ ⊙ ε (N, d): a sample of N(μ, σ²) that is differentiable in μ and log σ²."""
    return mu + (0.5 * logvar).exp() * eps


@dataclass
class VAEConfig(LossConfig):
    """A VAE and its training run (the run fields are ``LossConfig``'s)."""

    latent_dim: int = 16
    hidden_dim: int = 256
    layers: int = 2               # hidden layers in the encoder and in the decoder
    beta: float = 1.0             # weight of the KL term; 1 is the ELBO (Higgins et al. 2017 for β ≠ 1)
    obs_std: float = 0.1          # the decoder's fixed s: smaller trusts the reconstruction more than the prior

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, integers=("latent_dim", "hidden_dim", "layers"), numbers=("obs_std",))
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta={self.beta!r} must be >= 0 (1 is the plain ELBO)")


def _mlp(d_in: int, hidden: int, layers: int, d_out: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(d_in if i == 0 else hidden, hidden), nn.SiLU()]
    return nn.Sequential(*mods, nn.Linear(hidden, d_out))


class VAE(nn.Module):
    """MLP encoder x (N, *shape) → (μ, log σ²) (N, latent) each; MLP decoder z (N, latent) → mean (N, *shape).

    Image means go through tanh, so they lie in the data's range [-1, 1].
    """

    def __init__(self, data_shape: tuple[int, ...] = (1, 28, 28), latent_dim: int = 16, hidden_dim: int = 256,
                 layers: int = 2) -> None:
        super().__init__()
        self.data_shape, self.latent_dim = tuple(data_shape), latent_dim
        d = math.prod(self.data_shape)
        self.encoder = _mlp(d, hidden_dim, layers, 2 * latent_dim)
        self.decoder = _mlp(latent_dim, hidden_dim, layers, d)
        self.squash = len(self.data_shape) > 1  # images live in [-1, 1]; toy points anywhere

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²), each (N, latent_dim), for x (N, *data_shape)."""
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(-20, 10)  # keeps exp(logvar) finite early in training

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's mean m(z), (N, *data_shape), for z (N, latent_dim)."""
        out = self.decoder(z)
        return (torch.tanh(out) if self.squash else out).view(-1, *self.data_shape)


def negative_elbo(model: VAE, x: Tensor, eps: Tensor, beta: float = 1.0, obs_std: float = 0.1
                  ) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, reconstruction term, KL), each (N,), for x (N, *shape) and ε (N, latent).

    loss = ‖x − m(z)‖² / (2 s²) + β KL, the negative ELBO up to the constant d·log(s√(2π)) when β = 1.
    """
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, eps)
    recon = (x - model.decode(z)).pow(2).flatten(1).sum(1) / (2 * obs_std**2)
    kl = gaussian_kl(mu, logvar)
    return recon + beta * kl, recon, kl


class VAETrainer(LossTrainer):
    """Trains a ``VAE`` on ``cfg.dataset`` (or ``data``) by minimising the mean negative ELBO."""

    STATS = ("loss", "recon", "kl")

    def __init__(self, cfg: VAEConfig | None = None, data: Any = None, model: VAE | None = None,
                 **kwargs: Any) -> None:
        cfg = cfg if cfg is not None else VAEConfig()
        torch.manual_seed(cfg.seed)  # weight initialisation
        model = model if model is not None else VAE(cfg.data_shape, cfg.latent_dim, cfg.hidden_dim, cfg.layers)
        super().__init__(cfg, model, data, **kwargs)

    def loss(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        eps = torch.randn(len(batch), self.cfg.latent_dim, device=self.device, generator=self.rng)
        loss, recon, kl = negative_elbo(self.model, batch, eps, self.cfg.beta, self.cfg.obs_std)
        return loss.mean(), torch.stack([loss.mean(), recon.mean(), kl.mean()])

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples (n, *data_shape) on the CPU: decoder means of z ~ N(0, I) (no decoder noise added)."""
        self.model.eval()
        z = torch.randn(n, self.cfg.latent_dim, device=self.device, generator=generator or self.rng)
        return self.model.decode(z).float().cpu()
