"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018): GAN training dynamics you can solve on paper.

The generator is a point mass p_θ = δ_θ on the real line, the discriminator is linear, D_ψ(x) = ψ·x,
and the real data sit at 0. The game value is

    L(θ, ψ) = f(ψθ) + f(0),    f(t) = −log(1 + e^{−t})  (the GAN),   f(t) = t  (the WGAN),

which D maximises over ψ and G minimises over θ. Gradient play moves (θ, ψ) along the vector field
v = (−∂L/∂θ, ∂L/∂ψ) = (−ψ f'(ψθ), θ f'(ψθ)). The unique equilibrium is (0, 0), and the Jacobian of v
there is [[0, −f'(0)], [f'(0), 0]]: purely imaginary eigenvalues ±i f'(0), so gradient steps circle
the equilibrium (alternating steps) or spiral away from it (simultaneous steps).

Regularisers change v. With weights as in ``ganlab.penalties`` (∇ₓD_ψ = ψ everywhere):
    R1             D's objective loses r1/2 · ψ²            → Jacobian [[0, −f'(0)], [f'(0), −r1]]
    gradient pen.  D's objective loses gp · (|ψ| − 1)²      → pushes |ψ| to 1, away from equilibrium
    instance noise x ↦ x + σε in both terms, ε ~ N(0, 1)    → the expectation damps ψ
    WGAN clipping  ψ is projected onto [−c, c] after each D step (f(t) = t)
    consensus      v ↦ v − γ ∇(½‖v‖²) (Mescheder et al. 2017)

Everything is computed in float64 with autograd, elementwise, so θ and ψ may be grids of any shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# f and the name of the game it defines; f'(0) is ½ for the GAN and 1 for the WGAN.
OBJECTIVES: dict[str, Callable[[Tensor], Tensor]] = {
    "gan": lambda t: -F.softplus(-t),
    "wgan": lambda t: t,
}
MODES = ("simultaneous", "alternating")
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)  # ∫ g(ε) e^{−ε²/2} dε ≈ Σ wᵢ g(εᵢ)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()  # now E[g(ε)] for ε ~ N(0, 1)


@dataclass(frozen=True)
class DiracGAN:
    """One Dirac-GAN game: the objective plus any regularisers (all off by default).

    ``objective``: "gan" or "wgan"; ``r1``: γ of R1; ``gp``: λ of the gradient penalty; ``noise``: σ of
    instance noise; ``clip``: WGAN's bound c on ψ (None: no clipping); ``consensus``: γ of consensus
    optimisation.
    """

    objective: str = "gan"
    r1: float = 0.0
    gp: float = 0.0
    noise: float = 0.0
    clip: float | None = None
    consensus: float = 0.0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r} is unknown; use one of {sorted(OBJECTIVES)}")
        for name in ("r1", "gp", "noise", "consensus"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be >= 0 (0 switches it off)")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip={self.clip!r} must be a positive bound on ψ, or None for no clipping")

    # ------------------------------------------------------------------ the game
    def value(self, theta: Tensor, psi: Tensor) -> Tensor:
        """L(θ, ψ) = E f(ψ(θ + σε)) + E f(−ψσε), elementwise; with σ = 0 it is f(ψθ) + f(0)."""
        f = OBJECTIVES[self.objective]
        if self.noise == 0:
            return f(psi * theta) + f(torch.zeros_like(theta))
        eps = torch.as_tensor(self.noise * _NODES, dtype=theta.dtype)
        w = torch.as_tensor(_WEIGHTS, dtype=theta.dtype)
        fake = f(psi[..., None] * (theta[..., None] + eps))  # (..., nodes)
        real = f(-psi[..., None] * eps)
        return ((fake + real) * w).sum(-1)

    def penalty(self, psi: Tensor) -> Tensor:
        """What D subtracts from its objective: r1/2 · ψ² + gp · (|ψ| − 1)²."""
        return 0.5 * self.r1 * psi.pow(2) + self.gp * (psi.abs() - 1.0).pow(2)

    def _field(self, theta: Tensor, psi: Tensor) -> tuple[Tensor, Tensor]:
        """(v_θ, v_ψ) as tensors kept in the graph (needed for consensus and for the Jacobian)."""
        value = self.value(theta, psi)
        (d_theta,) = torch.autograd.grad(value.sum(), theta, create_graph=True)
        (d_psi,) = torch.autograd.grad((value - self.penalty(psi)).sum(), psi, create_graph=True)
        v_theta, v_psi = -d_theta, d_psi
        if self.consensus > 0:
            half_sq = 0.5 * (v_theta.pow(2) + v_psi.pow(2))
            g_theta, g_psi = torch.autograd.grad(half_sq.sum(), (theta, psi), create_graph=True)
            v_theta, v_psi = v_theta - self.consensus * g_theta, v_psi - self.consensus * g_psi
        return v_theta, v_psi

    def vector_field(self, theta: np.ndarray | float, psi: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """The direction gradient play moves (θ, ψ): arrays shaped like the (broadcast) inputs."""
        th, ps = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(psi, dtype=float))
        th_t = torch.tensor(th, dtype=torch.float64, requires_grad=True)
        ps_t = torch.tensor(ps, dtype=torch.float64, requires_grad=True)
        v_theta, v_psi = self._field(th_t, ps_t)
        return v_theta.detach().numpy(), v_psi.detach().numpy()

    def jacobian(self, theta: float = 0.0, psi: float = 0.0) -> np.ndarray:
        """∂v/∂(θ, ψ) at a point, shape (2, 2); rows are (v_θ, v_ψ), columns (θ, ψ)."""
        def v(point: Tensor) -> Tensor:
            return torch.stack(self._field(point[0], point[1]))

        point = torch.tensor([theta, psi], dtype=torch.float64, requires_grad=True)
        return torch.autograd.functional.jacobian(v, point).numpy()

    def eigenvalues(self, theta: float = 0.0, psi: float = 0.0) -> np.ndarray:
        """Eigenvalues of the Jacobian (complex, shape (2,)): real parts < 0 mean gradient flow converges."""
        return np.linalg.eigvals(self.jacobian(theta, psi))

    # ------------------------------------------------------------------ gradient play
    def _clip(self, psi: float) -> float:
        return psi if self.clip is None else float(np.clip(psi, -self.clip, self.clip))

    def trajectory(self, start: tuple[float, float] = (1.0, 1.0), lr: float = 0.2, steps: int = 100,
                   mode: str = "simultaneous", lr_d: float | None = None) -> np.ndarray:
        """Iterates of gradient play from ``start``: an array (steps + 1, 2) of (θ, ψ).

        ``simultaneous``: both players step from the same point. ``alternating``: D steps first, then G
        answers the new ψ (the order of ganlab's Trainer). ``lr`` is G's step size, ``lr_d`` D's
        (default ``lr``; a different one is the two-time-scale rule of Heusel et al. 2017).
        """
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is unknown; use one of {MODES}")
        if steps < 0 or not lr > 0:
            raise ValueError(f"need steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
        lr_d = lr if lr_d is None else lr_d
        theta, psi = map(float, start)
        path = [(theta, psi)]
        for _ in range(steps):
            v_theta, v_psi = self.vector_field(theta, psi)
            if mode == "simultaneous":
                theta, psi = theta + lr * float(v_theta), self._clip(psi + lr_d * float(v_psi))
            else:
                psi = self._clip(psi + lr_d * float(v_psi))
                theta = theta + lr * float(self.vector_field(theta, psi)[0])
            path.append((theta, psi))
        return np.array(path)


def distance_to_equilibrium(path: np.ndarray) -> np.ndarray:
    """‖(θ, ψ)‖ along a trajectory (steps + 1,): growing means spiralling out, shrinking converging."""
    return np.linalg.norm(np.asarray(path), axis=1)


def critical_r1(objective: str = "gan") -> float:
    """The R1 weight at which the equilibrium's eigenvalues turn from complex to real: γ = 2 f'(0).

    From the characteristic polynomial λ² + γλ + f'(0)² of [[0, −f'(0)], [f'(0), −γ]].
    """
    slope = DiracGAN(objective).jacobian()[1, 0]  # f'(0)
    return 2.0 * float(slope)


def check_critical_r1(answer: float | None, objective: str = "gan") -> bool:
    """Exercise checker: is ``answer`` the smallest R1 weight for which the Dirac-GAN stops spiralling?

    ``None`` (not answered yet) prints a hint instead of failing, so a notebook runs with it open.
    """
    truth = critical_r1(objective)
    if answer is None:
        print("Not answered yet. Hint: write the Jacobian with R1 weight γ, then ask when its characteristic "
              "polynomial has a double root.")
        return False
    if abs(answer - truth) <= 1e-3 * max(1.0, truth):
        print(f"Right: with γ = {truth:g} the eigenvalues −γ/2 ± √(γ²/4 − f'(0)²) meet on the real axis.")
        return True
    kind = "still complex (the iterates still circle)" if answer < truth else "already real"
    print(f"Not quite: at γ = {answer:g} the eigenvalues are {kind}. Solve γ²/4 = f'(0)² with f'(0) = "
          f"{truth / 2:g}.")
    return False
