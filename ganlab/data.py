"""Image datasets held whole on the device, found on disk with clear errors.

A 28×28 greyscale set is 47 MB as float32: small enough to live on the GPU (or in RAM) for the whole
run, so training draws batches by indexing one resident tensor; no DataLoader, no worker processes.

Lookup order for the files of a dataset (first match wins):
  1. the folder in the environment variable ``GANLAB_DATA``;
  2. the repository's ``data/`` folder;
  3. ``/usr/share/datasets/<name>`` (Debian/Ubuntu package ``dataset-fashion-mnist``);
  4. a torchvision download into ``data/`` (only with ``download=True``, as ``make data`` does).
Inside each folder the idx files may sit directly, under ``<name>/`` or torchvision's ``<Name>/raw/``,
gzipped or not. Files are validated by their idx headers and sizes before use.

Run ``python -m ganlab.data`` to fetch the data (what ``make data`` calls).
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
SYSTEM_DATA = Path("/usr/share/datasets")

# name → (folder names used by packages and torchvision, torchvision class name, class names)
DATASETS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "fashion_mnist": (("fashion-mnist", "fashion_mnist", "FashionMNIST/raw"), "FashionMNIST",
                      ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "mnist": (("mnist", "MNIST/raw"), "MNIST", tuple(str(i) for i in range(10))),
}
SPLITS = {"train": ("train", 60_000), "test": ("t10k", 10_000)}
_IDX_DTYPE = {0x08: np.uint8}


class DatasetNotFoundError(FileNotFoundError):
    """No folder on the lookup path holds the dataset's files."""


class CorruptDatasetError(ValueError):
    """A dataset file exists but is truncated, has a wrong header or the wrong number of items."""


@dataclass
class ImageData:
    """A whole image dataset resident on one device.

    images: (N, C, H, W) float32 in [-1, 1]; labels: (N,) int64; classes: the label names.
    """

    images: Tensor
    labels: Tensor
    name: str
    split: str
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample, (C, H, W)."""
        return tuple(self.images.shape[1:])

    def to(self, device: str | torch.device) -> ImageData:
        return ImageData(self.images.to(device), self.labels.to(device), self.name, self.split, self.classes)

    def subset(self, n: int, generator: torch.Generator | None = None) -> ImageData:
        """A random subset of n images (all of them if n ≥ N), for cheap experiments and fast mode."""
        if n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=generator, device="cpu")[:n].to(self.device)
        return ImageData(self.images[idx], self.labels[idx], self.name, self.split, self.classes)

    def epoch_batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Tensor]:
        """Shuffled index batches (batch_size,) for one epoch, drawn on the data's device; drops the remainder.

        ``generator`` must live on the same device as the data. Slicing a device tensor with Python
        integers does not synchronise, so iterating this costs no host round trip.
        """
        order = torch.randperm(len(self), generator=generator, device=self.device)
        for start in range(0, len(self) - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def candidate_roots() -> list[Path]:
    """The folders searched, in order (see the module docstring)."""
    roots = []
    if os.environ.get("GANLAB_DATA"):
        roots.append(Path(os.environ["GANLAB_DATA"]).expanduser())
    roots += [REPO_DATA, SYSTEM_DATA]
    return roots


def _file_candidates(root: Path, name: str, stem: str) -> list[Path]:
    folders, _, _ = DATASETS[name]
    out = []
    for folder in (root, *(root / f for f in folders)):
        out += [folder / f"{stem}.gz", folder / stem]
    return out


def find_dataset(name: str = "fashion_mnist", split: str = "train") -> tuple[Path, Path]:
    """Paths of the (images, labels) idx files of a dataset split; raises DatasetNotFoundError if none."""
    _check_name(name, split)
    prefix, _ = SPLITS[split]
    tried = []
    for root in candidate_roots():
        images = [p for p in _file_candidates(root, name, f"{prefix}-images-idx3-ubyte") if p.is_file()]
        labels = [p for p in _file_candidates(root, name, f"{prefix}-labels-idx1-ubyte") if p.is_file()]
        if images and labels:
            return images[0], labels[0]
        tried.append(str(root))
    fixes = (f"  - run `make data` (installs the Debian package dataset-fashion-mnist as root, else downloads), or\n"
             f"  - put the four idx files ({prefix}-images-idx3-ubyte[.gz], ...) in a folder and set "
             f"GANLAB_DATA to it.")
    raise DatasetNotFoundError(
        f"{name} ({split} split) was not found. Looked in:\n    " + "\n    ".join(tried)
        + f"\nTwo ways to fix it:\n{fixes}")


def read_idx(path: Path, expected_count: int | None = None) -> np.ndarray:
    """Read an idx file (gzipped or not) into a numpy array, checking header, dims and size."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path) as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise CorruptDatasetError(f"{path} cannot be read ({err}); delete it and run `make data` again") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPE:
        raise CorruptDatasetError(f"{path} does not start with an idx header; delete it and run `make data` again")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDatasetError(f"{path} is truncated inside its header; delete it and run `make data` again")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise CorruptDatasetError(
            f"{path} holds {len(raw) - header} bytes of data but its header promises {expected} "
            f"(dims {dims}): the file is truncated or corrupt; delete it and run `make data` again")
    if expected_count is not None and dims[0] != expected_count:
        raise CorruptDatasetError(f"{path} has {dims[0]} items, expected {expected_count}; is it the right file?")
    return np.frombuffer(raw, dtype=_IDX_DTYPE[raw[2]], offset=header).reshape(dims)


_CACHE: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


def load_images(name: str = "fashion_mnist", split: str = "train", device: str | torch.device | None = None
                ) -> ImageData:
    """All images of a split as one (N, 1, 28, 28) float tensor in [-1, 1] plus int64 labels, on ``device``.

    ``device=None`` keeps them on the CPU. The decoded bytes are cached per process, so a second call
    costs only the conversion.
    """
    _check_name(name, split)
    key = (name, split)
    if key not in _CACHE:
        images_path, labels_path = find_dataset(name, split)
        _, count = SPLITS[split]
        images = read_idx(images_path, count)
        labels = read_idx(labels_path, count)
        if images.ndim != 3 or labels.ndim != 1:
            raise CorruptDatasetError(
                f"{images_path} / {labels_path}: unexpected shapes {images.shape}, {labels.shape}")
        _CACHE[key] = (images, labels)
    images_u8, labels_u8 = _CACHE[key]
    device = torch.device(device) if device is not None else torch.device("cpu")
    images = torch.from_numpy(images_u8.copy()).to(device).unsqueeze(1).float().div_(127.5).sub_(1.0)
    labels = torch.from_numpy(labels_u8.astype(np.int64)).to(device)
    return ImageData(images, labels, name, split, DATASETS[name][2])


def download(name: str = "fashion_mnist", root: Path = REPO_DATA) -> Path:
    """Fetch a dataset into ``root`` with torchvision; a clear error when offline."""
    import torchvision

    cls = getattr(torchvision.datasets, DATASETS[name][1])
    try:
        for train in (True, False):
            cls(root=str(root), train=train, download=True)
    except Exception as err:  # torchvision raises RuntimeError/URLError/OSError depending on the failure
        raise DatasetNotFoundError(
            f"downloading {name} failed ({type(err).__name__}: {err}). This machine may be offline. "
            f"Install the Debian/Ubuntu package dataset-fashion-mnist, or copy the idx files into {root} "
            f"or a folder named by GANLAB_DATA.") from err
    return root


def ensure_local(name: str = "fashion_mnist") -> str:
    """Report where a dataset's train and test files are; DatasetNotFoundError if either is missing."""
    images, _ = find_dataset(name, "train")
    find_dataset(name, "test")
    return f"{name}: found at {images.parent}"


def ensure(name: str = "fashion_mnist") -> str:
    """Make sure a dataset is found, downloading if needed; returns a one-line report. Idempotent."""
    try:
        return ensure_local(name)
    except DatasetNotFoundError:
        download(name)
        images, _ = find_dataset(name, "train")
        return f"{name}: downloaded to {images.parent}"


def _check_name(name: str, split: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r} is unknown; image sets are {sorted(DATASETS)}")
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is unknown; use 'train' or 'test'")


if __name__ == "__main__":  # python -m ganlab.data [name]
    try:
        print(ensure(sys.argv[1] if len(sys.argv) > 1 else "fashion_mnist"))
    except DatasetNotFoundError as err:
        sys.exit(str(err))
