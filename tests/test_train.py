import math

import pytest
import torch

from ganlab import GANConfig, Trainer, TrainingDiverged
from ganlab.train import STATS


def small_cfg(**kw):
    base = dict(device="cpu", hidden_dim=8, latent_dim=8, batch_size=16, seed=1)
    return GANConfig(**{**base, **kw})


def make(tiny_images, **kw):
    return Trainer(small_cfg(**kw), data=tiny_images, progress=False, check_every=5)


def test_discriminator_learns_an_easy_case(tiny_images):
    # G is frozen at its random start (outputs near 0) and the data sit at +0.5: linearly separable,
    # so D alone must learn to tell them apart within a few dozen steps.
    trainer = make(tiny_images.abs(), lr_d=2e-3, lr_g=1e-12, real_label=1.0, extra={"dropout": 0.0})
    trainer.fit(steps=40)
    losses = trainer.history["d_loss"]
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert trainer.history["d_real"][-1] > 0.8 and trainer.history["d_fake"][-1] < 0.2


def test_history_has_one_entry_per_step_and_is_finite(tiny_images):
    trainer = make(tiny_images)
    trainer.fit(steps=7)
    assert trainer.step_count == 7
    assert all(len(trainer.history[k]) == 7 for k in STATS)
    assert all(math.isfinite(v) for k in STATS for v in trainer.history[k])


def test_n_critic_and_epoch_bookkeeping(tiny_images):
    trainer = make(tiny_images, n_critic=2, batch_size=32)
    assert trainer.steps_per_epoch == 256 // 64
    events = []
    trainer.add_callback("on_epoch_end", lambda t: events.append(("epoch", t.epoch)))
    trainer.add_callback("on_step_end", lambda t: events.append(("step", t.step_count)))
    trainer.fit(epochs=2)
    assert trainer.step_count == 8 and trainer.epoch == 2
    assert [e for e in events if e[0] == "epoch"] == [("epoch", 1), ("epoch", 2)]
    assert len([e for e in events if e[0] == "step"]) == 8
    with pytest.raises(ValueError, match="on_step_end"):
        trainer.add_callback("on_batch", print)


def test_same_seed_same_run(tiny_images):
    # A trainer re-seeds torch's global RNG (weights, dropout) when it is built, so build-then-run repeats.
    a = make(tiny_images)
    a.fit(steps=6)
    b = make(tiny_images)
    b.fit(steps=6)
    assert a.history == b.history
    c = make(tiny_images, seed=2)
    c.fit(steps=6)
    assert c.history["d_loss"] != a.history["d_loss"]


def test_checkpoint_round_trip_and_exact_resume(tiny_images, tmp_path):
    straight = make(tiny_images)
    straight.fit(steps=13)

    first = make(tiny_images)
    first.fit(steps=7)  # stops mid-epoch (16 steps per epoch) and between check points
    path = first.save(tmp_path / "run.pt")
    resumed = Trainer.load(path, data=tiny_images, progress=False, check_every=5)
    assert resumed.step_count == 7 and resumed.cfg == first.cfg
    assert resumed.history == first.history
    resumed.fit(steps=6)
    for key in STATS:
        torch.testing.assert_close(torch.tensor(resumed.history[key]), torch.tensor(straight.history[key]))
    for p, q in zip(resumed.generator.parameters(), straight.generator.parameters()):
        torch.testing.assert_close(p, q)


def test_save_is_atomic_and_leaves_no_temp_files(tiny_images, tmp_path, monkeypatch):
    trainer = make(tiny_images)
    path = trainer.save(tmp_path / "run.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    trainer.fit(steps=2)
    with pytest.raises(OSError, match="disk full"):
        trainer.save(path)
    assert path.read_bytes() == before  # the old checkpoint survives a failed write
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_bad_checkpoints_are_explained(tiny_images, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Trainer.load(tmp_path / "missing.pt", data=tiny_images)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        Trainer.load(garbage, data=tiny_images)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not a ganlab trainer checkpoint"):
        Trainer.load(foreign, data=tiny_images)
    truncated = tmp_path / "truncated.pt"
    path = make(tiny_images).save(tmp_path / "ok.pt")
    truncated.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="truncated"):
        Trainer.load(truncated, data=tiny_images)


def test_checkpoint_cannot_run_code(tmp_path, tiny_images):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "ganlab-checkpoint-v1", "config": {}, "state": {"x": Evil()}}, path)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        Trainer.load(path, data=tiny_images)


def test_mismatched_networks_are_explained(tiny_images, tmp_path):
    path = make(tiny_images).save(tmp_path / "run.pt")
    from ganlab.nets import MLPDiscriminator, MLPGenerator

    with pytest.raises(ValueError, match="does not match"):
        Trainer.load(path, data=tiny_images, generator=MLPGenerator(8, 16), discriminator=MLPDiscriminator(16))


def test_nan_stops_training_and_keeps_last_good_state(tiny_images):
    trainer = make(tiny_images)
    trainer.fit(steps=5)  # a check point: this state is known good
    good = [p.detach().clone() for p in trainer.generator.parameters()]
    poisoned = tiny_images.clone()
    poisoned[:] = float("nan")
    trainer.data.images.copy_(poisoned)
    with pytest.raises(TrainingDiverged, match=r"became nan at step 6.*restored to step 5"):
        trainer.fit(steps=5)
    assert trainer.step_count == 5 and len(trainer.history["d_loss"]) == 5
    for p, q in zip(trainer.generator.parameters(), good):
        torch.testing.assert_close(p, q)


def test_live_update_changes_lr_and_loss(tiny_images):
    trainer = make(tiny_images)
    trainer.update(lr_d=1e-3, loss="hinge", optimizer="rmsprop")
    assert trainer.opt_d.param_groups[0]["lr"] == 1e-3
    assert isinstance(trainer.opt_d, torch.optim.RMSprop) and trainer.objective.name == "hinge"
    trainer.fit(steps=2)
    with pytest.raises(ValueError, match="lr_g"):
        trainer.update(lr_g=-1)
    assert trainer.cfg.lr_g == 2e-4  # a rejected change leaves the config as it was


def test_label_flip_and_smoothing_targets(tiny_images):
    trainer = make(tiny_images, label_flip=0.25, real_label=0.9)
    real_t, fake_t = trainer.targets(4000)
    torch.testing.assert_close(real_t.unique(), torch.tensor([0.0, 0.9]))
    torch.testing.assert_close(fake_t.unique(), torch.tensor([0.0, 0.9]))
    assert abs((real_t == 0).float().mean().item() - 0.25) < 0.03
    assert abs((fake_t > 0).float().mean().item() - 0.25) < 0.03


@pytest.mark.parametrize("kw", [dict(penalty="gp", loss="wasserstein"), dict(penalty="r1"),
                                dict(clip=0.01, loss="wasserstein", optimizer="rmsprop"),
                                dict(instance_noise=0.1), dict(spectral_norm=True, loss="hinge")])
def test_regularised_steps_run(tiny_images, kw):
    trainer = make(tiny_images, **kw)
    trainer.fit(steps=3)
    if "clip" in kw:
        assert all(p.abs().max() <= 0.01 + 1e-7 for p in trainer.discriminator.parameters())


def test_sample_shapes_and_mode_restored(tiny_images):
    trainer = make(tiny_images)
    out = trainer.sample(10)
    assert out.shape == (10, 1, 28, 28) and out.device.type == "cpu"
    assert trainer.generator.training


def test_too_small_dataset_is_explained(tiny_images):
    with pytest.raises(ValueError, match="fewer than one step"):
        make(tiny_images[:10])
