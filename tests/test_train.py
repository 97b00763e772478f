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


# ---------------------------------------------------------------------- restores keep one consistent state
def toy_trainer(**kw):
    cfg = GANConfig(**{**dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=16, dataset="ring8",
                              batch_size=32, device="cpu"), **kw})
    return Trainer(cfg, progress=False, check_every=10)


def diverge(trainer):
    with pytest.raises(TrainingDiverged) as err:
        for _ in range(50):
            trainer.fit(steps=10)
    return str(err.value)


def test_restore_after_an_optimizer_change_rebuilds_the_saved_kind():
    # The restore point holds Adam's moments; loading them into the SGD chosen since gave KeyError 'momentum'.
    trainer = toy_trainer()
    trainer.fit(steps=10)
    good = [p.detach().clone() for p in trainer.discriminator.parameters()]
    trainer.update(optimizer="sgd", lr_d=1e3, lr_g=1e3)
    message = diverge(trainer)
    assert "restored to step 10" in message and "optimizer 'sgd' → 'adam'" in message and "lr_d 1000.0" in message
    assert trainer.cfg.optimizer == "adam" and trainer.cfg.lr_d == trainer.cfg.lr_g == 2e-4
    for opt in (trainer.opt_g, trainer.opt_d):
        assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["lr"] == 2e-4
        assert all(s["step"].item() == 10 for s in opt.state.values())  # Adam's moments came back too
    for p, q in zip(trainer.discriminator.parameters(), good):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    trainer.fit(steps=3)
    assert trainer.step_count == 13


def test_restore_puts_back_the_learning_rates_and_the_config_together():
    trainer = toy_trainer(optimizer="sgd")
    trainer.fit(steps=10)
    trainer.update(lr_d=1e3, lr_g=1e3, spectral_norm=True)
    assert trainer.discriminator.net[0].parametrizations.weight.original is not None
    diverge(trainer)
    assert (trainer.cfg.lr_d, trainer.cfg.lr_g, trainer.cfg.spectral_norm) == (2e-4, 2e-4, False)
    assert [g["lr"] for g in trainer.opt_d.param_groups + trainer.opt_g.param_groups] == [2e-4, 2e-4]
    assert not hasattr(trainer.discriminator.net[0], "parametrizations")  # D is the restored plain D again
    trainer.update(n_critic=2)  # an unrelated change must not bring 1000 back
    assert trainer.opt_d.param_groups[0]["lr"] == trainer.cfg.lr_d == 2e-4


def test_update_refuses_the_fields_the_trainer_was_built_from():
    trainer = toy_trainer()
    for change in (dict(hidden_dim=32), dict(model="mlp"), dict(latent_dim=4), dict(image_shape=(3,)),
                   dict(extra={"layers": 2}), dict(dataset="grid25"), dict(seed=1), dict(device="auto")):
        with pytest.raises(ValueError) as err:
            trainer.update(lr_d=1e-3, **change)
        field = next(iter(change))
        assert f"update cannot change {field}" in str(err.value) and "lr_d" in str(err.value)
        assert "new Trainer" in str(err.value)
    assert trainer.cfg.lr_d == 2e-4  # nothing of a refused update applies
    trainer.update(hidden_dim=16, lr_d=1e-3)  # the same value is no change
    assert trainer.opt_d.param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="no field"):
        trainer.update(learning_rate=1.0)


def test_spectral_norm_switched_by_update_is_saved_and_loads(tmp_path):
    trainer = toy_trainer()
    trainer.fit(steps=3)
    trainer.update(spectral_norm=True)
    trainer.fit(steps=3)
    back = Trainer.load(trainer.save(tmp_path / "sn.pt"), progress=False)
    x = torch.randn(8, 2)
    trainer.discriminator.eval(), back.discriminator.eval()  # no power iteration: compare the functions
    torch.testing.assert_close(back.discriminator(x), trainer.discriminator(x), rtol=0, atol=0)
    assert back.cfg.spectral_norm and hasattr(back.discriminator.net[0], "parametrizations")


# ---------------------------------------------------------------------- arguments and data
def test_trainer_and_fit_arguments_are_checked(tiny_images):
    for value in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match=r"check_every=.*must be an integer >= 1"):
            Trainer(small_cfg(), data=tiny_images, progress=False, check_every=value)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        Trainer(small_cfg(), data=tiny_images, progress=False, steps_per_epoch=0)
    trainer = make(tiny_images)
    for kw in (dict(steps=-1), dict(epochs=-2), dict(steps=1.5), dict(epochs=True)):
        with pytest.raises(ValueError, match=f"{next(iter(kw))}=.*>= 0"):
            trainer.fit(**kw)
    assert trainer.fit(steps=0) == trainer.history and trainer.step_count == 0


def test_data_whose_shape_differs_from_image_shape_is_refused_at_build(tiny_images):
    with pytest.raises(ValueError, match=r"shape \(2,\) but cfg.image_shape=\(3,\); set image_shape=\(2,\)"):
        toy_trainer(image_shape=(3,))
    with pytest.raises(ValueError, match=r"shape \(1, 28, 28\) but cfg.image_shape=\(1, 14, 14\)"):
        Trainer(small_cfg(image_shape=(1, 14, 14)), data=tiny_images, progress=False)


def test_ctrl_c_on_the_last_step_of_an_epoch_keeps_the_epoch_count(tiny_images):
    trainer = Trainer(small_cfg(), data=tiny_images, progress=False, check_every=5, steps_per_epoch=4)
    ended = []
    trainer.add_callback("on_epoch_end", lambda t: ended.append((t.step_count, t.epoch)))

    def interrupt(t):
        if t.step_count == 4:
            raise KeyboardInterrupt

    trainer.add_callback("on_step_end", interrupt)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(epochs=2)
    assert (trainer.step_count, trainer.epoch) == (4, 1) and ended == [(4, 1)]
    trainer.fit(steps=4)  # carries on: the next epoch ends at step 8
    assert (trainer.step_count, trainer.epoch) == (8, 2) and ended == [(4, 1), (8, 2)]
    assert len(trainer.history["d_loss"]) == 8


def test_steps_after_a_restore_leave_the_restore_point_intact():
    # torch's Optimizer.load_state_dict keeps tensors that are already on the right device; without a copy
    # the steps after one restore moved the restore point's Adam moments, and a second restore mixed them up.
    trainer = toy_trainer()
    trainer.fit(steps=10)
    good = {k: v.clone() for k, v in next(iter(trainer.opt_d.state.values())).items()}
    for _ in range(2):
        trainer.update(optimizer="sgd", lr_d=1e3, lr_g=1e3)
        diverge(trainer)
        assert trainer.step_count == 10
        for key, value in next(iter(trainer.opt_d.state.values())).items():
            torch.testing.assert_close(value, good[key], rtol=0, atol=0)
        for _ in range(5):
            trainer.step()  # Adam steps that are not checked yet: the restore point stays at step 10
