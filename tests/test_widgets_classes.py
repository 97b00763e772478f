"""The dashboard's class-conditional toy driven headless: the data menu, the class picker and its twin, the plotted
data against the trainer, and the existing controls (where they apply, and the message where they do not)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch.testing import assert_close

pytest.importorskip("ipywidgets")
pytest.importorskip("ipyevents")

from PIL import Image  # noqa: E402

from ganlab.conditional import ConditionalTrainer  # noqa: E402
from ganlab.widgets.dashboard import TrainingDashboard  # noqa: E402
from ganlab.widgets.dashboard_classes import ALL, ClassFrame, ClassScene, class_jsd  # noqa: E402
from ganlab.widgets.dashboard_classes_draw import ClassPainter  # noqa: E402
from ganlab.widgets.dashboard_controls import settings_config  # noqa: E402
from ganlab.widgets.dashboard_scene import N_ARROWS, RESOLUTION  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def dash() -> Iterator[TrainingDashboard]:
    d = TrainingDashboard("ring8", device="cpu", max_fps=0.5, slow_delay=0.0)
    d.controls["dataset"].value = "ring8_classes"
    yield d
    d.close()


def params(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(net: torch.nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(a, b) for a, b in zip(net.parameters(), before))


def test_the_data_menu_switches_to_a_conditional_run_and_back(dash: TrainingDashboard) -> None:
    c = dash.controls
    assert "ganlab-class-view" in c["class_view"]._dom_classes
    assert isinstance(dash.trainer, ConditionalTrainer) and dash.trainer.toy and not c["error"].value
    assert [v for _, v in c["class_view"].options] == [ALL, 0, 1, 2, 3] and not c["class_view"].disabled
    assert c["remedy"].disabled and c["draw"].disabled  # they need unlabelled data
    c["dataset"].value = "grid25_rows"
    assert [v for _, v in c["class_view"].options] == [ALL, 0, 1, 2, 3, 4]
    c["dataset"].value = "ring8"
    assert not isinstance(dash.trainer, ConditionalTrainer) and not isinstance(dash.scene, ClassScene)
    assert c["class_view"].disabled and not c["remedy"].disabled and not c["draw"].disabled
    with pytest.raises(ValueError, match="pick one of .*ring8_classes.* in the data menu"):
        dash.show_class(1)


def test_all_classes_view_is_the_trainers_state(dash: TrainingDashboard) -> None:
    frame = dash.advance(5)
    t, scene = dash.trainer, dash.scene
    assert isinstance(frame, ClassFrame) and frame.shown == ALL
    np.testing.assert_array_equal(frame.fake_labels[:8], [0, 1, 2, 3, 0, 1, 2, 3])
    labels = torch.from_numpy(frame.fake_labels)
    with torch.no_grad():
        fake = t.generator(scene.fake_noise, labels)
        maps = [torch.sigmoid(t.discriminator(scene.grid_xy, torch.full((RESOLUTION**2,), y))) for y in range(4)]
    assert_close(torch.from_numpy(frame.fake), fake)
    assert_close(torch.from_numpy(frame.d_map), torch.stack(maps).mean(0).reshape(RESOLUTION, RESOLUTION))
    assert frame.grid_lines.shape == (4 * 18, 40, 2) and list(np.unique(frame.grid_labels)) == [0, 1, 2, 3]
    # real points carry the class of the mode they sit on
    nearest = torch.cdist(torch.from_numpy(frame.real).double(), t.data.means).argmin(1)
    np.testing.assert_array_equal(t.data.component_labels[nearest].numpy(), frame.real_labels)


def test_the_picker_shows_one_class_without_training(dash: TrainingDashboard) -> None:
    dash.advance(5)
    t, c = dash.trainer, dash.controls
    g, d = params(t.generator), params(t.discriminator)
    c["class_view"].value = 2
    frame = dash.frames[-1]
    assert frame.shown == 2 and (frame.fake_labels == 2).all() and t.step_count == 5
    assert same(t.generator, g) and same(t.discriminator, d)  # the picker only changes the picture
    y = torch.full((len(frame.fake),), 2)
    with torch.no_grad():
        fake = t.generator(dash.scene.fake_noise, y)
        d_map = torch.sigmoid(t.discriminator(dash.scene.grid_xy, torch.full((RESOLUTION**2,), 2)))
    assert_close(torch.from_numpy(frame.fake), fake)
    assert_close(torch.from_numpy(frame.d_map), d_map.reshape(RESOLUTION, RESOLUTION))
    x = fake[:N_ARROWS].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(t.objective.g_loss(t.discriminator(x, y[:N_ARROWS])) * N_ARROWS, x)
    assert_close(torch.from_numpy(frame.arrow_uv), -grad)
    assert frame.grid_lines.shape == (18, 40, 2) and (frame.grid_labels == 2).all()
    assert "class 2 · N/S" in dash.painter.plane_ax.get_title()
    assert dash.show_class(None).shown == ALL and c["class_view"].value == ALL  # the twin moves the picker
    assert dash.show_class(3).shown == 3 and c["class_view"].value == 3
    for bad in (4, -2, 1.5):
        with pytest.raises(ValueError, match=r"use 0..3 or None"):
            dash.show_class(bad)
    dash.controls["reset"].click()  # a rebuild on the same data keeps the class shown
    assert dash.frames[-1].shown == 3 and dash.trainer.step_count == 0


def test_the_chart_is_the_class_mean_jsd(dash: TrainingDashboard) -> None:
    dash.controls["steps_per_redraw"].value = 10
    frame = dash.advance(20)
    assert [s for s, _ in frame.divergence] == [0, 10, 20]
    assert frame.divergence[-1][1] == pytest.approx(class_jsd(dash.trainer, dash.scene))
    assert 0 <= frame.jsd_floor < 0.05 < frame.divergence[0][1] <= 1  # bits: finite (a float32 subnormal gave inf)


def test_dashboard_trains_like_a_plain_conditional_trainer(dash: TrainingDashboard) -> None:
    dash.advance(20)
    plain = ConditionalTrainer(settings_config(dash.settings(), device="cpu"), progress=False)
    plain.fit(steps=20)
    for a, b in zip(dash.trainer.generator.parameters(), plain.generator.parameters()):
        assert_close(a, b)


def test_knobs_train_mode_and_slow_motion_work_on_the_conditional_run(dash: TrainingDashboard) -> None:
    c, t = dash.controls, dash.trainer
    c["lr_d"].value, c["loss"].value, c["n_critic"].value = 1e-2, "hinge", 2
    assert (t.cfg.lr_d, t.cfg.loss, t.cfg.n_critic) == (pytest.approx(1e-2), "hinge", 2)
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(1e-2)
    c["train"].value = "D"
    g, d = params(t.generator), params(t.discriminator)
    c["step"].click()
    assert same(t.generator, g) and not same(t.discriminator, d) and t.step_count == 1
    c["train"].value = "both"
    c["slow_motion"].value = True
    c["step"].click()
    assert [f.label for f in list(dash.frames)[-3:]] == ["slow motion: D update 1/2", "slow motion: D update 2/2",
                                                        "slow motion: G update"]
    c["regulariser"].value = "spectral norm"
    assert t.cfg.spectral_norm and not c["error"].value
    dash.advance(2)
    assert t.step_count == 4


def test_controls_that_do_not_apply_say_why(dash: TrainingDashboard) -> None:
    c = dash.controls
    c["regulariser"].value = "R1"
    assert "spectral norm or weight clipping" in c["error"].value and dash.trainer.cfg.penalty == "none"
    c["regulariser"].value = "none"
    c["remedy"].value = "pack"  # the menu is disabled; set from code it still explains itself
    assert "set the mode remedy to none" in c["error"].value
    c["remedy"].value = "none"
    with pytest.raises(ValueError, match="drawn points have no classes"):
        dash.draw_data(np.random.default_rng(0).normal(size=(20, 2)))


def test_recording_projector_and_scenario_on_the_conditional_run(dash: TrainingDashboard, tmp_path) -> None:
    dash.controls["steps_per_redraw"].value = 5
    saved = dash.record(tmp_path / "classes.gif", steps=10)
    with Image.open(saved) as gif:
        assert gif.n_frames == 3
    dash.show_class(1)
    dash.set_projector(True)
    assert isinstance(dash.painter, ClassPainter) and dash.frames[-1].shown == 1
    with Image.open(io.BytesIO(dash.controls["plot"].value)) as png:
        assert png.size == (1200, 680)
    dash.controls["dataset"].value = "ring8"
    dash.controls["scenario"].value = "conditioning works"
    assert dash.controls["dataset"].value == "ring8_classes" and isinstance(dash.scene, ClassScene)
    assert dash.stop_at == 400 and "Watch:" in dash.controls["watch"].value
    assert not dash.controls["class_view"].disabled


def test_the_painter_switches_between_plain_and_class_frames(dash: TrainingDashboard) -> None:
    class_frame = dash.advance(1)
    dash.controls["dataset"].value = "ring8"
    plain_frame = dash.frames[-1]
    painter = ClassPainter()
    for frame in (class_frame, plain_frame, class_frame):
        assert painter.png(frame)[:4] == b"\x89PNG"
    assert painter._classes and len(painter.fake_dots.get_offsets()) == len(class_frame.fake)


@pytest.mark.parametrize("scheme", ["projection", "acgan"])
def test_capture_draws_the_other_toy_schemes(scheme: str) -> None:
    """The picture works for every toy scheme; AC-GAN's map is its source head, which never reads the label."""
    from ganlab.conditional.toy import toy_config
    from ganlab.widgets.dashboard_classes import capture, make_scene

    t = ConditionalTrainer(toy_config("ring8_classes", scheme, hidden_dim=8, batch_size=32, device="cpu"),
                           progress=False)
    t.fit(steps=2)
    scene = make_scene(t, 0)
    scene.shown = 1
    frame = capture(t, scene)
    with torch.no_grad():
        out = t.discriminator(scene.grid_xy) if scheme == "acgan" else \
            t.discriminator(scene.grid_xy, torch.full((RESOLUTION**2,), 1))
    logits = out[0] if scheme == "acgan" else out
    assert_close(torch.from_numpy(frame.d_map), torch.sigmoid(logits).reshape(RESOLUTION, RESOLUTION))
    assert np.isfinite(frame.arrow_uv).all() and np.abs(frame.arrow_uv).sum() > 0
    assert ClassPainter().png(frame)[:4] == b"\x89PNG"
