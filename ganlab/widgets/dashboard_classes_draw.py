"""Painting the class-conditional toy's frames: ``Painter`` with the points and G's noise grid coloured by class.

Real points are dots and fakes crosses, both in their class's colour; with one class shown, the other classes'
real points turn light grey so that class's modes stand out beside G's samples for it. D's map is drawn in
greys (dark: D says real) so the class colours stay readable on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dashboard_classes import ALL, ClassFrame
from .dashboard_draw import Painter
from .dashboard_scene import Frame

OTHER = (0.8, 0.8, 0.8, 1.0)  # other classes' real points when one class is shown


def class_colours(labels: np.ndarray) -> np.ndarray:
    """RGBA (n, 4) of matplotlib's tab10 colour cycle for class labels (n,)."""
    from matplotlib import colormaps

    return colormaps["tab10"](np.asarray(labels) % 10)


class ClassPainter(Painter):
    """A ``Painter`` that also draws ``ClassFrame``s (any other frame as ``Painter`` does)."""

    def _build(self, frame: Frame) -> None:
        super()._build(frame)
        self._classes = isinstance(frame, ClassFrame)
        if not self._classes:
            return
        from matplotlib.lines import Line2D

        ax = self.plane_ax
        self.d_image.set_cmap("Greys")
        self.real_dots.remove()
        self.fake_dots.remove()
        self.real_dots = ax.scatter(*frame.real.T, s=7, c=class_colours(frame.real_labels), zorder=2)
        self.fake_dots = ax.scatter(*frame.fake.T, s=10, marker="x", linewidths=0.7,
                                    c=class_colours(frame.fake_labels), alpha=0.6, zorder=3)
        self.grid_real = self.grid_lines.axes.collections[0]  # panel 2's real points
        handles = [Line2D([], [], ls="", marker="o", color=class_colours(np.array([y]))[0], label=f"{y} · {name}")
                   for y, name in enumerate(frame.classes)]
        handles += [Line2D([], [], ls="", marker="o", color="grey", label="real"),
                    Line2D([], [], ls="", marker="x", color="grey", label="fake")]
        ax.legend(handles=handles, loc="upper right", fontsize=6 * self.font_scale, ncol=2, framealpha=0.8)
        self.div_ax.set_title("Blurred JSD(p(x|y), p_G(x|y)), class mean", fontsize=9 * self.font_scale)

    def _update_plane(self, frame: Frame) -> None:
        super()._update_plane(frame)
        if not isinstance(frame, ClassFrame):
            return
        real = class_colours(frame.real_labels)
        if frame.shown != ALL:
            real[frame.real_labels != frame.shown] = OTHER
        self.real_dots.set_facecolors(real)
        self.grid_real.set_color(real)  # built with color=: its edges too
        self.fake_dots.set_color(class_colours(frame.fake_labels))  # an "x" marker is all edge
        self.grid_lines.set_colors(class_colours(frame.grid_labels))
        which = "all classes" if frame.shown == ALL else f"class {frame.shown} · {frame.classes[frame.shown]}"
        d_of = "mean over y of D(x, y)" if frame.shown == ALL else "D(x, y)"
        self.plane_ax.set_title(f"{which}: {d_of} and G's push", fontsize=9 * self.font_scale)
        self.grid_lines.axes.set_title(f"G(noise grid, y): {which}", fontsize=9 * self.font_scale)

    def _update(self, frame: Frame) -> Any:
        # A conditional frame after a plain one (or back) needs the other figure: rebuild on a change of kind.
        if self.fig is not None and isinstance(frame, ClassFrame) != getattr(self, "_classes", False):
            self.fig = None
        return super()._update(frame)


def draw(frame: Frame, size: tuple[float, float] = (12.0, 6.4)) -> Any:
    """A fresh matplotlib Figure of ``frame`` (either kind), for a notebook's static output."""
    return ClassPainter(size).update(frame)
