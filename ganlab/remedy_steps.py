"""The step functions and hooks behind ``ganlab.remedies``; each is a callable object with its options.

Steps have the ``Trainer``'s signatures, ``d_step(t, real, z)`` and ``g_step(t, z)``, and reuse its
pieces (``d_update``, ``adversarial_d_loss``, the optimizers), so the loop stays ``Trainer.step``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .nets.remedies import head_input
from .train import Trainer, adversarial_d_loss, d_update, grad_norm


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """D's parameters need no gradient during a G step (they are not updated by it)."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


def g_update(t: Trainer, loss_of: Callable[[], Tensor]) -> tuple[Tensor, Tensor]:
    """Minimise ``loss_of()`` over G with D frozen; returns (loss, ‖∇G‖) as device scalars."""
    with frozen(t.discriminator):
        loss = loss_of()
        t.opt_g.zero_grad(set_to_none=True)
        loss.backward()
    norm = grad_norm(t.generator)
    t.opt_g.step()
    return loss.detach(), norm


class FeatureMatching:
    """G minimises ‖E f(x) − E f(G(z))‖², f = the features entering D's last layer (Salimans et al. 2016).

    G no longer chases whatever D currently rates highest (one point: collapse); it matches statistics of
    the whole batch. ``adversarial_weight`` > 0 adds that much of the usual G loss.
    """

    def __init__(self, adversarial_weight: float = 0.0) -> None:
        self.adversarial_weight = adversarial_weight

    def __call__(self, t: Trainer, z: Tensor) -> tuple[Tensor, Tensor]:
        def loss() -> Tensor:
            with torch.no_grad():
                _, real_features = head_input(t.discriminator, t.noisy(t.real_batch()))
            fake_logits, fake_features = head_input(t.discriminator, t.noisy(t.generator(z)))
            matching = (real_features.mean(0) - fake_features.mean(0)).pow(2).sum()
            if self.adversarial_weight == 0:
                return matching
            return matching + self.adversarial_weight * t.objective.g_loss(fake_logits)

        return g_update(t, loss)


class Unrolled:
    """G's loss against D after ``steps`` more D updates, differentiated through them (Metz et al. 2017).

    The unrolled updates copy the trainer's own D optimizer (Adam with its current moments, or SGD) in a
    differentiable form on ``torch.func.functional_call``; D itself is updated only by the normal D step.
    G then sees how D would answer its move, which punishes hopping onto the mode D just left.
    D penalties are not part of the unrolled updates.
    """

    def __init__(self, steps: int = 5) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps={steps!r} must be an integer >= 1 (Metz et al. used 5 to 10)")
        self.steps = steps

    def __call__(self, t: Trainer, z: Tensor) -> tuple[Tensor, Tensor]:
        D, b = t.discriminator, t.cfg.batch_size
        named = dict(D.named_parameters())
        buffers = dict(D.named_buffers())
        params = {k: p.detach().requires_grad_() for k, p in named.items()}
        moments = {k: _adam_moments(t.opt_d, p) for k, p in named.items()}

        def d_logits(ps: dict[str, Tensor], x: Tensor) -> Tensor:
            return functional_call(D, (ps, buffers), (t.noisy(x),))

        def loss() -> Tensor:
            ps = params
            for _ in range(self.steps):
                real_logits = d_logits(ps, t.real_batch())
                fake_logits = d_logits(ps, t.generator(t.noise(b)))  # keeps G in the graph
                d_loss = adversarial_d_loss(t, real_logits, fake_logits)
                grads = torch.autograd.grad(d_loss, list(ps.values()), create_graph=True)
                ps = _optimizer_step(t.opt_d, ps, dict(zip(ps, grads)), moments)
            return t.objective.g_loss(d_logits(ps, t.generator(z)))

        return g_update(t, loss)


def _adam_moments(opt: torch.optim.Optimizer, p: Tensor) -> list[Tensor]:
    """[m, v, step] of Adam for parameter ``p`` (zeros before the first step); [] for other optimizers.

    The step count stays a tensor (on the device for fused Adam), so reading it never syncs the host.
    """
    if not isinstance(opt, torch.optim.Adam):
        return []
    state = opt.state.get(p, {})
    if not state:
        return [torch.zeros_like(p), torch.zeros_like(p), torch.zeros((), device=p.device)]
    return [state["exp_avg"].detach(), state["exp_avg_sq"].detach(), state["step"].detach().float()]


def _optimizer_step(opt: torch.optim.Optimizer, params: dict[str, Tensor], grads: dict[str, Tensor],
                    moments: dict[str, list[Tensor]]) -> dict[str, Tensor]:
    """One differentiable update of the optimizer's kind: Adam (bias-corrected) or SGD; ``moments`` advance."""
    group = opt.param_groups[0]
    lr = group["lr"]
    out = {}
    for k, p in params.items():
        g = grads[k]
        if not moments[k]:  # SGD and RMSprop are unrolled as plain gradient descent
            out[k] = p - lr * g
            continue
        m, v, n = moments[k]
        beta1, beta2 = group["betas"]
        m, v, n = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g, n + 1
        moments[k] = [m, v, n]
        m_hat, v_hat = m / (1 - beta1 ** n), v / (1 - beta2 ** n)
        out[k] = p - lr * m_hat / ((v_hat + 1e-20).sqrt() + group["eps"])  # 1e-20: finite gradient at v = 0
    return out


class Replay:
    """D's fake batch mixes fresh fakes with ``fraction`` of fakes from a buffer of ``size`` earlier ones.

    D keeps rejecting the places G visited before, so G cannot cycle back to an abandoned mode unnoticed.
    The buffer is filled with every fresh fake batch (random slots once full) and lives on the device;
    ``build_trainer`` registers it with ``Trainer.register_state``, so checkpoints and restores keep it.
    """

    def __init__(self, size: int = 10_000, fraction: float = 0.5) -> None:
        if not (0.0 <= fraction < 1.0):
            raise ValueError(f"fraction={fraction!r} must lie in [0, 1): the share of replayed fakes")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size={size!r} must be an integer >= 1 (fakes kept)")
        self.size, self.fraction = size, fraction
        self.buffer: Tensor | None = None
        self.count = 0  # fakes stored so far (a host int: no device sync to know it)

    def __call__(self, t: Trainer, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        with torch.no_grad():
            fake = t.generator(z)
        n = fake.shape[0]
        k = round(self.fraction * n) if self.count else 0
        mixed = fake
        if k:
            idx = torch.randint(0, min(self.count, self.size), (k,), device=fake.device, generator=t.rng)
            mixed = torch.cat([fake[:n - k], self.buffer[idx]])  # type: ignore[index]
        self._store(t, fake)
        return d_update(t, real, mixed)

    def state_dict(self) -> dict[str, Any]:
        """The buffer (size, ...) or None before the first step, and how many fakes were stored."""
        return {"buffer": self.buffer, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        buffer = state["buffer"]
        if buffer is not None and buffer.shape[0] != self.size:
            raise ValueError(f"the saved replay buffer holds {buffer.shape[0]} fakes, this one {self.size}")
        self.buffer = None if buffer is None else buffer.clone()
        self.count = int(state["count"])

    def _store(self, t: Trainer, fake: Tensor) -> None:
        if self.buffer is None:
            self.buffer = fake.new_zeros(self.size, *fake.shape[1:])  # zeros, not garbage: saved as it is
        n = fake.shape[0]
        free = min(n, self.size - self.count) if self.count < self.size else 0
        if free:
            self.buffer[self.count:self.count + free] = fake[:free]
        if n > free:  # full: overwrite random slots
            slots = torch.randint(0, self.size, (n - free,), device=fake.device, generator=t.rng)
            self.buffer[slots] = fake[free:]
        self.count += n


class HistoricalAverage:
    """Adds λ‖θ − θ̄‖² to G's and D's losses, θ̄ the mean of all past θ (Salimans et al. 2016).

    Implemented as gradient hooks (∇ of the term is 2λ(θ − θ̄)) plus an ``on_step_end`` callback that
    updates θ̄, so the trainer's own steps stay as they are. θ̄ and the step count are part of the trainer's
    state (``attach`` registers them), so checkpoints and divergence restores keep them.
    """

    def __init__(self, weight: float = 1e-3) -> None:
        if not weight >= 0:
            raise ValueError(f"weight={weight!r} must be >= 0 (λ of the historical-averaging term)")
        self.weight = weight
        self.params: list[Tensor] = []
        self.means: list[Tensor] = []
        self.count = 0

    def attach(self, t: Trainer) -> HistoricalAverage:
        self.params = [p for m in (t.generator, t.discriminator) for p in m.parameters()]
        self.means = [p.detach().clone() for p in self.params]
        for p, mean in zip(self.params, self.means):
            p.register_hook(lambda g, p=p, mean=mean: g + 2 * self.weight * (p.detach() - mean))
        t.add_callback("on_step_end", self.update)
        t.register_state("historical_averaging", self)
        return self

    def state_dict(self) -> dict[str, Any]:
        """θ̄ for G's then D's parameters, and the number of steps averaged."""
        return {"means": list(self.means), "count": self.count}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        means = state["means"]
        if len(means) != len(self.means) or any(m.shape != n.shape for m, n in zip(means, self.means)):
            raise ValueError("the saved running averages do not match this trainer's parameters")
        for mean, saved in zip(self.means, means):
            mean.copy_(saved)  # in place: the gradient hooks hold these tensors
        self.count = int(state["count"])

    @torch.no_grad()
    def update(self, _t: Trainer) -> None:
        """θ̄ ← θ̄ + (θ − θ̄)/(n + 1): the running mean over the parameters after every step."""
        self.count += 1
        deltas = torch._foreach_sub([p.detach() for p in self.params], self.means)
        torch._foreach_add_(self.means, deltas, alpha=1.0 / (self.count + 1))
