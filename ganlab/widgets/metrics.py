"""Notebook 09's widget: pick a corruption and its strength, and every metric updates.

    show_corruption(kind, strength, model, pool, real_feats)   ↔   corruption_explorer(model, pool, real_feats)

The twin corrupts ``n`` real images (``ganlab.metrics.corrupt``), embeds them with the feature extractor
and draws the damaged samples beside all the metrics; the notebook calls it directly, so its checks
never depend on a slider. A redraw costs about a second for n = 1000 on a CPU, so the slider only
fires on release. ipywidgets is imported inside the widget builder only.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from torch import Tensor, nn

from .. import plots
from ..data import ImageData
from ..metrics import CORRUPTIONS, corruption_metrics
from .theory import _slider_panel

BOUNDED = ("precision", "recall", "density", "coverage")  # drawn as bars on [0, 1.2]


def show_corruption(kind: str, strength: float, model: nn.Module, pool: ImageData, real_feats: Tensor,
                    n: int = 1000, seed: int = 0, baseline: dict[str, float] | None = None,
                    axes: tuple[plt.Axes, plt.Axes] | None = None, **report_options: Any) -> dict[str, float]:
    """Draw 32 corrupted images and the metrics of all ``n`` against ``real_feats``; returns the metrics.

    ``baseline``: metrics of an undamaged draw, shown as outlines so the change reads at a glance.
    ``report_options`` go to ``ganlab.metrics.report`` (e.g. ``kid_subsets``, ``kid_subset_size``).
    """
    values, images = corruption_metrics(kind, strength, model, pool, real_feats, n=n, seed=seed, **report_options)
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 1.3]})[1]
    plots.show_grid(images[:32], f"{kind}, strength {strength:.2f}", nrow=8, ax=axes[0])
    ax = axes[1]
    ax.bar(BOUNDED, [values[k] for k in BOUNDED], color=plots.FAKE, alpha=0.8, label="corrupted")
    if baseline is not None:
        ax.bar(BOUNDED, [baseline[k] for k in BOUNDED], fill=False, edgecolor="black", lw=1.5, label="undamaged")
        ax.legend(fontsize=8, loc="upper right")
    ax.set(ylim=(0, 1.35), ylabel="score (1 = matches the real set)")
    text = (f"FID {values['fid']:.2f}   KID {values['kid']:.4f} ± {values['kid_std']:.4f}   "
            f"IS {values['inception_score']:.2f}")
    ax.set_title(text, fontsize=10)
    ax.figure.tight_layout()
    return values


def corruption_explorer(model: nn.Module, pool: ImageData, real_feats: Tensor, n: int = 1000,
                        seed: int = 0, **report_options: Any) -> Any:
    """A corruption dropdown and a strength slider above ``show_corruption``'s figure."""
    import ipywidgets as widgets

    baseline, _ = corruption_metrics("noise", 0.0, model, pool, real_feats, n=n, seed=seed, **report_options)
    controls = {
        "kind": widgets.Dropdown(options=list(CORRUPTIONS), value="noise", description="corruption"),
        "strength": widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.05, description="strength",
                                        continuous_update=False),
    }
    return _slider_panel(controls, lambda kind, strength: show_corruption(
        kind, strength, model, pool, real_feats, n=n, seed=seed, baseline=baseline, **report_options))
