"""nets.progressive: fade-in endpoints, equalised LR, minibatch std, the schedule, and a Trainer step."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.nets.progressive import (
    EqualizedConv2d,
    EqualizedLinear,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    minibatch_std,
    schedule,
    set_stage,
)
from ganlab.train import Trainer


def _pair(stage, alpha):
    torch.manual_seed(0)
    return ProgressiveGenerator(16, 8, stage=stage, alpha=alpha), ProgressiveDiscriminator(8, stage=stage, alpha=alpha)


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_shapes(stage):
    g, d = _pair(stage, 0.5 if stage else 1.0)
    fake = g(torch.randn(5, 16))
    assert fake.shape == (5, 1, 28, 28) and fake.abs().max() <= 1
    assert d(fake).shape == (5,)


@pytest.mark.parametrize("stage", [1, 2])
def test_fade_in_endpoints_reproduce_the_old_and_the_new_path(stage):
    g, d = _pair(stage, 0.0)
    g.eval()
    z, x = torch.randn(4, 16), torch.rand(4, 1, 28, 28) * 2 - 1
    faded_out, d_faded_out = g(z), d(x)
    set_stage(g, d, stage - 1, 1.0)
    assert torch.equal(faded_out, g(z))  # α = 0: the old stage, upsampled
    assert_close(d_faded_out, d(x))  # D: pooling twice vs once differs only by rounding
    set_stage(g, d, stage, 1.0)
    new, d_new = g(z), d(x)
    set_stage(g, d, stage, 1.0 - 1e-12)  # goes through the blend, not the α = 1 shortcut
    assert_close(g(z), new)
    assert_close(d(x), d_new)
    set_stage(g, d, stage, 0.5)  # in between: a different image, so the checks above can fail
    assert not torch.allclose(g(z), new, atol=1e-4)


def test_the_blend_is_linear_in_alpha_before_tanh():
    g, _ = _pair(1, 0.0)
    z = torch.randn(3, 16)
    old = g.image(z)
    g.alpha = 1.0
    new = g.image(z)
    g.alpha = 0.3
    assert_close(g.image(z), 0.7 * old + 0.3 * new)


def test_equalised_layers_scale_weights_by_sqrt_two_over_fan_in():
    lin = EqualizedLinear(12, 5)
    x = torch.randn(3, 12)
    assert_close(lin(x), x @ (lin.weight * math.sqrt(2 / 12)).T + lin.bias)
    conv = EqualizedConv2d(4, 6, 3)
    x = torch.randn(2, 4, 5, 5)
    assert_close(conv(x), F.conv2d(x, conv.weight * math.sqrt(2 / 36), conv.bias, padding=1))


def test_minibatch_std_matches_a_loop_and_is_zero_for_copies():
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    out = minibatch_std(x)
    stds = [torch.sqrt(((x[:, c, i, j] - x[:, c, i, j].mean()) ** 2).mean() + 1e-8)
            for c in range(3) for i in range(2) for j in range(2)]
    assert out.shape == (4, 4, 2, 2)
    assert torch.equal(out[:, :3], x)
    assert_close(out[:, 3], torch.full((4, 2, 2), float(sum(stds) / 12), dtype=torch.float64))
    copies = minibatch_std(x[:1].repeat(4, 1, 1, 1))
    assert copies[:, 3].max() < 1e-3
    with pytest.raises(ValueError, match="N ≥ 2"):
        minibatch_std(torch.randn(1, 3, 2, 2))


def test_schedule_grows_with_fades_and_bad_stages_are_refused():
    assert schedule(0, 10) == (0, 1.0)
    assert schedule(15, 10) == (1, 0.5)
    assert schedule(25, 10) == (1, 1.0)
    assert schedule(32, 10) == (2, 0.2)
    assert schedule(45, 10) == (2, 1.0) and schedule(500, 10) == (2, 1.0)
    with pytest.raises(ValueError, match="stage"):
        ProgressiveGenerator(stage=3)
    with pytest.raises(ValueError, match="alpha"):
        set_stage(*_pair(1, 1.0), 1, 1.5)


def test_one_trainer_step_changes_both_nets():
    g, d = _pair(1, 0.5)
    cfg = GANConfig(model="progressive", latent_dim=16, batch_size=8, device="cpu")
    trainer = Trainer(cfg, torch.rand(32, 1, 28, 28) * 2 - 1, g, d, progress=False)
    before = [p.detach().clone() for p in (*g.parameters(), *d.parameters())]
    trainer.fit(steps=1)
    after = list((*g.parameters(), *d.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
