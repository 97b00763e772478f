"""ganlab.widgets.lipschitz: switching the Lipschitz method live, the captured picture, the widget's wiring."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrize

from ganlab.widgets.lipschitz import capture, current_method, lipschitz_trainer, set_lipschitz, show_lipschitz


def small(method: str = "gp", strength: float | None = None):
    return lipschitz_trainer(method, strength, device="cpu", hidden_dim=16, batch_size=32, n_critic=1)


def normalised(trainer) -> bool:
    return any(parametrize.is_parametrized(m, "weight") for m in trainer.discriminator.modules())


def test_switching_changes_only_the_constraint() -> None:
    t = small("gp", 10.0)
    lr, optimizer = t.cfg.lr_d, t.cfg.optimizer
    t.fit(steps=2)
    set_lipschitz(t, "clip", 0.02)
    assert (t.cfg.clip, t.cfg.penalty, t.cfg.loss) == (0.02, "none", "wasserstein")
    assert (t.cfg.lr_d, t.cfg.optimizer) == (lr, optimizer)  # the recipe's RMSprop is not switched in
    t.fit(steps=1)
    assert all(p.abs().max() <= 0.02 for p in t.discriminator.parameters())
    assert current_method(t) == ("clip", 0.02)


def test_spectral_norm_on_and_off_keeps_the_optimised_parameters() -> None:
    t = small("lp")
    before = {id(p) for p in t.discriminator.parameters()}
    set_lipschitz(t, "sn")
    assert normalised(t) and t.cfg.spectral_norm and t.cfg.loss == "hinge"
    assert {id(p) for p in t.discriminator.parameters()} == before  # Adam's moments still belong to them
    t.fit(steps=2)
    set_lipschitz(t, "gp", 0.1)
    assert not normalised(t) and t.cfg.penalty == "gp" and t.cfg.penalty_weight == 0.1
    t.fit(steps=1)
    assert current_method(t) == ("gp", 0.1)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="Lipschitz"):
        set_lipschitz(small(), "lsgan")


def test_capture_measures_without_touching_the_run() -> None:
    t = small("lp", 10.0)
    t.fit(steps=2)
    state = torch.random.get_rng_state()
    frame = capture(t, n=64, resolution=9)
    assert torch.equal(state, torch.random.get_rng_state())  # no global random draws
    assert frame.values.shape == (9, 9) and frame.fake.shape == (64, 2) and frame.slopes.shape == (64,)
    assert np.isfinite(frame.estimate) and frame.step == 2
    assert "lp" in frame.summary and "λ = 10" in frame.summary


def test_show_lipschitz_draws_two_panels() -> None:
    import matplotlib.pyplot as plt

    frame = show_lipschitz(small("none"))
    assert frame.method == "none"
    plt.close("all")


def test_widget_wiring_headless() -> None:
    pytest.importorskip("ipywidgets")
    from ganlab.widgets.lipschitz import LipschitzLab

    lab = LipschitzLab(small("gp", 10.0), steps_per_frame=2)
    assert lab.image.value[:4] == b"\x89PNG" and "gp" in lab.status.value
    lab.method.value = "sn"
    assert lab.strength.disabled and lab.trainer.cfg.spectral_norm
    lab.method.value = "clip"
    assert not lab.strength.disabled and lab.trainer.cfg.clip == pytest.approx(0.01)
    lab.strength.value = 0.1
    assert lab.trainer.cfg.clip == pytest.approx(0.1)
    frame = lab.advance(3)
    assert frame.step == 3 and frame.method == "clip"
