"""StyleGAN's layers: pixel normalisation (ProGAN) and the modulated, demodulated convolution (StyleGAN2).

Karras et al. 2018 (progressive growing) normalise each pixel's feature vector to unit RMS; Karras et al. 2020
(StyleGAN2) fold the style into the convolution weight instead of normalising activations (AdaIN), and then
*demodulate*: they rescale each output channel's weights so that, for inputs of unit variance, the output has unit
expected variance again.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """x / sqrt(mean over channels of x² + eps) for x (N, C, ...): every pixel's C-vector gets unit RMS."""
    if x.dim() < 2:
        raise ValueError(f"pixel_norm needs (N, C, ...) input with a channel axis, got shape {tuple(x.shape)}")
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def modulated_conv2d(x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True,
                     eps: float = 1e-8) -> Tensor:
    """A convolution whose weight is scaled per sample by a style over its input channels (StyleGAN2).

    x (N, C_in, H, W), weight (C_out, C_in, k, k), styles (N, C_in) → (N, C_out, H, W); stride 1, padding k // 2.
    Sample n uses w'[o, i] = weight[o, i] · styles[n, i]; with ``demodulate`` each output channel's w' is divided by
    sqrt(Σ_{i,kh,kw} w'² + eps), so for independent unit-variance inputs each output has unit expected variance.
    Computed as one grouped convolution: the N samples become N groups of one batch element.
    """
    n, c_in, h, w = x.shape
    c_out, w_in, kh, kw = weight.shape
    if w_in != c_in or styles.shape != (n, c_in):
        raise ValueError(f"modulated_conv2d: x {tuple(x.shape)}, weight {tuple(weight.shape)} and styles "
                         f"{tuple(styles.shape)} disagree; need x (N, C_in, H, W), weight (C_out, C_in, k, k), "
                         "styles (N, C_in)")
    if kh != kw or kh % 2 == 0:
        raise ValueError(f"modulated_conv2d keeps the image size, so the kernel must be square and odd, got {kh}×{kw}")
    w_mod = weight[None] * styles[:, None, :, None, None]  # (N, C_out, C_in, k, k)
    if demodulate:
        w_mod = w_mod * torch.rsqrt(w_mod.pow(2).sum(dim=(2, 3, 4), keepdim=True) + eps)
    out = F.conv2d(x.reshape(1, n * c_in, h, w), w_mod.reshape(n * c_out, c_in, kh, kw), padding=kh // 2, groups=n)
    return out.reshape(n, c_out, h, w)
