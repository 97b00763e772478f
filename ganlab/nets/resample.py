"""Resize-convolution and convolution-then-pooling, each computed as the one strided convolution it equals.

Both pairs of layers are linear, so each composes into a single stride-2 convolution with a 4×4 kernel built
from the 3×3 one. Along one axis, with ``w = (w0, w1, w2)`` the taps of a 3×3 convolution (padding 1):

- nearest ×2 upsampling then the convolution gives output pixel ``2j`` = ``w0·x[j−1] + (w1 + w2)·x[j]`` and
  ``2j + 1`` = ``(w0 + w1)·x[j] + w2·x[j+1]``: a stride-2 transposed convolution (padding 1) with taps
  ``(w2, w1 + w2, w0 + w1, w0)``. Each output phase sums to ``w0 + w1 + w2``, which is why a constant input can
  never come out as a checkerboard, whatever the weights;
- the convolution then 2×2 average pooling gives ``z[j] = Σ_v ½(w[v] + w[v−1])·x[2j + v − 1]``: a stride-2
  convolution (padding 1) with taps ``½(w0, w0 + w1, w1 + w2, w2)``.

In 2-D the same matrices act on both axes. The parameters (a 3×3 ``weight`` and a ``bias``, as in
``nn.Conv2d``) and the function are those of the two-layer form; only the arithmetic is cheaper: about half the
time of a forward and backward pass at DCGAN's sizes on a CPU, equal to the two-layer form to float32 rounding
(``tests/test_resample.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ResizeConv2d", "ConvAvgPool2d"]

# rows: the 4 taps of the strided kernel; columns: the 3 taps of the 3×3 kernel they sum (per axis)
_RESIZE_TAPS = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 0.0, 0.0))
_POOL_TAPS = ((0.5, 0.0, 0.0), (0.5, 0.5, 0.0), (0.0, 0.5, 0.5), (0.0, 0.0, 0.5))


class _Composed3x3(nn.Conv2d):
    """A 3×3 convolution's parameters, run as the 4×4 stride-2 kernel ``TAPS ⋅ weight ⋅ TAPSᵀ`` (per axis)."""

    TAPS: tuple[tuple[float, ...], ...]

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 3, 1, 1, bias=bias)
        self.register_buffer("taps", torch.tensor(self.TAPS), persistent=False)  # follows .to(device / dtype)


class ResizeConv2d(_Composed3x3):
    """Nearest-neighbour ×2 upsampling then a 3×3 convolution: (N, c_in, H, W) → (N, c_out, 2H, 2W)."""

    TAPS = _RESIZE_TAPS

    def forward(self, x: Tensor) -> Tensor:
        kernel = torch.einsum("ta,ocab,ub->cotu", self.taps, self.weight, self.taps)  # (c_in, c_out, 4, 4)
        return F.conv_transpose2d(x, kernel, self.bias, stride=2, padding=1)


class ConvAvgPool2d(_Composed3x3):
    """A 3×3 convolution (padding 1) then 2×2 average pooling: (N, c_in, H, W) → (N, c_out, ⌊H/2⌋, ⌊W/2⌋)."""

    TAPS = _POOL_TAPS

    def forward(self, x: Tensor) -> Tensor:
        kernel = torch.einsum("va,ocab,ub->ocvu", self.taps, self.weight, self.taps)  # (c_out, c_in, 4, 4)
        return F.conv2d(x, kernel, self.bias, stride=2, padding=1)
