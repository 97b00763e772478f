"""The training dashboard driven headless: set .value, .click(), assert on the trainer and the plotted data."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from torch.testing import assert_close

pytest.importorskip("ipywidgets")

from dashboard_support import wait_until  # noqa: E402

from ganlab import GANConfig, Trainer  # noqa: E402
from ganlab.remedies import REMEDIES  # noqa: E402
from ganlab.widgets.dashboard import TrainingDashboard  # noqa: E402
from ganlab.widgets.dashboard_controls import regulariser_fields, settings_config  # noqa: E402
from ganlab.widgets.dashboard_draw import render  # noqa: E402
from ganlab.widgets.dashboard_scene import RESOLUTION, blurred_jsd, pointwise  # noqa: E402

CLASSES = ("start", "pause", "step", "reset", "loss", "lr-d", "lr-g", "optimizer", "n-critic", "batch-size",
           "regulariser", "reg-weight", "remedy", "instance-noise", "dataset", "steps-per-redraw", "slow-motion",
           "step-count", "plot", "diagnostics", "status", "error", "train", "scenario", "watch", "draw",
           "clear-drawing", "record", "projector", "class-view")






def test_every_part_has_a_stable_css_class(dash: TrainingDashboard) -> None:
    for name in CLASSES:
        found = [w for w in dash.controls.values() if f"ganlab-{name}" in w._dom_classes]
        assert len(found) == 1, name
    assert "ganlab-dashboard" in dash.widget._dom_classes
    assert dash.controls["step_count"].value == "step 0"
    assert dash.controls["plot"].value[:8] == b"\x89PNG\r\n\x1a\n"


def test_knobs_change_the_trainer(dash: TrainingDashboard) -> None:
    c, t = dash.controls, dash.trainer
    c["lr_d"].value, c["lr_g"].value = 1e-2, 1e-4
    assert t.cfg.lr_d == pytest.approx(1e-2) and t.opt_d.param_groups[0]["lr"] == pytest.approx(1e-2)
    assert t.cfg.lr_g == pytest.approx(1e-4) and t.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)
    c["loss"].value = "minimax"
    c["n_critic"].value = 3
    c["batch_size"].value = 32
    c["instance_noise"].value = 0.1
    c["optimizer"].value = "rmsprop"
    assert (t.cfg.loss, t.cfg.n_critic, t.cfg.batch_size, t.cfg.optimizer) == ("minimax", 3, 32, "rmsprop")
    assert t.cfg.instance_noise == pytest.approx(0.1) and isinstance(t.opt_d, torch.optim.RMSprop)
    dash.step()
    assert t.history["d_loss"] and t.step_count == 1


def test_regulariser_menu(dash: TrainingDashboard) -> None:
    c, t = dash.controls, dash.trainer
    c["regulariser"].value = "R1"
    assert (t.cfg.penalty, t.cfg.penalty_weight) == ("r1", 1.0) and not c["reg_weight"].disabled
    c["reg_weight"].value = 10.0
    assert t.cfg.penalty_weight == pytest.approx(10.0)
    c["regulariser"].value = "weight clipping"
    assert t.cfg.penalty == "none" and t.cfg.clip == pytest.approx(0.1)
    params = {id(p) for p in t.discriminator.parameters()}
    c["regulariser"].value = "spectral norm"
    assert t.cfg.spectral_norm and t.cfg.clip is None and c["reg_weight"].disabled
    assert any("parametrizations" in n for n, _ in t.discriminator.named_parameters())
    assert {id(p) for p in t.discriminator.parameters()} == params  # the optimizer still holds D's parameters
    dash.advance(2)
    c["regulariser"].value = "none"
    assert not any("parametrizations" in n for n, _ in t.discriminator.named_parameters())
    dash.advance(1)
    assert t.step_count == 3
    assert regulariser_fields("gradient penalty", 5.0) == {"penalty": "gp", "penalty_weight": 5.0, "clip": None,
                                                           "spectral_norm": False}
    with pytest.raises(ValueError, match="regulariser"):
        regulariser_fields("dropout", 1.0)


@pytest.mark.parametrize("remedy", ["pack", "minibatch_std", "unrolled", "replay"])
def test_remedy_menu_rebuilds_the_run_with_that_remedy(dash: TrainingDashboard, remedy: str) -> None:
    dash.advance(3)
    dash.controls["remedy"].value = remedy
    t = dash.trainer
    assert t.step_count == 0 and t.cfg.extra["remedies"] == {remedy: REMEDIES[remedy].defaults}
    frame = dash.advance(2)
    assert t.step_count == 2
    assert frame.d_map.shape == (RESOLUTION, RESOLUTION) and np.isfinite(frame.d_map).all()
    assert np.isfinite(frame.arrow_uv).all()
    dash.controls["remedy"].value = "none"
    assert dash.trainer.cfg.extra["remedies"] == {}


def test_packed_d_is_drawn_point_by_point(dash: TrainingDashboard) -> None:
    dash.controls["remedy"].value = "pack"
    frame = dash.advance(1)
    D = dash.trainer.discriminator
    D.eval()
    xy = torch.tensor([[0.3, -0.2], [1.0, 0.0]])
    with torch.no_grad():
        one_point = torch.sigmoid(D(xy[1:].repeat(D.pack, 1)))  # a pack of copies of (1, 0)
    with torch.no_grad():
        assert torch.sigmoid(pointwise(D)(xy))[1].item() == pytest.approx(one_point.item(), abs=1e-6)
    assert frame.d_map.shape == (RESOLUTION, RESOLUTION)
    with pytest.raises(ValueError, match="remedy 'bogus' is unknown"):
        settings_config({**dash.settings(), "remedy": "bogus"})


def test_step_advances_exactly_one_update(dash: TrainingDashboard) -> None:
    before = [p.detach().clone() for p in dash.trainer.generator.parameters()]
    dash.controls["step"].click()
    assert dash.trainer.step_count == 1 and len(dash.trainer.history["g_loss"]) == 1
    assert dash.controls["step_count"].value == "step 1"
    assert any(not torch.equal(a, b) for a, b in zip(before, dash.trainer.generator.parameters()))


def test_slow_motion_shows_d_then_g_update(dash: TrainingDashboard) -> None:
    dash.advance(3)
    dash.controls["slow_motion"].value = True
    dash.controls["n_critic"].value = 2
    dash.controls["step"].click()
    before, d1, d2, after = list(dash.frames)[-4:]
    assert [f.label for f in (d1, d2, after)] == ["slow motion: D update 1/2", "slow motion: D update 2/2",
                                                 "slow motion: G update"]
    assert dash.trainer.step_count == 4 and after.step == 4
    np.testing.assert_array_equal(d2.fake, before.fake)  # D moved, G did not yet
    assert not np.array_equal(d1.d_map, before.d_map) and not np.array_equal(d2.d_map, d1.d_map)
    assert not np.array_equal(after.fake, d2.fake)  # then G moved
    np.testing.assert_array_equal(after.d_map, d2.d_map)


def test_plotted_data_is_the_trainer_state(dash: TrainingDashboard) -> None:
    frame = dash.advance(5)
    t, scene = dash.trainer, dash.scene
    with torch.no_grad():
        fake = t.generator(scene.fake_noise)
        d_map = torch.sigmoid(t.discriminator(scene.grid_xy)).reshape(RESOLUTION, RESOLUTION)
    assert_close(torch.from_numpy(frame.fake), fake)
    assert_close(torch.from_numpy(frame.d_map), d_map)
    x = fake[:len(frame.arrow_xy)].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(t.objective.g_loss(t.discriminator(x)) * len(x), x)
    assert_close(torch.from_numpy(frame.arrow_uv), -grad)
    assert frame.grid_lines.shape == (18, 40, 2) and frame.history["d_loss"] == t.history["d_loss"]
    assert frame.divergence[-1] == (5, pytest.approx(blurred_jsd(scene, fake)))
    assert 0 <= frame.jsd_floor < 0.05 < frame.divergence[-1][1] <= 1  # an untrained G is far off
    assert render(frame)[:4] == b"\x89PNG"


def test_advance_charts_the_divergence_between_redraws(dash: TrainingDashboard) -> None:
    dash.controls["steps_per_redraw"].value = 20
    frame = dash.advance(40)
    assert [step for step, _ in frame.divergence] == [0, 20, 40]
    assert len(dash.frames) == 2  # one redraw at construction, one at the end of advance


def test_dashboard_trains_like_a_plain_trainer(dash: TrainingDashboard) -> None:
    """Drawing uses its own random stream: the dashboard's run is the Trainer's run."""
    dash.advance(20)
    plain = Trainer(settings_config(dash.settings(), device="cpu"), progress=False)
    plain.fit(steps=20)
    for a, b in zip(dash.trainer.generator.parameters(), plain.generator.parameters()):
        assert_close(a, b)


def test_start_pause_and_a_second_start(dash: TrainingDashboard) -> None:
    c = dash.controls
    c["start"].click()
    assert dash.running and c["start"].disabled and not c["pause"].disabled
    wait_until(lambda: dash.trainer.step_count >= 30)
    assert dash.start() is False and dash.runner.loops_started == 1  # never a second loop
    c["pause"].click()
    assert not dash.running and not c["start"].disabled
    stopped = dash.trainer.step_count
    time.sleep(0.2)
    assert dash.trainer.step_count == stopped  # nothing runs after Pause returns
    assert c["step_count"].value == f"step {stopped}" and c["status"].value == "paused"
    c["start"].click()
    wait_until(lambda: dash.trainer.step_count > stopped)
    dash.pause()
    assert dash.runner.loops_started == 2


def test_a_knob_waits_for_the_step_in_progress(dash: TrainingDashboard) -> None:
    """While the loop holds the trainer, a change is queued and applied right before the next step."""
    holding, release = threading.Event(), threading.Event()

    def busy_loop() -> None:
        with dash._lock:
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=busy_loop)
    worker.start()
    holding.wait(10)
    before = dash.trainer.cfg.lr_d
    dash.controls["lr_d"].value = 5e-3  # returns at once although the trainer is busy
    assert dash.trainer.cfg.lr_d == before != 5e-3
    release.set()
    worker.join()
    dash.advance(1)
    assert dash.trainer.cfg.lr_d == pytest.approx(5e-3)


def test_an_error_in_the_loop_is_shown(dash: TrainingDashboard) -> None:
    def broken_step() -> None:
        raise RuntimeError("boom at step 0")

    dash.trainer.step = broken_step
    dash.controls["start"].click()
    wait_until(lambda: not dash.running)
    assert "boom at step 0" in dash.controls["error"].value and "RuntimeError" in dash.controls["error"].value
    assert dash.controls["status"].value == "stopped by an error" and not dash.controls["start"].disabled


def test_an_interrupt_in_the_loop_is_shown_as_one(dash: TrainingDashboard) -> None:
    def interrupted_step() -> None:
        raise KeyboardInterrupt

    dash.trainer.step = interrupted_step
    dash.controls["start"].click()
    wait_until(lambda: not dash.running)
    error = dash.controls["error"].value
    assert "Training interrupted" in error and "KeyboardInterrupt" in error and "Reset" in error
    assert dash.controls["status"].value == "interrupted" and not dash.controls["start"].disabled


def test_a_new_dashboard_stops_the_old_ones_loop() -> None:
    """Re-running the cell that builds a dashboard must not leave the old one training unseen."""
    first = TrainingDashboard("ring8", device="cpu", max_fps=0.5)
    second = None
    try:
        first.start()
        wait_until(lambda: first.trainer.step_count >= 5)
        thread = first.runner._thread
        second = TrainingDashboard("ring8", device="cpu", max_fps=0.5)  # the same cell, run again
        assert not thread.is_alive() and not first.running  # stopped and joined by the time it is built
        stopped = first.trainer.step_count
        assert "another dashboard took over" in first.controls["status"].value and not first.controls["error"].value
        second.start()
        wait_until(lambda: second.trainer.step_count >= 5)
        assert first.trainer.step_count == stopped
        first.start()  # Start on the old one takes the loop back: never two loops at once
        assert not second.running and "another dashboard took over" in second.controls["status"].value
        assert first.controls["status"].value.startswith("running")
        wait_until(lambda: first.trainer.step_count > stopped)
    finally:
        first.close()
        if second is not None:
            second.close()


def test_reset_rebuilds_and_dataset_switches(dash: TrainingDashboard) -> None:
    dash.advance(5)
    old = dash.trainer
    dash.controls["reset"].click()
    assert dash.trainer is not old and dash.trainer.step_count == 0 and dash.controls["step_count"].value == "step 0"
    fresh = Trainer(GANConfig(**{**dash.trainer.cfg.to_dict()}), progress=False)
    for a, b in zip(dash.trainer.generator.parameters(), fresh.generator.parameters()):
        assert_close(a, b)
    dash.controls["dataset"].value = "grid25"
    assert dash.trainer.cfg.dataset == "grid25" and dash.frames[-1].box[1] > 4


def test_image_dataset_shows_a_sample_grid(dash: TrainingDashboard) -> None:
    from ganlab.data import DatasetNotFoundError, find_dataset

    try:
        find_dataset("fashion_mnist")
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not on this machine (run `make data`)")
    dash.controls["dataset"].value = "fashion_mnist"
    frame = dash.advance(2)
    assert dash.trainer.cfg.model == "mlp" and dash.trainer.cfg.lr_d == pytest.approx(2e-4)
    assert frame.images.shape == (8 * 30 + 2, 8 * 30 + 2, 3) and frame.fake is None


def test_diagnostics_line_names_a_pattern(dash: TrainingDashboard) -> None:
    assert dash.advance(1).diagnostics == "No failure pattern in the recent steps."  # too short to judge
    history = dash.trainer.history
    n = 300
    history.update(d_real=[0.99] * n, d_fake=[0.01] * n, d_loss=[0.02] * n, g_loss=list(np.linspace(1, 8, n)),
                   d_grad_norm=[1.0] * n, g_grad_norm=[1.0] * n)
    frame = dash.redraw()
    assert "pinned" in frame.diagnostics and "D(real) and D(fake)" in dash.controls["diagnostics"].value


def test_a_divergence_puts_the_restored_config_back_on_the_knobs(dash: TrainingDashboard) -> None:
    from ganlab.train import TrainingDiverged

    dash.trainer.check_every = 10
    dash.advance(10)  # a checked good state at the starting rates
    start_lr = dash.trainer.cfg.lr_d
    dash.controls["optimizer"].value = "sgd"
    dash.controls["lr_d"].value = dash.controls["lr_d"].max  # as far as the slider goes
    dash.controls["lr_g"].value = dash.controls["lr_g"].max
    dash.trainer.update(lr_d=1e3, lr_g=1e3)  # beyond the slider: diverges within a few steps
    with pytest.raises(TrainingDiverged):
        dash.advance(200)
    assert dash.trainer.cfg.optimizer == "adam" and dash.trainer.cfg.lr_d == start_lr
    assert dash.controls["optimizer"].value == "adam"
    assert dash.controls["lr_d"].value == pytest.approx(start_lr)
    dash.advance(5)  # and it trains on from there
    assert dash.trainer.step_count >= 15
