"""The earth mover's distance W₁ and the critics that estimate it (notebook 06).

Kantorovich–Rubinstein duality turns the transport problem into a search over 1-Lipschitz functions:

    W₁(P, Q) = inf_{γ ∈ Π(P, Q)} E_{(x, y) ~ γ} ‖x − y‖ = sup_{‖f‖_L ≤ 1} E_P[f] − E_Q[f].

A critic network trained to maximise E_P[f] − E_Q[f] while some device keeps it (about) 1-Lipschitz gives
an estimate from below. ``LIPSCHITZ`` names the devices — weight clipping (Arjovsky et al. 2017), the
gradient penalty (Gulrajani et al. 2017), its one-sided form (Petzka et al. 2018), spectral normalisation
(Miyato et al. 2018) — each with the paper's training recipe as ``GANConfig`` fields, so the Trainer, the
notebook and the widget all run the same thing. ``w1_1d`` gives the exact value in 1-D to check against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .config import GANConfig
from .losses import get_objective
from .nets import ToyDiscriminator, apply_spectral_norm
from .penalties import input_gradients, penalty_term, weight_clip
from .toy import Distribution, Mixture


# ---------------------------------------------------------------------- exact W₁ in 1-D
def w1_1d(p: Distribution, q: Distribution, points: int = 200_001, tail: float = 10.0) -> float:
    """W₁(p, q) of two 1-D distributions: ``scipy.stats.wasserstein_distance`` on a fine grid weighted by
    the exact densities, i.e. ∫|F_p − F_q| dx with the CDFs of the discretised densities.

    The grid spans ``tail`` stds beyond every mode; its error is of the order of the grid spacing times
    the mass that moves, about 1e-5 relative for the notebook's cases.
    """
    from scipy.stats import wasserstein_distance

    for name, d in (("p", p), ("q", q)):
        if d.dim != 1:
            raise ValueError(f"w1_1d compares 1-D distributions; {name} is {d.dim}-D (use a critic in 2-D)")
    low = min(float(d.bounds(tail)[0][0]) for d in (p, q))
    high = max(float(d.bounds(tail)[1][0]) for d in (p, q))
    x = torch.linspace(low, high, points, dtype=torch.float64)[:, None]
    grid = x[:, 0].numpy()
    return float(wasserstein_distance(grid, grid, p.prob(x).numpy(), q.prob(x).numpy()))


def optimal_critic_1d(p: Distribution, q: Distribution, x: Tensor) -> Tensor:
    """The optimal 1-D critic on a fine sorted grid x (N, 1): f*(x) = ∫ sign(F_Q − F_P), zero at x[0].

    Integrating by parts, E_P f − E_Q f = ∫ f′ (F_Q − F_P) dt, which f′ = sign(F_Q − F_P) maximises among
    slopes in [−1, 1], reaching ∫ |F_Q − F_P| = W₁. CDFs come from the trapezoid rule on the grid. (N,) float64.
    """
    t = x[:, 0].double()

    def integral(values: Tensor) -> Tensor:  # cumulative trapezoid from t[0], (N,)
        steps = 0.5 * (values[1:] + values[:-1]) * torch.diff(t)
        return torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(steps, 0)])

    return integral(torch.sign(integral(q.prob(t[:, None])) - integral(p.prob(t[:, None]))))


# ---------------------------------------------------------------------- recipes
@dataclass(frozen=True)
class Recipe:
    """An objective with its way of taming D, and the training recipe of the paper that introduced it.

    ``strength`` names what the one tunable number means ("c" the clipping bound, "λ" a penalty weight;
    None: nothing to set); ``fields`` are GANConfig fields (loss, optimiser, learning rates, n_critic)
    that the strength is merged into. ``lipschitz``: the recipe bounds a Wasserstein-type critic's slope.
    """

    name: str
    description: str
    fields: dict[str, Any]
    strength: str | None = None
    default: float | None = None
    bounds: tuple[float, float] | None = None  # a sensible slider range for the strength
    lipschitz: bool = True

    def config(self, strength: float | None = None, **overrides: Any) -> dict[str, Any]:
        """GANConfig fields for this recipe at ``strength`` (default: the paper's), plus ``overrides``."""
        value = self.default if strength is None else float(strength)
        fields = {"penalty": "none", "clip": None, "spectral_norm": False, **self.fields}
        if self.strength == "c":
            fields["clip"] = value
        elif self.strength == "λ":
            fields["penalty_weight"] = value
        return {**fields, **overrides}


# Every recipe takes n_critic = 5 D steps per G step, so a budget of G steps is the same work for each.
_ADAM_0_09 = {"optimizer": "adam", "lr_d": 1e-4, "lr_g": 1e-4, "betas": (0.0, 0.9), "n_critic": 5, "real_label": 1.0}

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("clip", "WGAN: clamp every critic weight into [−c, c] after each step (Arjovsky et al. 2017)",
               {"loss": "wasserstein", "optimizer": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5, "n_critic": 5,
                "real_label": 1.0}, "c", 0.01, (1e-3, 1.0)),
        Recipe("gp", "WGAN-GP: λ·E(‖∇f(x̂)‖ − 1)² at interpolates (Gulrajani et al. 2017)",
               {**_ADAM_0_09, "loss": "wasserstein", "penalty": "gp"}, "λ", 10.0, (0.01, 1000.0)),
        Recipe("lp", "WGAN-LP: the one-sided λ·E max(0, ‖∇f(x̂)‖ − 1)² (Petzka et al. 2018)",
               {**_ADAM_0_09, "loss": "wasserstein", "penalty": "lp"}, "λ", 10.0, (0.01, 1000.0)),
        Recipe("sn", "spectral normalisation of every critic layer, with the hinge loss (Miyato et al. 2018)",
               {**_ADAM_0_09, "loss": "hinge", "spectral_norm": True}),
        Recipe("none", "the Wasserstein critic with no constraint at all: nothing bounds its values",
               {**_ADAM_0_09, "loss": "wasserstein"}),
        Recipe("lsgan", "LSGAN: least-squares targets 0 and 1, no sigmoid (Mao et al. 2017)",
               {**_ADAM_0_09, "loss": "least_squares", "betas": (0.5, 0.999)}, lipschitz=False),
        Recipe("gan", "the standard GAN with the non-saturating G loss (Goodfellow et al. 2014)",
               {**_ADAM_0_09, "loss": "non_saturating", "betas": (0.5, 0.999)}, lipschitz=False),
    )
}
LIPSCHITZ = [name for name, r in RECIPES.items() if r.lipschitz]


def get_recipe(name: str) -> Recipe:
    """Look up a recipe by name, with an error listing the names that exist."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"recipe {name!r} is unknown; use one of {sorted(RECIPES)}") from None


# The nets each data kind is compared with: no BatchNorm and no dropout in D, so penalties apply as written.
NETS: dict[str, dict[str, Any]] = {
    "toy": {"model": "toy", "image_shape": (2,), "latent_dim": 16, "hidden_dim": 128, "batch_size": 256},
    "image": {"model": "mlp", "image_shape": (1, 28, 28), "latent_dim": 64, "hidden_dim": 64, "batch_size": 64,
              "extra": {"dropout": 0.0}},
}


def recipe_config(recipe: str, strength: float | None = None, dataset: str = "ring8", **overrides: Any) -> GANConfig:
    """GANConfig for ``recipe`` (at ``strength``) on ``dataset``: the toy nets on a 2-D toy set (MLPs of
    3 × 128 units, z ∈ ℝ¹⁶), the MLP nets without dropout on an image set; ``overrides`` win."""
    from .data import DATASETS

    nets = NETS["image" if dataset in DATASETS else "toy"]
    return GANConfig(**{**nets, "dataset": dataset, **get_recipe(recipe).config(strength), **overrides})


# ---------------------------------------------------------------------- a critic against two fixed distributions
@dataclass
class CriticFit:
    """A trained critic, its per-step batch estimates of E_P f − E_Q f (steps,), and a fresh-sample estimate."""

    critic: nn.Module
    trace: Tensor
    estimate: float
    method: str
    extras: dict[str, Any] = field(default_factory=dict)


def critic_gap(critic: Callable[[Tensor], Tensor], p: Distribution, q: Distribution, n: int = 100_000,
               generator: torch.Generator | None = None, device: torch.device | str | None = None) -> float:
    """E_P[f] − E_Q[f] on n fresh samples from each side: the dual estimate of W₁ for a 1-Lipschitz f."""
    rng = generator if generator is not None else torch.Generator(device=device or "cpu").manual_seed(1)
    with torch.no_grad():
        return float(critic(p.sample(n, generator=rng)).mean() - critic(q.sample(n, generator=rng)).mean())


def make_critic(dim: int = 1, hidden_dim: int = 32, layers: int = 3, spectral_norm: bool = False) -> nn.Module:
    """The toy critic (N, dim) → (N,): an MLP with LeakyReLU 0.2 and no BatchNorm (so gradient penalties apply).

    The output layer starts at zero, f ≡ 0, so no sign of slope is favoured at the start: in 1-D a critic
    whose slope starts with the wrong sign must pass through slope 0 to turn round, which a two-sided
    gradient penalty charges for. (Spectral normalisation cannot start from a zero matrix; it keeps the default.)
    """
    critic = ToyDiscriminator(hidden_dim, dim, layers)
    if not spectral_norm:
        nn.init.zeros_(critic.net[-1].weight)
        nn.init.zeros_(critic.net[-1].bias)
    return apply_spectral_norm(critic) if spectral_norm else critic


def fit_critic(p: Distribution, q: Distribution, method: str = "lp", strength: float | None = None, *,
               critic: nn.Module | None = None, steps: int = 400, batch_size: int = 512, lr: float = 1e-2,
               betas: tuple[float, float] = (0.5, 0.9), seed: int = 0, progress: bool = False) -> CriticFit:
    """Train a critic to maximise E_P f − E_Q f under one Lipschitz device, against fixed P and Q.

    Every step draws fresh batches (batch_size, d) from both; ``method`` is one of ``LIPSCHITZ`` and
    ``strength`` its c or λ. Adam with a cosine-decayed rate whatever the method (the recipes' optimisers are
    for the full game), so the methods differ only in how they bound the slope. Runs on the CPU. The defaults
    (400 steps of 512, lr 1e-2) bring the 1-D cases of notebook 06 to about 1.5 % of W₁ at λ = 100.
    """
    from tqdm.auto import tqdm

    if method not in LIPSCHITZ:
        raise ValueError(f"method={method!r} does not bound a critic's slope; use one of {LIPSCHITZ}")
    fields = get_recipe(method).config(strength)
    torch.manual_seed(seed)
    if critic is None:
        critic = make_critic(p.dim, spectral_norm=fields["spectral_norm"])
    rng = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    # Cosine decay to zero: the last steps average out the batch noise instead of jittering on it.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    wasserstein = get_objective("wasserstein").d_loss  # E_Q f − E_P f: a W₁ critic whatever the recipe's loss
    trace: list[Tensor] = []
    for _ in tqdm(range(steps), disable=not progress, desc=f"critic ({method})", unit="step"):
        real, fake = p.sample(batch_size, generator=rng), q.sample(batch_size, generator=rng)
        loss = wasserstein(critic(real), critic(fake))
        penalty = penalty_term(fields["penalty"], critic, real, fake, fields.get("penalty_weight", 0.0), rng)
        opt.zero_grad(set_to_none=True)
        (loss if penalty is None else loss + penalty).backward()
        opt.step()
        schedule.step()
        if fields["clip"] is not None:
            weight_clip(critic, fields["clip"])
        trace.append(-loss.detach())
    critic.eval()
    return CriticFit(critic, torch.stack(trace), critic_gap(critic, p, q), method)


def slopes(critic: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """‖∇ₓ f(x)‖ at each point of x (N, ...) → (N,): how close to 1-Lipschitz the critic is there."""
    return input_gradients(critic, x).detach().norm(dim=1)


def w1_assignment(a: Tensor, b: Tensor) -> float:
    """Exact W₁ between two empirical measures of n equally weighted points each, a and b (n, d).

    With equal weights an optimal plan is a permutation (Birkhoff), so W₁ is the cheapest one-to-one
    matching under Euclidean cost: ``scipy.optimize.linear_sum_assignment``, O(n³) (n = 512 takes ~0.1 s).
    """
    from scipy.optimize import linear_sum_assignment

    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"need two point sets of the same shape (n, d), got {tuple(a.shape)} and {tuple(b.shape)}")
    cost = torch.cdist(a.detach().double().cpu(), b.detach().double().cpu()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def field_on_grid(fn: Callable[[Tensor], Tensor], box: tuple[float, float, float, float], resolution: int = 80
                  ) -> tuple[Tensor, Tensor, Tensor]:
    """fn on a resolution² grid over box = (xmin, xmax, ymin, ymax): xs (R,), ys (R,), values (R, R) indexed
    [x, y] as ``plots.plot_field_2d`` takes them. fn maps (N, 2) points to (N,) values (a critic's output)."""
    xs = torch.linspace(box[0], box[1], resolution)
    ys = torch.linspace(box[2], box[3], resolution)
    grid = torch.cartesian_prod(xs, ys)  # (R², 2), x slowest
    with torch.no_grad():
        values = fn(grid).reshape(resolution, resolution)
    return xs, ys, values


RING_BOX = (-1.6, 1.6, -1.6, 1.6)  # xmin, xmax, ymin, ymax around ring8


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for the duration, then the mode it had: looking at a critic must not change it (in training
    mode every forward of a spectrally normalised layer takes a power-iteration step)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def critic_map(trainer: Any, box: tuple[float, float, float, float] = RING_BOX, resolution: int = 80
               ) -> tuple[Tensor, Tensor, Tensor]:
    """The trainer's critic (or D's logit) on a grid over ``box``: xs, ys, values (R, R) on the CPU, in eval mode."""
    with evaluating(trainer.discriminator) as critic:
        return field_on_grid(lambda x: critic(x.to(trainer.device)).float().cpu(), box, resolution)


# ---------------------------------------------------------------------- quality during training
@dataclass
class QualityTracker:
    """An ``on_step_end`` callback: every ``every`` steps, ``measure(trainer)`` → dict of numbers, recorded
    with the step. ``records`` is a list of such dicts; ``column(name)`` one of them as an array."""

    measure: Callable[[Any], dict[str, float]]
    every: int = 25
    records: list[dict[str, float]] = field(default_factory=list)

    def __call__(self, trainer: Any) -> None:
        if trainer.step_count % self.every == 0:
            self.records.append({"step": trainer.step_count, **self.measure(trainer)})

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.records], dtype=float)


def ring_quality(dist: Mixture, n: int = 2000, n_w1: int = 512, seed: int = 0) -> Callable[[Any], dict[str, float]]:
    """A measure for ``QualityTracker`` on a ring/grid mixture: the mode metrics of n generated samples
    (``metrics.mode_coverage``) and the exact empirical W₁ between n_w1 of them and n_w1 real samples.

    The samples come from fixed noise and the real points from a fixed seed, drawn from generators of their
    own, so tracking never changes the trainer's random stream.
    """
    from .metrics import mode_coverage

    real = dist.sample(n_w1, generator=torch.Generator().manual_seed(seed + 1))
    noise: dict[str, Tensor] = {}

    def measure(trainer: Any) -> dict[str, float]:
        if "z" not in noise:
            g = torch.Generator(device=trainer.device).manual_seed(seed)
            noise["z"] = torch.randn(n, trainer.cfg.latent_dim, device=trainer.device, generator=g)
        fake = trainer.sample(n, z=noise["z"])
        return {**mode_coverage(fake, dist.modes, dist.std), "w1": w1_assignment(fake[:n_w1], real)}

    return measure


def window_means(values: list[float] | np.ndarray, steps: np.ndarray, width: int) -> np.ndarray:
    """The mean of a per-step history (e.g. d_loss) over the ``width`` steps up to each of ``steps`` (1-based)."""
    v = np.asarray(values, dtype=float)
    return np.array([v[max(0, int(s) - width):int(s)].mean() for s in steps])
