"""Tests for ganlab.applications.augment: few-shot draws, classic augmentation, the classifier and the paired CI."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.applications.augment import (
    CONDITIONS,
    ClassifierBudget,
    augmentation_study,
    few_shot,
    paired_gain,
    shift_and_flip,
    train_classifier,
)
from ganlab.data import ImageData
from ganlab.features import accuracy

CLASSES = tuple(f"c{i}" for i in range(10))


def labelled(n_per_class: int = 12, seed: int = 0, classes: int = 10) -> ImageData:
    """Images whose class is written in their brightness: class c is a flat level plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat(n_per_class)
    levels = -0.9 + 1.8 * labels.float() / (classes - 1)
    images = (levels[:, None, None, None] + 0.05 * torch.randn(len(labels), 1, 28, 28, generator=g)).clamp(-1, 1)
    return ImageData(images, labels, "levels", "train", CLASSES[:classes])


def test_few_shot_draws_k_of_each_class_reproducibly():
    data = labelled(12)
    shots = few_shot(data, 5, seed=3)
    assert torch.equal(torch.bincount(shots.labels, minlength=10), torch.full((10,), 5))
    assert torch.equal(shots.images, few_shot(data, 5, seed=3).images)
    assert not torch.equal(shots.images, few_shot(data, 5, seed=4).images)
    # every drawn image really is an image of the class it is labelled with, and none is drawn twice
    for image, label in zip(shots.images, shots.labels):
        matches = (data.images == image).flatten(1).all(1).nonzero()[:, 0]
        assert len(matches) == 1 and data.labels[matches[0]] == label
    assert len({tuple(img.flatten()[:5].tolist()) for img in shots.images}) == len(shots)


@pytest.mark.parametrize("k, match", [(0, "k=0"), (13, "fewer than k=13"), (2.0, "whole number")])
def test_few_shot_refuses_bad_k(k, match):
    with pytest.raises(ValueError, match=match):
        few_shot(labelled(12), k, seed=0)


def _candidates(image: torch.Tensor, s: int) -> list[torch.Tensor]:
    """Every flip × shift of one image (C, H, W), by plain slicing: the slow reference."""
    out = []
    for flipped in (image, image.flip(-1)):
        padded = torch.full((image.shape[0], image.shape[1] + 2 * s, image.shape[2] + 2 * s), -1.0)
        padded[:, s:-s, s:-s] = flipped
        for dy in range(2 * s + 1):
            for dx in range(2 * s + 1):
                out.append(padded[:, dy:dy + image.shape[1], dx:dx + image.shape[2]])
    return out


def test_shift_and_flip_outputs_a_flip_and_shift_of_each_input():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1
    out = shift_and_flip(images, torch.Generator().manual_seed(1), max_shift=2)
    assert out.shape == images.shape
    for x, y in zip(images, out):
        assert any(torch.equal(y, c) for c in _candidates(x, 2))
    # the draws vary: some images are moved, some mirrored, some left in place
    assert (out != images).flatten(1).any(1).float().mean() > 0.5


def test_shift_and_flip_without_shift_or_flip_is_the_identity_and_keeps_values():
    images = torch.rand(8, 1, 28, 28) * 2 - 1
    assert torch.equal(shift_and_flip(images, torch.Generator(), max_shift=0, flip=False), images)
    mirrored = shift_and_flip(images, torch.Generator().manual_seed(0), max_shift=0, flip=True)
    for x, y in zip(images, mirrored):
        assert torch.equal(y, x) or torch.equal(y, x.flip(-1))


def test_train_classifier_learns_separable_classes_and_is_reproducible():
    data, test = labelled(12, seed=0, classes=4), labelled(10, seed=1, classes=4)
    budget = ClassifierBudget(steps=100, batch_size=32, channels=(4, 8), hidden=16)
    model = train_classifier(data, budget, seed=0)
    assert not model.training
    assert accuracy(model, test) > 0.9
    again = train_classifier(data, budget, seed=0)
    for a, b in zip(model.parameters(), again.parameters()):
        assert_close(a, b)


def test_synthetic_images_enter_every_batch():
    # A pool whose labels are all wrong (each class's images labelled as the next class) must hurt.
    data, test = labelled(12, seed=0, classes=4), labelled(10, seed=1, classes=4)
    budget = ClassifierBudget(steps=100, batch_size=32, channels=(4, 8), hidden=16, synthetic_share=0.75)
    wrong = labelled(20, seed=2, classes=4)
    wrong.labels = (wrong.labels + 1) % 4
    model = train_classifier(data, budget, seed=0, synthetic=(wrong.images, wrong.labels))
    assert accuracy(model, test) < 0.5


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_budget_refuses_a_batch_without_real_or_generated_images(share):
    with pytest.raises(ValueError, match="synthetic_share"):
        ClassifierBudget(synthetic_share=share)


def test_paired_gain_is_the_student_t_interval():
    # differences 1, 2, 3: mean 2, sd 1, t(0.975; 2 d.o.f.) = 4.302652729911275 from the tables
    gain = paired_gain([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)
    assert_close(torch.tensor([gain.mean, gain.low, gain.high]), torch.tensor([2.0, 2.0 - half, 2.0 + half],
                                                                                   dtype=torch.float32))
    assert gain.n == 3 and gain.confidence == 0.95
    # only the differences matter: the same differences from another baseline give the same interval
    moved = paired_gain([12.0, 14.0, 16.0], [11.0, 12.0, 13.0])
    assert_close((moved.low, moved.high), (gain.low, gain.high))
    # 90 %: t(0.95; 2) = 2.919985580355516
    narrow = paired_gain([2.0, 4.0, 6.0], [1.0, 2.0, 3.0], confidence=0.9)
    assert_close(narrow.high - narrow.mean, 2.919985580355516 / math.sqrt(3))


@pytest.mark.parametrize("treated, control, confidence, match", [
    ([1.0], [0.5], 0.95, "at least 2"),
    ([1.0, 2.0], [0.5], 0.95, "one pair per draw"),
    ([1.0, 2.0], [0.5, 0.1], 1.0, "confidence"),
])
def test_paired_gain_refuses_bad_input(treated, control, confidence, match):
    with pytest.raises(ValueError, match=match):
        paired_gain(treated, control, confidence)


def test_augmentation_study_runs_every_condition_for_every_draw():
    data, test = labelled(12, seed=0), labelled(3, seed=1)
    cfg = GANConfig(model="dcgan", latent_dim=8, batch_size=8, device="cpu", extra={"scheme": "acgan", "width": 4})
    result = augmentation_study(data, test, 2, [0, 1], cfg, gan_steps=2,
                                budget=ClassifierBudget(steps=3, batch_size=8, channels=(2, 4), hidden=8),
                                n_synthetic=3)
    assert set(result.accuracy) == set(CONDITIONS)
    assert all(len(v) == 2 and all(0.0 <= a <= 1.0 for a in v) for v in result.accuracy.values())
    assert result.samples.shape == (30, 1, 28, 28) and result.real.shape == (20, 1, 28, 28)
