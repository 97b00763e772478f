"""nets.scale_models: each registered builder gives a pair of the right shapes that trains one step."""

import pytest
import torch

from ganlab import GANConfig
from ganlab.nets import build_models


@pytest.mark.parametrize("model", ["progressive", "stylegan", "sagan"])
def test_builders_give_28_pixel_pairs_that_take_a_step(model):
    cfg = GANConfig(model=model, latent_dim=8, device="cpu", extra={"width": 8, "mapping_layers": 2})
    generator, discriminator = build_models(cfg)
    fake = generator(torch.randn(4, 8))
    assert fake.shape == (4, 1, 28, 28)
    logits = discriminator(fake)
    assert logits.shape == (4,)
    logits.mean().backward()
    # G's first layer gets a gradient through D (at stage 2 the progressive G's old toRGB layers rightly get none)
    first = next(generator.parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0


def test_wrong_image_shape_is_explained():
    with pytest.raises(ValueError, match="28, 28"):
        build_models(GANConfig(model="sagan", image_shape=(1, 32, 32), device="cpu"))
