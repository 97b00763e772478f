"""The dashboard's teaching tools driven headless: train mode, scenarios, drawing, recording, projector size."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch.testing import assert_close

pytest.importorskip("ipywidgets")
pytest.importorskip("ipyevents")

from dashboard_support import wait_until  # noqa: E402
from PIL import Image  # noqa: E402

from ganlab import toy  # noqa: E402
from ganlab.widgets.dashboard import TrainingDashboard  # noqa: E402
from ganlab.widgets.drawn_data import MIN_POINTS  # noqa: E402
from ganlab.widgets.scenarios import SCENARIOS  # noqa: E402


def state(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(net: torch.nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(a, b) for a, b in zip(net.parameters(), before))


def pointer(dash: TrainingDashboard, kind: str, x: float, y: float) -> None:
    """An ipyevents-style event at data point (x, y) of D's panel."""
    px, py = dash.painter.pixel_xy(x, y)
    dash.handle_pointer({"type": kind, "dataX": round(px), "dataY": round(py)})


def test_the_toggle_freezes_one_player(dash: TrainingDashboard) -> None:
    c, t = dash.controls, dash.trainer
    c["train"].value = "D"
    g, d = state(t.generator), state(t.discriminator)
    c["step"].click()
    assert same(t.generator, g) and not same(t.discriminator, d)
    assert "D only" in dash.frames[-1].label and t.step_count == 1
    g, d = state(t.generator), state(t.discriminator)
    frame = dash.advance(3, train="G")  # the plain twin takes the mode too
    assert c["train"].value == "G" and same(t.discriminator, d) and not same(t.generator, g)
    assert "G only (D frozen)" in frame.label
    c["reset"].click()  # a rebuilt run keeps the mode the toggle shows
    t = dash.trainer
    d = state(t.discriminator)
    dash.advance(2)
    assert same(t.discriminator, d)
    g, d = state(t.generator), state(t.discriminator)
    dash.advance(1, train="both")
    assert not same(t.generator, g) and not same(t.discriminator, d) and dash.frames[-1].label == ""
    with pytest.raises(ValueError, match="train mode 'D only' is unknown"):
        dash.advance(1, train="D only")


def test_d_only_keeps_gs_picture_and_moves_ds_map(dash: TrainingDashboard) -> None:
    before = dash.advance(5)
    after = dash.advance(10, train="D")
    np.testing.assert_array_equal(after.fake, before.fake)
    np.testing.assert_array_equal(after.grid_lines, before.grid_lines)
    assert np.abs(after.d_map - before.d_map).max() > 1e-3


def test_scenario_menu_sets_the_controls(dash: TrainingDashboard) -> None:
    c = dash.controls
    c["train"].value = "D"
    c["scenario"].value = "WGAN: weight clipping"
    t = dash.trainer
    assert (t.cfg.loss, t.cfg.clip, t.cfg.n_critic, t.cfg.optimizer) == ("wasserstein", 0.01, 5, "rmsprop")
    assert c["regulariser"].value == "weight clipping" and not c["reg_weight"].disabled
    assert c["train"].value == "both" and t.step_count == 0 and dash.stop_at == 150
    assert "±0.01" in c["watch"].value
    c["scenario"].value = "two-timescale rates"
    t = dash.trainer
    assert (t.cfg.loss, t.cfg.penalty, t.cfg.clip, t.cfg.lr_d) == ("non_saturating", "none", None, 4e-3)
    assert c["reg_weight"].disabled  # no regulariser: no weight to set
    c["scenario"].value = "(none)"
    assert dash.stop_at is None and c["watch"].value == ""
    with pytest.raises(ValueError, match="scenario 'bogus' is unknown"):
        dash.load_scenario("bogus")


def test_a_scenario_pauses_at_its_last_step(dash: TrainingDashboard) -> None:
    scenario = dash.load_scenario("two-timescale rates", seed=3)
    assert dash.seed == 3 and scenario is SCENARIOS["two-timescale rates"]
    dash.controls["start"].click()
    wait_until(lambda: not dash.running)
    assert dash.trainer.step_count == scenario.steps
    assert dash.controls["status"].value.startswith(f"scenario done at step {scenario.steps}")
    assert dash.controls["step_count"].value == f"step {scenario.steps}"
    dash.controls["start"].click()  # Start again goes on past it
    wait_until(lambda: dash.trainer.step_count > scenario.steps + 20)
    dash.pause()


def test_drawing_with_the_pointer_restarts_on_the_drawn_points(dash: TrainingDashboard) -> None:
    c = dash.controls
    stroke = [(-1.0, -1.0), (-0.5, -0.8), (0.0, -0.6), (0.5, -0.4)]
    pointer(dash, "mousedown", *stroke[0])  # Draw data is off: ignored
    pointer(dash, "mouseup", *stroke[0])
    assert dash.drawn is None
    c["draw"].value = True
    dash.advance(3)
    pointer(dash, "mousedown", *stroke[0])
    for xy in stroke[1:]:
        pointer(dash, "mousemove", *xy)
    pointer(dash, "mouseup", *stroke[-1])
    assert dash.drawn is None and f"draw at least {MIN_POINTS}" in c["status"].value  # 4 points: not yet
    pointer(dash, "mousedown", 1.0, 1.0)
    pointer(dash, "mousemove", 1e3, 1e3)  # outside D's panel: not a point
    pointer(dash, "mouseleave", 1.0, 1.0)  # leaving the picture ends the stroke
    drawn = np.array([*stroke, (1.0, 1.0)])
    np.testing.assert_allclose(dash.drawn, drawn, atol=0.03)  # within a pixel of where the pointer was
    t = dash.trainer
    assert t.step_count == 0 and "5 drawn points" in c["status"].value
    assert_close(t.data.means, torch.tensor(dash.drawn))
    real = dash.frames[-1].real
    assert np.abs(real[:, None, :] - drawn[None]).sum(-1).min(1).max() < 0.5  # the real dots are the drawing
    dash.advance(2)
    assert dash.trainer is t and t.step_count == 2
    c["clear_drawing"].click()
    assert dash.drawn is None and dash.trainer is not t
    assert_close(dash.trainer.data.means, toy.ring8().means)


def test_draw_data_twin_and_its_errors(dash: TrainingDashboard) -> None:
    points = np.random.default_rng(0).normal(size=(30, 2))
    dash.draw_data(points)
    assert_close(dash.trainer.data.means, torch.tensor(points))
    dash.advance(2, train="D")  # the other tools work on drawn data
    with pytest.raises(ValueError, match="finite"):
        dash.draw_data(np.full((10, 2), np.inf))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        dash.draw_data(np.zeros((10, 3)))
    dash.controls["dataset"].value = "grid25"  # the data menu replaces the drawing
    assert dash.drawn is None and dash.trainer.data.means.shape == (25, 2)


def test_rec_button_and_record_twin_save_gifs(dash: TrainingDashboard, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = dash.controls
    c["record"].value = True
    dash.advance(2)
    dash.advance(2, train="D")
    c["record"].value = False
    (saved,) = tmp_path.glob("ganlab-run-*.gif")
    with Image.open(saved) as gif:
        assert gif.n_frames == 3  # the picture when Rec was pressed, then two redraws
    assert str(saved.name) in c["status"].value and dash.recording is None
    c["steps_per_redraw"].value = 20
    path = dash.record(tmp_path / "twin.gif", 50)
    with Image.open(path) as gif:
        assert gif.n_frames == 4  # start + redraws after 20, 40 and 50 steps
    assert dash.trainer.step_count == 54
    with pytest.raises(ValueError, match="no frames to save"):
        dash.save_recording(tmp_path / "empty.gif")


def test_projector_size_enlarges_the_picture(dash: TrainingDashboard) -> None:
    def size() -> tuple[int, int]:
        return Image.open(io.BytesIO(dash.controls["plot"].value)).size

    normal = size()
    dash.controls["projector"].value = True
    big = size()
    assert big[0] > 1.3 * normal[0] and big[1] > 1.3 * normal[1]
    assert dash.painter.font_scale == 1.5 and dash.controls["status"].style.font_size == "20px"
    dash.advance(2)  # stays large after a redraw and a reset
    dash.controls["reset"].click()
    assert size() == big
    x, y = dash.painter.data_xy(*dash.painter.pixel_xy(0.3, -0.2))  # drawing still lands where the pointer is
    assert (x, y) == (pytest.approx(0.3, abs=1e-6), pytest.approx(-0.2, abs=1e-6))
    dash.set_projector(False)
    assert size() == normal and not dash.controls["projector"].value
