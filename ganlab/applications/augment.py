"""Few-shot classification with and without augmentation: classic (flips, shifts) or a conditional GAN's samples.

The study (``augmentation_study``) repeats, for each data draw d:
  1. draw k training images of every class (``few_shot``, seeded by d);
  2. train a conditional GAN (``ganlab.conditional.ConditionalTrainer``) on those same K·k images only;
  3. train the same small classifier three times from the same initial weights: on the real images alone,
     with classic augmentation of each batch, and with part of every batch drawn from a fixed pool of the
     GAN's samples; score each on held-out test images.
Draws are the unit of replication: ``paired_gain`` turns the per-draw accuracy differences into a mean gain
and a Student-t confidence interval (the draws are paired, so the differences are what varies).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from ..conditional.train import ConditionalTrainer
from ..config import GANConfig
from ..data import ImageData
from ..features import DomainCNN, accuracy
from ..train_state import make_optimizer

Augment = Callable[[Tensor, torch.Generator], Tensor]


def few_shot(data: ImageData, k: int, seed: int) -> ImageData:
    """k images of every class of ``data``, drawn without replacement by a generator seeded with ``seed``.

    Returns an ``ImageData`` of K·k images (K·k, C, H, W), class 0's first; the same seed gives the same images.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k={k!r} must be a whole number of images per class >= 1, e.g. k=20")
    rng = torch.Generator().manual_seed(seed)
    labels = data.labels.cpu()
    picks = []
    for c in range(len(data.classes)):
        members = (labels == c).nonzero()[:, 0]
        if len(members) < k:
            raise ValueError(f"class {c} ({data.classes[c]}) has {len(members)} images, fewer than k={k}; "
                             f"lower k or pass a larger data set")
        picks.append(members[torch.randperm(len(members), generator=rng)[:k]])
    idx = torch.cat(picks).to(data.device)
    return replace(data, images=data.images[idx], labels=data.labels[idx])


def shift_and_flip(images: Tensor, generator: torch.Generator, max_shift: int = 2, flip: bool = True) -> Tensor:
    """Classic augmentation of images (N, C, H, W) in [-1, 1]: each image mirrored left-right with probability ½
    (when ``flip``) and moved by a random whole number of pixels in [−max_shift, max_shift] along each axis, the
    uncovered border filled with the background value −1. Returns (N, C, H, W); random draws from ``generator``.
    """
    n, _, h, w = images.shape
    device = images.device
    if flip:
        mirror = torch.rand(n, device=device, generator=generator) < 0.5
        images = torch.where(mirror[:, None, None, None], images.flip(-1), images)
    if max_shift == 0:
        return images
    s = max_shift
    padded = F.pad(images, [s, s, s, s], value=-1.0)  # (N, C, H + 2s, W + 2s)
    dy, dx = torch.randint(0, 2 * s + 1, (2, n, 1), device=device, generator=generator)
    rows = dy + torch.arange(h, device=device)  # (N, H): the window's rows in the padded image
    cols = dx + torch.arange(w, device=device)  # (N, W)
    batch = torch.arange(n, device=device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


@dataclass(frozen=True)
class ClassifierBudget:
    """How the few-shot classifier is built and trained (``ganlab.features.DomainCNN`` at a small width)."""

    steps: int = 300
    batch_size: int = 64
    lr: float = 2e-3  # Adam; a few hundred steps on a few hundred images
    channels: tuple[int, int] = (8, 16)
    hidden: int = 64
    synthetic_share: float = 0.5  # share of each batch drawn from the GAN's pool when one is given

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 2:
            raise ValueError(f"steps={self.steps} and batch_size={self.batch_size} must be >= 1 and >= 2")
        if not 0.0 < self.synthetic_share < 1.0:
            raise ValueError(f"synthetic_share={self.synthetic_share!r} must lie in (0, 1), e.g. 0.5: a batch "
                             f"needs real and generated images")


def train_classifier(data: ImageData, budget: ClassifierBudget = ClassifierBudget(), seed: int = 0,
                     augment: Augment | None = None, synthetic: tuple[Tensor, Tensor] | None = None) -> DomainCNN:
    """A ``DomainCNN`` trained on ``data`` (images (N, C, 28, 28), labels (N,)) and returned in eval mode.

    ``augment(images, generator)`` transforms every real batch; ``synthetic`` = (images (M, C, 28, 28), labels
    (M,)) on the data's device fills ``budget.synthetic_share`` of every batch. The weights and the batch
    draws depend on ``seed`` only, so runs that differ in augmentation start from the same network.
    """
    device = data.device
    torch.manual_seed(seed)  # initial weights and dropout
    model = DomainCNN(budget.channels, budget.hidden, len(data.classes)).to(device)
    opt = make_optimizer("adam", model.parameters(), budget.lr, (0.9, 0.999))
    rng = torch.Generator(device=device).manual_seed(seed)
    n_fake = round(budget.batch_size * budget.synthetic_share) if synthetic is not None else 0
    n_real = budget.batch_size - n_fake
    model.train()
    for _ in range(budget.steps):
        idx = torch.randint(0, len(data), (n_real,), device=device, generator=rng)
        images, labels = data.images[idx], data.labels[idx]
        if augment is not None:
            images = augment(images, rng)
        if synthetic is not None:
            pick = torch.randint(0, synthetic[0].shape[0], (n_fake,), device=device, generator=rng)
            images = torch.cat([images, synthetic[0][pick]])
            labels = torch.cat([labels, synthetic[1][pick]])
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


CONDITIONS = ("real only", "flips + shifts", "cGAN samples")


@dataclass
class AugmentationResult:
    """Test accuracy of every condition for every draw ({condition: [one float per draw]}), and the draws."""

    k: int
    draws: list[int]
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    samples: Tensor | None = None  # the last draw's synthetic pool (M, C, H, W), for a picture
    real: Tensor | None = None  # the last draw's real images (K·k, C, H, W)


def augmentation_study(train: ImageData, test: ImageData, k: int, draws: Sequence[int], gan_cfg: GANConfig,
                       gan_steps: int, budget: ClassifierBudget = ClassifierBudget(), n_synthetic: int = 100,
                       progress: bool = False) -> AugmentationResult:
    """Run the three conditions of the module docstring for every draw seed in ``draws``.

    ``gan_cfg``'s seed is replaced by the draw's, so each draw trains its own GAN; ``n_synthetic`` generated
    images per class form the synthetic pool. Accuracy is measured on all of ``test``.
    """
    result = AugmentationResult(k=k, draws=list(draws), accuracy={c: [] for c in CONDITIONS})
    for draw in draws:
        shots = few_shot(train, k, draw)
        gan = ConditionalTrainer(replace(gan_cfg, seed=draw), shots, progress=progress)
        gan.fit(steps=gan_steps)
        pool = synthetic_pool(gan, n_synthetic, seed=draw)
        pool = (pool[0].to(train.device), pool[1].to(train.device))
        runs = {"real only": {}, "flips + shifts": {"augment": shift_and_flip}, "cGAN samples": {"synthetic": pool}}
        for name, options in runs.items():
            model = train_classifier(shots, budget, seed=draw, **options)
            result.accuracy[name].append(accuracy(model, test))
        result.samples, result.real = pool[0].cpu(), shots.images.cpu()
    return result


@torch.no_grad()
def synthetic_pool(trainer: ConditionalTrainer, n_per_class: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """n_per_class samples of every class from a conditional trainer: images (K·n, C, H, W) and labels (K·n,)."""
    k = trainer.n_classes
    labels = torch.arange(k, device=trainer.device).repeat_interleave(n_per_class)
    z = torch.randn(k * n_per_class, trainer.cfg.latent_dim, device=trainer.device,
                    generator=torch.Generator(device=trainer.device).manual_seed(seed))
    return trainer.sample(k * n_per_class, z, labels), labels.cpu()


@dataclass(frozen=True)
class Gain:
    """Mean paired gain and its two-sided Student-t confidence interval [low, high] from n paired draws."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float


def paired_gain(treated: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> Gain:
    """Mean of the differences treated[i] − control[i] with a t interval: mean ± t_{n−1} · sd / √n.

    The i-th entries must come from the same draw (same data, same initial weights): pairing removes the
    draw-to-draw spread that both share. Needs n >= 2 pairs.
    """
    from scipy.stats import t as student_t

    if len(treated) != len(control):
        raise ValueError(f"treated has {len(treated)} values but control has {len(control)}; pass one pair per draw")
    n = len(treated)
    if n < 2:
        raise ValueError(f"a confidence interval needs at least 2 paired draws, got {n}; run more draws")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} must lie in (0, 1), e.g. 0.95")
    diffs = torch.tensor([a - b for a, b in zip(treated, control)], dtype=torch.float64)
    mean, sd = diffs.mean().item(), diffs.std(unbiased=True).item()
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Gain(mean, mean - half, mean + half, n, confidence)


__all__ = ["few_shot", "shift_and_flip", "ClassifierBudget", "train_classifier", "CONDITIONS",
           "AugmentationResult", "augmentation_study", "synthetic_pool", "Gain", "paired_gain"]
