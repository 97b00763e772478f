"""Tests for ganlab.conditional.toy (labelled 2-D toys, class_confusion) and ganlab.nets.conditional_toy."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganlab import toy
from ganlab.conditional import ConditionalTrainer
from ganlab.conditional.toy import (
    TOY_SCHEMES,
    LabelledMixture,
    class_confusion,
    class_hits,
    labelled_toy,
    toy_config,
)
from ganlab.nets.conditional_toy import (
    ToyACGANDiscriminator,
    ToyConcatDiscriminator,
    ToyConditionalGenerator,
    ToyProjectionDiscriminator,
)

torch.set_num_threads(1)
K, H = 4, 8  # 4 classes, 8 hidden units


# ---------------------------------------------------------------------- nets
def test_generator_shape_and_label_routing():
    torch.manual_seed(0)
    G = ToyConditionalGenerator(2, K, H)
    z = torch.randn(6, 2)
    a, b = G(z, torch.zeros(6, dtype=torch.long)), G(z, torch.ones(6, dtype=torch.long))
    assert a.shape == (6, 2) and not torch.allclose(a, b)  # the label changes the sample
    assert_close(G(z[:1], torch.ones(1, dtype=torch.long)), b[:1])  # and nothing else does


@pytest.mark.parametrize("make", [ToyConcatDiscriminator, ToyProjectionDiscriminator])
def test_label_taking_discriminators_shape_and_routing(make):
    torch.manual_seed(0)
    D = make(K, H)
    x = torch.randn(5, 2)
    a, b = D(x, torch.zeros(5, dtype=torch.long)), D(x, torch.full((5,), 3))
    assert a.shape == (5,) and not torch.allclose(a, b)


def test_projection_is_the_unconditional_logit_plus_an_inner_product():
    torch.manual_seed(0)
    D = ToyProjectionDiscriminator(K, H)
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 3, 1])
    h = D.features(x)
    assert_close(D(x, y), D.head(h)[:, 0] + (D.embed.weight[y] * h).sum(1))


def test_acgan_discriminator_heads():
    torch.manual_seed(0)
    logits, classes = ToyACGANDiscriminator(K, H)(torch.randn(5, 2))
    assert logits.shape == (5,) and classes.shape == (5, K)


# ---------------------------------------------------------------------- labelled mixtures
def test_ring8_classes_pairs_opposite_modes():
    data = labelled_toy("ring8_classes")
    assert isinstance(data, toy.Mixture) and data.classes == ("E/W", "NE/SW", "N/S", "NW/SE")
    for y in range(4):
        a, b = data.class_modes(y)
        assert_close(a, -b)  # the two modes of a class face each other across the ring
    assert_close(data.class_modes(2), torch.tensor([[0.0, 1.0], [0.0, -1.0]], dtype=torch.float64))


def test_grid25_rows_are_classes():
    data = labelled_toy("grid25_rows")
    for y in range(5):
        modes = data.class_modes(y)
        assert modes.shape == (5, 2)
        assert_close(modes[:, 1], torch.full((5,), -4.0 + 2 * y, dtype=torch.float64))


def test_sample_labelled_draws_each_point_from_its_classes_modes():
    data = labelled_toy("ring8_classes")
    x, y = data.sample_labelled(4000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2) and y.dtype == torch.int64
    nearest = torch.cdist(x.double(), data.means).argmin(1)
    assert torch.equal(data.component_labels[nearest], y)  # std 0.01: every point sits on one of its class's modes
    share = torch.bincount(y, minlength=4).float() / 4000
    assert_close(share, torch.full((4,), 0.25), atol=0.03, rtol=0)


def test_class_mixture_is_the_class_conditional_density():
    data = labelled_toy("ring8_classes")
    x = torch.randn(7, 2, dtype=torch.float64)
    # p(x) = Σ_y p(y) p(x | y) with p(y) = 1/4
    mixed = torch.logsumexp(torch.stack([data.class_mixture(y).log_prob(x) for y in range(4)]), 0) - math.log(4)
    assert_close(mixed, data.log_prob(x))


def test_bad_labels_and_names_are_refused():
    ring = toy.ring8()
    with pytest.raises(ValueError, match="one label per component"):
        LabelledMixture(ring, torch.zeros(3, dtype=torch.long), ("a",))
    with pytest.raises(ValueError, match="must cover 0..1"):
        LabelledMixture(ring, torch.zeros(8, dtype=torch.long), ("a", "b"))
    with pytest.raises(ValueError, match=r"class 4 is unknown; use 0..3"):
        labelled_toy("ring8_classes").class_modes(4)
    with pytest.raises(ValueError, match="labelled toy set 'moons' is unknown"):
        labelled_toy("moons")
    with pytest.raises(ValueError, match="has no 2-D toy nets"):
        ConditionalTrainer(toy_config("ring8_classes", "infogan", device="cpu"), progress=False)


# ---------------------------------------------------------------------- the trainer on a labelled toy
@pytest.fixture
def trainer() -> ConditionalTrainer:
    return ConditionalTrainer(toy_config("ring8_classes", hidden_dim=H, batch_size=32, device="cpu"), progress=False)


@pytest.mark.parametrize("scheme", TOY_SCHEMES)
def test_every_toy_scheme_trains_and_samples(scheme):
    t = ConditionalTrainer(toy_config("ring8_classes", scheme, hidden_dim=H, batch_size=32, device="cpu"),
                           progress=False)
    before = [p.detach().clone() for p in t.generator.parameters()]
    t.fit(steps=2)
    assert len(t.history["d_loss"]) == 2 and all(math.isfinite(v) for v in t.history["g_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, t.generator.parameters()))
    assert t.sample(6, conditions=1).shape == (6, 2)


def test_real_batch_keeps_points_and_labels_together(trainer):
    x, y = trainer.real_batch()
    assert x.shape == (32, 2) and y.shape == (32,)
    nearest = torch.cdist(x.double(), trainer.data.means).argmin(1)
    assert torch.equal(trainer.data.component_labels[nearest], y)


def test_penalties_are_refused_with_the_fix(trainer):
    with pytest.raises(ValueError, match="spectral norm or weight clipping"):
        trainer.update(penalty="r1", penalty_weight=1.0)
    assert trainer.cfg.penalty == "none"
    trainer.update(lr_d=1e-4)  # other changes still go through
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_checkpoint_round_trip(trainer, tmp_path):
    trainer.fit(steps=3)
    path = trainer.save(tmp_path / "toy.pt")
    loaded = ConditionalTrainer.load(path, progress=False)
    assert isinstance(loaded.data, LabelledMixture) and loaded.step_count == 3
    for a, b in zip(trainer.generator.parameters(), loaded.generator.parameters()):
        assert_close(a, b)
    trainer.fit(steps=2)
    loaded.fit(steps=2)  # it resumes exactly: the same random stream
    for a, b in zip(trainer.generator.parameters(), loaded.generator.parameters()):
        assert_close(a, b)


class _FixedGenerator(nn.Module):
    """G(z, y) = the first mode of class ``route[y]`` (plus a small z-dependent offset)."""

    def __init__(self, data: LabelledMixture, route: list[int]) -> None:
        super().__init__()
        self.targets = torch.stack([data.class_modes(c)[0].float() for c in route])
        self.scale = nn.Parameter(torch.tensor(0.01))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.targets[y] + self.scale * z


def test_class_confusion_of_a_perfect_a_swapping_and_a_blind_generator(trainer):
    trainer.generator = _FixedGenerator(trainer.data, [0, 1, 2, 3])
    assert_close(class_confusion(trainer, 64), torch.eye(4))
    assert_close(class_hits(trainer, 64), torch.ones(4))
    trainer.generator = _FixedGenerator(trainer.data, [1, 2, 3, 0])  # every class lands on the next one's mode
    assert_close(class_confusion(trainer, 64), torch.eye(4).roll(1, dims=1))
    assert_close(class_hits(trainer, 64), torch.zeros(4))
    trainer.generator = _FixedGenerator(trainer.data, [2, 2, 2, 2])  # ignores the label
    assert_close(class_confusion(trainer, 64), torch.eye(4)[[2, 2, 2, 2]])
