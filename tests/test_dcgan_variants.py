import pytest
import torch
from torch import nn

from ganlab import GANConfig, Trainer
from ganlab.data import ImageData
from ganlab.nets import DCGANDiscriminator, DCGANGenerator
from ganlab.nets.dcgan_variants import VARIANTS, VariantDiscriminator, VariantGenerator, build_variant
from ganlab.nets.resample import ConvAvgPool2d, ResizeConv2d


@pytest.mark.parametrize("name", list(VARIANTS))
def test_shapes(name):
    generator, discriminator = build_variant(name, latent_dim=8, width=4)
    fake = generator(torch.randn(3, 8))
    assert fake.shape == (3, 1, 28, 28) and fake.abs().max() < 1
    assert discriminator(fake).shape == (3,)


def test_defaults_are_the_package_dcgan():
    torch.manual_seed(0)
    ours_g, ours_d = VariantGenerator(8, 4), VariantDiscriminator(4)
    theirs_g, theirs_d = DCGANGenerator(8, 4), DCGANDiscriminator(4)
    def shapes(module):
        return {k: v.shape for k, v in module.state_dict().items()}

    assert shapes(ours_g) == shapes(theirs_g) and shapes(ours_d) == shapes(theirs_d)
    theirs_g.load_state_dict(ours_g.state_dict())
    theirs_d.load_state_dict(ours_d.state_dict())
    z = torch.randn(5, 8)
    torch.testing.assert_close(ours_g(z), theirs_g(z))
    torch.testing.assert_close(ours_d(ours_g(z)), theirs_d(theirs_g(z)))


def test_each_switch_changes_what_it_names():
    def kinds(module):
        return [type(m) for m in module.net]

    assert nn.BatchNorm2d not in kinds(VariantGenerator(8, 4, batchnorm=False))
    assert nn.BatchNorm2d in kinds(VariantGenerator(8, 4))
    resize = kinds(VariantGenerator(8, 4, upsample="resize"))
    assert resize.count(ResizeConv2d) == 2 and resize.count(nn.ConvTranspose2d) == 1  # only the 1×1 → 7×7 projection
    pooled = VariantDiscriminator(4, downsample="avgpool")
    assert kinds(pooled).count(ConvAvgPool2d) == 2
    assert kinds(VariantDiscriminator(4)).count(ConvAvgPool2d) == 0
    assert nn.ReLU in kinds(VariantDiscriminator(4, activation="relu"))
    assert nn.LeakyReLU not in kinds(VariantDiscriminator(4, activation="relu"))
    # ReLU in D zeroes negative inputs where LeakyReLU keeps 0.2 of them
    x = -torch.ones(1, 1, 28, 28)
    torch.manual_seed(0)
    relu = VariantDiscriminator(4, activation="relu")
    torch.manual_seed(0)
    leaky = VariantDiscriminator(4)
    assert not torch.allclose(relu(x), leaky(x))


def test_bad_options_say_what_to_use():
    with pytest.raises(ValueError, match="resize"):
        VariantGenerator(8, 4, upsample="bilinear")
    with pytest.raises(ValueError, match="avgpool"):
        VariantDiscriminator(4, downsample="maxpool")
    with pytest.raises(ValueError, match="leaky_relu"):
        VariantDiscriminator(4, activation="elu")
    with pytest.raises(ValueError, match="DCGAN"):
        build_variant("no BN anywhere")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_one_training_step(name):
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    generator, discriminator = build_variant(name, latent_dim=8, width=4)
    cfg = GANConfig(model="dcgan", latent_dim=8, batch_size=8, device="cpu", extra={"width": 4})
    data = ImageData(images, torch.zeros(16, dtype=torch.long), "fashion_mnist", "train", tuple("0123456789"))
    trainer = Trainer(cfg, data=data, generator=generator,
                      discriminator=discriminator, progress=False)
    before = [p.detach().clone() for p in list(generator.parameters()) + list(discriminator.parameters())]
    trainer.fit(steps=1)
    after = list(generator.parameters()) + list(discriminator.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert sum(not torch.equal(a, b) for a, b in zip(after, before)) == len(before)  # every parameter moved
