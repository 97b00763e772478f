"""nets.biggan: the hierarchical generator, truncation with resampling, the orthogonal-regularisation hook."""

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.conditional import ConditionalTrainer
from ganlab.data import ImageData
from ganlab.nets.biggan import (
    BigGANGenerator,
    add_orthogonal_regularisation,
    orthogonal_gradient,
    orthogonal_weights,
    truncated_noise,
)
from ganlab.nets.conditional import ProjectionDiscriminator
from ganlab.nets.layers import orthogonal_penalty


def test_generator_shapes_and_every_chunk_matters():
    torch.manual_seed(0)
    g = BigGANGenerator(12, 10, 8).eval()
    z, y = torch.randn(4, 12), torch.arange(4)
    out = g(z, y)
    assert out.shape == (4, 1, 28, 28)
    for k in range(3):  # changing any one chunk of z (or the class) changes the image
        z2 = z.clone()
        z2[:, 4 * k:4 * (k + 1)] += 1.0
        assert not torch.allclose(g(z2, y), out, atol=1e-4)
    assert not torch.allclose(g(z, y + 1), out, atol=1e-4)
    with pytest.raises(ValueError, match="3 equal chunks"):
        BigGANGenerator(10)


def test_truncated_noise_stays_inside_and_keeps_the_inside_distribution():
    g = torch.Generator().manual_seed(0)
    z = truncated_noise(4000, 8, 0.5, generator=g)
    assert z.shape == (4000, 8) and z.abs().max() <= 0.5
    # N(0,1) conditioned on |z| ≤ 0.5 is nearly uniform there: variance ≈ 0.0801 (vs 1/12 · 1 = 0.0833 uniform)
    assert_close(z.var().item(), 0.0801, atol=0.004, rtol=0)
    with pytest.raises(ValueError, match="threshold"):
        truncated_noise(2, 2, 0.0)


def test_the_hook_adds_the_penalty_gradient_exactly():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 5, 3).double()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    beta = 0.3
    (plain,) = torch.autograd.grad(layer(x).pow(2).mean() + beta * orthogonal_penalty(layer.weight), layer.weight)
    assert_close(orthogonal_gradient(layer.weight.detach()), torch.autograd.grad(
        orthogonal_penalty(layer.weight), layer.weight)[0])
    handles = add_orthogonal_regularisation([layer.weight], beta)
    (hooked,) = torch.autograd.grad(layer(x).pow(2).mean(), layer.weight)
    assert_close(hooked, plain)
    for h in handles:
        h.remove()
    (bare,) = torch.autograd.grad(layer(x).pow(2).mean(), layer.weight)
    assert not torch.allclose(bare, plain)
    with pytest.raises(ValueError, match="beta"):
        add_orthogonal_regularisation([layer.weight], -1.0)


def test_plugs_into_the_conditional_trainer_for_one_step():
    torch.manual_seed(0)
    data = ImageData(torch.rand(40, 1, 28, 28) * 2 - 1, torch.arange(40) % 10, "tiny", "train",
                     tuple(str(i) for i in range(10)))
    g, d = BigGANGenerator(12, 10, 8), ProjectionDiscriminator(10, 8)
    assert len(orthogonal_weights(g)) == 7  # 3 convolutions + the 2 × 2 linear maps to CBN gains/biases; no embedding
    add_orthogonal_regularisation(orthogonal_weights(g), 1e-4)
    cfg = GANConfig(model="dcgan", latent_dim=12, batch_size=8, loss="hinge", device="cpu",
                    extra={"scheme": "projection"})
    trainer = ConditionalTrainer(cfg, data, g, d, progress=False)
    before = [p.detach().clone() for p in g.parameters()]
    trainer.fit(steps=1)
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))
    assert trainer.sample(10).shape == (10, 1, 28, 28)
