"""Denoising diffusion (Ho et al. 2020, "DDPM") and its deterministic fast sampler (Song et al. 2021, "DDIM").

Indices run t = 0 … T−1. The forward process adds noise one step at a time,

    q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I)          (x_{−1} is the data x_0 … written ``x0`` here)

and in closed form q(x_t | x0) = N(√ᾱ_t x0, (1 − ᾱ_t) I) with ᾱ_t = Π_{s ≤ t} (1 − β_s). A network ε_θ(x_t, t)
learns to predict the noise ε in x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε (the loss ‖ε − ε_θ‖²). Ancestral sampling runs the
learned reverse steps from x_{T−1} ~ N(0, I); DDIM jumps between a few of the T steps without noise.
The networks (``ToyDenoiser``, ``ImageDenoiser``) are in ``ganlab.nets.denoisers``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .config import require_positive
from .loss_trainer import LossConfig, LossTrainer
from .nets.denoisers import ImageDenoiser, ToyDenoiser

# ε_θ: (x_t (N, …), t (N,)) → predicted noise (N, …); a denoiser module or ``in_chunks`` of one.
Denoiser = Callable[[Tensor, Tensor], Tensor]


class Schedule:
    """β_t, α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s, each (T,) float64, from a (T,) tensor of betas in (0, 1)."""

    def __init__(self, betas: Tensor) -> None:
        betas = torch.as_tensor(betas, dtype=torch.float64)
        if betas.dim() != 1 or len(betas) < 1 or not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("betas must be a 1-D tensor of values strictly between 0 and 1, e.g. "
                             "linear_schedule(1000)")
        self.betas = betas
        self.alphas = 1 - betas
        self.alpha_bars = torch.cumprod(self.alphas, 0)

    def __len__(self) -> int:
        return len(self.betas)

    def at(self, name: str, t: Tensor, like: Tensor) -> Tensor:
        """``name``[t] for indices t (N,), shaped (N, 1, …) to broadcast against ``like`` (N, …)."""
        return getattr(self, name).to(like.device)[t].to(like.dtype).view(-1, *[1] * (like.dim() - 1))


def linear_schedule(steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """Ho et al.'s betas, linear from ``beta_start`` to ``beta_end`` over ``steps`` steps (T = 1000 there)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be an integer >= 1")
    return Schedule(torch.linspace(beta_start, beta_end, steps, dtype=torch.float64))


def _check_t(t: Tensor, x: Tensor, schedule: Schedule) -> None:
    if t.shape != (len(x),):
        raise ValueError(f"t must hold one step index per sample, shape ({len(x)},); got {tuple(t.shape)}")
    # The range is checked where it costs nothing: on the CPU. On a GPU it would be a host sync in every step.
    if len(t) and t.device.type == "cpu" and (int(t.min()) < 0 or int(t.max()) >= len(schedule)):
        raise ValueError(f"step indices must lie in 0 … {len(schedule) - 1} (the schedule has T = {len(schedule)})")


def q_mean_var(x0: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """Mean √ᾱ_t x0 (N, …) and variance 1 − ᾱ_t (N, 1, …) of q(x_t | x0)."""
    _check_t(t, x0, schedule)
    return schedule.at("alpha_bars", t, x0).sqrt() * x0, 1 - schedule.at("alpha_bars", t, x0)


def q_sample(x0: Tensor, t: Tensor, noise: Tensor, schedule: Schedule) -> Tensor:
    """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, (N, …): a draw of q(x_t | x0) in one go."""
    mean, var = q_mean_var(x0, t, schedule)
    return mean + var.sqrt() * noise


def q_step(x_prev: Tensor, t: Tensor, noise: Tensor, schedule: Schedule) -> Tensor:
    """One forward step x_t = √(1 − β_t) x_{t−1} + √β_t ε, (N, …)."""
    _check_t(t, x_prev, schedule)
    return schedule.at("alphas", t, x_prev).sqrt() * x_prev + schedule.at("betas", t, x_prev).sqrt() * noise


def epsilon_loss(model: nn.Module, x0: Tensor, t: Tensor, noise: Tensor, schedule: Schedule) -> Tensor:
    """Ho et al.'s simple loss per sample: ‖ε − ε_θ(x_t, t)‖² averaged over dimensions, (N,)."""
    predicted = model(q_sample(x0, t, noise, schedule), t)
    return (noise - predicted).pow(2).flatten(1).mean(1)


def ddpm_step(model: Denoiser, x_t: Tensor, t: int, noise: Tensor, schedule: Schedule) -> Tensor:
    """One ancestral step x_t → x_{t−1} (N, …):

    x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t + σ_t z, with σ_t² = β_t and no noise at t = 0.
    """
    if not 0 <= t < len(schedule):
        raise ValueError(f"t={t} must lie in 0 … {len(schedule) - 1}")
    beta, alpha, alpha_bar = (float(v[t]) for v in (schedule.betas, schedule.alphas, schedule.alpha_bars))
    eps = model(x_t, torch.full((len(x_t),), t, device=x_t.device, dtype=torch.long))
    mean = (x_t - beta / math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha)
    return mean + math.sqrt(beta) * noise if t > 0 else mean


def ddim_step(model: Denoiser, x_t: Tensor, t: int, t_prev: int, schedule: Schedule, clip: float | None = None
              ) -> Tensor:
    """One deterministic DDIM step (η = 0) from index t to t_prev < t (t_prev = −1: to the data), (N, …):

    x̂0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t,  x_{t_prev} = √ᾱ_prev x̂0 + √(1 − ᾱ_prev) ε_θ,  ᾱ_{−1} = 1.
    ``clip``: clamp x̂0 to [−clip, clip] (images: 1, their range), as Ho et al.'s code does; at large t the
    division by √ᾱ_t multiplies any error of ε_θ by up to 1/√ᾱ_t, and a few long jumps would carry it along.
    """
    if not -1 <= t_prev < t < len(schedule):
        raise ValueError(f"need -1 <= t_prev < t <= {len(schedule) - 1}; got t={t}, t_prev={t_prev}")
    alpha_bar = float(schedule.alpha_bars[t])
    alpha_bar_prev = float(schedule.alpha_bars[t_prev]) if t_prev >= 0 else 1.0
    eps = model(x_t, torch.full((len(x_t),), t, device=x_t.device, dtype=torch.long))
    x0_hat = (x_t - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)
    if clip is not None:
        x0_hat = x0_hat.clamp(-clip, clip)
    return math.sqrt(alpha_bar_prev) * x0_hat + math.sqrt(1 - alpha_bar_prev) * eps


# Rows per U-Net call when sampling images. One call on a few hundred 28×28 images runs at about half the
# speed per image of calls on 64 (measured on one CPU thread, 500 images through the fast-mode U-Net: 560 ms
# whole, 285 ms in chunks of 64-100): the activations of a large batch no longer fit in cache.
IMAGE_CHUNK = 64


def in_chunks(model: Denoiser, rows: int) -> Denoiser:
    """``model`` evaluated ``rows`` rows at a time: (x (N, …), t (N,)) → the rows' outputs concatenated.

    Row n of the result is model(x[n], t[n]) as in one call (each row's output depends on its own row only:
    the denoisers have no batch statistics in eval mode), up to the float rounding of a different batch size.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows={rows!r} must be a positive integer")

    def call(x: Tensor, t: Tensor) -> Tensor:
        if len(x) <= rows:
            return model(x, t)
        return torch.cat([model(xc, tc) for xc, tc in zip(x.split(rows), t.split(rows))])

    return call


@torch.no_grad()
def ddpm_sample(model: Denoiser, x_start: Tensor, schedule: Schedule, generator: torch.Generator | None = None
                ) -> Tensor:
    """Ancestral sampling: all T reverse steps from x_{T−1} = ``x_start`` (N, …) ~ N(0, I); returns x0 (N, …)."""
    x = x_start
    for t in reversed(range(len(schedule))):
        noise = torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=generator) if t > 0 else x
        x = ddpm_step(model, x, t, noise, schedule)
    return x


def ddim_timesteps(total: int, steps: int) -> list[int]:
    """``steps`` indices from T−1 down to 0, evenly spaced (the ones DDIM visits): (1000, 4) → [999, 666, 333, 0]."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= total:
        raise ValueError(f"steps={steps!r} must be an integer from 1 to T = {total}")
    return sorted({round(i * (total - 1) / max(steps - 1, 1)) for i in range(steps)}, reverse=True)


@torch.no_grad()
def ddim_sample(model: Denoiser, x_start: Tensor, schedule: Schedule, steps: int, clip: float | None = None
                ) -> Tensor:
    """Deterministic DDIM sampling from x_{T−1} = ``x_start`` (N, …) in ``steps`` network calls; returns x0.

    ``clip``: see ``ddim_step``."""
    visits = ddim_timesteps(len(schedule), steps)
    x = x_start
    for t, t_prev in zip(visits, visits[1:] + [-1]):
        x = ddim_step(model, x, t, t_prev, schedule, clip)
    return x


@dataclass
class DiffusionConfig(LossConfig):
    """A DDPM and its training run (the run fields are ``LossConfig``'s). Toy ``data_shape`` (2,) gets an MLP,
    images (1, 28, 28) a U-Net."""

    steps: int = 1000             # T; Ho et al. use 1000 with betas 1e-4 … 0.02
    beta_start: float = 1e-4
    beta_end: float = 0.02
    hidden_dim: int = 128         # toy MLP width; base channels ÷ 4 of the image U-Net

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, integers=("steps", "hidden_dim"))
        if not 0 < self.beta_start <= self.beta_end < 1:
            raise ValueError(f"need 0 < beta_start <= beta_end < 1; got {self.beta_start}, {self.beta_end}")


class DiffusionTrainer(LossTrainer):
    """Trains an ε-prediction network on ``cfg.dataset`` (or ``data``) with t uniform over 0 … T−1."""

    STATS = ("loss",)

    def __init__(self, cfg: DiffusionConfig | None = None, data: Any = None, model: nn.Module | None = None,
                 **kwargs: Any) -> None:
        cfg = cfg if cfg is not None else DiffusionConfig()
        torch.manual_seed(cfg.seed)  # weight initialisation
        if model is None:
            model = (ToyDenoiser(cfg.data_shape[0], cfg.hidden_dim, cfg.steps) if len(cfg.data_shape) == 1
                     else ImageDenoiser(cfg.data_shape[0], cfg.hidden_dim // 4, cfg.steps))
        self.schedule = linear_schedule(cfg.steps, cfg.beta_start, cfg.beta_end)
        super().__init__(cfg, model, data, **kwargs)

    def loss(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        n = len(batch)
        t = torch.randint(0, self.cfg.steps, (n,), device=self.device, generator=self.rng)
        noise = torch.randn(batch.shape, device=self.device, generator=self.rng)
        value = epsilon_loss(self.model, batch, t, noise, self.schedule).mean()
        return value, value.reshape(1)

    def start_noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """x_{T−1} ~ N(0, I), (n, *data_shape), on the device."""
        return torch.randn(n, *self.cfg.data_shape, device=self.device, generator=generator or self.rng)

    @torch.no_grad()
    def sample(self, n: int, ddim_steps: int | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n samples (n, *data_shape) on the CPU: ancestral (all T steps) or DDIM with ``ddim_steps`` steps
        (images: x̂0 and the result clipped to their range [-1, 1]; toy points are not clipped).

        Images go through the U-Net ``IMAGE_CHUNK`` at a time (``in_chunks``); the noise is still drawn for
        all n at once, so the samples do not depend on the chunk size beyond float rounding."""
        self.model.eval()
        x = self.start_noise(n, generator)
        images = len(self.cfg.data_shape) > 1
        model = in_chunks(self.model, IMAGE_CHUNK) if images else self.model
        if ddim_steps is None:
            x = ddpm_sample(model, x, self.schedule, generator or self.rng)
        else:
            x = ddim_sample(model, x, self.schedule, ddim_steps, 1.0 if images else None)
        return (x.clamp(-1, 1) if images else x).float().cpu()
