"""The updates the ``Trainer`` calls: ``d_step`` and ``g_step`` and the pieces remedies build theirs from.

Each takes the trainer first (for its models, optimizers, config and random generator) and returns its
statistics as device scalars, so a step never waits for the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .fast import discriminate, graph_safe
from .penalties import penalty_term, weight_clip

if TYPE_CHECKING:
    from .train import Trainer


def grad_norm(module: nn.Module) -> Tensor:
    """‖∇θ‖₂ over all of a module's parameter gradients, as a device scalar (no host sync)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def adversarial_d_loss(t: Trainer, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The objective's D loss on logits (N,), with the trainer's smoothed/flipped targets when it takes them."""
    objective = t.objective
    if objective.uses_targets:
        real_target, fake_target = t.targets(real_logits.shape[0])
        return objective.d_loss(real_logits, fake_logits, real_target, fake_target)
    return objective.d_loss(real_logits, fake_logits)


@graph_safe
def d_step(t: Trainer, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One discriminator update on a real batch (N, ...) and noise (N, latent).

    Returns (loss, mean D(real), mean D(fake), ‖∇D‖) as device scalars; D(·) = σ(logit).
    """
    with torch.no_grad():
        fake = t.generator(z)
    return d_update(t, real, fake)


def d_update(t: Trainer, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The discriminator update of ``d_step`` on given fakes (M, ...), e.g. mixed with replayed old ones."""
    cfg, D = t.cfg, t.discriminator
    real, fake = t.noisy(real), t.noisy(fake)
    real_logits, fake_logits = discriminate(D, real, fake)  # one pass over both when D is per-sample
    loss = adversarial_d_loss(t, real_logits, fake_logits)
    penalty = penalty_term(cfg.penalty, D, real, fake, cfg.penalty_weight, t.rng)
    total = loss if penalty is None else loss + penalty
    t.opt_d.zero_grad(set_to_none=True)
    total.backward()
    norm = grad_norm(D)
    t.opt_d.step()
    if cfg.clip is not None:
        weight_clip(D, cfg.clip)
    with torch.no_grad():
        return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean(), norm


@graph_safe
def g_step(t: Trainer, z: Tensor) -> tuple[Tensor, Tensor]:
    """One generator update on noise (N, latent); D's parameters are frozen so no D gradient is computed.

    Returns (loss, ‖∇G‖) as device scalars.
    """
    return g_update(t, lambda: t.objective.g_loss(t.discriminator(t.noisy(t.generator(z)))))


def g_update(t: Trainer, loss_fn: Callable[[], Tensor]) -> tuple[Tensor, Tensor]:
    """The generator update of ``g_step`` on the loss ``loss_fn()`` computes (e.g. a conditional G's loss).

    D's parameters are frozen while the loss is built and differentiated. Returns (loss, ‖∇G‖).
    """
    D = t.discriminator
    D.requires_grad_(False)
    try:
        loss = loss_fn()
        t.opt_g.zero_grad(set_to_none=True)
        loss.backward()
    finally:
        D.requires_grad_(True)
    norm = grad_norm(t.generator)
    t.opt_g.step()
    return loss.detach(), norm
