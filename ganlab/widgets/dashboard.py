"""TrainingDashboard: GAN Lab inside Jupyter, a thin live view over a ``Trainer`` and its ``step()``.

    from ganlab.widgets.dashboard import TrainingDashboard
    dash = TrainingDashboard("ring8")
    dash              # display it, press Start, move the sliders
    dash.advance(200) # the plain-function twin: 200 steps here and now, then one redraw
    dash.advance(50, train="D")  # D learns, G is frozen (the toggle beside Start); see dashboard_teaching

Threads: Start runs the training loop on a background thread (``Runner``); the kernel stays free, so
sliders keep working. The trainer is only touched under ``self._lock``: the loop holds it for each
step and each capture. A control change is queued in ``_pending`` and applied at once if the trainer
is free, otherwise by the loop right before its next step, so it takes effect from the next step
without ever blocking the browser. Pause stops after the step in progress; Step pauses and advances
exactly one ``trainer.step()``; Reset pauses and rebuilds the models from the controls.
Redraws are capped at ``max_fps`` per second; between redraws the loop only trains.

One dashboard trains per kernel: building a new one (re-running its cell) stops the old one's loop,
and pressing Start on any dashboard stops the one training before (``dashboard_runner.claim``); the
stopped one says so in its status line. An error or interrupt in the loop is shown, never swallowed.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from typing import Any

from ..train import Trainer, TrainingDiverged
from .dashboard_classes import ClassTools, build_run, capture, make_scene, track_divergence
from .dashboard_classes_draw import ClassPainter as Painter
from .dashboard_classes_draw import draw
from .dashboard_controls import REGULARISERS, build_controls, layout, preset, regulariser_fields, settings_config
from .dashboard_runner import Runner, claim
from .dashboard_scene import Frame
from .dashboard_teaching import PROJECTOR, TeachingTools
from .drawn_data import drawn_distribution

CONFIG_KNOBS = ("loss", "lr_d", "lr_g", "optimizer", "n_critic", "batch_size", "instance_noise")


class TrainingDashboard(TeachingTools, ClassTools):
    """Controls, live picture and diagnostics for training a GAN; see the module docstring and, for the train
    mode, scenarios, drawing, recording and projector size, ``TeachingTools``; for the class-conditional toy and
    its class picker (``show_class``), ``ClassTools``.

    ``dataset``: a 2-D toy set name (``ganlab.toy``) or "fashion_mnist". ``max_fps``: redraws per second
    at most. ``slow_delay``: seconds between the D and G frames of a slow-motion Step.
    """

    def __init__(self, dataset: str = "ring8", *, max_fps: float = 2.0, slow_delay: float = 0.7, seed: int = 0,
                 device: str = "auto") -> None:
        self.min_interval, self.slow_delay, self.seed, self.device = 1.0 / max_fps, slow_delay, seed, device
        self.controls = build_controls(dataset)
        self.widget = layout(self.controls)
        self._lock = threading.RLock()  # guards the trainer; re-entrant for slow-motion frames inside a step
        self._paint_lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self._pending_lock = threading.Lock()
        self._quiet = False  # True while the dashboard sets control values itself
        self.frames: deque[Frame] = deque(maxlen=8)
        self.redraw_seconds: deque[float] = deque(maxlen=200)  # capture + render time of recent redraws
        self.redraw_times: deque[float] = deque(maxlen=200)  # when they finished (time.monotonic())
        self.runner = Runner(self._train_chunk, self._show_error, self._loop_ended)
        claim(self.runner)  # a dashboard built before (the same cell run again) stops training now
        self.trainer: Trainer | None = None
        self._wire()
        self._wire_teaching()
        self._wire_classes()
        self.reset()

    # ------------------------------------------------------------------ display and the plain twin
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def running(self) -> bool:
        return self.runner.running

    def settings(self) -> dict[str, Any]:
        """The control values that define a run (what Reset builds from)."""
        names = (*CONFIG_KNOBS, "regulariser", "reg_weight", "remedy", "dataset")
        return {name: self.controls[name].value for name in names}

    def advance(self, steps: int, train: str | None = None) -> Frame:
        """Train ``steps`` steps in this thread (no background loop), then redraw once; returns the frame.

        ``train``: set the train mode first ("both", "D" or "G", as the toggle beside Start); None keeps it.
        The divergence chart still gets a point every "steps / redraw" steps, as in a live run.
        """
        self.runner.pause()
        if train is not None:
            self.set_train_mode(train)
        every = self.controls["steps_per_redraw"].value
        with self._lock:
            try:
                for i in range(1, steps + 1):
                    self._apply_pending()
                    self.trainer.step()
                    if i % every == 0:
                        track_divergence(self.trainer, self.scene)
            except TrainingDiverged:
                self._show_config()  # the knobs show the config the restore put back
                raise
        return self.redraw()

    def figure(self) -> Any:
        """The latest frame as a matplotlib Figure (for a notebook's static output)."""
        return draw(self.frames[-1])

    def close(self) -> None:
        """Stop the loop and close every widget."""
        self.runner.pause()
        for widget in self.controls.values():
            widget.close()
        self.widget.close()

    # ------------------------------------------------------------------ wiring the controls
    def _wire(self) -> None:
        c = self.controls
        for name in CONFIG_KNOBS:
            c[name].observe(lambda change, name=name: self._knob(**{name: change["new"]}), names="value")
        c["regulariser"].observe(self._on_regulariser, names="value")
        c["reg_weight"].observe(lambda change: self._knob(**self._regulariser_fields()), names="value")
        c["dataset"].observe(self._on_dataset, names="value")
        c["remedy"].observe(lambda change: self._quiet or self._guarded(self.reset), names="value")  # rebuilds D
        c["start"].on_click(lambda _: self.start())
        c["pause"].on_click(lambda _: self.pause())
        c["step"].on_click(lambda _: self._guarded(self.step))
        c["reset"].on_click(lambda _: self._guarded(self.reset))

    def _guarded(self, action: Any) -> None:
        """Run a button's action; show an exception in the dashboard instead of losing it in a callback."""
        try:
            action()
        except Exception as err:
            self._show_error(err)

    def _regulariser_fields(self) -> dict[str, Any]:
        return regulariser_fields(self.controls["regulariser"].value, self.controls["reg_weight"].value)

    def _on_regulariser(self, change: dict[str, Any]) -> None:
        reg, weight = REGULARISERS[change["new"]], self.controls["reg_weight"]
        self._quiet = True
        try:
            weight.disabled = reg.default_weight is None
            weight.description = f"weight {reg.weight_name}".strip()
            if reg.default_weight is not None:
                weight.value = reg.default_weight
        finally:
            self._quiet = False
        self._knob(**self._regulariser_fields())

    def _on_dataset(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.drawn = None  # the data menu replaces a drawn set
        p = preset(change["new"])
        self._quiet = True
        try:
            for name in ("lr_d", "lr_g", "batch_size"):
                self.controls[name].value = p[name]
        finally:
            self._quiet = False
        self._guarded(self.reset)

    def _knob(self, **changes: Any) -> None:
        """Queue config changes; apply them now if the trainer is free, else the loop does before its next step."""
        if self._quiet:
            return
        with self._pending_lock:
            self._pending.update(changes)
        if self._lock.acquire(blocking=False):
            try:
                self._apply_pending()
            except Exception as err:
                self._show_error(err)
            finally:
                self._lock.release()

    def _apply_pending(self) -> None:
        """Apply queued changes to the trainer (caller holds ``_lock``)."""
        with self._pending_lock:
            changes, self._pending = self._pending, {}
        if not changes or self.trainer is None:
            return
        mode = changes.pop("train", None)
        if mode is not None:
            self._apply_train_mode(mode)
        if changes:
            self.trainer.update(**changes)  # spectral norm too: update switches it on D's layers in place

    # ------------------------------------------------------------------ buttons
    def start(self) -> bool:
        """Start training in the background; False if a loop is already running (it never starts a second)."""
        if self.running:
            return False
        self.controls["error"].value = ""  # before the thread starts: it may fail at once and report
        self.controls["status"].value = "running"
        self._buttons(running=True)
        return self.runner.start()

    def pause(self) -> None:
        """Stop the loop after the step in progress; returns once it has stopped."""
        self.runner.pause()

    def step(self) -> Frame:
        """Pause, then advance exactly one trainer step; in slow motion, show D's and G's updates as frames."""
        self.runner.pause()
        if not self.controls["slow_motion"].value:
            return self.advance(1)
        t = self.trainer
        plain_d_step, count = t.d_step, [0]

        def d_step_then_show(trainer: Trainer, real: Any, z: Any) -> Any:
            out = plain_d_step(trainer, real, z)
            count[0] += 1
            self.redraw(f"slow motion: D update {count[0]}/{trainer.cfg.n_critic}")
            time.sleep(self.slow_delay)
            return out

        with self._lock:
            self._apply_pending()
            t.d_step = d_step_then_show
            try:
                t.step()
            finally:
                t.d_step = plain_d_step
        return self.redraw("slow motion: G update")

    def reset(self) -> None:
        """Pause, rebuild the models and optimizers from the controls, and draw step 0."""
        self.runner.pause()
        cfg = settings_config(self.settings(), self.seed, self.device)
        # Eager steps: the dashboard swaps d_step (slow motion) and D's layers (spectral norm) mid-run.
        data = None if self.drawn is None else drawn_distribution(self.drawn)
        trainer = build_run(cfg, data, progress=False, check_every=50, cuda_graph=False)
        with self._lock:
            with self._pending_lock:
                self._pending.clear()
            self.trainer, self.scene = trainer, make_scene(trainer, self.seed)
            self._sync_classes()
            self._apply_train_mode(self.controls["train"].value)
            with self._paint_lock:
                self.painter = Painter(**PROJECTOR) if self.projector else Painter()
        self.controls["error"].value = ""
        self.redraw()
        self.controls["status"].value = "ready: press Start or Step"

    # ------------------------------------------------------------------ the loop and the picture
    def _train_chunk(self, stop: threading.Event) -> bool:
        done = False  # a scenario's last step reached: the loop ends, and _loop_ended redraws
        with self._lock:
            for _ in range(self.controls["steps_per_redraw"].value):
                done = self._reached_stop()
                if stop.is_set() or done:
                    break
                self._apply_pending()
                self.trainer.step()
            done = done or self._reached_stop()
        if not done and time.monotonic() - self._last_redraw >= self.min_interval:
            self.redraw()
        return not done

    def redraw(self, label: str = "") -> Frame:
        """Capture the trainer's state and put the picture, step count and diagnostics on the widgets."""
        start = time.monotonic()
        label = " · ".join(part for part in (label, self.mode_note()) if part)
        with self._lock:
            frame = capture(self.trainer, self.scene, label)
        with self._paint_lock:
            png = self.painter.png(frame)
        self._keep_frame(png)
        c = self.controls
        c["plot"].value = png
        c["step_count"].value = f"step {frame.step}"
        c["diagnostics"].value = f"<b>Diagnostics:</b> {html.escape(frame.diagnostics)}"
        self.frames.append(frame)
        now = time.monotonic()
        if self.running and self.redraw_times:
            steps = frame.step - self.frames[-2].step if len(self.frames) > 1 else 0
            rate = steps / max(now - self.redraw_times[-1], 1e-9)
            mode = f" · {self.mode_note()}" if self.mode_note() else ""
            c["status"].value = f"running{mode} · {rate:.0f} steps/s · redraw {now - start:.2f} s"
        self.redraw_seconds.append(now - start)
        self.redraw_times.append(now)
        self._last_redraw = now
        return frame

    def _loop_ended(self) -> None:
        self._buttons(running=False)
        if not self.controls["error"].value:
            self._guarded(self.redraw)  # the picture matches the step count the loop stopped at
            self.controls["status"].value = self.runner.stop_reason or "paused"

    def _buttons(self, running: bool) -> None:
        c = self.controls
        c["start"].disabled, c["pause"].disabled = running, not running

    def _show_config(self) -> None:
        """Put the trainer's config back on the knobs (after a divergence restore undid knob changes)."""
        if self.trainer is None:
            return
        self._quiet = True
        try:
            for name in CONFIG_KNOBS:
                if name in self.controls and self.controls[name].value != getattr(self.trainer.cfg, name):
                    self.controls[name].value = getattr(self.trainer.cfg, name)
        finally:
            self._quiet = False

    def _show_error(self, err: BaseException) -> None:
        if isinstance(err, TrainingDiverged):
            self._show_config()  # the restore put back the config of the last good state: show it
        interrupted = isinstance(err, KeyboardInterrupt)
        what = "interrupted" if interrupted else "stopped"
        detail = str(err) or ("the step in progress may be half done; press Reset for a clean run"
                              if interrupted else "")
        self.controls["error"].value = (f"<span style='color:#b00020'><b>Training {what} — "
                                        f"{type(err).__name__}:</b> {html.escape(detail)}</span>")
        self.controls["status"].value = "interrupted" if interrupted else "stopped by an error"
