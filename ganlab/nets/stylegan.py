"""A small StyleGAN2-like generator for 28×28 images (Karras et al. 2019, 2020).

z (N, latent) → mapping network (pixel norm, then ``mapping_layers`` equalised linear layers) → w (N, w_dim).
The synthesis network starts from a learned constant (w_dim is not fed in directly) and every layer gets its own
copy of w, turned into a style (N, C_in) by an affine layer whose bias starts at 1, and used to modulate a
convolution (``nets.style.modulated_conv2d`` with demodulation). After each convolution comes per-pixel noise
scaled by a learned per-channel weight that starts at 0, then a bias and LeakyReLU.

    const (w, 7, 7) → conv → conv ↑ 14 → conv → conv ↑ 28 → conv → toRGB → tanh   (5 styled convolutions)

Style mixing: ``forward(z, mix_z=..., mix_at=k)`` uses w(z) for layers < k and w(mix_z) from k on.
Truncation: ``w_avg`` is an exponential moving average of w over training batches (updated in training mode
only), and ``truncation_psi`` moves every w to ``w_avg + ψ (w − w_avg)``; ψ = 0 gives G(w_avg) for every z.
``adain`` is StyleGAN1's normalisation, kept for comparison with the modulated convolution that replaced it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .progressive import EqualizedLinear
from .style import modulated_conv2d, pixel_norm


def adain(x: Tensor, scale: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """AdaIN (Huang & Belongie 2017; StyleGAN): each channel normalised over its pixels, then scale·x̂ + bias.

    x (N, C, H, W), scale and bias (N, C) → (N, C, H, W).
    """
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = torch.sqrt(x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps)
    return scale[:, :, None, None] * (x - mean) / std + bias[:, :, None, None]


class MappingNetwork(nn.Module):
    """z (N, latent) → w (N, w_dim): pixel norm of z, then ``layers`` equalised linear layers with LeakyReLU.

    StyleGAN uses 8 layers at 512 and lowers their learning rate 100×; ``lr_mul`` = 0.01 does the same here.
    """

    def __init__(self, latent_dim: int = 32, w_dim: int = 32, layers: int = 8, lr_mul: float = 0.01) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers={layers!r}: the mapping network needs at least 1 layer (StyleGAN uses 8)")
        dims = [latent_dim] + [w_dim] * layers
        self.layers = nn.ModuleList([EqualizedLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims, dims[1:])])

    def forward(self, z: Tensor) -> Tensor:
        w = pixel_norm(z)
        for layer in self.layers:
            w = F.leaky_relu(layer(w), 0.2) * 2 ** 0.5  # √2 keeps the scale under LeakyReLU
        return w


class StyledConv(nn.Module):
    """Modulated 3×3 convolution (optionally after a 2× upsample), noise input, bias, LeakyReLU.

    x (N, C_in, H, W), w (N, w_dim) → (N, C_out, H', W'). The noise weight starts at 0 (the paper's choice), so
    an untrained layer ignores its noise.
    """

    def __init__(self, c_in: int, c_out: int, w_dim: int, upsample: bool = False, demodulate: bool = True,
                 kernel_size: int = 3, activate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel_size, kernel_size))
        self.affine = EqualizedLinear(w_dim, c_in, gain=1.0)
        nn.init.ones_(self.affine.bias)  # styles start at 1: the plain convolution
        self.noise_weight = nn.Parameter(torch.zeros(c_out))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.upsample, self.demodulate, self.activate = upsample, demodulate, activate
        self.scale = (c_in * kernel_size * kernel_size) ** -0.5  # equalised LR when not demodulated

    def forward(self, x: Tensor, w: Tensor, noise: bool = True) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        styles = self.affine(w)  # (N, C_in)
        x = modulated_conv2d(x, self.weight * self.scale, styles, demodulate=self.demodulate)
        if noise:
            x = x + self.noise_weight[None, :, None, None] * torch.randn(x.shape[0], 1, *x.shape[2:],
                                                                         device=x.device, dtype=x.dtype)
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * 2 ** 0.5 if self.activate else x


class StyleGenerator(nn.Module):
    """z (N, latent) → images (N, C, 28, 28) through a mapping network and a style-modulated synthesis network."""

    def __init__(self, latent_dim: int = 32, w_dim: int = 32, width: int = 32, channels: int = 1,
                 mapping_layers: int = 8, w_avg_beta: float = 0.995, mixing_prob: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= mixing_prob <= 1.0:
            raise ValueError(f"mixing_prob={mixing_prob!r} must lie in [0, 1] (StyleGAN trains with 0.9)")
        self.latent_dim, self.w_dim = latent_dim, w_dim
        self.w_avg_beta, self.mixing_prob = w_avg_beta, mixing_prob
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers)
        self.const = nn.Parameter(torch.randn(1, width, 7, 7))
        self.convs = nn.ModuleList([
            StyledConv(width, width, w_dim),  # 7×7
            StyledConv(width, width, w_dim, upsample=True), StyledConv(width, width, w_dim),  # 14×14
            StyledConv(width, width, w_dim, upsample=True), StyledConv(width, width, w_dim),  # 28×28
        ])
        self.to_rgb = StyledConv(width, channels, w_dim, demodulate=False, kernel_size=1, activate=False)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.truncation_psi = 1.0

    @property
    def num_ws(self) -> int:
        """How many copies of w the synthesis network reads: one per styled convolution plus toRGB."""
        return len(self.convs) + 1

    def synthesis(self, ws: Tensor, noise: bool = True) -> Tensor:
        """ws (N, num_ws, w_dim) → images (N, C, 28, 28)."""
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}")
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        for i, conv in enumerate(self.convs):
            x = conv(x, ws[:, i], noise)
        return torch.tanh(self.to_rgb(x, ws[:, -1], noise=False))

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """w_avg + ψ (w − w_avg), for w (..., w_dim)."""
        return self.w_avg.lerp(w, psi)

    def forward(self, z: Tensor, mix_z: Tensor | None = None, mix_at: int | None = None,
                noise: bool = True) -> Tensor:
        """Images (N, C, 28, 28) for z (N, latent); with ``mix_z`` and ``mix_at`` = k, layers ≥ k use w(mix_z)."""
        w = self.mapping(z)  # (N, w_dim)
        if self.training:
            with torch.no_grad():  # the running average of w that truncation pulls towards
                self.w_avg.copy_(w.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        ws = w[:, None].repeat(1, self.num_ws, 1)  # (N, num_ws, w_dim)
        if mix_z is None and self.training and self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
            mix_z, mix_at = torch.randn_like(z), int(torch.randint(1, self.num_ws, ()))  # mixing regularisation
        if mix_z is not None:
            if mix_at is None or not 0 <= mix_at <= self.num_ws:
                raise ValueError(f"mix_at={mix_at!r} must be a layer index in 0..{self.num_ws} when mix_z is given")
            ws[:, mix_at:] = self.mapping(mix_z)[:, None]
        if self.truncation_psi != 1.0:
            ws = self.truncate(ws, self.truncation_psi)
        return self.synthesis(ws, noise)
