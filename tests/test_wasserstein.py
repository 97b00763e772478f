"""ganlab.wasserstein: exact W₁ values, the recipes, critic fitting and quality tracking."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig, Trainer, toy
from ganlab.wasserstein import (
    LIPSCHITZ,
    RECIPES,
    QualityTracker,
    critic_map,
    field_on_grid,
    fit_critic,
    get_recipe,
    make_critic,
    optimal_critic_1d,
    recipe_config,
    ring_quality,
    slopes,
    w1_1d,
    w1_assignment,
    window_means,
)


def test_w1_1d_closed_forms() -> None:
    assert w1_1d(toy.gaussian(0.0, 1.0), toy.gaussian(2.5, 1.0)) == pytest.approx(2.5, abs=1e-4)
    # Quantile map x ↦ 2x: W₁ = E|2X − X| = E|X| = √(2/π).
    assert w1_1d(toy.gaussian(0.0, 1.0), toy.gaussian(0.0, 2.0)) == pytest.approx(math.sqrt(2 / math.pi), abs=1e-5)
    assert w1_1d(toy.uniform(0.0, 1.0), toy.uniform(3.0, 4.0), points=40_001) == pytest.approx(3.0, abs=2e-4)


def test_w1_1d_refuses_2d() -> None:
    with pytest.raises(ValueError, match="1-D"):
        w1_1d(toy.ring8(), toy.gaussian(0.0, 1.0))


def test_optimal_critic_reaches_w1_with_unit_slopes() -> None:
    p, q = toy.mixture([-2.0, 2.0], 0.5), toy.gaussian(0.0, 1.0)
    x = torch.linspace(-12, 12, 48_001, dtype=torch.float64)[:, None]
    f = optimal_critic_1d(p, q, x)
    dx = float(x[1, 0] - x[0, 0])
    gap = float(((p.prob(x) - q.prob(x)) * f).sum() * dx)
    assert gap == pytest.approx(w1_1d(p, q), rel=1e-5)
    slope = torch.diff(f) / dx
    assert_close(slope.abs().max(), torch.tensor(1.0, dtype=torch.float64))


def test_w1_assignment_matches_sorting_in_1d() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 1, generator=g), 1.0 + 2.0 * torch.randn(64, 1, generator=g)
    expected = (a[:, 0].sort().values - b[:, 0].sort().values).abs().mean()
    assert w1_assignment(a, b) == pytest.approx(float(expected), rel=1e-6)
    shift = torch.tensor([[3.0, 4.0]])
    assert w1_assignment(a.expand(-1, 2), a.expand(-1, 2) + shift) == pytest.approx(5.0, rel=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        w1_assignment(a, b[:10])


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_builds_a_valid_config(name: str) -> None:
    for dataset in ("ring8", "fashion_mnist"):
        cfg = recipe_config(name, dataset=dataset, device="cpu")
        assert isinstance(cfg, GANConfig) and cfg.n_critic == 5
    recipe = get_recipe(name)
    assert recipe.lipschitz == (name in LIPSCHITZ)


def test_recipe_strengths_land_in_the_right_field() -> None:
    assert recipe_config("clip", 0.05, device="cpu").clip == 0.05
    gp = recipe_config("gp", 0.1, device="cpu")
    assert (gp.penalty, gp.penalty_weight, gp.loss, gp.betas) == ("gp", 0.1, "wasserstein", (0.0, 0.9))
    sn = recipe_config("sn", device="cpu")
    assert sn.spectral_norm and sn.loss == "hinge" and sn.penalty == "none" and sn.clip is None
    assert recipe_config("clip", device="cpu").optimizer == "rmsprop"  # Arjovsky et al.: no momentum
    with pytest.raises(ValueError, match="unknown"):
        get_recipe("wgan-div")


def test_fit_critic_estimates_a_shift() -> None:
    p, q = toy.gaussian(0.0, 1.0), toy.gaussian(2.0, 1.0)
    fit = fit_critic(p, q, "lp", 100.0, steps=150, batch_size=256)
    # The soft penalty overshoots by at most μ/(2λ) = 1 %; 150 steps leave a little optimisation error on top.
    assert fit.estimate == pytest.approx(2.0, rel=0.05)
    assert fit.trace.shape == (150,)
    x = torch.linspace(-1.0, 3.0, 41)[:, None]
    assert_close(slopes(fit.critic, x).median(), torch.tensor(1.0), atol=0.1, rtol=0)


def test_fit_critic_rejects_a_method_that_bounds_nothing() -> None:
    with pytest.raises(ValueError, match="slope"):
        fit_critic(toy.gaussian(0.0, 1.0), toy.gaussian(1.0, 1.0), "lsgan", steps=1)


def test_clipped_critic_stays_in_the_box() -> None:
    fit = fit_critic(toy.gaussian(0.0, 1.0), toy.gaussian(1.0, 1.0), "clip", 0.05, steps=20, batch_size=64)
    assert all(p.abs().max() <= 0.05 for p in fit.critic.parameters())


def test_make_critic_starts_flat() -> None:
    x = torch.randn(8, 2)
    assert_close(make_critic(2)(x), torch.zeros(8))
    sn = make_critic(2, spectral_norm=True)  # SN cannot start from a zero matrix; it is left at the default
    assert torch.isfinite(sn(x)).all()


def test_field_on_grid_is_indexed_x_then_y() -> None:
    xs, ys, values = field_on_grid(lambda p: p[:, 0] + 10 * p[:, 1], (0.0, 1.0, -1.0, 1.0), resolution=5)
    assert values.shape == (5, 5)
    assert_close(values[:, 0], xs + 10 * ys[0])
    assert_close(values[0, :], xs[0] + 10 * ys)


def test_window_means_by_hand() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    np.testing.assert_allclose(window_means(values, np.array([2, 4, 6]), 2), [1.5, 3.5, 5.5])
    np.testing.assert_allclose(window_means(values, np.array([1]), 3), [1.0])


def test_tracking_leaves_the_training_stream_alone() -> None:
    ring = toy.ring8()
    cfg = recipe_config("lp", device="cpu", hidden_dim=16, batch_size=32, n_critic=1)
    plain, tracked = Trainer(cfg, progress=False), Trainer(cfg, progress=False)
    track = QualityTracker(ring_quality(ring, n=64, n_w1=32), every=2)
    tracked.add_callback("on_step_end", track)
    plain.fit(steps=4)
    tracked.fit(steps=4)
    assert plain.history["d_loss"] == tracked.history["d_loss"]
    assert track.column("step").tolist() == [2.0, 4.0]
    assert {"modes", "high_quality", "reverse_kl", "w1"} <= set(track.records[0])
    xs, ys, values = critic_map(tracked, resolution=7)
    assert values.shape == (7, 7) and tracked.discriminator.training
