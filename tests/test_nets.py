import pytest
import torch
from torch import nn

from ganlab import GANConfig
from ganlab.nets import build_models
from ganlab.nets.layers import dcgan_init

CASES = [
    (dict(model="mlp", hidden_dim=8), (1, 28, 28)),
    (dict(model="dcgan", extra={"width": 4}), (1, 28, 28)),
    (dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=16, dataset="ring8"), (2,)),
]


@pytest.mark.parametrize("kwargs, shape", CASES, ids=[c[0]["model"] for c in CASES])
def test_shapes_and_output_range(kwargs, shape):
    cfg = GANConfig(device="cpu", **kwargs)
    generator, discriminator = build_models(cfg)
    z = torch.randn(5, cfg.latent_dim)
    fake = generator(z)
    assert fake.shape == (5, *shape)
    assert discriminator(fake).shape == (5,)  # logits, one per sample
    if cfg.model != "toy":
        assert fake.abs().max() <= 1.0  # Tanh output matches images in [-1, 1]


@pytest.mark.parametrize("kwargs, shape", CASES, ids=[c[0]["model"] for c in CASES])
def test_one_step_smoke(kwargs, shape):
    cfg = GANConfig(device="cpu", **kwargs)
    generator, discriminator = build_models(cfg)
    opt = torch.optim.Adam(discriminator.parameters(), 1e-3)
    loss = discriminator(generator(torch.randn(4, cfg.latent_dim)).detach()).mean()
    loss.backward()
    before = [p.detach().clone() for p in discriminator.parameters()]
    opt.step()
    assert any(not torch.equal(a, b) for a, b in zip(before, discriminator.parameters()))


def test_seed_architecture():
    generator, discriminator = build_models(GANConfig(device="cpu"))
    g_linear = [m.out_features for m in generator.modules() if isinstance(m, nn.Linear)]
    d_linear = [m.out_features for m in discriminator.modules() if isinstance(m, nn.Linear)]
    assert g_linear == [256, 512, 1024, 784] and d_linear == [1024, 512, 256, 1]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in generator.modules()) == 2  # not after the first layer
    assert not any(isinstance(m, nn.BatchNorm1d) for m in discriminator.modules())
    dropouts = [m.p for m in discriminator.modules() if isinstance(m, nn.Dropout)]
    assert dropouts == [0.3, 0.3, 0.3]
    slopes = {m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}


def test_dcgan_guidelines():
    generator, discriminator = build_models(GANConfig(device="cpu", model="dcgan", extra={"width": 8}))
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for m in discriminator.modules())
    first_conv = next(m for m in discriminator.net if isinstance(m, nn.Conv2d))
    assert not isinstance(discriminator.net[1], nn.BatchNorm2d) and first_conv.stride == (2, 2)
    assert isinstance(generator.net[-1], nn.Tanh) and not isinstance(generator.net[-2], nn.BatchNorm2d)


def test_init_centres_batchnorm_scales_on_one():
    layer = dcgan_init(nn.Sequential(nn.Linear(50, 400), nn.BatchNorm1d(400)))
    assert abs(layer[0].weight.std().item() - 0.02) < 0.002
    assert abs(layer[1].weight.mean().item() - 1.0) < 0.01


def test_options_from_extra():
    _, discriminator = build_models(GANConfig(device="cpu", hidden_dim=8, extra={"dropout": 0.0,
                                                                                  "activation": "relu"}))
    assert not any(isinstance(m, nn.Dropout) for m in discriminator.modules())
    assert any(isinstance(m, nn.ReLU) for m in discriminator.modules())


def test_spectral_norm_switch_bounds_each_layer():
    _, discriminator = build_models(GANConfig(device="cpu", hidden_dim=8, spectral_norm=True))
    discriminator.train()
    for _ in range(30):  # let the power iteration settle
        discriminator(torch.randn(4, 1, 28, 28))
    for m in discriminator.modules():
        if isinstance(m, nn.Linear):
            sigma = torch.linalg.matrix_norm(m.weight.detach(), ord=2)
            assert abs(sigma.item() - 1.0) < 0.05


def test_wrong_shapes_for_a_model_are_explained():
    with pytest.raises(ValueError, match="28"):
        build_models(GANConfig(device="cpu", model="dcgan", image_shape=(1, 32, 32)))
    with pytest.raises(ValueError, match="flat samples"):
        build_models(GANConfig(device="cpu", model="toy"))
