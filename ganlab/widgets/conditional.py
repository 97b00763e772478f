"""Interactive views for conditional GANs (notebook 08): pick a class, truncate, interpolate, turn InfoGAN's codes.

Each widget wraps a plain drawing function, its twin, which the notebook also calls directly:

    show_class(trainer, label, psi)                    ↔ class_explorer(trainer)
    show_interpolation(trainer, seed_a, seed_b)        ↔ interpolation_explorer(trainer)
    show_codes(trainer, cat, cont)                     ↔ code_explorer(trainer)

A redraw is one generator pass over a small grid (milliseconds on a CPU). ipywidgets is imported
inside the widget builders only.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import Tensor

from .. import plots
from ..conditional.train import ConditionalTrainer
from ..nets.conditional import info_code, truncated_noise
from .theory import _slider_panel

NO_TRUNCATION = 3.0  # |z_i| > 3 has probability 0.3 %: the slider's top end means "no truncation" in practice


def _noise(trainer: ConditionalTrainer, n: int, seed: int, psi: float = math.inf) -> Tensor:
    rng = torch.Generator(device=trainer.device).manual_seed(seed)
    return truncated_noise(n, trainer.cfg.latent_dim, psi, rng)


def show_class(trainer: ConditionalTrainer, label: int, psi: float = math.inf, n: int = 32, seed: int = 0,
               ax: plt.Axes | None = None) -> Tensor:
    """Draw n samples of class ``label`` with the latent truncated at ψ; returns them (n, C, H, W).

    The same ``seed`` gives the same z for every class, so switching the class keeps the style.
    """
    images = trainer.sample(n, _noise(trainer, n, seed, psi), int(label))
    name = trainer.data.classes[label]
    trunc = "no truncation" if math.isinf(psi) else f"truncation ψ = {psi:.2f}"
    plots.show_grid(images, f"{name} ({trunc})", nrow=8, ax=ax)
    return images


def class_explorer(trainer: ConditionalTrainer, n: int = 32) -> Any:
    """A class dropdown and a truncation slider over a sample grid that redraws as they change."""
    import ipywidgets as widgets

    options = [(name, k) for k, name in enumerate(trainer.data.classes)]
    controls = {
        "label": widgets.Dropdown(options=options, value=0, description="class"),
        "psi": widgets.FloatSlider(value=NO_TRUNCATION, min=0.1, max=NO_TRUNCATION, step=0.1,
                                   description="truncation ψ"),
    }
    return _slider_panel(controls, lambda label, psi: show_class(trainer, label, psi, n))


def show_interpolation(trainer: ConditionalTrainer, seed_a: int = 0, seed_b: int = 1, steps: int = 8,
                       labels: list[int] | None = None, ax: plt.Axes | None = None) -> Tensor:
    """One row per class, z moving in a straight line from z_a to z_b along each row: (rows·steps, C, H, W).

    Every row walks the same latent path, so what changes along a row is style and what changes down
    a column is the class. ``labels``: the rows (default: every class).
    """
    labels = list(range(trainer.n_classes)) if labels is None else labels
    ends = torch.cat([_noise(trainer, 1, seed_a), _noise(trainer, 1, seed_b)])  # (2, latent)
    t = torch.linspace(0, 1, steps, device=trainer.device)[:, None]
    path = (1 - t) * ends[0] + t * ends[1]  # (steps, latent)
    z = path.repeat(len(labels), 1)  # (rows·steps, latent)
    y = torch.tensor(labels, device=trainer.device).repeat_interleave(steps)
    images = trainer.sample(z.shape[0], z, y)
    plots.show_grid(images, f"z from seed {seed_a} to seed {seed_b}, one class per row", nrow=steps, ax=ax)
    return images


def interpolation_explorer(trainer: ConditionalTrainer, steps: int = 8) -> Any:
    """Two seed sliders choosing the latent end points; the class-by-step grid redraws."""
    import ipywidgets as widgets

    controls = {
        "seed_a": widgets.IntSlider(value=0, min=0, max=99, description="start seed"),
        "seed_b": widgets.IntSlider(value=1, min=0, max=99, description="end seed"),
    }
    return _slider_panel(controls, lambda seed_a, seed_b: show_interpolation(trainer, seed_a, seed_b, steps))


def show_codes(trainer: ConditionalTrainer, cat: int, cont: list[float], n: int = 16, seed: int = 0,
               ax: plt.Axes | None = None) -> Tensor:
    """InfoGAN samples with categorical code ``cat`` and continuous codes ``cont`` for n noise draws.

    Returns the images (n, C, H, W); z is fixed by ``seed``, so only the codes change between calls.
    """
    n_cont = trainer.generator.n_cont
    if len(cont) != n_cont:
        raise ValueError(f"cont has {len(cont)} values but the generator has {n_cont} continuous codes")
    cats = torch.full((n,), int(cat), device=trainer.device)
    conts = torch.tensor(cont, dtype=torch.float32, device=trainer.device).expand(n, -1)
    images = trainer.sample(n, _noise(trainer, n, seed), info_code(cats, conts, trainer.n_classes))
    values = ", ".join(f"{v:+.1f}" for v in cont)
    plots.show_grid(images, f"c_cat = {cat}, c_cont = ({values})", nrow=8, ax=ax)
    return images


def code_explorer(trainer: ConditionalTrainer, n: int = 16, reach: float = 2.0) -> Any:
    """A categorical-code slider and one slider per continuous code (±``reach``; training used ±1)."""
    import ipywidgets as widgets

    controls: dict[str, Any] = {
        "cat": widgets.IntSlider(value=0, min=0, max=trainer.n_classes - 1, description="c_cat")}
    for i in range(trainer.generator.n_cont):
        controls[f"c{i}"] = widgets.FloatSlider(value=0.0, min=-reach, max=reach, step=0.1,
                                                description=f"c_cont {i + 1}")
    return _slider_panel(controls, lambda cat, **cont: show_codes(trainer, cat, list(cont.values()), n))
