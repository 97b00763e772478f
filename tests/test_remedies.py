"""Remedies for mode collapse: the layers against closed forms, the steps against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganlab import GANConfig, Trainer, TrainingDiverged
from ganlab.nets.remedies import (
    MinibatchDiscrimination,
    MinibatchStd,
    PackedDiscriminator,
    head_input,
    insert_before_head,
    last_layer,
)
from ganlab.nets.toy import ToyDiscriminator
from ganlab.remedies import REMEDIES, build_trainer, load_trainer, parse
from ganlab.remedy_steps import FeatureMatching, HistoricalAverage, Replay, Unrolled, _adam_moments, _optimizer_step
from ganlab.train import g_step


def toy_cfg(**changes: object) -> GANConfig:
    base = dict(model="toy", dataset="ring8", image_shape=(2,), latent_dim=2, hidden_dim=16, batch_size=16,
                device="cpu", extra={"layers": 2})
    base.update(changes)
    return GANConfig(**base)


# ---------------------------------------------------------------------- layers
class Recorder(nn.Module):
    """Returns its input's first column and remembers the input, to see what D was shown."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x
        return x[:, 0]


def test_packing_concatenates_consecutive_samples() -> None:
    x = torch.arange(12.0).reshape(6, 2)
    inner = Recorder()
    logits = PackedDiscriminator(inner, 3)(x)
    assert logits.shape == (2,)
    assert_close(inner.seen, torch.tensor([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]))
    images = torch.randn(4, 1, 5, 5)
    PackedDiscriminator(inner, 2)(images)
    assert inner.seen.shape == (2, 2, 5, 5)  # packs stacked on the channel axis
    assert_close(inner.seen[1], images[2:4, 0])
    with pytest.raises(ValueError, match="divisible by 4"):
        PackedDiscriminator(inner, 4)(x)
    with pytest.raises(ValueError, match="pack"):
        PackedDiscriminator(inner, 0)


def test_minibatch_std_is_the_mean_feature_std() -> None:
    h = torch.tensor([[0.0, 1.0], [2.0, 1.0], [4.0, 5.0], [6.0, 5.0]])
    out = MinibatchStd()(h)
    assert out.shape == (4, 3)
    expected = (math.sqrt(5.0) + 2.0) / 2  # population stds √5 and 2, averaged
    assert_close(out[:, 2], torch.full((4,), expected), atol=1e-4, rtol=0)
    grouped = MinibatchStd(group_size=2)(h)  # groups {0, 2} and {1, 3}: sample i in group i mod 2
    assert_close(grouped[:, 2], torch.full((4,), 2.0), atol=1e-4, rtol=0)  # both groups: stds 2 and 2
    collapsed = MinibatchStd()(torch.ones(8, 3))
    assert_close(collapsed[:, 3], torch.full((8,), 1e-4), atol=1e-6, rtol=0)  # √1e-8: no spread at all
    maps = MinibatchStd()(torch.randn(4, 2, 3, 3))
    assert maps.shape == (4, 3, 3, 3)


def test_minibatch_discrimination_closeness() -> None:
    layer = MinibatchDiscrimination(3, kernels=4, kernel_dim=2)
    same = layer(torch.ones(5, 3))
    assert same.shape == (5, 7)
    assert_close(same[:, 3:], torch.ones(5, 4))  # every other sample at distance 0: exp(0) = 1
    layer = MinibatchDiscrimination(3, kernels=1, kernel_dim=3)
    with torch.no_grad():
        layer.T.copy_(torch.eye(3))  # M_i = f_i: samples e_1, e_2, e_3 are 2 apart in L1
    apart = layer(torch.eye(3))
    assert_close(apart[:, 3], torch.full((3,), math.exp(-2.0)))
    with pytest.raises(ValueError, match="flat features"):
        layer(torch.ones(2, 3, 1, 1))


def test_insert_before_head_keeps_the_old_function() -> None:
    torch.manual_seed(0)
    D = ToyDiscriminator(8, 2, 2)
    x = torch.randn(10, 2)
    before = D(x)
    insert_before_head(D, lambda width: MinibatchStd())
    _, _, head = last_layer(D)
    assert head.in_features == 9
    with torch.no_grad():
        head.weight[:, 8:] = 0  # the new column off: D is the old D
    assert_close(D(x), before)
    logits, features = head_input(D, x)
    assert features.shape == (10, 9)
    assert_close(logits, before)


# ---------------------------------------------------------------------- registry and builder
def test_parse_fills_defaults_and_names_problems() -> None:
    assert parse("pack") == {"pack": {"pack": 4}}
    assert parse({"pack": {"pack": 2}, "replay": {}})["replay"] == REMEDIES["replay"].defaults
    assert parse(None) == {}
    with pytest.raises(ValueError, match="unknown"):
        parse("dropout")
    with pytest.raises(ValueError, match="no option"):
        parse({"pack": {"size": 3}})


def test_two_remedies_on_one_step_are_refused() -> None:
    with pytest.raises(ValueError, match="g_step"):
        build_trainer(toy_cfg(), ["feature_matching", "unrolled"], progress=False)
    with pytest.raises(ValueError, match="divisible"):
        build_trainer(toy_cfg(batch_size=10), {"pack": {"pack": 4}}, progress=False)


def test_packing_widens_D_input_and_is_recorded_in_the_config() -> None:
    t = build_trainer(toy_cfg(extra={"layers": 2, "remedies": {"pack": {"pack": 4}}}), progress=False)
    assert t.discriminator.inner.net[0].in_features == 8
    assert t.cfg.extra["remedies"] == {"pack": {"pack": 4}}
    assert t.discriminator(torch.randn(16, 2)).shape == (4,)


def test_build_is_seeded() -> None:
    a = build_trainer(toy_cfg(seed=3), "minibatch_std", progress=False)
    b = build_trainer(toy_cfg(seed=3), "minibatch_std", progress=False)
    for p, q in zip(a.discriminator.parameters(), b.discriminator.parameters()):
        assert_close(p, q)


@pytest.mark.parametrize("name", sorted(REMEDIES))
def test_each_remedy_trains(name: str) -> None:
    t = build_trainer(toy_cfg(), name, progress=False)
    g_before = [p.detach().clone() for p in t.generator.parameters()]
    history = t.fit(steps=3)
    assert all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
    assert any(not torch.equal(p, q) for p, q in zip(g_before, t.generator.parameters()))


# ---------------------------------------------------------------------- steps
def test_unrolled_adam_step_equals_torch_adam() -> None:
    torch.manual_seed(0)
    p = nn.Parameter(torch.randn(5))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.9))
    for _ in range(2):  # give Adam some history
        opt.zero_grad()
        (p ** 3).sum().backward()
        opt.step()
    g = 3 * p.detach() ** 2
    moments = {"p": _adam_moments(opt, p)}
    unrolled = _optimizer_step(opt, {"p": p.detach()}, {"p": g}, moments)["p"]
    opt.zero_grad()
    (p ** 3).sum().backward()
    opt.step()
    assert_close(unrolled, p.detach())


def test_unrolled_g_gradient_differs_from_the_plain_one() -> None:
    def g_after(step: object) -> torch.Tensor:
        t = build_trainer(toy_cfg(), None, progress=False)  # same seed: same nets, same noise
        step(t, t.noise(16))
        return torch.cat([p.detach().flatten() for p in t.generator.parameters()])

    plain, unrolled = g_after(g_step), g_after(Unrolled(3))
    assert not torch.allclose(plain, unrolled)


def test_feature_matching_loss_is_the_mean_feature_gap() -> None:
    t = build_trainer(toy_cfg(), None, progress=False)
    z = t.noise(16)
    state = t.rng.get_state()
    with torch.no_grad():
        _, real_f = head_input(t.discriminator, t.real_batch())
        _, fake_f = head_input(t.discriminator, t.generator(z))
    expected = (real_f.mean(0) - fake_f.mean(0)).pow(2).sum()
    t.rng.set_state(state)
    loss, norm = FeatureMatching()(t, z)
    assert_close(loss, expected)
    assert norm > 0


def test_replay_mixes_old_fakes_and_keeps_its_size() -> None:
    t = build_trainer(toy_cfg(), None, progress=False)
    replay = Replay(size=40, fraction=0.25)
    replay(t, t.real_batch(), t.noise(16))
    assert replay.count == 16 and replay.buffer.shape == (40, 2)
    assert not replay.buffer.requires_grad
    for _ in range(5):
        replay(t, t.real_batch(), t.noise(16))
    assert replay.count == 96 and replay.buffer.shape == (40, 2)
    with pytest.raises(ValueError, match="fraction"):
        Replay(fraction=1.0)


def test_historical_average_gradient_and_mean() -> None:
    t = build_trainer(toy_cfg(), None, progress=False)
    ha = HistoricalAverage(weight=0.5).attach(t)
    p = next(t.generator.parameters())
    start = p.detach().clone()
    with torch.no_grad():
        p.add_(1.0)  # θ − θ̄ = 1 everywhere
    (p * 0).sum().backward()
    assert_close(p.grad, torch.full_like(p, 2 * 0.5 * 1.0))  # ∇ λ‖θ − θ̄‖² = 2λ(θ − θ̄)
    ha.update(t)  # θ̄ = mean(start, start + 1)
    assert_close(ha.means[0], start + 0.5)


# ---------------------------------------------------------------------- checkpoints and restores
def remedy_trainer(name: str) -> object:
    return build_trainer(toy_cfg(), name, progress=False, check_every=3)


@pytest.mark.parametrize("name", sorted(REMEDIES))
def test_a_remedy_trainer_resumes_exactly_from_its_checkpoint(name: str, tmp_path) -> None:
    # Same CPU ops in the same order from the same weights, moments, RNG states and remedy state: a resumed
    # run must be bit-identical to the uninterrupted one, so the comparisons have zero tolerance.
    straight = remedy_trainer(name)
    straight.fit(steps=9)
    first = remedy_trainer(name)
    first.fit(steps=5)  # between check points, and replay's buffer partly full
    path = first.save(tmp_path / f"{name}.pt")
    resumed = load_trainer(path, progress=False, check_every=3)
    assert resumed.cfg == first.cfg and type(resumed.discriminator) is type(first.discriminator)
    resumed.fit(steps=4)
    for net in ("generator", "discriminator"):
        for (key, p), (_, q) in zip(getattr(resumed, net).state_dict().items(),
                                    getattr(straight, net).state_dict().items()):
            assert_close(p, q, rtol=0, atol=0, msg=f"{net}.{key}")
    assert resumed.history == straight.history
    for part, other in zip(resumed.parts.values(), straight.parts.values()):
        assert_close(part.state_dict(), other.state_dict(), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["pack", "replay"])
def test_plain_load_of_a_remedy_checkpoint_names_load_trainer(name: str, tmp_path) -> None:
    path = remedy_trainer(name).save(tmp_path / "r.pt")
    with pytest.raises(ValueError, match=rf"remedies \['{name}'\].*ganlab.remedies.load_trainer"):
        Trainer.load(path)


def test_load_trainer_loads_plain_checkpoints_too(tmp_path) -> None:
    plain = Trainer(toy_cfg(), progress=False)
    plain.fit(steps=2)
    back = load_trainer(plain.save(tmp_path / "plain.pt"), progress=False)
    assert back.step_count == 2 and back.parts == {}
    assert_close(next(back.generator.parameters()), next(plain.generator.parameters()), rtol=0, atol=0)


def test_remedy_state_is_part_of_the_divergence_restore() -> None:
    t = build_trainer(toy_cfg(), ["replay", "historical_averaging"], progress=False, check_every=3)
    t.fit(steps=3)  # a check point: the buffer and the averages now are the good state
    replay, averages = t.parts["replay"], t.parts["historical_averaging"]
    buffer, means, count = replay.buffer.clone(), [m.clone() for m in averages.means], averages.count
    replay.buffer.fill_(float("nan"))  # replayed NaN fakes make D's loss NaN
    with pytest.raises(TrainingDiverged, match="restored to step 3"):
        t.fit(steps=3)
    assert_close(replay.buffer, buffer, rtol=0, atol=0)
    assert replay.count == 48 and averages.count == count
    assert_close(averages.means, means, rtol=0, atol=0)
    history = t.fit(steps=3)
    assert all(math.isfinite(v) for v in history["d_loss"])
