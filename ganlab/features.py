"""Feature extractors for the sample-quality metrics: a small domain CNN, or Inception-v3 when available.

FID, KID, precision/recall and density/coverage compare *feature vectors*, and the Inception Score
needs *class probabilities*. The published numbers use Inception-v3 trained on ImageNet, whose
weights an offline machine cannot fetch and which never saw a 28×28 greyscale garment. So ganlab
trains its own small classifier per dataset, once, and caches it:

    clf = ganlab.features.classifier("fashion_mnist")   # trains on first use (≈ 1-2 min on a 2-core CPU)
    feats = clf.features(images)                         # (N, 1, 28, 28) in [-1, 1] → (N, 128)
    probs = clf.probs(images)                            # → (N, 10)

The cache lives in ``data/classifiers/`` (git-ignored), one file per (dataset, architecture, budget,
seed), read back with ``torch.load(weights_only=True)``. A cache file that cannot be read, or that
belongs to another key, is moved aside to ``<name>.corrupt`` with a warning and the classifier is
retrained: the cache is derived data, and the damaged file is kept for inspection, never deleted.
A cache folder that cannot be written is found *before* training, with a warning that names it: the
classifier is then trained and kept in memory only (as it is if saving fails at the end), so minutes
of training are never thrown away; pass ``root=`` a writable folder to keep it.

Budgets: "full" (5 epochs on all 60 000 training images, 91.5 % test accuracy) and "fast" (1 epoch
on 20 000 images, for fast mode on a fresh clone; 85.8 %, its own cache file). The file name holds
the budget's fields, so changing a budget never loads a classifier trained under the old one. With
``budget=None`` the full classifier is used whenever it is cached or fast mode is off.

Training runs inside ``torch.random.fork_rng``: whether the cache existed or not, the caller's random
streams continue exactly the same, so a notebook's results do not depend on the cache.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checkpoint import atomic_save, safe_load
from .config import resolve_device
from .data import DATASETS, REPO_DATA, ImageData, load_images
from .inception import InceptionFeatures, WeightsUnavailableError, inception
from .runtime import fast_mode

CACHE_DIR = REPO_DATA / "classifiers"
FORMAT = "ganlab-classifier-v1"


@dataclass(frozen=True)
class Budget:
    """How long the classifier trains: ``epochs`` passes over ``n_train`` images (None = the whole split)."""

    epochs: int
    n_train: int | None = None
    batch_size: int = 128
    lr: float = 3e-3  # peak of the one-cycle schedule (Smith & Topin 2019) with AdamW


BUDGETS: dict[str, Budget] = {
    "full": Budget(epochs=5),  # 91.5 % test accuracy on Fashion-MNIST (seed 0)
    "fast": Budget(epochs=1, n_train=20_000),  # 85.8 %: enough to rank corruptions, not to quote
}


def budget_tag(budget: Budget) -> str:
    """The budget's fields as a file-name part, e.g. ``e5-nall-b128-lr0p003``: a changed budget is a new key."""
    lr = f"{budget.lr:g}".replace(".", "p")
    return f"e{budget.epochs}-n{budget.n_train or 'all'}-b{budget.batch_size}-lr{lr}"


class DomainCNN(nn.Module):
    """Two conv blocks and a hidden layer; the hidden layer's activations are the features.

    (N, 1, 28, 28) → conv 3×3 (c1) → pool → conv 3×3 (c2) → pool → (N, c2·7·7) → Linear → ReLU
    → features (N, hidden) → Dropout → Linear → logits (N, classes).
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), hidden: int = 128, classes: int = 10,
                 dropout: float = 0.3) -> None:
        super().__init__()
        c1, c2 = channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, classes))
        self.test_accuracy = float("nan")  # set when trained or loaded
        self.budget = "untrained"  # the cache key's budget name, set by classifier()

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (N, classes) for images (N, 1, 28, 28) in [-1, 1]."""
        return self.head(self.features(x))

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer activations (N, hidden) for images (N, 1, 28, 28) in [-1, 1]."""
        _check_images(x, (1, 28, 28))
        return self.body(x)

    def probs(self, x: Tensor) -> Tensor:
        """Class probabilities p(y|x), (N, classes), rows summing to 1."""
        return F.softmax(self.forward(x), dim=1)

    def features_and_probs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(features(x), probs(x))`` from one pass through the convolutions (``extract`` uses it)."""
        feats = self.features(x)
        return feats, F.softmax(self.head(feats), dim=1)


# Architecture name (part of the cache key) → constructor. A new architecture gets a new name.
ARCHITECTURES: dict[str, Callable[[], DomainCNN]] = {
    "cnn16-32-128": partial(DomainCNN, (16, 32), 128),
}
DEFAULT_ARCH = "cnn16-32-128"


def cache_path(dataset: str, arch: str = DEFAULT_ARCH, budget: str = "full", seed: int = 0,
               root: str | Path | None = None) -> Path:
    """Where a classifier is cached: ``data/classifiers/<dataset>_<arch>_<budget>_seed<seed>.pt``.

    ``budget`` is the name ``classifier`` uses: "full-<tag>", "fast-<tag>" or "custom-<tag>" (``budget_tag``);
    a bare "full" or "fast" is completed with its tag.
    """
    if budget in BUDGETS:
        budget = f"{budget}-{budget_tag(BUDGETS[budget])}"
    return Path(root if root is not None else CACHE_DIR) / f"{dataset}_{arch}_{budget}_seed{seed}.pt"


def classifier(dataset: str = "fashion_mnist", device: str | torch.device | None = None, progress: bool = True,
               *, budget: str | Budget | None = None, arch: str = DEFAULT_ARCH, seed: int = 0,
               root: str | Path | None = None) -> DomainCNN:
    """The trained domain classifier for ``dataset``, frozen and in eval mode, on ``device``.

    Loaded from the cache when present, else trained (with a progress bar when ``progress``) and
    cached; when the cache folder cannot be written, trained and kept in memory with a RuntimeWarning.
    ``budget``: "full", "fast", a ``Budget`` (cached under a name made of its fields), or None (full,
    unless fast mode is on and only the fast one can be had without a 1-2 minute training run).
    The returned module has ``.features(x)``, ``.probs(x)``, ``.test_accuracy`` and ``.budget``.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r} has no classifier; use one of {sorted(DATASETS)}")
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch {arch!r} is unknown; use one of {sorted(ARCHITECTURES)}")
    name, spec = _resolve_budget(budget, dataset, arch, seed, root)
    device = resolve_device("auto" if device is None else str(device))
    path = cache_path(dataset, arch, name, seed, root)
    key = {"dataset": dataset, "arch": arch, "budget": name, "seed": seed}
    model = _load_cached(path, key, arch)
    if model is None:
        unwritable = _cannot_write(path.parent)  # known before minutes of training, not after
        if unwritable:
            warnings.warn(f"the classifier cache folder {path.parent} cannot be written ({unwritable}); the "
                          f"classifier is trained now and kept in memory only, so a new kernel trains it again. "
                          f"Make the folder writable, or pass root= a writable folder", RuntimeWarning, stacklevel=2)
        model, seconds = train_classifier(dataset, arch, spec, seed, device, progress)
        if not unwritable and not path.exists():  # a bad file that could not be moved aside is not overwritten
            try:
                atomic_save({"format": FORMAT, **key, "state": model.state_dict(),
                             "test_accuracy": model.test_accuracy, "train_seconds": seconds}, path)
            except OSError as err:  # disk full, folder gone, ...: keep the trained model all the same
                warnings.warn(f"the trained classifier could not be cached at {path} ({err}); it is kept in "
                              f"memory only, so a new kernel trains it again", RuntimeWarning, stacklevel=2)
    model.budget = name.split("-")[0]  # "full", "fast" or "custom"
    return model.to(device).eval().requires_grad_(False)


def _resolve_budget(budget: str | Budget | None, dataset: str, arch: str, seed: int,
                    root: str | Path | None) -> tuple[str, Budget]:
    if isinstance(budget, Budget):  # named by its fields, so two custom budgets never share a file
        return f"custom-{budget_tag(budget)}", budget
    if budget is None:
        full_cached = cache_path(dataset, arch, "full", seed, root).is_file()
        budget = "fast" if fast_mode() and not full_cached else "full"
    if budget not in BUDGETS:
        raise ValueError(f"budget {budget!r} is unknown; use one of {sorted(BUDGETS)} or a features.Budget")
    return f"{budget}-{budget_tag(BUDGETS[budget])}", BUDGETS[budget]


def _load_cached(path: Path, key: dict[str, Any], arch: str) -> DomainCNN | None:
    """The cached model, or None when there is none; a bad file is moved aside with a warning."""
    if not path.is_file():
        return None
    try:
        payload = safe_load(path, "classifier cache")
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"it is not a ganlab classifier cache (format {FORMAT!r})")
        found = {k: payload.get(k) for k in key}
        if found != key:
            raise ValueError(f"it holds the classifier {found}, not {key}")
        model = ARCHITECTURES[arch]()
        model.load_state_dict(payload["state"])
        model.test_accuracy = float(payload["test_accuracy"])
        return model
    except Exception as err:  # any damage (the unpickler can raise IndexError, AttributeError, ...): derived data
        reason = f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)
    aside = _unused(path.with_name(path.name + ".corrupt"))
    try:
        path.replace(aside)
    except OSError as err:
        warnings.warn(f"the classifier cache {path} could not be used ({reason}) nor moved aside to {aside} "
                      f"({err.strerror or err}); it is left in place, and the classifier is being retrained and kept "
                      f"in memory only",
                      RuntimeWarning, stacklevel=3)
        return None
    warnings.warn(f"the classifier cache {path} could not be used ({reason}); it was moved to {aside} "
                  f"and the classifier is being retrained", RuntimeWarning, stacklevel=3)
    return None


def _cannot_write(folder: Path) -> str:
    """Why no file can be written in ``folder`` (created if missing), or "" when one can: a real test write,
    since permission bits alone miss read-only mounts and what root may do."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        return err.strerror or str(err)
    return ""


def _unused(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``, ...: the first name not taken, so nothing is overwritten."""
    candidate, i = path, 0
    while candidate.exists():
        i += 1
        candidate = path.with_name(f"{path.name}.{i}")
    return candidate


def train_classifier(dataset: str = "fashion_mnist", arch: str = DEFAULT_ARCH, budget: Budget = BUDGETS["full"],
                     seed: int = 0, device: str | torch.device = "cpu", progress: bool = True
                     ) -> tuple[DomainCNN, float]:
    """Train a fresh classifier (no cache involved); returns (model in eval mode, seconds taken).

    AdamW with a one-cycle learning rate; the model's ``test_accuracy`` is measured on the whole
    test split. The caller's RNG state is left untouched.
    """
    from tqdm.auto import tqdm

    device = torch.device(device)
    start = time.perf_counter()
    train = load_images(dataset, "train", device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # weights and dropout masks
        order = torch.Generator(device=device).manual_seed(seed)
        if budget.n_train is not None:
            train = train.subset(budget.n_train, torch.Generator().manual_seed(seed))
        model = ARCHITECTURES[arch]().to(device)
        steps_per_epoch = len(train) // budget.batch_size
        opt = torch.optim.AdamW(model.parameters(), lr=budget.lr, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, budget.lr, total_steps=budget.epochs * steps_per_epoch)
        model.train()
        with tqdm(total=budget.epochs * steps_per_epoch, disable=not progress, unit="step",
                  desc=f"training the {dataset} classifier (once; then cached)") as bar:
            for _ in range(budget.epochs):
                for idx in train.epoch_batches(budget.batch_size, order):
                    loss = F.cross_entropy(model(train.images[idx]), train.labels[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    schedule.step()
                    bar.update(1)
    model.eval()
    model.test_accuracy = accuracy(model, load_images(dataset, "test", device))
    return model, time.perf_counter() - start


@torch.no_grad()
def accuracy(model: nn.Module, data: ImageData, batch_size: int = 1000) -> float:
    """Fraction of ``data`` that ``model`` (images → logits) classifies correctly."""
    correct = 0
    for start in range(0, len(data), batch_size):
        logits = model(data.images[start:start + batch_size])
        correct += (logits.argmax(1) == data.labels[start:start + batch_size]).sum()
    return float(correct) / len(data)


def features_and_probs(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(features, probs) of one batch: one pass where the extractor has ``features_and_probs`` (both of
    ganlab's do), otherwise ``model.features(x)`` and ``model.probs(x)`` (any object with the two will do)."""
    both = getattr(model, "features_and_probs", None)
    return both(x) if both is not None else (model.features(x), model.probs(x))


@torch.no_grad()
def extract(model: nn.Module, images: Tensor, batch_size: int = 500) -> tuple[Tensor, Tensor]:
    """(features (N, d), probs (N, C)) as float32 CPU tensors, computed in batches on the model's device."""
    device = next(model.parameters()).device
    feats, probs = [], []
    for start in range(0, images.shape[0], batch_size):
        f, p = features_and_probs(model, images[start:start + batch_size].to(device, torch.float32))
        feats.append(f.float().cpu())
        probs.append(p.float().cpu())
    return torch.cat(feats), torch.cat(probs)


# Name → extractor: any dataset name gives its domain classifier, "inception" gives Inception-v3.
EXTRACTORS: dict[str, Callable[..., nn.Module]] = {
    **{name: partial(classifier, name) for name in DATASETS}, "inception": inception,
}


def extractor(features: str = "fashion_mnist", device: str | torch.device | None = None, progress: bool = True
              ) -> nn.Module:
    """A module with ``.features(x)`` and ``.probs(x)``: a dataset's domain classifier, or "inception"."""
    if features not in EXTRACTORS:
        raise ValueError(f"features={features!r} is unknown; use one of {sorted(EXTRACTORS)}")
    return EXTRACTORS[features](device=device, progress=progress)


def _check_images(x: Tensor, shape: tuple[int, ...]) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, shape))}); got {tuple(x.shape)}. "
                         f"Reshape flat samples with x.view(-1, {', '.join(map(str, shape))}).")


__all__ = ["Budget", "BUDGETS", "DomainCNN", "ARCHITECTURES", "classifier", "train_classifier", "cache_path",
           "budget_tag", "accuracy", "features_and_probs", "extract", "extractor", "EXTRACTORS", "inception",
           "InceptionFeatures", "WeightsUnavailableError"]
