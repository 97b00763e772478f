"""Notebook 05's batched experiments (ganlab.experiments.mode_hopping) are the lone runs they replace.

Tolerance as in tests/test_batched.py: stacked products round differently from a lone ``addmm``; over these few
steps at these sizes the drift stays within 1e-6, and the tests allow 3e-5 on samples of O(1).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig, Trainer, toy
from ganlab.experiments.mode_hopping import fixed_samples, frozen_d_runs, hopping_runs, mean_d
from ganlab.metrics import mode_shares

RING = toy.get("ring8")
CFG = GANConfig(model="toy", dataset="ring8", image_shape=(2,), latent_dim=2, hidden_dim=16, batch_size=16,
                lr_g=1e-3, lr_d=1e-4, real_label=1.0, seed=0, device="cpu")
Z = torch.randn(40, 2, generator=torch.Generator().manual_seed(5))  # (40, 2) fixed noise
ATOL = 3e-5


def test_hopping_snapshots_are_each_lone_runs_samples_of_the_fixed_noise() -> None:
    seeds = [3, 7]
    hop = hopping_runs(CFG, seeds, steps=20, every=10, z=Z, modes=RING.modes, radius=0.25)
    assert list(hop.snapshots) == [10, 20] and hop.shares.shape == (2, 2, 8)
    for s, seed in enumerate(seeds):
        t = Trainer(dataclasses.replace(CFG, seed=seed), progress=False)
        for step in (10, 20):
            t.fit(steps=10, progress=False)
            lone = t.sample(40, Z)
            assert_close(hop.snapshots[step][s], lone, rtol=0.0, atol=ATOL)
            assert_close(hop.shares[s, step // 10 - 1], mode_shares(lone, RING.modes, 0.25))


def test_frozen_d_runs_step_only_the_generator_as_a_lone_run_does() -> None:
    seeds = [0, 1]
    cfg = dataclasses.replace(CFG, lr_d=4e-3)
    out = frozen_d_runs(cfg, seeds, train_steps=8, g_steps=5, g_lr=3e-3, z=Z)
    for s, seed in enumerate(seeds):
        t = Trainer(dataclasses.replace(cfg, seed=seed), progress=False)
        t.fit(steps=8, progress=False)
        assert_close(out["before"][s], t.sample(40, Z), rtol=0.0, atol=ATOL)
        d_weights = [p.detach().clone() for p in t.discriminator.parameters()]
        t.update(lr_g=3e-3)
        for _ in range(5):
            t.g_step(t, t.noise(cfg.batch_size))
        after = t.sample(40, Z)
        assert_close(out["after"][s], after, rtol=0.0, atol=ATOL)
        for before, now in zip(d_weights, t.discriminator.parameters()):
            assert_close(now, before, rtol=0.0, atol=0.0)  # the lone run's D did not move either
        with torch.no_grad():
            expected = torch.sigmoid(t.discriminator(after)).mean()
        assert_close(out["d_after"][s], expected, rtol=1e-5, atol=1e-6)
    assert not torch.equal(out["before"], out["after"])  # the generator steps did move G


def test_fixed_samples_and_mean_d_have_one_row_per_run() -> None:
    hop = hopping_runs(CFG, [0, 1, 2], steps=2, every=1, z=Z, modes=RING.modes, radius=0.25)
    x = fixed_samples(hop.batch, Z)
    assert x.shape == (3, 40, 2) and mean_d(hop.batch, x).shape == (3,)


@pytest.mark.parametrize("kwargs, match", [(dict(seeds=[]), "seeds is empty"),
                                           (dict(steps=25, every=10), "multiple of every")])
def test_bad_arguments_are_named(kwargs, match) -> None:
    args = dict(cfg=CFG, seeds=[0], steps=20, every=10, z=Z, modes=RING.modes, radius=0.25) | kwargs
    with pytest.raises(ValueError, match=match):
        hopping_runs(**args)
