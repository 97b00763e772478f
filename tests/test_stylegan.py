"""nets.stylegan: mapping, AdaIN, styled convolutions, truncation, mixing, and a Trainer step."""

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.nets.dcgan import DCGANDiscriminator
from ganlab.nets.stylegan import MappingNetwork, StyledConv, StyleGenerator, adain
from ganlab.train import Trainer


def _generator(**kw):
    torch.manual_seed(0)
    return StyleGenerator(8, 8, 8, mapping_layers=2, **kw)


def test_shapes_and_range():
    g = _generator()
    out = g(torch.randn(3, 8))
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1
    assert MappingNetwork(8, 6, 3)(torch.randn(4, 8)).shape == (4, 6)


def test_adain_matches_a_per_channel_loop():
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    scale, bias = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    out = adain(x, scale, bias)
    for n in range(2):
        for c in range(3):
            v = x[n, c]
            assert_close(out[n, c], scale[n, c] * (v - v.mean()) / torch.sqrt(v.var(unbiased=False) + 1e-5)
                         + bias[n, c])


def test_noise_weights_start_at_zero_so_noise_changes_nothing_until_trained():
    conv = StyledConv(4, 4, 6)
    x, w = torch.randn(2, 4, 5, 5), torch.randn(2, 6)
    assert torch.equal(conv(x, w, noise=True), conv(x, w, noise=False))
    with torch.no_grad():
        conv.noise_weight.fill_(0.5)
    assert not torch.allclose(conv(x, w, noise=True), conv(x, w, noise=False))


def test_w_avg_is_an_ema_of_w_in_training_mode_only():
    g = _generator(w_avg_beta=0.9)
    z = torch.randn(16, 8)
    w = g.mapping(z).mean(dim=0)
    g.train()
    g(z)
    assert_close(g.w_avg, 0.1 * w)
    g(z)
    assert_close(g.w_avg, 0.1 * w + 0.9 * 0.1 * w)
    g.eval()
    before = g.w_avg.clone()
    g(z)
    assert torch.equal(g.w_avg, before)


def test_psi_zero_gives_g_of_w_avg_for_every_z():
    g = _generator()
    g.train()
    g(torch.randn(32, 8))  # a non-zero w_avg
    g.eval()
    g.truncation_psi = 0.0
    out = g(torch.randn(5, 8), noise=False)
    ws = g.w_avg.expand(5, g.num_ws, -1)
    assert_close(out, g.synthesis(ws, noise=False))
    assert (out - out[:1]).abs().max() < 1e-6
    g.truncation_psi = 1.0
    assert not torch.allclose(g(torch.randn(5, 8), noise=False)[0], out[0], atol=1e-3)


def test_mixing_uses_the_first_code_before_k_and_the_second_from_k():
    g = _generator().eval()
    z1, z2 = torch.randn(3, 8), torch.randn(3, 8)
    w1, w2 = g.mapping(z1), g.mapping(z2)
    ws = torch.stack([w1, w1, w2, w2, w2, w2], dim=1)
    assert_close(g(z1, mix_z=z2, mix_at=2, noise=False), g.synthesis(ws, noise=False))
    assert_close(g(z1, mix_z=z2, mix_at=g.num_ws, noise=False), g(z1, noise=False))
    assert_close(g(z1, mix_z=z2, mix_at=0, noise=False), g(z2, noise=False))
    with pytest.raises(ValueError, match="mix_at"):
        g(z1, mix_z=z2)


def test_bad_ws_shape_is_explained():
    with pytest.raises(ValueError, match="ws must have shape"):
        _generator().synthesis(torch.randn(2, 3, 8))


def test_one_trainer_step_with_mixing_regularisation():
    g = _generator(mixing_prob=1.0)
    torch.manual_seed(0)
    d = DCGANDiscriminator(8)
    cfg = GANConfig(model="stylegan", latent_dim=8, batch_size=8, device="cpu")
    trainer = Trainer(cfg, torch.rand(32, 1, 28, 28) * 2 - 1, g, d, progress=False)
    before = [p.detach().clone() for p in g.parameters()]
    trainer.fit(steps=1)
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))
    assert g.w_avg.abs().sum() > 0
