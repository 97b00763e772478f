"""The GAN theory of Goodfellow et al. (2014), computed exactly on toy distributions.

For a fixed generator distribution p_g the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x))
(Proposition 1), and the value it reaches is C(G) = V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_g) (Theorem 1).
Here both sides are numbers we can compute:

- densities come from ``ganlab.toy`` (exact ``log_prob``);
- integrals over 1-D and 2-D space use composite Gauss–Legendre quadrature on a box that holds all but a
  negligible tail of the mass, with panel edges on every density jump (a uniform's edges), so smooth
  1-D cases are good to far better than 1e-6;
- expectations can also be estimated by Monte Carlo, with a standard error (``value_function_mc``).

D* is computed from log-densities as σ(log p_data − log p_g), which stays finite where both densities
underflow. Discriminator callables map points (N, d) to probabilities (N,), or to logits with ``logits=True``
(ganlab's networks return logits; that form is also the exact one far from the data).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .losses import bce_d_loss
from .toy import Distribution

LOG_2, LOG_4 = math.log(2.0), math.log(4.0)
Discriminator = Callable[[Tensor], Tensor]  # points (N, d) → D(x) (N,) in (0, 1), or logits
Histogram = Tensor | np.ndarray
ORDER = {1: 8, 2: 4}  # Gauss–Legendre nodes per panel and axis
MAX_POINTS = 4_000_000  # a 2-D rule past this is slow on a laptop CPU; Monte Carlo is the tool there
CHUNK = 1 << 16  # points evaluated at once, to bound memory on large 2-D grids


# ---------------------------------------------------------------------- quadrature
@dataclass(frozen=True)
class Quadrature:
    """A rule ∫ f(x) dx ≈ Σᵢ wᵢ f(xᵢ): ``points`` (M, d) and ``weights`` (M,), float64 on the CPU."""

    points: Tensor
    weights: Tensor

    def integrate(self, values: Tensor) -> float:
        """Σ wᵢ f(xᵢ) for values f(xᵢ) of shape (M,); terms that are exactly 0 count as 0 even beside inf."""
        return float((self.weights * values).sum())


def quadrature(*dists: Distribution, panels_per_std: float = 2.0, tail: float = 10.0) -> Quadrature:
    """A tensor-product Gauss–Legendre rule covering every distribution in ``dists`` (1-D or 2-D).

    Each axis is cut at the edges of the distributions' ``pieces`` (so a uniform's jumps fall on panel
    edges), and every interval gets panels ``1/panels_per_std`` of the smallest length scale of the pieces
    covering it: narrow modes are resolved finely, empty space coarsely.
    """
    dim = dists[0].dim
    if any(d.dim != dim for d in dists):
        raise ValueError(f"the distributions live in different dimensions {[d.dim for d in dists]}; compare "
                         f"distributions of the same dimension")
    if dim not in ORDER:
        raise ValueError(f"quadrature covers 1-D and 2-D distributions, not {dim}-D; use value_function_mc")
    parts = [d.pieces(tail) for d in dists]
    low, high, scale = (torch.cat([getattr(p, f) for p in parts]) for f in ("low", "high", "scale"))  # (K, d)
    axes = [_gauss_legendre_axis(low[:, a], high[:, a], scale[:, a] / panels_per_std, ORDER[dim])
            for a in range(dim)]
    if math.prod(len(x) for x, _ in axes) > MAX_POINTS:
        raise ValueError(f"quadrature would need {math.prod(len(x) for x, _ in axes):,} points (narrow modes in a "
                         f"wide box); use value_function_mc, or lower panels_per_std or tail")
    if dim == 1:
        return Quadrature(axes[0][0][:, None], axes[0][1])
    (x, wx), (y, wy) = axes
    gx, gy = torch.meshgrid(x, y, indexing="ij")
    return Quadrature(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1), (wx[:, None] * wy[None, :]).reshape(-1))


def _gauss_legendre_axis(low: Tensor, high: Tensor, width: Tensor, order: int) -> tuple[Tensor, Tensor]:
    """Nodes and weights on one axis from K intervals [low, high] (K,) that want panels of ``width`` (K,)."""
    edges = torch.unique(torch.cat([low, high]))  # sorted; every piece edge is a panel edge
    mids = (edges[:-1] + edges[1:]) / 2
    covers = (low[None] <= mids[:, None]) & (mids[:, None] <= high[None])  # (intervals, K)
    # Gaps between pieces hold negligible mass (tail stds out): one panel each is enough there.
    wanted = torch.where(covers, width[None], torch.tensor(math.inf, dtype=torch.float64)).amin(1)
    counts = (edges.diff() / wanted).ceil().clamp(min=1).long()
    panel_edges = torch.cat([torch.linspace(float(a), float(b), int(c) + 1, dtype=torch.float64)[:-1]
                             for a, b, c in zip(edges[:-1], edges[1:], counts)] + [edges[-1:]])
    t, w = (torch.from_numpy(v) for v in np.polynomial.legendre.leggauss(order))  # nodes on [−1, 1]
    left, length = panel_edges[:-1, None], panel_edges.diff()[:, None]
    return (left + (t + 1) / 2 * length).reshape(-1), (w / 2 * length).reshape(-1)


def _log_prob(dist: Distribution, points: Tensor) -> Tensor:
    return torch.cat([dist.log_prob(chunk) for chunk in points.split(CHUNK)])


# ---------------------------------------------------------------------- the optimal discriminator
def optimal_logit(p_data: Distribution, p_g: Distribution) -> Discriminator:
    """x (N, d) ↦ log p_data(x) − log p_g(x), the logit of D* (N,); 0 where both densities are 0."""

    def logit(x: Tensor) -> Tensor:
        log_data, log_g = p_data.log_prob(x), p_g.log_prob(x)
        both_zero = torch.isneginf(log_data) & torch.isneginf(log_g)
        return torch.where(both_zero, torch.zeros_like(log_data), log_data - log_g)

    return logit


def optimal_discriminator(p_data: Distribution, p_g: Distribution) -> Discriminator:
    """x (N, d) ↦ D*(x) = p_data/(p_data + p_g) = σ(log p_data − log p_g), shape (N,); ½ where both are 0."""
    logit = optimal_logit(p_data, p_g)
    return lambda x: torch.sigmoid(logit(x))


def _log_d_terms(D: Discriminator, x: Tensor, logits: bool) -> tuple[Tensor, Tensor]:
    """(log D(x), log(1 − D(x))) in float64, shape (N,), for points x (N, d) in float64."""
    out = torch.cat([_evaluate(D, chunk) for chunk in x.split(CHUNK)])
    if logits:
        return -F.softplus(-out), -F.softplus(out)  # exact: log σ(l) and log(1 − σ(l))
    # Probabilities that rounded to exactly 0 or 1 are moved one float inside: the error this makes is
    # below the density ratio that caused the rounding (≈1e-16), where an exact 1 would give −inf.
    tiny = torch.finfo(torch.float64)
    out = out.clamp(tiny.tiny, 1 - tiny.eps / 2)
    return out.log(), torch.log1p(-out)


@torch.no_grad()
def _evaluate(D: Discriminator, x: Tensor) -> Tensor:
    if isinstance(D, nn.Module):
        param = next(D.parameters())
        x = x.to(param.device, param.dtype)
    out = D(x)
    if not isinstance(out, Tensor) or out.shape != x.shape[:1]:
        raise ValueError(f"a discriminator must map points (N, d) to values (N,), got "
                         f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
    return out.detach().double().cpu()


# ---------------------------------------------------------------------- the value function
@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate and its standard error."""

    value: float
    stderr: float

    def __str__(self) -> str:
        return f"{self.value:.5f} ± {self.stderr:.5f}"


def value_function(D: Discriminator, p_data: Distribution, p_g: Distribution, *, logits: bool = False,
                   method: str = "quadrature", n: int = 200_000, generator: torch.Generator | None = None,
                   panels_per_std: float = 2.0) -> float:
    """V(D, G) = E_{p_data}[log D(x)] + E_{p_g}[log(1 − D(x))] in nats.

    ``method``: "quadrature" (1-D/2-D, exact up to the rule) or "monte_carlo" (n samples of each, any
    dimension; ``value_function_mc`` also returns the standard error).
    """
    if method == "monte_carlo":
        return value_function_mc(D, p_data, p_g, n=n, generator=generator, logits=logits).value
    if method != "quadrature":
        raise ValueError(f"method={method!r} is unknown; use 'quadrature' or 'monte_carlo'")
    quad = quadrature(p_data, p_g, panels_per_std=panels_per_std)
    log_d, log_1m_d = _log_d_terms(D, quad.points, logits)
    p, q = _log_prob(p_data, quad.points).exp(), _log_prob(p_g, quad.points).exp()
    integrand = _weighted(p, log_d) + _weighted(q, log_1m_d)
    return quad.integrate(integrand)


def value_function_mc(D: Discriminator, p_data: Distribution, p_g: Distribution, *, n: int = 200_000,
                      generator: torch.Generator | None = None, logits: bool = False) -> Estimate:
    """V(D, G) by Monte Carlo from n samples of each distribution, with its standard error."""
    real = p_data.sample(n, generator=generator, dtype=torch.float64).cpu()
    fake = p_g.sample(n, generator=generator, dtype=torch.float64).cpu()
    log_d = _log_d_terms(D, real, logits)[0]
    log_1m_d = _log_d_terms(D, fake, logits)[1]
    value = log_d.mean() + log_1m_d.mean()
    stderr = (log_d.var() / n + log_1m_d.var() / n).sqrt()
    return Estimate(float(value), float(stderr))


def criterion(p_data: Distribution, p_g: Distribution, panels_per_std: float = 2.0) -> float:
    """C(G) = max_D V(D, G) = V(D*, G), by quadrature of the value function at D* (not via the JSD)."""
    return value_function(optimal_logit(p_data, p_g), p_data, p_g, logits=True, panels_per_std=panels_per_std)


def _weighted(density: Tensor, log_value: Tensor) -> Tensor:
    # density · log_value with 0 · (−inf) = 0: a point without mass contributes nothing.
    return torch.where(density > 0, density * log_value, torch.zeros_like(density))


# ---------------------------------------------------------------------- divergences
def kl_divergence(p: Distribution | Histogram, q: Distribution | Histogram, panels_per_std: float = 2.0) -> float:
    """KL(p ‖ q) = ∫ p log(p/q) in nats: by quadrature for 1-D/2-D distributions, or exactly for two
    histograms (arrays of non-negative counts or probabilities of the same shape, normalised here).
    inf when p has mass where q has none."""
    if _is_histogram(p, q):
        hp, hq = _histograms(p, q)
        if ((hp > 0) & (hq == 0)).any():
            return math.inf
        return float((torch.xlogy(hp, hp) - torch.xlogy(hp, hq)).sum())
    quad = quadrature(p, q, panels_per_std=panels_per_std)
    log_p, log_q = _log_prob(p, quad.points), _log_prob(q, quad.points)
    if (torch.isfinite(log_p) & torch.isneginf(log_q)).any():
        return math.inf
    return quad.integrate(_weighted(log_p.exp(), log_p - log_q))


def js_divergence(p: Distribution | Histogram, q: Distribution | Histogram, panels_per_std: float = 2.0) -> float:
    """JSD(p ‖ q) = ½KL(p ‖ m) + ½KL(q ‖ m), m = (p + q)/2, in nats (between 0 and log 2): by quadrature
    for 1-D/2-D distributions, or exactly for two histograms."""
    if _is_histogram(p, q):
        hp, hq = _histograms(p, q)
        hm = (hp + hq) / 2
        return float(0.5 * (torch.xlogy(hp, hp) - torch.xlogy(hp, hm)).sum()
                     + 0.5 * (torch.xlogy(hq, hq) - torch.xlogy(hq, hm)).sum())
    quad = quadrature(p, q, panels_per_std=panels_per_std)
    log_p, log_q = _log_prob(p, quad.points), _log_prob(q, quad.points)
    log_m = torch.logaddexp(log_p, log_q) - LOG_2
    return quad.integrate(0.5 * _weighted(log_p.exp(), log_p - log_m) + 0.5 * _weighted(log_q.exp(), log_q - log_m))


def _is_histogram(p: object, q: object) -> bool:
    kinds = {isinstance(v, Distribution) for v in (p, q)}
    if kinds == {True, False}:
        raise ValueError("compare two distributions or two histograms, not one of each; histogram a "
                         "distribution's samples first")
    return kinds == {False}


def _histograms(p: Histogram, q: Histogram) -> tuple[Tensor, Tensor]:
    hp, hq = (torch.as_tensor(np.asarray(h), dtype=torch.float64).reshape(-1) for h in (p, q))
    if hp.shape != hq.shape:
        raise ValueError(f"histograms must have the same bins, got {hp.numel()} and {hq.numel()} entries")
    for name, h in (("p", hp), ("q", hq)):
        if (h < 0).any() or not torch.isfinite(h).all() or h.sum() <= 0:
            raise ValueError(f"histogram {name} must be finite non-negative counts with a positive sum")
    return hp / hp.sum(), hq / hq.sum()


# ---------------------------------------------------------------------- a trained discriminator
def train_discriminator(discriminator: nn.Module, p_data: Distribution, p_g: Distribution, *, steps: int = 1000,
                        batch_size: int = 256, lr: float = 1e-3, generator: torch.Generator | None = None,
                        progress: bool = True) -> Tensor:
    """Fit a logit-valued discriminator (N, d) → (N,) against a fixed p_g with ganlab's ``bce_d_loss``.

    Each step draws fresh batches from both distributions (on the discriminator's device); Adam's learning
    rate decays linearly from ``lr`` to 0. Returns the
    per-step losses (steps,) on the CPU; −loss is the batch estimate of V(D, G).
    """
    from tqdm.auto import tqdm

    device = next(discriminator.parameters()).device
    rng = generator if generator is not None else torch.Generator(device=device).manual_seed(0)
    opt = torch.optim.Adam(discriminator.parameters(), lr=lr)
    # The learning rate falls linearly to 0, so the last steps settle D instead of jittering around D*.
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / steps)
    losses = []
    for _ in tqdm(range(steps), disable=not progress, desc="discriminator", unit="step"):
        real = p_data.sample(batch_size, generator=rng).to(device)
        fake = p_g.sample(batch_size, generator=rng).to(device)
        loss = bce_d_loss(discriminator(real), discriminator(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.detach())
    return torch.stack(losses).cpu()
