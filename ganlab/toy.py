"""Toy distributions with an exact density and a sampler, so theory can be checked against the truth.

Every distribution takes and returns tensors of shape (N, d):
    dist.sample(n, generator=None, device=None, dtype=torch.float32) -> (n, d)
    dist.log_prob(x)                                                  -> (n,)   in x's dtype, on x's device
Parameters are stored in float64, so float64 works end to end. ``sample`` draws on the device of the
``generator`` it is given (a CUDA ``torch.Generator`` samples on the GPU, as the Trainer's does).

Builders: ``gaussian``, ``mixture`` (of Gaussians), ``uniform``, ``ring``/``grid`` and the two standard
2-D benchmarks of the mode-collapse papers, ``ring8`` and ``grid25`` (Metz et al. 2017; Lin et al. 2018,
PacGAN). ``get(name)`` looks a 2-D set up by name for ``GANConfig.dataset`` and the dashboard.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

Number = float | int
ArrayLike = Number | Sequence[Number] | Sequence[Sequence[Number]] | Tensor

LOG_2PI = math.log(2 * math.pi)


class Pieces(NamedTuple):
    """K boxes covering a density's mass, low and high (K, d), with the length ``scale`` (K, d) over which
    the density changes inside each (a component's std). Box edges may be jumps of the density."""

    low: Tensor
    high: Tensor
    scale: Tensor


class Distribution:
    """A d-dimensional distribution with exact log-density; subclasses fill in ``_sample`` and ``log_prob``."""

    dim: int

    def sample(self, n: int, generator: torch.Generator | None = None, device: str | torch.device | None = None,
               dtype: torch.dtype = torch.float32) -> Tensor:
        """n independent draws, shape (n, d), on ``generator.device`` when a generator is given."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n={n!r} must be an integer >= 1 (the number of samples)")
        target = torch.device(device) if device is not None else None
        if generator is not None:
            if target is not None and not _same_device(target, generator.device):
                raise ValueError(f"generator is on {generator.device} but device={device!r}; drop device= "
                                 f"(samples are drawn where the generator lives) or pass a generator on {device}")
            target = generator.device
        return self._sample(n, generator, target or torch.device("cpu"), dtype)

    def _sample(self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype) -> Tensor:
        raise NotImplementedError

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) for x of shape (N, d), as (N,); −inf outside the support."""
        raise NotImplementedError

    def prob(self, x: Tensor) -> Tensor:
        """p(x) for x of shape (N, d), as (N,)."""
        return self.log_prob(x).exp()

    def bounds(self, tail: float = 10.0) -> tuple[Tensor, Tensor]:
        """A box (low (d,), high (d,)) holding all but a negligible tail of the mass: ``tail`` stds for Gaussians."""
        raise NotImplementedError

    def pieces(self, tail: float = 10.0) -> Pieces:
        """Boxes where the density lives and the length over which it changes in each (quadrature refines there)."""
        raise NotImplementedError

    def _check(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"log_prob takes a tensor of shape (N, {self.dim}), got {shape}; "
                             f"for 1-D points use x[:, None]")
        return x


class Mixture(Distribution):
    """A mixture of K diagonal Gaussians: means (K, d), stds (K, d), weights (K,) summing to 1.

    ``modes`` are the component means and ``std`` the common component std (ring8/grid25 and metrics'
    mode coverage use them). A single Gaussian is the K = 1 case.
    """

    def __init__(self, means: Tensor, stds: Tensor, weights: Tensor) -> None:
        self.means, self.stds, self.weights = means, stds, weights  # float64, CPU
        self.dim = means.shape[1]
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[Tensor, Tensor, Tensor]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(components={len(self.weights)}, dim={self.dim})"

    @property
    def modes(self) -> Tensor:
        """The component means, (K, d)."""
        return self.means

    @property
    def std(self) -> float:
        """The std shared by every component and axis; use ``stds`` (K, d) when they differ."""
        if not torch.all(self.stds == self.stds[0, 0]):
            raise ValueError("the components have different stds, so there is no single .std; read .stds (K, d)")
        return float(self.stds[0, 0])

    def _params(self, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        # Cached per device and dtype so a training loop does not copy the parameters every step.
        key = (device, dtype)
        if key not in self._cache:
            self._cache[key] = (self.means.to(device, dtype), self.stds.to(device, dtype),
                                self.weights.to(device, dtype))
        return self._cache[key]

    def _sample(self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype) -> Tensor:
        means, stds, weights = self._params(device, dtype)
        noise = torch.randn(n, self.dim, generator=generator, device=device, dtype=dtype)
        if len(weights) == 1:
            return means[0] + stds[0] * noise
        idx = torch.multinomial(weights, n, replacement=True, generator=generator)  # (n,) component of each draw
        return means[idx] + stds[idx] * noise

    def log_prob(self, x: Tensor) -> Tensor:
        x = self._check(x)
        means, stds, weights = self._params(x.device, x.dtype)
        z = (x[:, None, :] - means) / stds  # (N, K, d)
        per_component = -0.5 * z.pow(2).sum(-1) - stds.log().sum(-1) - 0.5 * self.dim * LOG_2PI  # (N, K)
        return torch.logsumexp(per_component + weights.log(), dim=1)

    def bounds(self, tail: float = 10.0) -> tuple[Tensor, Tensor]:
        return (self.means - tail * self.stds).amin(0), (self.means + tail * self.stds).amax(0)

    def pieces(self, tail: float = 10.0) -> Pieces:
        return Pieces(self.means - tail * self.stds, self.means + tail * self.stds, self.stds.clone())


class Uniform(Distribution):
    """The uniform distribution on the box [low, high] (low, high of shape (d,))."""

    def __init__(self, low: Tensor, high: Tensor) -> None:
        self.low, self.high = low, high
        self.dim = low.shape[0]
        self._log_volume = float((high - low).log().sum())

    def __repr__(self) -> str:
        return f"Uniform(low={self.low.tolist()}, high={self.high.tolist()})"

    def _sample(self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype) -> Tensor:
        low, high = self.low.to(device, dtype), self.high.to(device, dtype)
        return low + (high - low) * torch.rand(n, self.dim, generator=generator, device=device, dtype=dtype)

    def log_prob(self, x: Tensor) -> Tensor:
        x = self._check(x)
        low, high = self.low.to(x.device, x.dtype), self.high.to(x.device, x.dtype)
        inside = ((x >= low) & (x <= high)).all(dim=1)
        return torch.full_like(x[:, 0], -self._log_volume).masked_fill(~inside, -math.inf)

    def bounds(self, tail: float = 10.0) -> tuple[Tensor, Tensor]:
        return self.low.clone(), self.high.clone()

    def pieces(self, tail: float = 10.0) -> Pieces:
        # The box edges are where the density jumps: quadrature must put panel edges exactly there.
        return Pieces(self.low[None], self.high[None], (self.high - self.low)[None])


# ---------------------------------------------------------------------- builders
def _float64(value: ArrayLike, name: str) -> Tensor:
    try:
        t = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name}={value!r} must be a number or a (nested) list of numbers ({err})") from None
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}={value!r} must be finite")
    return t


def gaussian(mean: ArrayLike, std: ArrayLike) -> Mixture:
    """N(mean, diag(std²)): 1-D when ``mean`` is a number, d-D when it is a vector; ``std`` scalar or (d,)."""
    mu, sd = _float64(mean, "mean").reshape(-1), _float64(std, "std")  # (d,), () or (d,)
    return mixture(mu[None, :], sd.reshape(1, -1) if sd.ndim else sd)


def mixture(means: ArrayLike, stds: ArrayLike, weights: ArrayLike | None = None) -> Mixture:
    """A mixture of Gaussians. ``means``: K numbers (1-D) or (K, d); ``stds``: a number, (K,) or (K, d);
    ``weights``: (K,) non-negative, normalised here (default equal)."""
    mu = _float64(means, "means")
    if mu.ndim == 1:
        mu = mu[:, None]  # K numbers are K 1-D means
    if mu.ndim != 2 or mu.shape[0] == 0:
        raise ValueError(f"means must be K numbers or a (K, d) array, got shape {tuple(mu.shape)}")
    k, d = mu.shape
    sd = _float64(stds, "stds")
    if sd.ndim == 1:
        sd = sd[:, None]  # one std per component
    try:
        sd = sd.expand(k, d).clone()
    except RuntimeError:
        raise ValueError(f"stds of shape {tuple(sd.shape)} do not fit {k} components in {d}-D; "
                         f"give a number, ({k},) or ({k}, {d})") from None
    if not (sd > 0).all():
        raise ValueError(f"stds must be > 0, got {sd.min().item()}")
    w = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else _float64(weights, "weights").reshape(-1)
    if w.shape[0] != k or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be {k} non-negative numbers with a positive sum, got {w.tolist()}")
    return Mixture(mu, sd, w / w.sum())


def uniform(low: ArrayLike, high: ArrayLike) -> Uniform:
    """Uniform on [low, high] (numbers: 1-D) or on the box with corners low, high (vectors of length d)."""
    lo, hi = _float64(low, "low").reshape(-1), _float64(high, "high").reshape(-1)
    if lo.shape != hi.shape or not (lo < hi).all():
        raise ValueError(f"need low < high on every axis with matching lengths, got low={lo.tolist()}, "
                         f"high={hi.tolist()}")
    return Uniform(lo, hi)


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Mixture:
    """Equal Gaussians at (r cos 2πi/n, r sin 2πi/n), i = 0..n−1."""
    angles = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    return mixture(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """Equal Gaussians on a side × side lattice centred on the origin, ``spacing`` apart."""
    ticks = spacing * (torch.arange(side, dtype=torch.float64) - (side - 1) / 2)
    xs, ys = torch.meshgrid(ticks, ticks, indexing="ij")
    return mixture(torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1), std)


def ring8() -> Mixture:
    """The 2D-ring benchmark: 8 Gaussians of std 0.01 on the unit circle (Lin et al. 2018, PacGAN)."""
    return ring(8, 1.0, 0.01)


def grid25() -> Mixture:
    """The 2D-grid benchmark: 25 Gaussians of std 0.05 at (−4 + 2i, −4 + 2j) (Lin et al. 2018, PacGAN)."""
    return grid(5, 2.0, 0.05)


def spiral(n_modes: int = 100, turns: float = 1.5, std: float = 0.05) -> Mixture:
    """A spiral r = θ/(2π·turns) ∈ (0.1, 1] traced by equal Gaussians: a thin curve with an exact density."""
    theta = torch.linspace(0.1, 1.0, n_modes, dtype=torch.float64) * 2 * math.pi * turns
    r = theta / (2 * math.pi * turns)
    return mixture(torch.stack([r * theta.cos(), r * theta.sin()], dim=1), std)


def two_moons(n_modes: int = 50, std: float = 0.08) -> Mixture:
    """Two interleaved half circles (the 'two moons' shape), each traced by equal Gaussians."""
    t = torch.linspace(0, math.pi, n_modes, dtype=torch.float64)
    upper = torch.stack([t.cos(), t.sin()], dim=1)
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], dim=1)
    return mixture(torch.cat([upper, lower]) - torch.tensor([0.5, 0.25], dtype=torch.float64), std)


# ---------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ToySet:
    """A named toy dataset for ``GANConfig.dataset``: ``build()`` returns a fresh distribution."""

    name: str
    build: Callable[[], Distribution]
    description: str


TOY_SETS: dict[str, ToySet] = {
    s.name: s
    for s in (
        ToySet("ring8", ring8, "8 Gaussians (std 0.01) on the unit circle: the 2D-ring mode-collapse benchmark"),
        ToySet("grid25", grid25, "25 Gaussians (std 0.05) on a 5×5 grid, spacing 2: the 2D-grid benchmark"),
        ToySet("spiral", spiral, "a spiral of 100 overlapping Gaussians: one thin curved mode"),
        ToySet("two_moons", two_moons, "two interleaved half circles of overlapping Gaussians"),
        ToySet("gaussian2d", lambda: gaussian([0.0, 0.0], 1.0), "the standard 2-D normal: the easiest target"),
        ToySet("bimodal1d", lambda: mixture([-2.0, 2.0], 0.5), "1-D: two Gaussians at ±2 with std 0.5"),
    )
}


def names() -> list[str]:
    """The toy set names ``get`` accepts."""
    return sorted(TOY_SETS)


def get(name: str) -> Distribution:
    """A toy distribution by name (see ``TOY_SETS``), with an error listing the names that exist."""
    try:
        return TOY_SETS[name].build()
    except KeyError:
        raise ValueError(f"toy dataset {name!r} is unknown; use one of {names()}") from None


def _same_device(a: torch.device, b: torch.device) -> bool:
    # "cuda" and "cuda:0" name the same device when the current device is 0.
    if a.type != b.type:
        return False
    if a.index is None or b.index is None:
        return True
    return a.index == b.index
