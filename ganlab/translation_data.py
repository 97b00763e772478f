"""Translation tasks built from an image set, and the sharpness measure the translation notebook ranks outputs by.

Paired tasks (pix2pix): every garment y gets an input x computed from it, so (x, y) pairs exist by
construction. "edges": the Sobel gradient magnitude of y, scaled to [-1, 1] per image; "inpaint": y with a
central square blanked to grey (0). Unpaired domains (CycleGAN): the images of two classes, e.g. sneakers
(7) ↔ ankle boots (9), with no pairing between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .data import ImageData, load_images

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _check(images: Tensor) -> None:
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"expected greyscale images (N, 1, H, W), got {tuple(images.shape)}; use x[:, :1] or "
                         f"x.view(-1, 1, H, W)")


def sobel_edges(images: Tensor) -> Tensor:
    """Edge maps (N, 1, H, W) in [-1, 1]: the Sobel gradient magnitude of (N, 1, H, W) images, ÷ its per-image max.

    Borders are padded with the background value −1, so a garment touching the edge still gets an outline.
    """
    _check(images)
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.T])[:, None].to(images)  # (2, 1, 3, 3): d/dx and d/dy
    grad = F.conv2d(F.pad(images, (1, 1, 1, 1), value=-1.0), kernel)  # (N, 2, H, W)
    magnitude = grad.pow(2).sum(1, keepdim=True).sqrt()
    peak = magnitude.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    return 2 * magnitude / peak - 1


def mask_center(images: Tensor, size: int = 12) -> Tensor:
    """Copies of (N, 1, H, W) images with a central size×size square set to 0 (grey): the inpainting input."""
    _check(images)
    h, w = images.shape[-2:]
    if not 0 < size <= min(h, w):
        raise ValueError(f"size={size} must be between 1 and the image side {min(h, w)}")
    top, left = (h - size) // 2, (w - size) // 2
    out = images.clone()
    out[:, :, top:top + size, left:left + size] = 0.0
    return out


TASKS: dict[str, Callable[[Tensor], Tensor]] = {"edges": sobel_edges, "inpaint": mask_center}


@dataclass
class PairedData:
    """Aligned pairs on one device: ``inputs`` and ``targets`` (N, 1, H, W) in [-1, 1], ``labels`` (N,)."""

    inputs: Tensor
    targets: Tensor
    labels: Tensor
    task: str

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def stacked(self) -> ImageData:
        """The pairs as one ImageData of (N, 2, H, W) images (input, target), so batches are one index slice."""
        return ImageData(torch.cat([self.inputs, self.targets], 1), self.labels, f"paired-{self.task}", "train", ())


def paired_task(task: str, images: ImageData, n: int | None = None, seed: int = 0) -> PairedData:
    """(input, target) pairs for ``task`` ("edges" or "inpaint") from ``n`` images of ``images`` (all if None)."""
    if task not in TASKS:
        raise ValueError(f"task={task!r} is unknown; use one of {sorted(TASKS)}")
    if n is not None:
        images = images.subset(n, torch.Generator().manual_seed(seed))
    return PairedData(TASKS[task](images.images), images.images, images.labels, task)


def class_domain(images: ImageData, label: int, n: int | None = None) -> Tensor:
    """The first ``n`` images (n, 1, H, W) of class ``label``: one side of an unpaired translation task."""
    chosen = images.images[images.labels == label][:n]
    if chosen.shape[0] == 0:
        raise ValueError(f"no image of class {label} in {images.name}/{images.split}; "
                         f"classes are 0..{len(images.classes) - 1}")
    return chosen


def unpaired_domains(a: int = 7, b: int = 9, split: str = "train", n: int | None = None,
                     device: str | torch.device | None = None) -> tuple[Tensor, Tensor]:
    """Images of class ``a`` and class ``b`` (default sneaker 7 ↔ ankle boot 9 of Fashion-MNIST), unpaired."""
    images = load_images("fashion_mnist", split, device)
    return class_domain(images, a, n), class_domain(images, b, n)


def sharpness(images: Tensor) -> Tensor:
    """Mean absolute image gradient per image, (N, C, H, W) → (N,): the mean of |Δx| and |Δy| over neighbours.

    Blur lowers it on textured images (folds, prints, stitching), noise raises it; an average of plausible outputs
    loses the texture and scores low. A lone monotone edge keeps its score under blur (its rise is the same),
    so it measures texture more than edge width. Compare it with the same number on real images, not with zero.
    """
    if images.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got {tuple(images.shape)}")
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().flatten(1).mean(1)
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().flatten(1).mean(1)
    return (dx + dy) / 2


def pad_to(images: Tensor, size: int, value: float = -1.0) -> Tensor:
    """Pad (N, C, H, W) images evenly with ``value`` (the background) to size×size, e.g. 28 → 32 for a deeper U-Net."""
    h, w = images.shape[-2:]
    if size < max(h, w):
        raise ValueError(f"cannot pad {h}×{w} images to {size}; size must be ≥ {max(h, w)} (crop_to shrinks)")
    top, left = (size - h) // 2, (size - w) // 2
    return F.pad(images, (left, size - w - left, top, size - h - top), value=value)


def crop_to(images: Tensor, size: int) -> Tensor:
    """The central size×size part of (N, C, H, W) images: undoes ``pad_to``."""
    h, w = images.shape[-2:]
    if size > min(h, w):
        raise ValueError(f"cannot crop {h}×{w} images to {size}; size must be ≤ {min(h, w)}")
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top:top + size, left:left + size]
