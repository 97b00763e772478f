"""Interactive views for the theory notebooks (02 optimal discriminator, 03 Jensen–Shannon divergence).

Each widget is a slider panel around a plain drawing function, its twin, which the notebooks also call
directly so their checks never depend on anyone moving a slider:

    show_optimal_discriminator(p_data, mean, std)      ↔ optimal_discriminator_explorer(p_data)
    show_criterion(p_data, family, thetas, theta)      ↔ criterion_explorer(p_data, family, thetas)

Everything is 1-D quadrature on exact densities (``ganlab.theory``), a few milliseconds per redraw.
ipywidgets is imported inside the widget builders only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import plots, theory, toy
from ..toy import Distribution

Family = Callable[[float], Distribution]  # θ ↦ a generator distribution p_θ


def _grid(*dists: Distribution, n: int = 801) -> torch.Tensor:
    """(n, 1) float64 points spanning every distribution's mass (±4 stds), for 1-D plots."""
    low = min(float(d.bounds(4.0)[0][0]) for d in dists)
    high = max(float(d.bounds(4.0)[1][0]) for d in dists)
    return torch.linspace(low, high, n, dtype=torch.float64)[:, None]


def show_optimal_discriminator(p_data: Distribution, mean: float, std: float, ax: plt.Axes | None = None,
                               x: torch.Tensor | None = None) -> float:
    """Draw p_data, p_g = N(mean, std²) and D* on one axis; returns C(G) = V(D*, G) (nats).

    ``x`` (N, 1): the points to draw at (default: spanning both distributions).
    """
    if p_data.dim != 1:
        raise ValueError(f"this view draws 1-D distributions; p_data is {p_data.dim}-D")
    p_g = toy.gaussian(mean, std)
    x = _grid(p_data, p_g) if x is None else x
    value = theory.criterion(p_data, p_g)
    plots.plot_discriminator_1d(x, p_data.prob(x), p_g.prob(x), {"D*": theory.optimal_discriminator(p_data, p_g)(x)},
                                ax=ax, title=f"p_g = N({mean:.2f}, {std:.2f}²)\nV(D*, G) = {value:.4f}  "
                                             f"(floor −log 4 = {-np.log(4):.4f})")
    return value


def optimal_discriminator_explorer(p_data: Distribution, mean: float = 0.0, std: float = 1.0) -> Any:
    """Sliders for the generator's mean and spread; D* and V(D*, G) redraw as they move."""
    import ipywidgets as widgets

    low, high = (float(b[0]) for b in p_data.bounds(4.0))
    sliders = {
        "mean": widgets.FloatSlider(value=mean, min=low, max=high, step=0.05, description="G mean"),
        "std": widgets.FloatSlider(value=std, min=0.1, max=3.0, step=0.05, description="G spread"),
    }
    x = _grid(p_data, toy.gaussian(low, 3.0), toy.gaussian(high, 3.0))  # fixed axes while sliding
    return _slider_panel(sliders, lambda mean, std: show_optimal_discriminator(p_data, mean, std, x=x))


def criterion_curve(p_data: Distribution, family: Family, thetas: np.ndarray) -> np.ndarray:
    """C(p_θ) = V(D*, p_θ) by quadrature for each θ in ``thetas`` (T,) → (T,)."""
    return np.array([theory.criterion(p_data, family(float(t))) for t in thetas])


def show_criterion(p_data: Distribution, family: Family, thetas: np.ndarray, theta: float,
                   curve: np.ndarray | None = None, axes: tuple[plt.Axes, plt.Axes] | None = None) -> float:
    """Two panels: p_data and p_θ, and the curve C(θ) with the current θ marked; returns C(θ).

    ``curve``: ``criterion_curve(p_data, family, thetas)`` if already computed.
    """
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(11, 3.6))[1]
    curve = criterion_curve(p_data, family, thetas) if curve is None else curve
    p_theta = family(theta)
    value = theory.criterion(p_data, p_theta)
    x = _grid(p_data, family(float(thetas[0])), family(float(thetas[-1])))
    plots.plot_discriminator_1d(x, p_data.prob(x), p_theta.prob(x),
                                {"D*": theory.optimal_discriminator(p_data, p_theta)(x)}, ax=axes[0],
                                title=f"θ = {theta:.2f}")
    plots.plot_curves({"C(G) = V(D*, G)": curve}, x=thetas, xlabel="θ", ylabel="nats", ax=axes[1],
                      title=f"C(θ) = {value:.4f}")
    axes[1].axhline(-np.log(4), color="grey", ls="--", lw=1, label="−log 4")
    axes[1].plot([theta], [value], "o", color=plots.FAKE, label="current G")
    axes[1].legend(fontsize=8)
    axes[0].figure.tight_layout()
    return value


def criterion_explorer(p_data: Distribution, family: Family, thetas: np.ndarray) -> Any:
    """A θ slider over a family of generators: the densities, D* and the point on C(θ) follow it."""
    import ipywidgets as widgets

    curve = criterion_curve(p_data, family, thetas)  # computed once; the slider only moves the marker
    step = float(thetas[1] - thetas[0])
    slider = widgets.FloatSlider(value=float(thetas[len(thetas) // 2]), min=float(thetas[0]),
                                 max=float(thetas[-1]), step=step, description="θ")
    return _slider_panel({"theta": slider}, lambda theta: show_criterion(p_data, family, thetas, theta, curve))


def _slider_panel(sliders: dict[str, Any], draw: Callable[..., float]) -> Any:
    """Sliders above an output area; every change redraws the figure ``draw(**values)`` makes."""
    import ipywidgets as widgets
    from IPython.display import display

    out = widgets.Output()

    def redraw(_: object = None) -> None:
        with out:
            out.clear_output(wait=True)
            draw(**{name: s.value for name, s in sliders.items()})
            fig = plt.gcf()
            display(fig)
            plt.close(fig)

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(sliders.values())), out])
