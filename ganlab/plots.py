"""Every figure's look in one place: the seaborn theme, sample grids, training curves.

Functions draw onto an ``ax`` when given one and return the figure or axes they drew on, so notebooks
can compose panels. Colours: real data is always ``REAL``, generated data ``FAKE``.
"""

from __future__ import annotations

from collections.abc import Sequence

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
                window: int = 1, ax: plt.Axes | None = None, logy: bool = False) -> plt.Axes:
    """Several labelled curves on one axis (comparisons between runs)."""
    ax = _ax(ax)
    for name, values in curves.items():
        ax.plot(smooth(values, window), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return ax


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
