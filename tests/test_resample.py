import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.metrics.checkerboard import checkerboard_share
from ganlab.nets.resample import ConvAvgPool2d, ResizeConv2d


def two_layer(fused: nn.Conv2d) -> nn.Conv2d:
    """The plain nn.Conv2d with the fused layer's weight and bias."""
    conv = nn.Conv2d(fused.in_channels, fused.out_channels, 3, 1, 1, bias=fused.bias is not None)
    conv.load_state_dict(fused.state_dict())
    return conv


def assert_same_forward_and_backward(fused, conv, two_layer_forward, x):
    """fused(x) equals two_layer_forward(conv, x) to float32 rounding, and so do the gradients of x and weights."""
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out, ref = fused(x1), two_layer_forward(conv, x2)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(out)
    out.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fused.weight.grad, conv.weight.grad, rtol=1e-4, atol=1e-5)
    if fused.bias is not None:
        torch.testing.assert_close(fused.bias.grad, conv.bias.grad, rtol=1e-4, atol=1e-5)
    return out


@pytest.mark.parametrize("size", [(7, 7), (14, 14), (5, 9)])
@pytest.mark.parametrize("bias", [True, False])
def test_resize_conv_equals_upsample_then_conv_forward_and_backward(size, bias):
    torch.manual_seed(0)
    fused = ResizeConv2d(6, 4, bias=bias)
    out = assert_same_forward_and_backward(fused, two_layer(fused),
                                           lambda conv, x: conv(F.interpolate(x, scale_factor=2, mode="nearest")),
                                           torch.randn(3, 6, *size))
    assert out.shape == (3, 4, 2 * size[0], 2 * size[1])


@pytest.mark.parametrize("size", [(28, 28), (14, 14), (7, 7), (6, 9)])
def test_conv_avgpool_equals_conv_then_pool_forward_and_backward(size):
    torch.manual_seed(1)
    fused = ConvAvgPool2d(2, 5)
    # odd sizes: both forms drop the last row/column alike
    out = assert_same_forward_and_backward(fused, two_layer(fused), lambda conv, x: F.avg_pool2d(conv(x), 2),
                                           torch.randn(4, 2, *size))
    assert out.shape == (4, 5, size[0] // 2, size[1] // 2)


def test_wrong_taps_would_be_caught():
    # the equality above is not loose: a kernel with one tap misplaced differs from the two-layer form
    torch.manual_seed(2)
    fused = ResizeConv2d(1, 1)
    x = torch.randn(1, 1, 6, 6)
    ref = two_layer(fused)(F.interpolate(x, scale_factor=2, mode="nearest"))
    fused.taps[0] = fused.taps[0].flip(0)
    assert (fused(x) - ref).abs().max() > 1e-2


def test_resize_conv_never_checkerboards_a_constant_input():
    # every output phase sums all nine 3×3 taps, so a constant image stays constant away from the border
    for seed in range(5):
        torch.manual_seed(seed)
        out = ResizeConv2d(1, 1, bias=False)(torch.ones(1, 1, 8, 8)).detach()
        inner = out[..., 2:-2, 2:-2]
        torch.testing.assert_close(inner, torch.full_like(inner, inner[0, 0, 0, 0].item()))
        # a free 4×4 transposed convolution of the same size does stripe it (why section 1 of notebook 07 matters)
        free = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)(torch.ones(1, 1, 8, 8)).detach()[..., 2:-2, 2:-2]
        assert checkerboard_share(free - free.mean()).item() > 0.1


def test_state_dict_is_a_conv2d_and_loads_across_dtypes():
    fused = ResizeConv2d(3, 2)
    assert set(fused.state_dict()) == {"weight", "bias"}  # the tap matrix is not saved
    assert fused.weight.shape == (2, 3, 3, 3)
    other = ConvAvgPool2d(3, 2).double()
    other.load_state_dict({k: v.double() for k, v in fused.state_dict().items()})
    assert other(torch.randn(1, 3, 8, 8, dtype=torch.float64)).dtype == torch.float64
