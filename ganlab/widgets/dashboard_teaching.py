"""The dashboard's teaching tools: train one player, lecture scenarios, hand-drawn data, a recording of the run
as an animation, and a projector size. ``TeachingTools`` is a mixin of ``TrainingDashboard``: it uses the
dashboard's controls, its trainer lock, ``reset``, ``redraw`` and ``advance``.

Every tool has a plain-function twin (``advance(steps, train="D")``, ``load_scenario``, ``draw_data``,
``clear_drawing``, ``record``, ``set_projector``), so a notebook's checks never depend on a click.
Pointer events on the picture come from ipyevents (``handle_pointer`` gets its event dicts).
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..conditional.toy import LABELLED_TOYS
from ..freeze import MODES, train_only
from . import scenarios
from .dashboard_classes_draw import ClassPainter as Painter
from .dashboard_controls import IMAGE_SETS, NO_SCENARIO
from .drawn_data import MIN_POINTS, check_points
from .recording import save_animation

MODE_NOTES = {"both": "", "D": "training D only (G frozen)", "G": "training G only (D frozen)"}
PROJECTOR = dict(size=(12.0, 6.8), dpi=100, font_scale=1.5)  # a 1200 × 680 picture with 1.5× text
MAX_FRAMES = 1000  # a recording keeps at most this many redraws (about 1 MB each at projector size)


class TeachingTools:
    """Mixin: see the module docstring. State: ``drawn`` (N, 2) or None, ``stop_at``, ``recording``."""

    controls: dict[str, Any]
    drawn: np.ndarray | None = None  # the hand-drawn real points the run trains on, or None
    stop_at: int | None = None  # a loaded scenario's last step: the loop pauses there once
    recording: list[bytes] | None = None  # PNG frames while recording
    projector: bool = False
    _sketch: list[tuple[float, float]]
    _stroke: list[tuple[float, float]] | None = None

    def _wire_teaching(self) -> None:
        c = self.controls
        self._sketch = []
        c["train"].observe(lambda change: self._knob(train=change["new"]), names="value")
        c["scenario"].observe(self._on_scenario, names="value")
        c["clear_drawing"].on_click(lambda _: self._guarded(self.clear_drawing))
        c["draw"].observe(self._on_draw_toggle, names="value")
        c["record"].observe(self._on_record, names="value")
        c["projector"].observe(lambda change: self._guarded(lambda: self.set_projector(change["new"])),
                               names="value")
        from ipyevents import Event

        # Press and release unthrottled (none may be lost); moves throttled to one per 40 ms.
        self._pointer = [Event(source=c["plot"], watched_events=["mousedown", "mouseup", "mouseleave"],
                               prevent_default_action=True),  # no browser drag of the image
                         Event(source=c["plot"], watched_events=["mousemove"], prevent_default_action=True,
                               wait=40, throttle_or_debounce="throttle")]
        for events in self._pointer:
            events.on_dom_event(lambda event: self._guarded(lambda: self.handle_pointer(event)))

    # ------------------------------------------------------------------ train D only / G only / both
    def mode_note(self) -> str:
        """What the picture's title and the status line say about the train mode ("" for both)."""
        return MODE_NOTES[self.controls["train"].value]

    def set_train_mode(self, mode: str) -> None:
        """Which players learn from the next step: "both", "D" (G frozen) or "G" (D frozen); as the toggle does."""
        if mode not in MODES:
            raise ValueError(f"train mode {mode!r} is unknown; use one of {list(MODES)} ('D': only D learns)")
        self.controls["train"].value = mode

    def _apply_train_mode(self, mode: str) -> None:
        train_only(self.trainer, mode)

    # ------------------------------------------------------------------ scenarios
    def load_scenario(self, name: str, seed: int | None = None) -> scenarios.Scenario:
        """Set the controls to scenario ``name`` (its seed unless ``seed``) and rebuild; Start then trains until
        its ``steps`` and pauses. Returns the scenario (``.watch`` says what to watch)."""
        scenario, values = scenarios.get(name), scenarios.settings(name)
        self.runner.pause()
        c = self.controls
        self._quiet = True  # one rebuild at the end, not one per control
        try:
            for key, value in values.items():  # the dataset first, the regulariser (which enables or
                c[key].value = value           # disables the weight slider) before its weight
            c["train"].value = "both"
            c["scenario"].value = name
        finally:
            self._quiet = False
        self.drawn, self._sketch = None, []
        self.seed = scenario.seed if seed is None else seed
        self.stop_at = scenario.steps
        c["watch"].value = f"<b>Watch:</b> {html.escape(scenario.watch)}"
        self.reset()
        return scenario

    def _on_scenario(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        if change["new"] == NO_SCENARIO:
            self.stop_at, self.controls["watch"].value = None, ""
            return
        self._guarded(lambda: self.load_scenario(change["new"]))

    def _reached_stop(self) -> bool:
        """True once when a loaded scenario's last step is reached (the caller holds the trainer lock)."""
        if self.stop_at is None or self.trainer.step_count < self.stop_at:
            return False
        self.runner.stop_reason = f"scenario done at step {self.trainer.step_count}: press Start to go on"
        self.stop_at = None
        return True

    # ------------------------------------------------------------------ hand-drawn data
    def draw_data(self, points: Any) -> None:
        """Train on hand-drawn data: ``points`` (N, 2) in the units of D's panel; the run restarts on them."""
        if self.controls["dataset"].value in IMAGE_SETS:
            raise ValueError("drawn data is 2-D: pick a toy data set (e.g. ring8) before drawing")
        if self.controls["dataset"].value in LABELLED_TOYS:
            raise ValueError("drawn points have no classes: pick an unconditional toy set (e.g. ring8) to draw on")
        self.drawn = check_points(points)
        self._sketch = [tuple(p) for p in self.drawn.tolist()]
        self.reset()
        self.controls["status"].value = f"training data: {len(self.drawn)} drawn points · press Start"

    def clear_drawing(self) -> None:
        """Forget the drawn points and rebuild on the data menu's set."""
        self.drawn, self._sketch, self._stroke = None, [], None
        self.reset()

    def handle_pointer(self, event: dict[str, Any]) -> None:
        """One pointer event on the picture (ipyevents' dict: ``type``; ``dataX``, ``dataY`` in image pixels).

        With *Draw data* on, a press starts a stroke, moves add points on D's panel, a release (or leaving the
        picture) ends it; once at least MIN_POINTS are drawn the run restarts on them.
        """
        if not self.controls["draw"].value:
            return
        kind = event.get("type")
        if kind == "mousedown":
            self.runner.pause()
            self._stroke = []
        if kind in ("mousedown", "mousemove") and self._stroke is not None and "dataX" in event:
            with self._paint_lock:
                xy = self.painter.data_xy(float(event["dataX"]), float(event["dataY"]))
            if xy is not None:
                self._stroke.append(xy)
        elif kind in ("mouseup", "mouseleave") and self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            self._sketch.extend(stroke)
            if len(self._sketch) >= MIN_POINTS:
                self.draw_data(self._sketch)
            else:
                self.controls["status"].value = f"{len(self._sketch)} points drawn: draw at least {MIN_POINTS}"

    def _on_draw_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._sketch = [] if self.drawn is None else [tuple(p) for p in self.drawn.tolist()]
            self.controls["status"].value = "drawing: drag on D's panel (left) to add points"

    # ------------------------------------------------------------------ recording
    def _keep_frame(self, png: bytes) -> None:
        if self.recording is not None and len(self.recording) < MAX_FRAMES:
            self.recording.append(png)

    def start_recording(self) -> None:
        """Keep every redraw from now on as a frame (the current picture first)."""
        self.recording = [self.controls["plot"].value]

    def save_recording(self, path: str | Path | None = None, fps: float = 4.0) -> Path:
        """Stop recording and write the frames to ``path`` (.gif or .mp4; default a time-stamped GIF here)."""
        frames, self.recording = self.recording or [], None
        path = Path(path) if path is not None else Path(f"ganlab-run-{time.strftime('%Y%m%d-%H%M%S')}.gif")
        saved = save_animation(frames, path, fps)
        self.controls["status"].value = f"saved {len(frames)} frames to {saved}"
        return saved

    def record(self, path: str | Path, steps: int, fps: float = 4.0) -> Path:
        """The Rec button's twin: train ``steps`` steps, one frame per "steps / redraw", saved to ``path``."""
        if steps < 1:
            raise ValueError(f"steps={steps!r} must be >= 1")
        self.start_recording()
        every, done = self.controls["steps_per_redraw"].value, 0
        while done < steps:
            n = min(every, steps - done)
            self.advance(n)
            done += n
        return self.save_recording(path, fps)

    def _on_record(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.start_recording()
            self.controls["status"].value = "recording: every redraw is a frame; press Rec again to save"
        elif self.recording is not None:
            self._guarded(self.save_recording)

    # ------------------------------------------------------------------ projector size
    def set_projector(self, on: bool) -> None:
        """Large text and a large picture (for the back of a lecture hall), or the normal size."""
        self.projector = bool(on)
        with self._paint_lock:
            self.painter = Painter(**PROJECTOR) if on else Painter()
        self.controls["plot"].layout.max_width = "none" if on else "860px"
        for name in ("status", "step_count", "watch", "diagnostics"):
            self.controls[name].style.font_size = "20px" if on else ""
        if self.controls["projector"].value != self.projector:
            self.controls["projector"].value = self.projector
        self.redraw()
