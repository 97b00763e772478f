"""Every figure's look in one place: the seaborn theme, sample grids, training curves.

Functions draw onto an ``ax`` when given one and return the figure or axes they drew on, so notebooks
can compose panels. Colours: real data is always ``REAL``, generated data ``FAKE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

REAL, FAKE, OPTIMAL = "#1f77b4", "#d62728", "#2ca02c"


def set_style() -> None:
    """The course's seaborn theme; called by ``ganlab.setup``."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="deep")
    plt.rcParams.update({"figure.dpi": 90, "axes.titleweight": "bold", "figure.autolayout": False})


def _ax(ax: plt.Axes | None, figsize: tuple[float, float] = (6, 4)) -> plt.Axes:
    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def image_grid(images: Tensor, nrow: int = 8) -> np.ndarray:
    """(N, C, H, W) images in [-1, 1] → one (H', W', C) array in [0, 1] via torchvision's make_grid."""
    from torchvision.utils import make_grid

    grid = make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1)
    return grid.permute(1, 2, 0).numpy()


def show_grid(images: Tensor, title: str = "", nrow: int = 8, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a sample grid of (N, C, H, W) images in [-1, 1]."""
    ax = _ax(ax, (5, 5))
    ax.imshow(image_grid(images, nrow), cmap="gray" if images.shape[1] == 1 else None)
    ax.set_title(title)
    ax.axis("off")
    return ax


def show_grids(grids: Sequence[Tensor], titles: Sequence[str], nrow: int = 8, size: float = 3.0) -> plt.Figure:
    """Several sample grids side by side (e.g. the same fixed noise over training)."""
    fig, axes = plt.subplots(1, len(grids), figsize=(size * len(grids), size), squeeze=False)
    for ax, images, title in zip(axes[0], grids, titles):
        show_grid(images, title, nrow, ax)
    fig.tight_layout()
    return fig


def smooth(values: Sequence[float], window: int = 25) -> np.ndarray:
    """Moving average with a window shrunk at the start, so curves keep their length."""
    x = np.asarray(values, dtype=float)
    if window <= 1 or len(x) == 0:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(history: dict[str, Sequence[float]], window: int = 25, axes: Sequence[plt.Axes] | None = None,
                 label: str = "") -> plt.Figure:
    """Two panels: D and G losses, and D(real) / D(fake) with the equilibrium value ½."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    fig = axes[0].figure
    prefix = f"{label} " if label else ""
    axes[0].plot(smooth(history["d_loss"], window), label=f"{prefix}D loss", color=REAL)
    axes[0].plot(smooth(history["g_loss"], window), label=f"{prefix}G loss", color=FAKE)
    axes[0].set(xlabel="step", ylabel="loss", title="Losses")
    axes[1].plot(smooth(history["d_real"], window), label=f"{prefix}D(real)", color=REAL)
    axes[1].plot(smooth(history["d_fake"], window), label=f"{prefix}D(fake)", color=FAKE)
    axes[1].axhline(0.5, ls="--", color="grey", lw=1, label="½ (equilibrium)")
    axes[1].set(xlabel="step", ylabel="mean D output", title="Discriminator outputs", ylim=(0, 1))
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict[str, Sequence[float]], xlabel: str = "step", ylabel: str = "", title: str = "",
                window: int = 1, ax: plt.Axes | None = None, logy: bool = False,
                x: Sequence[float] | None = None) -> plt.Axes:
    """Several labelled curves on one axis (comparisons between runs); against ``x`` if given, else the index."""
    ax = _ax(ax)
    for name, values in curves.items():
        y = smooth(values, window)
        ax.plot(np.arange(len(y)) if x is None else to_numpy(x), y, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return ax


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def plot_discriminator_1d(x: Tensor, p_data: Tensor, p_g: Tensor, discriminators: dict[str, Tensor],
                          ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """1-D densities p_data, p_g (shaded, left axis) and discriminator outputs D(x) in [0, 1] (right axis).

    ``x`` (N,) or (N, 1); densities and each D (N,). The first discriminator is drawn in ``OPTIMAL`` green
    (meant for D*), the others dashed.
    """
    ax = _ax(ax, (7, 3.6))
    xs = to_numpy(x).reshape(-1)
    for density, colour, label in ((p_data, REAL, r"$p_\mathrm{data}$"), (p_g, FAKE, "$p_g$")):
        ax.fill_between(xs, to_numpy(density), color=colour, alpha=0.25, lw=0)
        ax.plot(xs, to_numpy(density), color=colour, lw=1.5, label=label)
    ax.set(xlabel="x", ylabel="density", title=title)
    ax.set_ylim(bottom=0)
    right = ax.twinx()
    right.grid(False)
    for i, (label, values) in enumerate(discriminators.items()):
        right.plot(xs, to_numpy(values), color=OPTIMAL if i == 0 else "black", lw=2 if i == 0 else 1.5,
                   ls="-" if i == 0 else "--", label=label)
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    right.set(ylim=(-0.02, 1.02), ylabel="D(x)")
    lines = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="upper left")
    return ax


def plot_field_2d(xs: Tensor, ys: Tensor, field: Tensor, ax: plt.Axes | None = None, title: str = "",
                  vmin: float = 0.0, vmax: float = 1.0, cmap: str = "RdBu", label: str = "D(x)",
                  real: Tensor | None = None, fake: Tensor | None = None) -> plt.Axes:
    """A heatmap of ``field`` (len(xs), len(ys)) on the grid xs × ys, with optional density contours of the
    real and fake distributions (same shape) in ``REAL`` and ``FAKE`` colours. The default map draws
    D = 1 ("real") blue and D = 0 ("fake") red, like the course's colours."""
    ax = _ax(ax, (4.6, 4))
    extent = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
    image = ax.imshow(to_numpy(field).T, origin="lower", extent=extent, vmin=vmin, vmax=vmax, cmap=cmap,
                      aspect="equal")
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046, pad=0.04)
    for density, colour in ((real, REAL), (fake, FAKE)):
        if density is not None:
            d = to_numpy(density).T
            ax.contour(to_numpy(xs), to_numpy(ys), d, levels=d.max() * np.array([0.1, 0.5]), colors=colour,
                       linewidths=1)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    return ax


def plot_vector_field(field: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                      trajectories: dict[str, np.ndarray] | None = None, lim: float = 2.0, n: int = 21,
                      ax: plt.Axes | None = None, title: str = "", labels: tuple[str, str] = (r"$\theta$", r"$\psi$"),
                      ) -> plt.Axes:
    """Arrows of a 2-D vector field ``field(X, Y) -> (U, V)`` on an n × n grid over [−lim, lim]², with
    trajectories (steps, 2) drawn over it (start marked by a dot, equilibrium at the origin by a star)."""
    ax = _ax(ax, (4.2, 4.2))
    grid = np.linspace(-lim, lim, n)
    xs, ys = np.meshgrid(grid, grid)
    u, v = field(xs, ys)
    speed = np.hypot(u, v)
    # Unit arrows show the direction everywhere; the speed is near 0 close to the equilibrium.
    ax.quiver(xs, ys, u / (speed + 1e-12), v / (speed + 1e-12), color="0.55", angles="xy", pivot="mid",
              scale=1.2 * n, width=0.005)
    for (name, path), colour in zip((trajectories or {}).items(), (FAKE, REAL, OPTIMAL, "darkorange", "purple")):
        ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.5, label=name)
        ax.plot(*path[0], "o", color=colour, ms=4)
    ax.plot(0, 0, "*", color="black", ms=10)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel=labels[0], ylabel=labels[1], title=title)
    if trajectories:
        ax.legend(fontsize=8, loc="upper right")
    return ax
