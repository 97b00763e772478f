"""GAN objectives, one pure function each, on logits.

Every D loss takes ``(real_logits, fake_logits)`` and every G loss takes ``(fake_logits)``; logits are
raw discriminator outputs of shape (N,). The sigmoid-BCE family is written with ``softplus`` so it
never computes ``log(sigmoid(x))`` and stays finite at any logit:
    -log σ(x) = softplus(-x),    -log(1 - σ(x)) = softplus(x).

``LOSSES`` maps a name to its (D loss, G loss) pair; ``GANConfig.loss`` and the dashboard use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


def bce_d_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float | Tensor = 1.0,
               fake_target: float | Tensor = 0.0) -> Tensor:
    """Discriminator loss of the original GAN: BCE(D(x), 1) + BCE(D(G(z)), 0), the sum of two means.

    Equals −V(D, G) of Goodfellow et al. (2014) with hard targets; ``real_target`` = 0.9 gives one-sided
    label smoothing, and tensors of shape (N,) give per-sample targets (label flipping).
    At D = ½ everywhere it is 2·log 2 ≈ 1.386.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, _as_target(real_target, real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, _as_target(fake_target, fake_logits))
    return real + fake


def saturating_g_loss(fake_logits: Tensor) -> Tensor:
    """The minimax generator loss E[log(1 − D(G(z)))] = −E[softplus(logit)].

    Its gradient with respect to the logit is −σ(logit) = −D(G(z)): it vanishes when D rejects fakes.
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss −E[log D(G(z))] = E[softplus(−logit)].

    Its gradient with respect to the logit is −(1 − D(G(z))): largest exactly when D rejects fakes.
    """
    return F.softplus(-fake_logits).mean()


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float | Tensor = 1.0,
                         fake_target: float | Tensor = 0.0) -> Tensor:
    """LSGAN discriminator loss ½E[(D(x) − b)²] + ½E[(D(G(z)) − a)²] with a = 0, b = 1 (Mao et al. 2017)."""
    real = 0.5 * (real_logits - _as_target(real_target, real_logits)).pow(2).mean()
    fake = 0.5 * (fake_logits - _as_target(fake_target, fake_logits)).pow(2).mean()
    return real + fake


def least_squares_g_loss(fake_logits: Tensor) -> Tensor:
    """LSGAN generator loss ½E[(D(G(z)) − 1)²]."""
    return 0.5 * (fake_logits - 1.0).pow(2).mean()


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Critic loss E[f(G(z))] − E[f(x)]: minimising it maximises the Kantorovich–Rubinstein estimate of W₁.

    Only a distance estimate when f is kept (about) 1-Lipschitz: clipping, a gradient penalty or SN.
    """
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: Tensor) -> Tensor:
    """Generator loss −E[f(G(z))] of the WGAN (Arjovsky et al. 2017)."""
    return -fake_logits.mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge discriminator loss E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017; Miyato 2018)."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """Hinge generator loss −E[D(G(z))], the same as the WGAN generator's."""
    return -fake_logits.mean()


def _as_target(target: float | Tensor, like: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target.to(like.dtype).expand_as(like)
    return torch.full_like(like, float(target))


@dataclass(frozen=True)
class Objective:
    """A named pair of losses. ``uses_targets``: the D loss accepts real/fake targets (smoothing, flips)."""

    name: str
    d_loss: Callable[..., Tensor]
    g_loss: Callable[[Tensor], Tensor]
    uses_targets: bool
    description: str


LOSSES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("minimax", bce_d_loss, saturating_g_loss, True,
                  "Goodfellow's minimax game: G minimises log(1 − D(G(z))), which saturates"),
        Objective("non_saturating", bce_d_loss, non_saturating_g_loss, True,
                  "G maximises log D(G(z)) instead: same fixed point, strong early gradients"),
        Objective("least_squares", least_squares_d_loss, least_squares_g_loss, True,
                  "LSGAN: squared distance to the targets, no sigmoid"),
        Objective("wasserstein", wasserstein_d_loss, wasserstein_g_loss, False,
                  "WGAN: critic estimates W₁; needs clipping, a gradient penalty or SN"),
        Objective("hinge", hinge_d_loss, hinge_g_loss, False,
                  "Hinge loss, the usual partner of spectral normalisation"),
    )
}


def get_objective(name: str) -> Objective:
    """Look up a loss pair by name, with an error listing the names that exist."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss={name!r} is unknown; use one of {sorted(LOSSES)}") from None
