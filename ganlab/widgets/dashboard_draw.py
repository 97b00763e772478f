"""Painting dashboard frames: matplotlib's Agg canvas (no pyplot, so it is safe off the main thread),
returning PNG bytes for an ``ipywidgets.Image``. That renders in any JupyterLab with only ipywidgets
installed (no ipympl), and the redraw rate is ours to bound.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .dashboard_scene import Frame

PLOT_POINTS = 400  # curves are smoothed and thinned to at most this many points


def _thin(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) smoothed over ~1 % of the run and thinned to at most PLOT_POINTS points."""
    from ..plots import smooth

    y = smooth(values, max(1, len(values) // 100))
    x = np.arange(1, len(y) + 1)
    stride = max(1, len(y) // PLOT_POINTS)
    return x[::stride], y[::stride]


class Painter:
    """Draws frames onto one reused matplotlib figure: the axes, colour bar and legends are built on the
    first frame and later frames only replace the data, which keeps a redraw cheap (see ``render``).

    2-D data: 2 × 3 panels (D's map with the points and G's push, G's image of the noise grid, the
    divergence; losses, D outputs, gradient norms). Images: 1 × 4 (a sample grid and the three curves).
    """

    def __init__(self, size: tuple[float, float] = (12.0, 6.4), dpi: int = 72, font_scale: float = 1.0) -> None:
        self.size, self.dpi, self.font_scale = size, dpi, font_scale
        self.fig: Any = None
        self._plane_kind: bool | None = None

    def _fonts(self) -> Any:
        """Matplotlib's text sizes scaled by ``font_scale`` (ticks are made lazily, so drawing needs it too)."""
        from matplotlib import rc_context

        return rc_context({"font.size": 10 * self.font_scale})

    def png(self, frame: Frame) -> bytes:
        """The frame as PNG bytes."""
        self.update(frame)
        buf = io.BytesIO()
        # print_png, not savefig: savefig lays the figure out again before every save.
        with self._fonts():
            self.fig.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
        return buf.getvalue()

    def data_xy(self, px: float, py: float) -> tuple[float, float] | None:
        """A pixel of the last PNG (x right, y down) → (x, y) in data units on D's panel; None outside that panel."""
        if self.fig is None or not self._plane_kind:
            return None
        display = (px, self.fig.bbox.height - py)  # matplotlib counts display pixels from the bottom
        if not self.plane_ax.bbox.contains(*display):
            return None
        x, y = self.plane_ax.transData.inverted().transform(display)
        return float(x), float(y)

    def pixel_xy(self, x: float, y: float) -> tuple[float, float]:
        """The inverse of ``data_xy``: (x, y) in data units on D's panel → a pixel of the last PNG."""
        if self.fig is None or not self._plane_kind:
            raise ValueError("no 2-D picture drawn yet: pixel_xy needs a frame of 2-D data")
        dx, dy = self.plane_ax.transData.transform((x, y))
        return float(dx), float(self.fig.bbox.height - dy)

    def update(self, frame: Frame) -> Any:
        """Put ``frame`` on the figure (building it if the kind of data changed); returns the figure."""
        with self._fonts():  # titles set while updating take their size then
            return self._update(frame)

    def _update(self, frame: Frame) -> Any:
        plane = frame.fake is not None
        if self.fig is None or plane != self._plane_kind:
            self._build(frame)
        if plane:
            self._update_plane(frame)
        else:
            self.image.set_data(frame.images)
        self._update_curves(frame)
        self.title.set_text(f"step {frame.step}" + (f" · {frame.label}" if frame.label else ""))
        return self.fig

    # ------------------------------------------------------------------ building
    def _build(self, frame: Frame) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        from ..plots import FAKE, REAL

        plane = self._plane_kind = frame.fake is not None
        w, h = self.size
        # Fixed margins rather than a layout engine: laying the figure out anew costs more than drawing it.
        self.fig = fig = Figure(figsize=(w, h if plane else 0.5 * h), dpi=self.dpi)
        FigureCanvasAgg(fig)
        if plane:
            axes = fig.subplots(2, 3, gridspec_kw=dict(left=0.06, right=0.98, bottom=0.08 * self.font_scale, top=0.88,
                                                       wspace=0.3, hspace=0.3 * self.font_scale,
                                                       height_ratios=[1.3, 1]))
            ax, box = axes[0, 0], frame.box
            self.d_image = ax.imshow(frame.d_map, origin="lower", extent=box, cmap="RdBu", alpha=0.75)
            self.colorbar = fig.colorbar(self.d_image, ax=ax, shrink=0.85, pad=0.02)
            self.real_dots = ax.scatter(*frame.real.T, s=4, color=REAL, label="real")
            self.fake_dots = ax.scatter(*frame.fake.T, s=3, color=FAKE, alpha=0.5, label="fake")
            self.arrows = ax.quiver(*frame.arrow_xy.T, *frame.arrow_uv.T, color="black", angles="xy",
                                    scale_units="xy", scale=1 / (0.08 * (box[1] - box[0])), width=0.004)
            ax.set(xlim=box[:2], ylim=box[2:], aspect="equal", xticks=[], yticks=[])  # fewer texts: faster
            ax.legend(loc="upper right", fontsize=7 * self.font_scale, markerscale=3)
            self.plane_ax = ax
            ax = axes[0, 1]
            ax.scatter(*frame.real.T, s=4, color=REAL, alpha=0.5)
            self.grid_lines = LineCollection(list(frame.grid_lines), colors=FAKE, linewidths=0.7, alpha=0.8)
            ax.add_collection(self.grid_lines)
            ax.set(xlim=box[:2], ylim=box[2:], aspect="equal", xticks=[], yticks=[], title="G's image of a noise grid")
            ax = self.div_ax = axes[0, 2]
            (self.div_line,) = ax.plot([], [], color="black", marker=".")
            ax.axhline(frame.jsd_floor, ls="--", color="grey", lw=1, label="real samples (floor)")
            ax.set(xlabel="step", ylabel="JSD (bits)", ylim=(0, 1), title="Blurred JSD(real, fake)")
            ax.legend(fontsize=7 * self.font_scale)
            curve_axes = axes[1]
        else:
            axes = fig.subplots(1, 4, width_ratios=[1.2, 1, 1, 1], gridspec_kw=dict(
                left=0.02, right=0.98, bottom=0.16, top=0.8, wspace=0.3))
            self.image = axes[0].imshow(frame.images, cmap="gray")
            axes[0].set_title("G(fixed noise)")
            axes[0].axis("off")
            curve_axes = axes[1:]
        self._build_curves(curve_axes)
        self.title = fig.suptitle("", fontsize=11 * self.font_scale, fontweight="bold")

    def _build_curves(self, axes: Any) -> None:
        from ..plots import FAKE, REAL

        panels = ((("d_loss", "D loss", REAL), ("g_loss", "G loss", FAKE)),
                  (("d_real", "D(real)", REAL), ("d_fake", "D(fake)", FAKE)),
                  (("d_grad_norm", "‖∇D‖", REAL), ("g_grad_norm", "‖∇G‖", FAKE)))
        self.curves = []
        for ax, panel, title in zip(axes, panels, ("Losses", "Mean D outputs", "Gradient norms")):
            for key, name, colour in panel:
                (line,) = ax.plot([], [], color=colour, label=name, lw=1.2)
                self.curves.append((ax, key, line))
            ax.set(xlabel="step", title=title, xlim=(0, 1), ylim=(0, 1))
            ax.set_autoscale_on(True)  # set_xlim switched it off; later frames rescale to the data
            ax.legend(fontsize=7 * self.font_scale, loc="upper left")
        axes[1].axhline(0.5, ls="--", color="grey", lw=1)
        axes[1].set_ylim(0, 1)
        self.curve_axes = list(axes)

    # ------------------------------------------------------------------ updating
    def _update_plane(self, frame: Frame) -> None:
        self.d_image.set_data(frame.d_map)
        if frame.d_map_is_prob:
            self.d_image.set_clim(0.0, 1.0)
        else:
            bound = float(np.abs(frame.d_map).max()) or 1.0
            self.d_image.set_clim(-bound, bound)
        self.colorbar.set_label("D(x)" if frame.d_map_is_prob else "critic f(x)")
        self.fake_dots.set_offsets(frame.fake)
        uv = frame.arrow_uv
        longest = float(np.linalg.norm(uv, axis=1).max())
        self.arrows.set_offsets(frame.arrow_xy)
        self.arrows.set_UVC(*(uv / longest if longest > 0 else uv).T)
        self.plane_ax.set_title(f"D, data and G's push (max |∇| {longest:.1e})", fontsize=9 * self.font_scale)
        self.grid_lines.set_segments(list(frame.grid_lines))
        if frame.divergence:
            steps, values = zip(*frame.divergence)
            self.div_line.set_data(steps, values)
            self.div_line.set_marker("." if len(steps) < 30 else "")
            self.div_ax.set_xlim(0, max(steps[-1], 1) * 1.05)

    def _update_curves(self, frame: Frame) -> None:
        h = frame.history
        for _ax, key, line in self.curves:
            line.set_data(*_thin(h[key]) if h.get(key) else ([], []))
        if not h.get("d_loss"):
            return  # nothing trained yet: keep the empty axes' default limits
        for i, ax in enumerate(self.curve_axes):
            if i == 2:
                norms = [v for k in ("d_grad_norm", "g_grad_norm") for v in h.get(k, [])]
                scale = "log" if norms and min(norms) > 0 else "linear"
                if ax.get_yscale() != scale:
                    from matplotlib.ticker import NullFormatter

                    ax.set_yscale(scale)
                    ax.yaxis.set_minor_formatter(NullFormatter())  # no crowded 2×10⁻¹, 3×10⁻¹ labels
            ax.relim()
            ax.autoscale_view(scaley=i != 1)


def draw(frame: Frame, size: tuple[float, float] = (12.0, 6.4)) -> Any:
    """A fresh matplotlib Figure of ``frame`` (the dashboard's picture, for a notebook's static output)."""
    return Painter(size).update(frame)


def render(frame: Frame, size: tuple[float, float] = (12.0, 6.4), dpi: int = 72) -> bytes:
    """``frame`` as PNG bytes on a fresh figure; the dashboard keeps one ``Painter`` to redraw faster."""
    return Painter(size, dpi).png(frame)
