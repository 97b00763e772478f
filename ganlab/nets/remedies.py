"""Discriminator layers against mode collapse: each lets D see several samples at once.

A discriminator that scores one sample at a time cannot tell "every fake sits on mode 3" from "fakes
spread over all modes": each fake alone looks real. These layers give D a statistic of the batch:

``PackedDiscriminator``      PacGAN (Lin et al. 2018): D scores ``pack`` samples concatenated.
``MinibatchStd``             Karras et al. (2018): the features' standard deviation over a group, as one
                             extra feature (a collapsed batch has std ≈ 0, a real one does not).
``MinibatchDiscrimination``  Salimans et al. (2016): for each sample, its closeness to the other samples
                             of the batch under learned projections, as B extra features.

The last two are inserted just before D's last layer by ``insert_before_head``, which widens that layer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

HEADS = (nn.Linear, nn.Conv2d)


class PackedDiscriminator(nn.Module):
    """D on packs: x (N, C, ...) → (N/pack, pack·C, ...) → ``inner`` → (N/pack,) logits.

    ``inner`` must take ``pack`` times the channels (or features) of one sample; consecutive samples of
    a batch form a pack, so real packs hold only real samples and fake packs only fakes.
    """

    def __init__(self, inner: nn.Module, pack: int) -> None:
        super().__init__()
        if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack={pack!r} must be an integer >= 1 (PacGAN used 2, 3 and 4)")
        self.inner, self.pack = inner, pack

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        if n % self.pack:
            raise ValueError(f"a batch of {n} samples cannot be split into packs of {self.pack}; "
                             f"use a batch_size divisible by {self.pack}")
        packed = x.reshape(n // self.pack, self.pack, *x.shape[1:]).flatten(1, 2)  # (N/p, p·C, ...)
        return self.inner(packed)


class MinibatchStd(nn.Module):
    """Append one feature: the std over a group of samples, averaged over features (Karras et al. 2018).

    h (N, F) or (N, C, H, W) → (N, F + 1) or (N, C + 1, H, W). Samples are split into groups of
    ``group_size`` (0: the whole batch is one group); each sample gets its group's value.
    """

    added = 1

    def __init__(self, group_size: int = 0) -> None:
        super().__init__()
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 0:
            raise ValueError(f"group_size={group_size!r} must be an integer >= 0 (0 = the whole batch)")
        self.group_size = group_size

    def forward(self, h: Tensor) -> Tensor:
        n = h.shape[0]
        g = n if self.group_size == 0 else min(self.group_size, n)
        if n % g:
            raise ValueError(f"a batch of {n} cannot be split into groups of {g}; change group_size or batch_size")
        groups = h.reshape(g, n // g, *h.shape[1:])  # sample i is in group i mod (n/g), as in Karras et al.
        std = (groups.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (n/g, F) or (n/g, C, H, W)
        std = std.flatten(1).mean(dim=1)  # (n/g,): one number per group
        feature = std.repeat(g).reshape(n, 1, *([1] * (h.ndim - 2))).expand(n, 1, *h.shape[2:])
        return torch.cat([h, feature], dim=1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. (2016), §3.2: f (N, A) → [f, o] (N, A + B).

    M_i = f_i T reshaped to (B, C); c_b(i, j) = exp(−‖M_ib − M_jb‖₁); o_b(i) = mean_{j≠i} c_b(i, j).
    A sample close to many others of its batch gets large o: the signature of a collapsed batch.
    The paper sums over j; the mean keeps o in [0, 1] whatever the batch size, so D's head is not
    swamped by values up to N − 1 at the start. The cost grows as N²·B·C, hence the small defaults
    (the paper used B = 100, C = 5 on images; 2-D data needs far fewer).
    """

    def __init__(self, in_features: int, kernels: int = 8, kernel_dim: int = 4) -> None:
        super().__init__()
        self.added, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(0.1 * torch.randn(in_features, kernels * kernel_dim))

    def forward(self, f: Tensor) -> Tensor:
        if f.ndim != 2:
            raise ValueError(f"minibatch discrimination takes flat features (N, A), got shape {tuple(f.shape)}; "
                             f"use it on a discriminator whose last layer is nn.Linear")
        n = f.shape[0]
        m = (f @ self.T).reshape(n, self.added, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        l1 = torch.cdist(m, m, p=1)  # (B, N, N); cdist is far faster than broadcasting (N, N, B, C)
        o = (torch.exp(-l1).sum(dim=2) - 1.0) / max(n - 1, 1)  # (B, N); minus exp(0) = 1, the sample itself
        return torch.cat([f, o.T], dim=1)


def last_layer(module: nn.Module) -> tuple[nn.Module, str, nn.Module]:
    """(parent, attribute name, layer) of the last Linear or Conv2d of ``module``: D's head."""
    found = None
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, HEADS):
                found = (parent, name, child)
    if found is None:
        raise ValueError(f"{type(module).__name__} has no nn.Linear or nn.Conv2d layer to put batch features before")
    return found


def insert_before_head(discriminator: nn.Module, make_layer: Callable[[int], nn.Module]) -> nn.Module:
    """Put ``make_layer(width)`` (a module with ``.added`` extra features) in front of D's last layer.

    The head is replaced by a copy with ``.added`` more inputs; its old weights are kept, the new
    columns get PyTorch's default initialisation. Returns ``discriminator``, changed in place.
    """
    parent, name, head = last_layer(discriminator)
    if parametrize.is_parametrized(head):
        raise ValueError("D's head is parametrized (spectral norm?); insert batch features before applying it")
    width = head.in_features if isinstance(head, nn.Linear) else head.in_channels
    layer = make_layer(width)
    if isinstance(head, nn.Linear):
        wider: nn.Module = nn.Linear(width + layer.added, head.out_features, bias=head.bias is not None)
    else:
        wider = nn.Conv2d(width + layer.added, head.out_channels, head.kernel_size, head.stride, head.padding,
                          bias=head.bias is not None)
    wider = wider.to(head.weight.device, head.weight.dtype)
    with torch.no_grad():
        wider.weight[:, :width] = head.weight
        if head.bias is not None:
            wider.bias.copy_(head.bias)
    setattr(parent, name, nn.Sequential(layer.to(head.weight.device), wider))
    return discriminator


def head_input(discriminator: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(logits (N,), the features entering D's last layer (N, F) flattened): feature matching's f(x)."""
    captured: list[Tensor] = []
    _, _, head = last_layer(discriminator)
    handle = head.register_forward_pre_hook(lambda _module, args: captured.append(args[0]))
    try:
        logits = discriminator(x)
    finally:
        handle.remove()
    return logits, captured[-1].flatten(1)
