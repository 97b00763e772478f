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
                          ax: plt.Axes | None = None, title: str = "", bounded: bool = True) -> plt.Axes:
    """1-D densities p_data, p_g (shaded, left axis) and discriminator outputs D(x) in [0, 1] (right axis).

    ``x`` (N,) or (N, 1); densities and each D (N,). The first discriminator is drawn in ``OPTIMAL`` green
    (meant for D*), the others dashed. ``bounded=False`` draws unbounded critics f(x) instead (WGAN): the
    right axis then scales to them and has no ½ line.
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
    if bounded:
        right.axhline(0.5, color="grey", lw=0.8, ls=":")
        right.set(ylim=(-0.02, 1.02), ylabel="D(x)")
    else:
        right.set(ylabel="f(x)")
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


def plot_modes_2d(samples: Tensor, modes: Tensor, std: float, ax: plt.Axes | None = None, title: str = "",
                  box: float | None = None) -> plt.Axes:
    """Generated samples (N, 2) in ``FAKE`` over the modes (M, 2), each with its 3·std high-quality circle."""
    ax = _ax(ax, (3.2, 3.2))
    x, m = to_numpy(samples), to_numpy(modes)
    ax.scatter(x[:, 0], x[:, 1], s=2, color=FAKE, alpha=0.35, lw=0)
    for cx, cy in m:
        ax.add_patch(plt.Circle((cx, cy), 3 * std, fill=False, color=REAL, lw=0.8))
    ax.scatter(m[:, 0], m[:, 1], s=6, color=REAL, marker="x", lw=0.8)
    half = box if box is not None else 1.35 * float(np.abs(m).max()) + 6 * std
    ax.set(xlim=(-half, half), ylim=(-half, half), title=title, aspect="equal", xticks=[], yticks=[])
    return ax


def plot_mode_samples(samples: dict[tuple[str, str], Tensor], dists: dict[str, object], size: float = 2.4
                      ) -> plt.Figure:
    """A grid of ``plot_modes_2d`` panels: one row per data set, one column per (data set, title) key.

    ``dists`` maps each data set name to a distribution with ``.modes`` (M, 2) and ``.std``.
    """
    names = list(dists)
    cols = max(sum(1 for d, _ in samples if d == name) for name in names)
    fig, axes = plt.subplots(len(names), cols, figsize=(size * cols, size * len(names)), squeeze=False)
    for row, name in enumerate(names):
        keys = [k for k in samples if k[0] == name]
        for col in range(cols):
            ax = axes[row, col]
            if col >= len(keys):
                ax.axis("off")
                continue
            dist = dists[name]
            plot_modes_2d(samples[keys[col]], dist.modes, dist.std, ax=ax, title=keys[col][1])
            ax.title.set_fontsize(8)
    fig.tight_layout()
    return fig


def plot_mode_benchmark(summary: Sequence[dict], published: dict[str, dict[str, tuple[float, float]]],
                        axes: Sequence[plt.Axes] | None = None) -> plt.Figure:
    """Modes captured against % high-quality samples, one panel per data set: our methods as points with
    ±1 std error bars (over seeds), the published rows as hollow diamonds. Top right is best."""
    datasets = list(dict.fromkeys(s["dataset"] for s in summary))
    if axes is None:
        _, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.6), squeeze=False)
        axes = axes[0]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, dataset in zip(axes, datasets):
        for i, s in enumerate(x for x in summary if x["dataset"] == dataset):
            ax.errorbar(s["high_quality_mean"], s["modes_mean"], xerr=s["high_quality_std"], yerr=s["modes_std"],
                        fmt="o", color=colours[i % len(colours)], label=s["label"], capsize=2, ms=5)
        for label, row in published.items():
            if dataset in row:
                modes, quality = row[dataset]
                ax.scatter(quality, modes, marker="D", facecolors="none", edgecolors="black", s=40)
                name = label.split(" (")[0]  # the citation is in the table; the plot keeps the method's name
                ax.annotate(name, (quality, modes), fontsize=7, xytext=(-4, -9), textcoords="offset points",
                            ha="right")
        ax.set(xlabel="high-quality samples (%)", ylabel="modes captured", title=f"{dataset} (◇ published)",
               xlim=(0, 101))
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # ours; diamonds: published
    fig = axes[0].figure
    fig.tight_layout()
    return fig


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


def plot_per_class(values: dict[str, Sequence[float]], classes: Sequence[str], ylabel: str = "", title: str = "",
                   reference: float | None = None, reference_label: str = "chance", ax: plt.Axes | None = None
                   ) -> plt.Axes:
    """Grouped bars of a per-class quantity (K,) for several runs, with an optional dashed reference line."""
    ax = _ax(ax, (10, 3.4))
    k, width = len(classes), 0.8 / max(len(values), 1)
    for i, (name, v) in enumerate(values.items()):
        ax.bar(np.arange(k) + (i - (len(values) - 1) / 2) * width, to_numpy(torch.as_tensor(v)), width, label=name)
    if reference is not None:
        ax.axhline(reference, color="grey", ls="--", lw=1, label=reference_label)
    ax.set_xticks(np.arange(k), classes, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: bars reach every height
    return ax


def plot_tradeoff(curves: dict[str, tuple[Sequence[float], Sequence[float]]], point_labels: Sequence[str],
                  xlabel: str = "", ylabel: str = "", title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Curves through (x, y) points, each point annotated with its label (e.g. the truncation ψ that made it)."""
    ax = _ax(ax, (6, 4.2))
    for name, (xs, ys) in curves.items():
        line = ax.plot(xs, ys, "o-", label=name, ms=4)[0]
        for x, y, text in zip(xs, ys, point_labels):
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color=line.get_color())
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return ax


def plot_contingency(table: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], title: str = "",
                     ax: plt.Axes | None = None) -> plt.Axes:
    """A counts table (rows, cols) as a heatmap of each row's shares, e.g. learned code × true class."""
    ax = _ax(ax, (7, 5))
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="share of the row", fraction=0.046, pad=0.04)
    ax.set_xticks(np.arange(len(col_labels)), col_labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(row_labels)), row_labels, fontsize=8)
    ax.set(title=title)
    ax.grid(False)
    return ax


def plot_metric_grid(x: Sequence[float], results: dict[str, dict[str, Sequence[float]]], metrics: Sequence[str],
                     xlabel: str = "strength", floor: dict[str, float] | None = None, logx: bool = False,
                     ncols: int = 4, size: float = 3.0) -> plt.Figure:
    """One panel per metric, one line per run: ``results[run][metric]`` against ``x``.

    ``results[run][metric + "_std"]``, when present, is drawn as a ±1 std band; ``floor[metric]`` as a
    dashed grey line (e.g. the real-vs-real value).
    """
    rows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(size * ncols, 0.85 * size * rows), squeeze=False)
    xs = np.asarray(x, dtype=float)
    for ax, metric in zip(axes.flat, metrics):
        for run, values in results.items():
            y = np.asarray(values[metric], dtype=float)
            line = ax.plot(xs, y, "o-", ms=3, label=run)[0]
            if metric + "_std" in values:
                spread = np.asarray(values[metric + "_std"], dtype=float)
                ax.fill_between(xs, y - spread, y + spread, color=line.get_color(), alpha=0.15, lw=0)
        if floor is not None and metric in floor:
            ax.axhline(floor[metric], ls="--", color="grey", lw=1)
        ax.set(title=metric, xlabel=xlabel)
        if logx:  # ticks at the measured x only: default log ticks collide on a short axis
            ax.set_xscale("log")
            ax.set_xticks(xs, [f"{v:g}" for v in xs], minor=False)
            ax.set_xticks([], minor=True)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_critic_2d(xs: Tensor, ys: Tensor, values: Tensor, fake: Tensor | None = None, modes: Tensor | None = None,
                   ax: plt.Axes | None = None, title: str = "", level: float | None = None,
                   label: str = "critic f(x)") -> plt.Axes:
    """A critic's (or D's) value map (len(xs), len(ys)) as a heatmap, with generated points (N, 2) in ``FAKE``,
    the data's modes (M, 2) as ``REAL`` crosses, and the contour f = ``level`` when given (a decision boundary)."""
    ax = _ax(ax, (4.6, 4))
    v = to_numpy(values)
    low, high = np.percentile(v, [1, 99])
    extent = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
    image = ax.imshow(v.T, origin="lower", extent=extent, vmin=low, vmax=high, cmap="viridis", aspect="equal")
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046, pad=0.04)
    if level is not None and v.min() < level < v.max():
        ax.contour(to_numpy(xs), to_numpy(ys), v.T, levels=[level], colors="white", linewidths=1.5,
                   linestyles="--")
    if fake is not None:
        f = to_numpy(fake)
        ax.scatter(f[:, 0], f[:, 1], s=3, color=FAKE, alpha=0.5, lw=0)
    if modes is not None:
        m = to_numpy(modes)
        ax.scatter(m[:, 0], m[:, 1], s=30, color="white", marker="x", lw=1.5)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", xlim=extent[:2], ylim=extent[2:])
    ax.grid(False)
    return ax


def plot_weight_histogram(weights: dict[str, Tensor], clip: float | None = None, ax: plt.Axes | None = None,
                          bins: int = 60, title: str = "Critic weights", xlabel: str = "weight value") -> plt.Axes:
    """Histograms of flattened parameter values, one per critic, with the clipping bounds ±``clip`` marked."""
    ax = _ax(ax, (6, 3.6))
    for name, w in weights.items():
        ax.hist(to_numpy(w).ravel(), bins=bins, histtype="stepfilled", alpha=0.45, label=name, density=True)
    if clip is not None:
        for x in (-clip, clip):
            ax.axvline(x, color="black", ls="--", lw=1)
    ax.set(xlabel=xlabel, ylabel="density", title=title, yscale="log")
    ax.legend(fontsize=8)
    return ax


def plot_signal_vs_quality(steps: Sequence[float], signal: Sequence[float], quality: Sequence[float],
                           signal_label: str, quality_label: str, ax: plt.Axes | None = None, title: str = ""
                           ) -> plt.Axes:
    """A training signal (left axis, ``REAL`` blue) and a quality measure (right axis, ``FAKE`` red) against
    step: do they move together?"""
    ax = _ax(ax, (5.5, 3.6))
    ax.plot(to_numpy(np.asarray(steps)), signal, "o-", ms=3, color=REAL, label=signal_label)
    ax.set(xlabel="step", title=title)
    ax.set_ylabel(signal_label, color=REAL)
    right = ax.twinx()
    right.grid(False)
    right.plot(to_numpy(np.asarray(steps)), quality, "s--", ms=3, color=FAKE, label=quality_label)
    right.set_ylabel(quality_label, color=FAKE)
    return ax


def plot_mode_occupancy(shares: Tensor | np.ndarray, steps: Sequence[int], ax: plt.Axes | None = None,
                        title: str = "Where the samples are") -> plt.Axes:
    """Heatmap of the share of samples near each mode (steps, modes) over training. A collapsed generator is
    one bright cell per row; a hopping one moves that cell from row to row."""
    ax = _ax(ax, (4.2, 4))
    values = to_numpy(torch.as_tensor(shares))
    image = ax.imshow(values, aspect="auto", cmap="magma", vmin=0, vmax=1, origin="upper",
                      extent=(-0.5, values.shape[1] - 0.5, len(steps) - 0.5, -0.5))
    ax.set_yticks(np.arange(len(steps)), [str(s) for s in steps], fontsize=8)
    ax.set_xticks(np.arange(values.shape[1]))
    ax.set(xlabel="mode", ylabel="step", title=title)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label="share of samples", fraction=0.046, pad=0.04)
    return ax
