"""The dashboard's class-conditional 2-D toy: modes coloured by class, a conditional G and D, and a class picker.

Picking a labelled toy set in the data menu (``ganlab.conditional.toy.LABELLED_TOYS``, e.g. "ring8_classes")
trains a ``ConditionalTrainer`` with G(z, y) and D(x, y) at toy size. What the dashboard shows then:

- all classes: real points and fakes coloured by class (the fixed noise cycles through the labels), D's map
  the mean over classes of D(x, y), G's noise grid once per class;
- one class y (the "show class" picker, twin ``show_class(y)``): the fakes G(z, y) for the same fixed noise,
  beside class y's real modes (the other classes greyed), D(x, y) and G's push for label y.
The divergence chart is the blurred JSD between p(x | y) and G's p(x | y), averaged over the classes: it reaches
its floor only when every class lands on its own modes (a G that swaps the classes keeps it high).

This module dispatches ``make_scene``, ``capture`` and ``track_divergence`` between that and the plain 2-D view
of ``dashboard_scene``; ``ClassTools`` is the dashboard's mixin for the picker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..conditional.toy import LABELLED_TOYS
from ..conditional.train import ConditionalTrainer
from . import dashboard_scene as plain
from .dashboard_scene import N_ARROWS, N_FAKE, RESOLUTION, Frame, Scene, _blurred_density, blurred_jsd

ALL = -1  # the class picker's "all classes"


@dataclass
class ClassScene(Scene):
    """``Scene`` plus the classes: labels of the real points, the fixed fakes' labels, per-class blurred densities."""

    real_labels: np.ndarray | None = None  # (n,) class of each real point
    fake_labels: Tensor | None = None  # (N_FAKE,) 0, 1, …, C−1, 0, …: the "all classes" view's labels
    class_density: list[Tensor] = field(default_factory=list)  # C × (RESOLUTION²,) blurred p(x | y), each sums to 1
    classes: tuple[str, ...] = ()
    shown: int = ALL  # the class picker's value


@dataclass
class ClassFrame(Frame):
    """``Frame`` plus the labels of what it shows: real (n,), fake (N_FAKE,), grid lines (lines,)."""

    real_labels: np.ndarray | None = None
    fake_labels: np.ndarray | None = None
    grid_labels: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    shown: int = ALL


def is_conditional(trainer: Any) -> bool:
    """True for a conditional run on a labelled 2-D toy (what this module draws)."""
    return isinstance(trainer, ConditionalTrainer) and trainer.toy


def build_run(cfg: Any, data: Any = None, **kwargs: Any) -> Any:
    """The dashboard's trainer for ``cfg``: a ``ConditionalTrainer`` when ``cfg.extra["labelled"]`` names a
    labelled toy, else ``ganlab.remedies.build_trainer`` (remedies included)."""
    if "labelled" in cfg.extra:
        if data is not None:
            raise ValueError("drawn data has no classes: pick an unconditional toy set (e.g. ring8) to draw on")
        return ConditionalTrainer(cfg, **kwargs)
    from ..remedies import build_trainer

    return build_trainer(cfg, data=data, **kwargs)


# ---------------------------------------------------------------------- scene, capture, divergence
def make_scene(trainer: Any, seed: int = 0) -> Scene:
    """``dashboard_scene.make_scene``, with labelled real points and per-class densities for a conditional run."""
    base = plain.make_scene(trainer, seed)
    if not is_conditional(trainer):
        return base
    data, g = trainer.data, torch.Generator().manual_seed(seed + 1)
    n_classes = len(data.classes)
    real, labels = data.sample_labelled(len(base.real), generator=g)
    density = [_blurred_density(data.class_mixture(y), base.grid_xy, base.bandwidth, g) for y in range(n_classes)]
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    scene = ClassScene(**{**fields, "divergence": [], "real": real.numpy()}, real_labels=labels.numpy(),
                       fake_labels=(torch.arange(N_FAKE) % n_classes).to(trainer.device), class_density=density,
                       classes=data.classes)
    floors = []
    for y in range(n_classes):  # what real samples of each class score against their own class
        one = Scene(box=scene.box, real_density=density[y], bandwidth=scene.bandwidth)
        floors.append(blurred_jsd(one, data.class_mixture(y).sample(N_FAKE, generator=g)))
    scene.jsd_floor = float(np.mean(floors))
    return scene


def class_jsd(trainer: Any, scene: ClassScene) -> float:
    """Mean over classes y of the blurred JSD (bits) between p(x | y) and G(fixed noise, y)."""
    values = []
    for y, density in enumerate(scene.class_density):
        fake = _eval_g(trainer, scene.fake_noise, torch.full((N_FAKE,), y, device=trainer.device))
        values.append(blurred_jsd(Scene(box=scene.box, real_density=density, bandwidth=scene.bandwidth), fake))
    return float(np.mean(values))


def track_divergence(trainer: Any, scene: Scene, fake: Tensor | None = None) -> None:
    """``dashboard_scene.track_divergence``; for a conditional run the point is ``class_jsd``."""
    if not isinstance(scene, ClassScene):
        return plain.track_divergence(trainer, scene, fake)
    if not scene.divergence or scene.divergence[-1][0] != trainer.step_count:
        scene.divergence.append((trainer.step_count, class_jsd(trainer, scene)))


def _eval_g(trainer: Any, z: Tensor, labels: Tensor) -> Tensor:
    G = trainer.generator
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            return G(z, labels)
    finally:
        G.train(was_training)


def d_logits(trainer: Any, x: Tensor, labels: Tensor) -> Tensor:
    """D's adversarial logits (N,) for points x (N, 2) with labels (N,): AC-GAN's source head ignores the label."""
    out = trainer.discriminator(x) if trainer.scheme.name == "acgan" else trainer.discriminator(x, labels)
    return out[0] if isinstance(out, tuple) else out


def capture(trainer: Any, scene: Scene, label: str = "", window: int = 100) -> Frame:
    """``dashboard_scene.capture``; for a conditional run a ``ClassFrame`` of the picker's class (or all)."""
    if not isinstance(scene, ClassScene):
        return plain.capture(trainer, scene, label, window)
    G, D = trainer.generator, trainer.discriminator
    modes = G.training, D.training
    G.eval()
    D.eval()
    try:
        return _capture_classes(trainer, scene, label, window)
    finally:
        G.train(modes[0])
        D.train(modes[1])


def _capture_classes(trainer: Any, scene: ClassScene, label: str, window: int) -> ClassFrame:
    from ..diagnostics import diagnose, summary

    device, n_classes, shown = trainer.device, len(scene.classes), scene.shown
    history = {k: list(v) for k, v in trainer.history.items()}
    fake_labels = scene.fake_labels if shown == ALL else torch.full((N_FAKE,), shown, device=device)
    with torch.no_grad():
        fake = trainer.generator(scene.fake_noise, fake_labels)  # (N_FAKE, 2)
        lines, points, latent = scene.grid_noise.shape
        grid_classes = range(n_classes) if shown == ALL else [shown]
        grid = torch.cat([trainer.generator(scene.grid_noise.reshape(-1, latent),
                                            torch.full((lines * points,), y, device=device)).reshape(lines, points, 2)
                          for y in grid_classes])  # (classes · lines, points, 2)
        xy = scene.grid_xy.to(device)
        is_prob = trainer.cfg.loss in ("minimax", "non_saturating")
        maps = []
        for y in grid_classes:  # D(x, y) on the grid; "all classes" averages the classes' maps
            logits = d_logits(trainer, xy, torch.full((len(xy),), y, device=device)).float()
            maps.append(torch.sigmoid(logits) if is_prob else logits)
        d_map = torch.stack(maps).mean(0).reshape(RESOLUTION, RESOLUTION).cpu()
    # Where G's loss (the scheme's, AC-GAN's class term included) pushes each fake, with the fake's own label.
    x = fake[:N_ARROWS].detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = trainer.scheme.g_loss(trainer, x, fake_labels[:N_ARROWS]) * N_ARROWS  # × n: per-sample gradients
        (grad,) = torch.autograd.grad(loss, x)
    track_divergence(trainer, scene)
    fake_np = fake.float().cpu().numpy()
    return ClassFrame(
        step=trainer.step_count, label=label, loss=trainer.cfg.loss, history=history,
        diagnostics=summary(diagnose(history, trainer.cfg.loss, window)), divergence=list(scene.divergence),
        jsd_floor=scene.jsd_floor, box=scene.box, real=scene.real, fake=fake_np, d_map=d_map.numpy(),
        d_map_is_prob=is_prob, arrow_xy=fake_np[:N_ARROWS], arrow_uv=(-grad).float().cpu().numpy(),
        grid_lines=grid.float().cpu().numpy(), real_labels=scene.real_labels,
        fake_labels=fake_labels.cpu().numpy(), grid_labels=np.repeat(np.array(list(grid_classes)), lines),
        classes=scene.classes, shown=shown)


# ---------------------------------------------------------------------- the class picker
def class_options(scene: Scene) -> list[tuple[str, int]]:
    """The picker's (label, value) choices: all classes, then one per class ("1 · NE/SW")."""
    if not isinstance(scene, ClassScene):
        return [("all (labelled data only)", ALL)]
    return [("all classes", ALL)] + [(f"{y} · {name}", y) for y, name in enumerate(scene.classes)]


class ClassTools:
    """Mixin of ``TrainingDashboard``: the class picker (``show_class``) and the controls a conditional run lacks.

    On a labelled toy the mode remedies and drawing are switched off (they need unlabelled data: a remedy
    rebuilds an unconditional D, drawn points have no class); their twins raise a ValueError saying so.
    """

    controls: dict[str, Any]
    scene: Scene

    def _wire_classes(self) -> None:
        self.controls["class_view"].observe(self._on_class_view, names="value")

    def _on_class_view(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._guarded(lambda: self.show_class(None if change["new"] == ALL else change["new"]))

    def show_class(self, label: int | None) -> Frame:
        """Show G's samples for class ``label`` beside that class's real modes (None: all classes); redraws.

        Training is untouched: the picker only chooses what the picture shows.
        """
        if not isinstance(self.scene, ClassScene):
            raise ValueError(f"the class picker needs labelled data: pick one of {sorted(LABELLED_TOYS)} in the "
                             f"data menu first")
        n_classes = len(self.scene.classes)
        value = ALL if label is None else label
        if value != ALL and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_classes):
            raise ValueError(f"class {label!r} is unknown; use 0..{n_classes - 1} or None for all classes")
        with self._lock:
            self.scene.shown = value
        self._quiet = True
        try:
            self.controls["class_view"].value = value
        finally:
            self._quiet = False
        return self.redraw()

    def _sync_classes(self) -> None:
        """After a rebuild: the picker's choices for the new data (keeping its class if it still exists), and the
        controls a conditional run cannot use switched off."""
        c, conditional = self.controls, isinstance(self.scene, ClassScene)
        options = class_options(self.scene)
        keep = c["class_view"].value if c["class_view"].value in [v for _, v in options] else ALL
        self._quiet = True
        try:
            c["class_view"].options = options
            c["class_view"].value = keep
        finally:
            self._quiet = False
        c["class_view"].disabled = not conditional
        if conditional:
            self.scene.shown = keep
        for name in ("remedy", "draw", "clear_drawing"):
            c[name].disabled = conditional
        c["remedy"].tooltip = "mode remedies need unlabelled data" if conditional else ""
