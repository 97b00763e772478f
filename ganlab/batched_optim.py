"""Optimisers and gradient norms for stacked parameters (k, ...): one tensor holds the same parameter of k runs.

Adam is element-wise: an element's moments and update read only that element's gradient and the step count,
which every run of a batch shares. So one ``torch.optim.Adam`` over the stacked tensors performs exactly the
updates of k separate Adams over the runs' own tensors (tests/test_batched.py checks this, bit for bit on
the CPU). The learning rate is the one number an Adam applies to a whole tensor; runs that need their own
(an lr sweep) get ``RunAdam``, the same update with a (k,) learning rate broadcast over the run axis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from .train_state import make_optimizer


class RunAdam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015, torch's default variant: no amsgrad, no weight decay) over stacked parameters
    (k, ...) with one learning rate per run: ``group["lr"]`` is a (k,) tensor, scaled like a number by a
    schedule. Each run's update is torch's Adam with that run's rate, to float rounding: the rate multiplies
    m̂ before the division where torch passes it as ``addcdiv``'s scalar.
    """

    def __init__(self, params: Iterable[Tensor], lr: Tensor, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self) -> None:  # type: ignore[override]
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(p.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(group["eps"])
                step_size = (group["lr"] / (1 - beta1**t)).to(p.device, p.dtype)  # (k,), rounded once
                p.addcdiv_(m * step_size.view(-1, *[1] * (p.dim() - 1)), denom, value=-1.0)


def stacked_adam(params: Iterable[Tensor], lrs: Sequence[float], betas: tuple[float, float]
                 ) -> torch.optim.Optimizer:
    """Adam over stacked parameters for k runs with learning rates ``lrs`` (k,): torch's (fused) Adam when
    every run has the same rate (exactly k Adams), else ``RunAdam``."""
    params = list(params)
    if len(set(lrs)) == 1:
        return make_optimizer("adam", params, lrs[0], betas)
    return RunAdam(params, torch.tensor(list(lrs), dtype=torch.float64), betas)


def run_grad_norms(params: Iterable[nn.Parameter]) -> Tensor:
    """Per run, ‖∇θₛ‖₂ over all stacked parameter gradients (k, ...): a (k,) device tensor (``updates.grad_norm``
    of each run)."""
    norms = [p.grad.flatten(1).norm(dim=1) for p in params if p.grad is not None]  # each (k,)
    return torch.linalg.vector_norm(torch.stack(norms), dim=0)
