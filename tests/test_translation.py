"""Translation: losses on hand-made tensors, tasks, sharpness, a few training steps, checkpoint round trips."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab.data import ImageData
from ganlab.losses import least_squares_g_loss, non_saturating_g_loss
from ganlab.metrics.corruptions import gaussian_blur
from ganlab.train import TrainingDiverged
from ganlab.translation import (
    CycleGANTrainer,
    Pix2PixTrainer,
    TranslationConfig,
    cycle_config,
    pix2pix_g_loss,
    reconstruction_loss,
)
from ganlab.translation_data import (
    crop_to,
    mask_center,
    pad_to,
    paired_task,
    sharpness,
    sobel_edges,
)


def blobs(n: int = 64, size: int = 28, seed: int = 0) -> ImageData:
    """Bright rectangles on a −1 background: cheap stand-ins for garments."""
    g = torch.Generator().manual_seed(seed)
    images = torch.full((n, 1, size, size), -1.0)
    for i in range(n):
        top, left = torch.randint(2, 10, (2,), generator=g).tolist()
        h, w = torch.randint(8, 16, (2,), generator=g).tolist()
        images[i, :, top:top + h, left:left + w] = torch.rand((), generator=g) * 1.5 - 0.5
    return ImageData(images, torch.arange(n) % 2, "blobs", "train", ("a", "b"))


def tiny(**changes: object) -> TranslationConfig:
    return TranslationConfig(**{**dict(width_g=4, width_d=4, batch_size=8, lr=1e-3), **changes})


# ---------------------------------------------------------------------- losses
def test_reconstruction_loss_by_hand() -> None:
    a, b = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
    a_back = a.clone()
    a_back[0, 0, 0, 0] = 0.8  # one of 8 pixels off by 0.8 → mean 0.1
    b_back = b - 0.5  # every pixel off by 0.5
    assert_close(reconstruction_loss(a, a_back, b, b_back), torch.tensor(0.6))
    assert_close(reconstruction_loss(a, a, b, b), torch.tensor(0.0))


def test_pix2pix_g_loss_by_hand() -> None:
    logits = torch.zeros(2, 1, 3, 3)  # D undecided everywhere: softplus(0) = log 2 per patch
    fake, target = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.25)
    got = pix2pix_g_loss(non_saturating_g_loss, logits, fake, target, 100.0)
    assert_close(got, torch.tensor(math.log(2) + 25.0))
    ls = pix2pix_g_loss(least_squares_g_loss, torch.ones(2, 1, 3, 3), fake, fake, 100.0)
    assert_close(ls, torch.tensor(0.0))  # LSGAN: logits at the real target and a perfect L1 cost nothing


# ---------------------------------------------------------------------- tasks and measures
def test_sobel_edges_and_masks() -> None:
    flat = torch.full((2, 1, 8, 8), 0.3)
    flat[:, :, 1:-1, 1:-1] = 0.3
    edges = sobel_edges(flat)
    assert edges.shape == flat.shape and edges.min() >= -1 and edges.max() <= 1
    # A constant image has edges only at the border (where the −1 background starts): the inside is −1.
    assert_close(edges[:, :, 2:-2, 2:-2], torch.full((2, 1, 4, 4), -1.0))
    assert_close(edges.amax(dim=(2, 3)), torch.ones(2, 1))
    step = torch.full((1, 1, 8, 8), -1.0)
    step[..., 4:] = 1.0  # a vertical edge between columns 3 and 4
    inner = sobel_edges(step)[0, 0, 2:-2]
    assert (inner[:, 3:5] > inner[:, [1, 6]].max()).all()
    masked = mask_center(torch.ones(1, 1, 8, 8), 4)
    assert masked.sum() == 64 - 16 and masked[0, 0, 2:6, 2:6].abs().sum() == 0
    with pytest.raises(ValueError, match="greyscale"):
        sobel_edges(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="size"):
        mask_center(torch.ones(1, 1, 8, 8), 9)


def test_paired_task() -> None:
    data = paired_task("edges", blobs(32), n=10, seed=1)
    assert len(data) == 10 and data.inputs.shape == data.targets.shape == (10, 1, 28, 28)
    assert_close(data.inputs, sobel_edges(data.targets))
    assert data.stacked().images.shape == (10, 2, 28, 28)
    with pytest.raises(ValueError, match="unknown"):
        paired_task("colorize", blobs(4))


def test_sharpness_falls_with_blur_and_is_exact_on_a_ramp() -> None:
    ramp = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 5, 5) / 4  # Δx = 0.25 everywhere, Δy = 0
    assert_close(sharpness(ramp), torch.tensor([0.125]))
    textured = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    sharp, blurred = sharpness(textured), sharpness(gaussian_blur(textured, 1.0))
    assert (blurred < 0.5 * sharp).all()
    # A lone monotone edge keeps its total rise under blur, and so its summed |gradient|: sharpness is a texture
    # measure, not an edge-width one.
    edge = torch.full((1, 1, 28, 28), -1.0)
    edge[..., 14:] = 1.0
    assert_close(sharpness(gaussian_blur(edge, 1.0)), sharpness(edge), rtol=0.02, atol=0)
    with pytest.raises(ValueError, match="N, C, H, W"):
        sharpness(torch.randn(5, 5))


def test_pad_and_crop_round_trip() -> None:
    x = torch.randn(2, 1, 28, 28)
    padded = pad_to(x, 32)
    assert padded.shape == (2, 1, 32, 32) and (padded[..., :2, :] == -1).all()
    assert_close(crop_to(padded, 28), x)
    with pytest.raises(ValueError, match="crop_to"):
        pad_to(x, 20)


# ---------------------------------------------------------------------- training
def params(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="unknown"):
        TranslationConfig(loss="nope")
    with pytest.raises(ValueError, match="width_g"):
        TranslationConfig(width_g=0)
    with pytest.raises(ValueError, match="l1_weight"):
        TranslationConfig(l1_weight=-1.0)


def test_pix2pix_steps_lower_the_l1_and_move_both_players() -> None:
    data = paired_task("edges", blobs(64))
    t = Pix2PixTrainer(tiny(), data)
    g0, d0 = params(t.generator), params(t.discriminator)
    history = t.fit(60)
    assert len(history["l1"]) == 60
    assert sum(history["l1"][-10:]) < 0.8 * sum(history["l1"][:10])
    assert not torch.equal(params(t.generator), g0) and not torch.equal(params(t.discriminator), d0)
    assert all(0 < v < 1 for v in history["d_real"] + history["d_fake"])
    assert t.translate(data.inputs[:5]).shape == (5, 1, 28, 28)


def test_l1_only_leaves_the_discriminator_alone() -> None:
    t = Pix2PixTrainer(tiny(adversarial=False), paired_task("inpaint", blobs(32)))
    d0 = params(t.discriminator)
    history = t.fit(5)
    assert torch.equal(params(t.discriminator), d0)
    assert history["d_loss"] == [0.0] * 5 and history["g_adv"] == [0.0] * 5


def test_cyclegan_steps_lower_the_cycle_loss() -> None:
    data = blobs(64)
    a, b = data.images[data.labels == 0], -data.images[data.labels == 1]  # B: inverted blobs
    t = CycleGANTrainer(cycle_config(width_g=4, width_d=4, batch_size=8, lr=1e-3, pool_size=4), a, b)
    weights = [params(getattr(t, n)) for n in t.NETS]
    history = t.fit(40)
    assert sum(history["cycle"][-10:]) < 0.8 * sum(history["cycle"][:10])
    assert all(not torch.equal(params(getattr(t, n)), w) for n, w in zip(t.NETS, weights))
    assert t.pool_a.count == 4 and t.pool_b.count == 4
    assert t.translate(a[:3], "ba").shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="direction"):
        t.translate(a[:3], "aa")
    no_id = CycleGANTrainer(cycle_config(width_g=4, width_d=4, batch_size=8, identity_weight=0.0), a, b)
    assert no_id.fit(3)["identity"] == [0.0] * 3


def test_cyclegan_refuses_domains_of_two_sizes() -> None:
    with pytest.raises(ValueError, match="pad_to"):
        CycleGANTrainer(cycle_config(width_g=4, width_d=4), torch.zeros(8, 1, 28, 28), torch.zeros(8, 1, 32, 32))


@pytest.mark.parametrize("kind", ["pix2pix", "cycle"])
def test_checkpoint_round_trip_continues_exactly(tmp_path, kind: str) -> None:
    data = blobs(48)
    if kind == "pix2pix":
        paired = paired_task("edges", data)
        build = lambda: Pix2PixTrainer(tiny(seed=3), paired)  # noqa: E731
        load = lambda p: Pix2PixTrainer.load(p, paired)  # noqa: E731
    else:
        a, b = data.images[:24], -data.images[24:]
        build = lambda: CycleGANTrainer(cycle_config(width_g=4, width_d=4, batch_size=8, pool_size=6, seed=3), a, b)  # noqa: E731
        load = lambda p: CycleGANTrainer.load(p, a, b)  # noqa: E731
    t = build()
    t.fit(4)
    path = t.save(tmp_path / "t.pt")
    t.fit(3)
    resumed = load(path)
    assert resumed.step_count == 4
    resumed.fit(3)
    for name in t.NETS:
        for (k, p), (_, q) in zip(getattr(t, name).state_dict().items(), getattr(resumed, name).state_dict().items()):
            assert_close(p, q, rtol=0, atol=0, msg=f"{name}.{k}")
    assert resumed.history == t.history
    other = Pix2PixTrainer if kind == "cycle" else CycleGANTrainer
    with pytest.raises(ValueError, match="load it with"):
        other.load(path, *((paired_task("edges", data),) if kind == "cycle" else (data.images, data.images)))


def test_nan_is_reported_with_the_step() -> None:
    t = Pix2PixTrainer(tiny(), paired_task("edges", blobs(16)), check_every=2)
    t.data.images[:] = float("nan")
    with pytest.raises(TrainingDiverged, match="at step 1"):
        t.fit(2)


@pytest.mark.parametrize("kind", ["pix2pix", "cycle"])
def test_divergence_restores_the_last_checked_state(kind: str) -> None:
    data = blobs(32)
    if kind == "pix2pix":
        build = lambda: Pix2PixTrainer(tiny(seed=5), paired_task("edges", data), check_every=2)  # noqa: E731
        images = lambda t: t.data.images  # noqa: E731
    else:
        a, b = data.images[:16], -data.images[16:]
        build = lambda: CycleGANTrainer(  # noqa: E731
            cycle_config(width_g=4, width_d=4, batch_size=4, pool_size=6, seed=5), a, b, check_every=2)
        images = lambda t: t.a.images  # noqa: E731
    t, uninterrupted = build(), build()
    uninterrupted.fit(6)
    t.fit(4)
    good = {name: {k: v.clone() for k, v in getattr(t, name).state_dict().items()} for name in t.NETS}
    clean = images(t).clone()
    images(t)[:] = float("nan")
    with pytest.raises(TrainingDiverged, match="at step 5.*restored to step 4"):
        t.fit(2)
    assert t.step_count == 4 and len(t.history[t.STATS[0]]) == 4
    for name in t.NETS:
        for k, v in getattr(t, name).state_dict().items():
            assert_close(v, good[name][k], rtol=0, atol=0, msg=f"{name}.{k}")
    images(t)[:] = clean  # the data mended: the run continues as if the bad steps never happened
    t.fit(2)
    for name in t.NETS:
        reference = getattr(uninterrupted, name).state_dict()
        for k, v in getattr(t, name).state_dict().items():
            assert_close(v, reference[k], rtol=0, atol=0, msg=f"{name}.{k}")
    assert t.history == uninterrupted.history


@pytest.mark.parametrize("kind", ["pix2pix", "cycle"])
def test_translate_recomputes_batchnorm_statistics_and_leaves_training_alone(kind: str) -> None:
    from ganlab.nets.apply import refresh_batchnorm

    data = blobs(48)
    if kind == "pix2pix":
        paired = paired_task("edges", data)
        build = lambda: Pix2PixTrainer(tiny(seed=1), paired)  # noqa: E731
        net, source, images = "generator", paired.inputs, paired.inputs[:6]
    else:
        a, b = data.images[:24], -data.images[24:]
        build = lambda: CycleGANTrainer(cycle_config(width_g=4, width_d=4, batch_size=8, pool_size=4, seed=1), a, b)  # noqa: E731
        net, source, images = "g_ab", a, a[:6]
    t, plain = build(), build()
    t.fit(5)
    plain.fit(5)
    for m in getattr(t, net).modules():  # running statistics made useless: translate must not read them
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.fill_(3.0)
    got = t.translate(images)
    reference = refresh_batchnorm(getattr(plain, net), source)
    reference.eval()
    with torch.no_grad():
        assert_close(got, reference(images))
    t.fit(5)  # statistics are not used by training (train mode normalises by the batch): the same trajectory
    plain.fit(5)
    for name in t.NETS:
        assert_close(params(getattr(t, name)), params(getattr(plain, name)), rtol=0, atol=0)
