"""Building blocks shared by the networks: initialisation, spectral normalisation, conditional BatchNorm.

The layers of the scale-era architectures live in files named for them and are re-exported here:
``pixel_norm`` and ``modulated_conv2d`` (``nets.style``), ``SelfAttention`` (``nets.attention``) and
``orthogonal_penalty`` (``nets.orthogonal``); ``ResizeConv2d`` and ``ConvAvgPool2d`` (``nets.resample``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from .attention import SelfAttention
from .orthogonal import orthogonal_penalty
from .resample import ConvAvgPool2d, ResizeConv2d
from .style import modulated_conv2d, pixel_norm

__all__ = ["dcgan_init", "apply_spectral_norm", "set_spectral_norm", "activation", "ConditionalBatchNorm2d",
           "SelfAttention", "orthogonal_penalty", "modulated_conv2d", "pixel_norm", "ResizeConv2d", "ConvAvgPool2d"]

_WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def dcgan_init(module: nn.Module) -> nn.Module:
    """DCGAN initialisation (Radford et al. 2016): weights N(0, 0.02), biases 0, BatchNorm scales N(1, 0.02).

    The BatchNorm scale is centred on 1, not 0: a scale near 0 would silence the layer at the start.
    """
    for m in module.modules():
        if isinstance(m, _WEIGHTED):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Wrap every Linear and Conv layer of ``module`` in spectral normalisation (Miyato et al. 2018).

    Each weight is divided by a power-iteration estimate of its largest singular value, so every layer is
    1-Lipschitz and, with 1-Lipschitz activations, so is the whole network.
    """
    for name, child in module.named_children():
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(module, name, spectral_norm(child))
        else:
            apply_spectral_norm(child)
    return module


def set_spectral_norm(module: nn.Module, on: bool) -> nn.Module:
    """Switch spectral normalisation of ``module``'s layers on or off in place (``Trainer.update`` and the widgets).

    The weights keep their Parameter objects, so an optimizer and its moments carry on. Off keeps the
    normalised weights (W/σ), so the network computes the same function the moment it is switched off.
    """
    wrapped = [m for m in module.modules() if parametrize.is_parametrized(m, "weight")]
    if on and not wrapped:
        apply_spectral_norm(module)
    elif not on:
        for layer in wrapped:
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    return module


def activation(name: str, slope: float = 0.2) -> nn.Module:
    """'leaky_relu' (slope 0.2, the seed's), 'relu' or 'tanh'."""
    table = {"leaky_relu": lambda: nn.LeakyReLU(slope), "relu": nn.ReLU, "tanh": nn.Tanh}
    if name not in table:
        raise ValueError(f"activation {name!r} is unknown; use one of {sorted(table)}")
    return table[name]()


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias depend on the class (Dumoulin et al. 2017; de Vries et al. 2017; BigGAN).

    out = γ_y · (x − μ) / σ + β_y for x (N, C, H, W) and labels y (N,) int64; μ, σ are the usual batch
    statistics (running averages in eval mode). Gains start at N(1, 0.02) like DCGAN's BatchNorm scales,
    so every class begins near plain BatchNorm yet each is slightly different; biases start at 0.
    """

    def __init__(self, num_features: int, n_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        # Plain parameters, not nn.Embedding, so dcgan_init's N(0, 0.02) for weights cannot silence the gains.
        self.gain = nn.Parameter(1.0 + 0.02 * torch.randn(n_classes, num_features))
        self.bias = nn.Parameter(torch.zeros(n_classes, num_features))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        gain, bias = self.gain[y][:, :, None, None], self.bias[y][:, :, None, None]  # (N, C, 1, 1)
        return gain * self.norm(x) + bias
