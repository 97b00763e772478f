"""Regularisers that keep a discriminator or critic in check.

All penalties return a scalar tensor that is *added* to D's loss, and all differentiate D's output
with respect to its input with ``create_graph=True`` so that the penalty itself can be minimised.
Samples are (N, ...) tensors; D returns logits of shape (N,).

Gradient penalties assume D treats the samples of a batch independently: with BatchNorm in D (the
DCGAN discriminator) ∇ₓᵢ of the batch sum also holds the other samples' terms, which is why
Gulrajani et al. (2017) drop BatchNorm from the critic. Use the MLP or toy critic with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn


def input_gradients(discriminator: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """∇ₓ D(x) for each sample of x (N, ...), flattened to (N, d), kept in the graph for double backprop.

    Works inside ``torch.no_grad()`` too (an analysis cell measuring slopes), since it turns grad on.
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        out = discriminator(x)
        if out.shape != (x.shape[0],) and out.shape != (x.shape[0], 1):
            raise ValueError(f"D must return one logit per sample, shape ({x.shape[0]},), but returned "
                             f"{tuple(out.shape)}; do not average or sum its output before the penalty")
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1)


def interpolates(real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """x̂ = εx + (1 − ε)x̃ with ε ~ U[0, 1] drawn once per sample (Gulrajani et al. 2017); shapes (N, ...)."""
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape to "
                         f"be paired for interpolation; draw as many fakes as real samples")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    return eps * real.detach() + (1.0 - eps) * fake.detach()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP: weight · E[(‖∇ critic(x̂)‖₂ − 1)²] at random interpolates x̂ (Gulrajani et al. 2017).

    Two-sided: slopes below 1 cost as much as slopes above. The optimal critic has slope 1 almost
    everywhere on the lines between coupled points, so on those lines the penalty does not bias it.
    """
    _check_weight(weight, "weight", 10.0)
    norms = input_gradients(critic, interpolates(real, fake, generator)).norm(dim=1)
    return weight * (norms - 1.0).pow(2).mean()


def lipschitz_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, weight: float = 10.0,
                      generator: torch.Generator | None = None) -> Tensor:
    """WGAN-LP: the one-sided weight · E[max(0, ‖∇ critic(x̂)‖₂ − 1)²] (Petzka et al. 2018).

    Only slopes above 1 are penalised, so the critic may be flatter than 1-Lipschitz where that is right.
    Sampled at the same interpolates as the gradient penalty.
    """
    _check_weight(weight, "weight", 10.0)
    norms = input_gradients(critic, interpolates(real, fake, generator)).norm(dim=1)
    return weight * torch.relu(norms - 1.0).pow(2).mean()


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, gamma: float = 10.0) -> Tensor:
    """R1: γ/2 · E_real ‖∇ₓ D(x)‖², zero-centred on the data (Mescheder et al. 2018)."""
    _check_weight(gamma, "gamma", 10.0)
    return 0.5 * gamma * input_gradients(discriminator, real).pow(2).sum(dim=1).mean()


def r2_penalty(discriminator: Callable[[Tensor], Tensor], fake: Tensor, gamma: float = 10.0) -> Tensor:
    """R2: γ/2 · E_fake ‖∇ₓ D(x)‖², the same penalty on generated samples."""
    _check_weight(gamma, "gamma", 10.0)
    return 0.5 * gamma * input_gradients(discriminator, fake).pow(2).sum(dim=1).mean()


@torch.no_grad()
def weight_clip(module: nn.Module, c: float = 0.01) -> None:
    """Clamp every parameter of ``module`` into [−c, c] in place: WGAN's crude Lipschitz bound.

    Call after each critic step (Arjovsky et al. 2017 used c = 0.01 with RMSprop).
    """
    if not (isinstance(c, (int, float)) and math.isfinite(c) and c > 0):
        raise ValueError(f"clip bound c={c!r} must be a positive finite number, e.g. 0.01")
    for p in module.parameters():
        p.clamp_(-c, c)


def _check_weight(value: float, name: str, example: float) -> None:
    # A negative weight would reward the very slopes the penalty exists to remove.
    if isinstance(value, Tensor) or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}={value!r} must be a finite number >= 0, e.g. {example}")


# name → f(D, real, fake, weight, generator); GANConfig.penalty and the dashboard use these names.
PENALTIES: dict[str, Callable[..., Tensor]] = {
    "gp": lambda d, real, fake, w, g: gradient_penalty(d, real, fake, w, g),
    "lp": lambda d, real, fake, w, g: lipschitz_penalty(d, real, fake, w, g),
    "r1": lambda d, real, fake, w, g: r1_penalty(d, real, w),
    "r2": lambda d, real, fake, w, g: r2_penalty(d, fake, w),
}


def penalty_term(name: str, discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                 weight: float, generator: torch.Generator | None = None) -> Tensor | None:
    """The penalty ``GANConfig.penalty`` names, or None for "none" or weight 0 (so no graph work is done)."""
    if name != "none" and name not in PENALTIES:
        raise ValueError(f"penalty={name!r} is unknown; use one of {['none', *PENALTIES]}")
    if name == "none" or weight == 0:
        return None
    return PENALTIES[name](discriminator, real, fake, weight, generator)
