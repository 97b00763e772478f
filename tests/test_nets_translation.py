"""Translation nets: shapes at 28 and 32 pixels, receptive fields against a gradient probe, the image pool."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganlab.nets.translation import (
    EncoderDecoderGenerator,
    ImagePool,
    PatchDiscriminator,
    UNetGenerator,
    receptive_field,
)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("size,depth", [(28, 1), (28, 2), (32, 2), (32, 3)])
def test_generators_keep_the_image_size(size: int, depth: int) -> None:
    x = torch.randn(3, 2, size, size)
    for g in (UNetGenerator(2, 1, 4, depth), EncoderDecoderGenerator(2, 1, 4, depth)):
        out = g(x)
        assert out.shape == (3, 1, size, size)
        assert out.abs().max() <= 1  # Tanh output


def test_skips_are_the_only_difference() -> None:
    unet, plain = UNetGenerator(1, 1, 4, 2), EncoderDecoderGenerator(1, 1, 4, 2)
    # The up-convolutions of the U-Net read twice the channels (their own map and the skip), nothing else differs:
    # level 1 (16 → 8 channels... here 8 → 4) and level 0 (4 → 1) each gain c_in × c_out × 4 × 4 weights.
    assert count(unet) - count(plain) == 8 * 4 * 16 + 4 * 1 * 16
    assert unet.skips and not plain.skips


def test_skips_carry_the_input_layout() -> None:
    # With the bottleneck silenced, a skip-less decoder's output cannot depend on the input; the U-Net's still does.
    torch.manual_seed(0)
    x = torch.randn(2, 1, 28, 28)
    for g, depends in ((UNetGenerator(1, 1, 4, 2), True), (EncoderDecoderGenerator(1, 1, 4, 2), False)):
        g.eval()
        g.bottleneck = _Zero()
        with torch.no_grad():
            gap = (g(x) - g(x.flip(-1))).abs().max()
        assert bool(gap > 1e-3) == depends


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0


@pytest.mark.parametrize("size,depth", [(28, 3), (30, 2), (27, 1)])
def test_sizes_the_depth_cannot_halve_are_refused_with_the_fix(size: int, depth: int) -> None:
    with pytest.raises(ValueError, match="multiples of .*Pad the images"):
        UNetGenerator(1, 1, 4, depth)(torch.randn(1, 1, size, size))
    with pytest.raises(ValueError, match="depth"):
        UNetGenerator(depth=0)
    with pytest.raises(ValueError, match="batch or channel"):
        UNetGenerator()(torch.randn(28, 28))


@pytest.mark.parametrize("size", [28, 32])
def test_patch_discriminator_shapes(size: int) -> None:
    x = torch.randn(2, 2, size, size)
    # (size/2 − 2) per stride-1 layer after one halving; 3 halvings leave (size/8) − 2, at least 1 here
    assert PatchDiscriminator(2, 4, 1)(x).shape == (2, 1, size // 2 - 2, size // 2 - 2)
    assert PatchDiscriminator(2, 4, 3)(x).shape == (2, 1, size // 8 - 2, size // 8 - 2)
    with pytest.raises(ValueError, match="n_layers"):
        PatchDiscriminator(2, 4, 0)


def test_patch_discriminator_layout() -> None:
    d = PatchDiscriminator(3, 8, 3)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 1]
    assert convs[0].in_channels == 3


def probe(module: nn.Module, size: int) -> int:
    """Rows of the input that the central output unit's gradient reaches (the brute-force receptive field)."""
    torch.manual_seed(0)
    module.eval()
    x = torch.randn(1, module.net[0].in_channels, size, size, requires_grad=True)
    out = module(x)
    h, w = out.shape[-2:]
    out[0, 0, (h - 1) // 2, (w - 1) // 2].backward()
    rows = (x.grad[0].abs().sum(0) > 0).any(1).nonzero()[:, 0]
    cols = (x.grad[0].abs().sum(0) > 0).any(0).nonzero()[:, 0]
    assert rows.max() - rows.min() == cols.max() - cols.min()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("n_layers,field", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_matches_pix2pix_and_the_gradient_probe(n_layers: int, field: int) -> None:
    d = PatchDiscriminator(1, 2, n_layers)
    assert receptive_field(d) == field
    assert receptive_field(d, 160) == probe(d, 160) == field  # large input: the full field fits
    for size in (28, 32, 37):  # small inputs: clipped at the borders, as the probe sees it
        assert receptive_field(d, size) == probe(d, size) <= min(field, size)


def test_receptive_field_of_other_chains_and_errors() -> None:
    chain = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, dilation=2))
    # 3×3 adds 2; the 2×2 pool adds 1 and doubles the step; the 3×3 with dilation 2 adds 2 · 2 · (step 2) = 8
    assert receptive_field(chain) == 1 + 2 + 1 + 8
    with pytest.raises(ValueError, match="cannot follow a Flatten"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 1)))
    with pytest.raises(ValueError, match="too small"):
        receptive_field(PatchDiscriminator(1, 2, 3), 8)


def test_image_pool_fills_then_swaps_half() -> None:
    pool = ImagePool(4, torch.Generator().manual_seed(0))
    first = torch.arange(3.0).view(3, 1, 1, 1)
    assert_close(pool.query(first), first)  # filling: returned as they are
    second = torch.arange(10.0, 13.0).view(3, 1, 1, 1)
    out = pool.query(second)
    assert_close(out[:1], second[:1])  # the last free slot takes the first new image
    assert pool.count == 4
    # Every returned image is either the new one or a stored one, and the pool still holds 4 distinct images
    # of the 6 seen.
    stored = set(pool.images.flatten().tolist())
    assert len(stored) == 4 and stored <= {0.0, 1.0, 2.0, 10.0, 11.0, 12.0}
    # Over many queries about half the images come from the history.
    swapped = 0
    for i in range(200):
        new = torch.full((5, 1, 1, 1), 100.0 + i)
        swapped += int((pool.query(new) != new).sum())
    assert 0.4 < swapped / 1000 < 0.6


def test_image_pool_is_deterministic_and_off_at_zero() -> None:
    fakes = [torch.randn(6, 1, 2, 2, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    runs = []
    for _ in range(2):
        pool = ImagePool(8, torch.Generator().manual_seed(3))
        runs.append(torch.cat([pool.query(f) for f in fakes]))
    assert_close(runs[0], runs[1], rtol=0, atol=0)
    other = ImagePool(8, torch.Generator().manual_seed(4))
    assert not torch.equal(runs[0], torch.cat([other.query(f) for f in fakes]))
    assert_close(ImagePool(0).query(fakes[0]), fakes[0])
    with pytest.raises(ValueError, match="size"):
        ImagePool(-1)
    with pytest.raises(ValueError, match="one ImagePool per image size"):
        pool.query(torch.randn(2, 1, 3, 3))


def test_image_pool_state_round_trip() -> None:
    pool = ImagePool(4, torch.Generator().manual_seed(0))
    pool.query(torch.randn(6, 1, 2, 2))
    copy = ImagePool(4, torch.Generator().manual_seed(0))
    copy.load_state_dict(pool.state_dict())
    assert copy.count == 4
    assert_close(copy.images, pool.images)
    with pytest.raises(ValueError, match="holds 4"):
        ImagePool(5).load_state_dict(pool.state_dict())
