"""Networks for image-to-image translation: a U-Net generator, its skip-less twin, PatchGAN, an image pool.

UNetGenerator (Ronneberger et al. 2015, as used by pix2pix, Isola et al. 2017), depth d, width w:
    x (N, C_in, H, W) → down 4×4 s2 → (N, w, H/2, W/2) → … → (N, w·2^(d-1), H/2^d, W/2^d)
    → a 3×3 bottleneck → up 4×4 s2 transposed convolutions back to (N, C_out, H, W), Tanh out.
    With skips, each up-convolution also reads the encoder's map of the same size (concatenated channels),
    so the input's layout reaches the output without squeezing through the bottleneck.
PatchDiscriminator (pix2pix's "PatchGAN"): n_layers 4×4 stride-2 convolutions, then two 4×4 stride-1
    convolutions, the last to one channel: (N, C, H, W) → a map of logits (N, 1, h, w), one per patch.
``receptive_field`` counts, from the layers, how many input pixels one output unit sees (n_layers 1 → 16,
3 → 70). ``ImagePool`` keeps CycleGAN's history of generated images for the discriminator (Shrivastava
et al. 2017; Zhu et al. 2017).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .layers import dcgan_init

# Layers that keep every pixel where it is: they do not change what an output unit sees.
_POINTWISE = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Dropout,
              nn.Identity)


class UNetGenerator(nn.Module):
    """Image → image of the same size; ``skips=False`` gives the plain encoder–decoder with the same layers.

    ``depth`` stride-2 halvings, so H and W must be multiples of 2^depth (depth 2 fits 28 and 32 pixels;
    depth 3 needs 32). Channels: w, 2w, …, w·2^(depth-1) on the way down, mirrored on the way up.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32, depth: int = 2,
                 skips: bool = True) -> None:
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth={depth!r} must be an integer >= 1 (the number of 2× down-samplings), e.g. 2")
        self.depth, self.skips = depth, skips
        chans = [width * 2 ** i for i in range(depth)]  # encoder output channels per level
        self.down = nn.ModuleList()
        previous = in_channels
        for i, c in enumerate(chans):  # level i: (previous, H/2^i) → (c, H/2^(i+1)); no norm on the input layer
            norm: list[nn.Module] = [nn.BatchNorm2d(c)] if i > 0 else []
            self.down.append(nn.Sequential(nn.Conv2d(previous, c, 4, 2, 1, bias=i == 0), *norm, nn.LeakyReLU(0.2)))
            previous = c
        self.bottleneck = nn.Sequential(nn.Conv2d(previous, previous, 3, 1, 1, bias=False),
                                        nn.BatchNorm2d(previous), nn.ReLU())
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):  # level i: (H/2^(i+1)) → (H/2^i)
            c_in = chans[i] * (2 if skips else 1)  # the skip concatenates the encoder's map of this size
            if i == 0:
                self.up.append(nn.Sequential(nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
            else:
                self.up.append(nn.Sequential(nn.ConvTranspose2d(c_in, chans[i - 1], 4, 2, 1, bias=False),
                                             nn.BatchNorm2d(chans[i - 1]), nn.ReLU()))
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) in [-1, 1] → (N, C_out, H, W) in [-1, 1]."""
        check_size(x, self.depth)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.bottleneck(x)
        for block, skip in zip(self.up, reversed(skips)):
            x = block(torch.cat([x, skip], 1) if self.skips else x)
        return x


class EncoderDecoderGenerator(UNetGenerator):
    """The U-Net without its skip connections: everything must pass the (H/2^depth)² bottleneck."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 32, depth: int = 2) -> None:
        super().__init__(in_channels, out_channels, width, depth, skips=False)


def check_size(x: Tensor, depth: int) -> None:
    """Raise a ValueError naming the fix when x is not (N, C, H, W) with H and W multiples of 2^depth."""
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(x.shape)}; add a batch or channel "
                         f"dimension (x[None] or x[:, None])")
    step = 2 ** depth
    h, w = x.shape[-2:]
    if h % step or w % step:
        fit = [d for d in range(1, depth) if h % 2 ** d == 0 and w % 2 ** d == 0]
        raise ValueError(
            f"a U-Net of depth {depth} halves the image {depth} times, so height and width must be multiples of "
            f"{step}; got {h}×{w}. The up-sampled maps would not match the skip maps. Pad the images to "
            f"{-(-h // step) * step}×{-(-w // step) * step} (ganlab.translation_data.pad_to), or use "
            + (f"depth={max(fit)}" if fit else "another size"))


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN: a logit per overlapping patch, (N, in_channels, H, W) → (N, 1, h, w).

    Layout (Isola et al. 2017): n_layers 4×4 stride-2 convolutions with widths w, 2w, 4w, … (capped at 8w), no
    norm on the first; then a 4×4 stride-1 convolution (BatchNorm, LeakyReLU 0.2) and a 4×4 stride-1
    convolution to one channel. Each logit sees ``receptive_field(D)`` input pixels per side.
    """

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(f"n_layers={n_layers!r} must be an integer >= 1 (1 → 16-pixel patches, 3 → 70)")
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for n in range(1, n_layers + 1):  # n_layers - 1 more stride-2 layers, then the first stride-1 one
            c_next = width * min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(c, c_next, 4, stride, 1, bias=False), nn.BatchNorm2d(c_next), nn.LeakyReLU(0.2)]
            c = c_next
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) → patch logits (N, 1, h, w); H, W ≥ what ``receptive_field`` needs to give h ≥ 1."""
        return self.net(x)


def _window(layer: nn.Module) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) along one axis of a layer that mixes pixels, None for a pointwise one."""
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        def first(v: Any) -> int:
            return int(v[0] if isinstance(v, tuple) else v)
        dilation = getattr(layer, "dilation", 1)
        if isinstance(layer, nn.Conv2d) and (layer.kernel_size[0] != layer.kernel_size[1]
                                             or layer.stride[0] != layer.stride[1]):
            raise ValueError(f"{layer} is not square; receptive_field handles square kernels and strides only")
        return first(layer.kernel_size), first(layer.stride), first(layer.padding), first(dilation)
    if isinstance(layer, _POINTWISE):
        return None
    raise ValueError(f"receptive_field cannot follow a {type(layer).__name__}: it reads a plain chain of "
                     f"Conv2d / pooling layers with pointwise layers between them (a PatchDiscriminator, say)")


def receptive_field(module: nn.Module, input_size: int | None = None) -> int:
    """Input pixels per side that the central output unit of a chain of convolutions sees.

    ``input_size=None``: the unbounded field, r = 1 + Σ_l (k_l − 1)·d_l·Π_{m<l} s_m (PatchGAN n_layers 1 → 16,
    3 → 70). With an ``input_size``: the exact count in an input of that size, borders (padding) clipped, which is
    what a gradient probe measures; it is ≤ input_size.
    """
    windows = [w for layer in module.modules() if not list(layer.children()) for w in [_window(layer)] if w]
    if not windows:
        raise ValueError(f"{type(module).__name__} has no convolution or pooling layer; its field is 1 pixel")
    if input_size is None:
        field, jump = 1, 1
        for k, s, _, d in windows:
            field += (k - 1) * d * jump
            jump *= s
        return field
    sizes = [int(input_size)]
    for k, s, p, d in windows:  # the spatial size after each layer
        sizes.append((sizes[-1] + 2 * p - d * (k - 1) - 1) // s + 1)
        if sizes[-1] < 1:
            raise ValueError(f"an input of {input_size} pixels is too small: the map shrinks to nothing after "
                             f"{len(sizes) - 1} layers; use an input of at least {receptive_field(module)} pixels")
    low = high = (sizes[-1] - 1) // 2  # the central output unit
    for (k, s, p, d), size_in in zip(reversed(windows), reversed(sizes[:-1])):
        low, high = max(0, low * s - p), min(size_in - 1, high * s - p + d * (k - 1))
    return high - low + 1


class ImagePool:
    """CycleGAN's buffer of ``size`` past generated images, shown to D in place of some of the newest fakes.

    ``query(fakes)``: while the pool is filling, each fake is stored and returned; once full, each fake is,
    with probability ½, swapped with a random stored image (D sees the old one, the pool keeps the new one),
    and otherwise returned as is. Random draws come from ``generator`` on the images' device, so a seeded
    pool is deterministic; nothing syncs with the host. ``size=0`` returns the fakes unchanged.
    """

    def __init__(self, size: int = 50, generator: torch.Generator | None = None) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size={size!r} must be an integer >= 0 (CycleGAN uses 50; 0 turns the pool off)")
        self.size, self.generator = size, generator
        self.images: Tensor | None = None  # (size, C, H, W), filled from the front
        self.count = 0

    def query(self, fakes: Tensor) -> Tensor:
        """(N, C, H, W) new fakes → (N, C, H, W) images for D, a mix of new and stored ones."""
        if self.size == 0:
            return fakes
        fakes = fakes.detach()
        if self.images is None:
            self.images = torch.zeros(self.size, *fakes.shape[1:], dtype=fakes.dtype, device=fakes.device)
        elif self.images.shape[1:] != fakes.shape[1:]:
            raise ValueError(f"the pool holds images of shape {tuple(self.images.shape[1:])}, got "
                             f"{tuple(fakes.shape[1:])}; use one ImagePool per image size")
        n_new = min(self.size - self.count, fakes.shape[0])  # stored and returned as they are
        self.images[self.count:self.count + n_new] = fakes[:n_new]
        self.count += n_new
        rest = fakes[n_new:]
        if rest.shape[0] == 0:
            return fakes
        g = self.generator
        slots = torch.randperm(self.size, generator=g, device=fakes.device)[:rest.shape[0]]
        if rest.shape[0] > self.size:  # more fakes than slots: draw slots with replacement
            slots = torch.randint(self.size, (rest.shape[0],), generator=g, device=fakes.device)
        swap = torch.rand(rest.shape[0], generator=g, device=fakes.device) < 0.5
        swap_ = swap.view(-1, *[1] * (fakes.ndim - 1))
        stored = self.images[slots]
        self.images[slots] = torch.where(swap_, rest, stored)
        return torch.cat([fakes[:n_new], torch.where(swap_, stored, rest)])

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "count": self.count, "images": self.images}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["size"] != self.size:
            raise ValueError(f"the saved pool holds {state['size']} images, this one {self.size}")
        self.count, self.images = int(state["count"]), state["images"]
