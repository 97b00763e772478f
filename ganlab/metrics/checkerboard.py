"""How much of an image's structure is a checkerboard: the power at the period-2 frequencies.

Transposed convolutions whose kernel size is not a multiple of the stride, and even those whose is when the
kernel's phases are unbalanced, stamp a period-2 pattern on their output (Odena et al. 2016). Its signature
in the 2-D Fourier spectrum is power in the row or column of the highest frequency, u = H/2 or v = W/2.
"""

from __future__ import annotations

import torch
from torch import Tensor


def checkerboard_share(images: Tensor) -> Tensor:
    """Share of each image's variance at the period-2 frequencies, (N, C, H, W) → (N,) in [0, 1].

    The mean of each image is removed; the share is the power in the spectrum's row u = H/2 and column
    v = W/2 over the total (Parseval), summed over channels. A pure checkerboard gives 1, a smooth image
    about 0, white noise (H + W − 1)/(H·W − 1). A constant image (no variance at all) gives 0.
    """
    if not isinstance(images, Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor (N, C, H, W), got {shape}; add a channel axis with x[:, None]")
    h, w = images.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"images must have even height and width to hold a period-2 pattern, got {h}×{w}; "
                         f"crop a row or column first")
    x = images.double() - images.double().mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().square()  # (N, C, H, W)
    mask = torch.zeros(h, w, dtype=torch.bool, device=images.device)
    mask[h // 2, :] = True
    mask[:, w // 2] = True
    total = power.sum(dim=(1, 2, 3))
    at_nyquist = power[..., mask].sum(dim=(1, 2))
    return torch.where(total > 0, at_nyquist / total.clamp_min(1e-300), torch.zeros_like(total))


__all__ = ["checkerboard_share"]
