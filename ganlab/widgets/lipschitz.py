"""Switch the critic's Lipschitz method and its strength while a WGAN trains on the ring (notebook 06).

A thin view over a ``Trainer`` built from ``ganlab.wasserstein.recipe_config``:

    lipschitz_trainer("gp")                     a WGAN-GP on ring8, ready to train
    set_lipschitz(trainer, "clip", 0.01)        the plain-function twin of the controls: switch now
    show_lipschitz(trainer)                     the picture: critic map + fakes, and the slopes ‖∇f‖
    LipschitzLab(trainer)                       the widget: method menu, strength slider, Run/Pause/Step

Only the Lipschitz device and the loss it goes with change live (``clip``, ``penalty``, ``penalty_weight``,
``spectral_norm``, ``loss``); the optimiser and learning rates stay those the run started with, so a switch
shows what the constraint does and nothing else. Training runs on a background thread (the dashboard's
``Runner``); the trainer is touched only under a lock, so a control change lands between two chunks of
``steps_per_frame`` steps, well under a second. ipywidgets is imported inside ``LipschitzLab`` only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import plots, toy
from ..penalties import interpolates
from ..train import Trainer
from ..wasserstein import LIPSCHITZ, RING_BOX, critic_map, evaluating, get_recipe, recipe_config, slopes

LIVE_FIELDS = ("loss", "penalty", "penalty_weight", "clip", "spectral_norm")


def lipschitz_trainer(method: str = "gp", strength: float | None = None, seed: int = 0, **overrides: Any
                      ) -> Trainer:
    """A Trainer for ``method``'s recipe on ring8 (eager steps, since spectral norm may be switched mid-run)."""
    cfg = recipe_config(method, strength, "ring8", seed=seed, **overrides)
    return Trainer(cfg, progress=False, check_every=50, cuda_graph=False)


def set_lipschitz(trainer: Trainer, method: str, strength: float | None = None) -> None:
    """Switch the running trainer to ``method`` (one of ``LIPSCHITZ``) at ``strength`` (its c or λ; None:
    the paper's value), in place. D's weights, G and both optimisers carry on."""
    if method not in LIPSCHITZ:
        raise ValueError(f"method={method!r} is not a Lipschitz method; use one of {LIPSCHITZ}")
    fields = get_recipe(method).config(strength)
    changes = {k: fields[k] for k in LIVE_FIELDS if k in fields}
    trainer.update(**changes)  # switches spectral norm on D's layers in place and keeps restores usable


@dataclass
class LipschitzFrame:
    """What one picture shows: the critic on a grid, fakes, slopes at interpolates, and summary numbers."""

    step: int
    method: str
    strength: float | None
    xs: torch.Tensor
    ys: torch.Tensor
    values: torch.Tensor  # (R, R) critic values
    fake: torch.Tensor  # (n, 2)
    slopes: np.ndarray  # (n,) ‖∇f‖ at real–fake interpolates, where the penalties look
    estimate: float  # E f(real) − E f(fake) on n samples each

    @property
    def summary(self) -> str:
        strength = "" if self.strength is None else f" {get_recipe(self.method).strength} = {self.strength:g}"
        return (f"step {self.step} · {self.method}{strength} · E f(real) − E f(fake) = {self.estimate:.3f} · "
                f"median slope {np.median(self.slopes):.2f}")


def current_method(trainer: Trainer) -> tuple[str, float | None]:
    """(method, strength) the trainer's config amounts to."""
    cfg = trainer.cfg
    if cfg.spectral_norm:
        return "sn", None
    if cfg.clip is not None:
        return "clip", cfg.clip
    if cfg.penalty in ("gp", "lp"):
        return cfg.penalty, cfg.penalty_weight
    return "none", None


def capture(trainer: Trainer, n: int = 512, resolution: int = 60, seed: int = 0) -> LipschitzFrame:
    """Measure the trainer's critic now: values on the plotting box, slopes at interpolates, the estimate."""
    g = torch.Generator().manual_seed(seed)
    real = trainer.data.sample(n, generator=g)
    z = torch.randn(n, trainer.cfg.latent_dim, generator=g).to(trainer.device)
    fake = trainer.sample(n, z=z)
    xs, ys, values = critic_map(trainer, RING_BOX, resolution)
    x_hat = interpolates(real, fake, g).to(trainer.device)  # drawn on the CPU, from g: no global RNG use
    real, fake = real.to(trainer.device), fake.to(trainer.device)
    with evaluating(trainer.discriminator) as critic:
        slope = slopes(critic, x_hat).cpu().numpy()
        with torch.no_grad():
            estimate = float(critic(real).mean() - critic(fake).mean())
    method, strength = current_method(trainer)
    return LipschitzFrame(trainer.step_count, method, strength, xs, ys, values, fake.cpu(), slope, estimate)


def draw(frame: LipschitzFrame, axes: tuple[Any, Any]) -> None:
    """Left: the critic map with fakes and the ring's modes. Right: the histogram of slopes, 1 marked."""
    ring = toy.ring8()
    plots.plot_critic_2d(frame.xs, frame.ys, frame.values, frame.fake, ring.modes, ax=axes[0],
                         title=f"{frame.method} · step {frame.step}")
    hist_top = max(3.0, float(np.percentile(frame.slopes, 99)) * 1.1)
    axes[1].hist(frame.slopes, bins=40, range=(0, hist_top), color=plots.REAL, alpha=0.7)
    axes[1].axvline(1.0, color="black", ls="--", lw=1)
    axes[1].set(xlabel="‖∇f(x̂)‖ at interpolates", ylabel="count", title=f"estimate {frame.estimate:.3f}")


def show_lipschitz(trainer: Trainer, axes: tuple[Any, Any] | None = None) -> LipschitzFrame:
    """The plain-function twin of the widget's picture: capture the trainer and draw it (pyplot)."""
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 4))[1]
    frame = capture(trainer)
    draw(frame, axes)
    axes[0].figure.tight_layout()
    return frame


def _png(frame: LipschitzFrame) -> bytes:
    # A figure without pyplot: safe to draw on the training thread.
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=72)
    FigureCanvasAgg(fig)
    draw(frame, fig.subplots(1, 2))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class LipschitzLab:
    """The widget: a method menu, a log-scale strength slider, Run / Pause / Step, and the live picture."""

    def __init__(self, trainer: Trainer | None = None, steps_per_frame: int = 20, max_fps: float = 2.0) -> None:
        import ipywidgets as W

        from .dashboard_runner import Runner

        self.trainer = trainer if trainer is not None else lipschitz_trainer()
        self.steps_per_frame, self.min_interval = steps_per_frame, 1.0 / max_fps
        self._lock, self._last, self._quiet = threading.Lock(), 0.0, False
        method, strength = current_method(self.trainer)
        self.method = W.Dropdown(options=LIPSCHITZ, value=method, description="method")
        self.strength = W.FloatLogSlider(value=strength or 1.0, base=10, min=-3, max=3, step=0.1,
                                         description="strength", disabled=strength is None)
        self.run, self.pause, self.step = W.Button(description="Run"), W.Button(description="Pause"), \
            W.Button(description="Step")
        self.image, self.status = W.Image(format="png"), W.HTML()
        self.widget = W.VBox([W.HBox([self.method, self.strength]), W.HBox([self.run, self.pause, self.step]),
                              self.status, self.image])
        self.runner = Runner(self._chunk, on_error=lambda err: setattr(self.status, "value", f"stopped: {err}"))
        self.method.observe(self._on_method, names="value")
        self.strength.observe(lambda _: self._switch(), names="value")
        self.run.on_click(lambda _: self.runner.start())
        self.pause.on_click(lambda _: self.runner.pause())
        self.step.on_click(lambda _: (self.runner.pause(), self.advance(self.steps_per_frame)))
        self.redraw()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _on_method(self, change: dict[str, Any]) -> None:
        recipe = get_recipe(change["new"])
        self._quiet = True  # moving the slider's range may clamp its value; switch once, at the end
        try:
            self.strength.disabled = recipe.default is None
            if recipe.default is not None and recipe.bounds is not None:
                self.strength.min, self.strength.max = (float(np.log10(b)) for b in recipe.bounds)
                self.strength.value = recipe.default
        finally:
            self._quiet = False
        self._switch()

    def _switch(self) -> None:
        if self._quiet:
            return
        strength = None if self.strength.disabled else self.strength.value
        with self._lock:
            set_lipschitz(self.trainer, self.method.value, strength)
        self.redraw()

    def _chunk(self, stop: threading.Event) -> bool:
        with self._lock:
            self.trainer.fit(steps=self.steps_per_frame, progress=False)
        if time.monotonic() - self._last >= self.min_interval:
            self.redraw()
        return not stop.is_set()

    def advance(self, steps: int) -> LipschitzFrame:
        """Train ``steps`` steps now (not on the thread) and redraw: the twin of pressing Step."""
        with self._lock:
            self.trainer.fit(steps=steps, progress=False)
        return self.redraw()

    def redraw(self) -> LipschitzFrame:
        with self._lock:
            frame = capture(self.trainer)
        self.image.value, self.status.value = _png(frame), frame.summary
        self._last = time.monotonic()
        return frame
