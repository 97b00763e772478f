"""Image datasets held whole on the device, found on disk with clear errors.

A 28×28 greyscale set is 47 MB as float32: small enough to live on the GPU (or in RAM) for the whole
run, so training draws batches by indexing one resident tensor; no DataLoader, no worker processes.

Lookup order for the files of a dataset (first match wins):
  1. the folder in the environment variable ``GANLAB_DATA``;
  2. the repository's ``data/`` folder;
  3. ``/usr/share/datasets/<name>`` (Debian/Ubuntu package ``dataset-fashion-mnist``);
  4. a torchvision download into ``data/`` (only with ``download=True``, as ``make data`` does).
Inside each folder the idx files may sit directly, under ``<name>/`` or torchvision's ``<Name>/raw/``,
gzipped or not. Files are validated by their idx headers and sizes, and labels by the class count, before
use. A ``GANLAB_DATA`` that names no folder is reported with a warning naming the copy used instead, and
every loaded set records the file it came from (``ImageData.source``). A file or folder that exists but
cannot be read (permissions) raises ``DatasetUnreadableError``, not the corrupt-file error.

Run ``python -m ganlab.data`` to fetch the data (what ``make data`` calls).
"""

from __future__ import annotations

import gzip
import os
import sys
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
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
    """A dataset file exists but is truncated, has a wrong header, the wrong number of items or labels
    outside the class range."""


class DatasetUnreadableError(OSError):
    """A dataset file or folder exists but this process may not read it (permissions, I/O error)."""


@dataclass
class ImageData:
    """A whole image dataset resident on one device.

    images: (N, C, H, W) float32 in [-1, 1]; labels: (N,) int64; classes: the label names; source: the
    images file it was loaded from (None when built from tensors), so it is clear which copy is in use.
    """

    images: Tensor
    labels: Tensor
    name: str
    split: str
    classes: tuple[str, ...]
    source: Path | None = None

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
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def subset(self, n: int, generator: torch.Generator | None = None) -> ImageData:
        """A random subset of n images (all of them if n ≥ N), for cheap experiments and fast mode."""
        if n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=generator, device="cpu")[:n].to(self.device)
        return replace(self, images=self.images[idx], labels=self.labels[idx])

    def epoch_batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Tensor]:
        """Shuffled index batches (batch_size,) for one epoch, drawn on the data's device; drops the remainder.

        ``generator`` must live on the same device as the data. Slicing a device tensor with Python
        integers does not synchronise, so iterating this costs no host round trip.
        """
        order = torch.randperm(len(self), generator=generator, device=self.device)
        for start in range(0, len(self) - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def next_batch(data: ImageData | object, batch_size: int, rng: torch.Generator, device: torch.device,
               perm: Tensor | None, pos: int) -> tuple[Tensor, Tensor | None, int]:
    """The next training batch (batch_size, ...) and the updated (permutation, position).

    Image data: a slice of a per-epoch permutation drawn on the device from ``rng`` (a new one when the
    current one cannot fill a batch), so batches are index slices and nothing leaves the device. A toy
    distribution: fresh samples ``data.sample(batch_size, generator=rng)``; the position is untouched.
    Every trainer draws its batches here, so the order of random draws is one rule (checkpoints store
    ``perm`` and ``pos`` to resume it exactly).
    """
    if not isinstance(data, ImageData):
        return data.sample(batch_size, generator=rng).to(device, torch.float32), perm, pos
    if perm is None or pos + batch_size > len(data):
        perm, pos = torch.randperm(len(data), device=device, generator=rng), 0
    return data.images[perm[pos:pos + batch_size]], perm, pos + batch_size


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


def _existing(paths: list[Path]) -> list[Path]:
    """The paths that are files; DatasetUnreadableError naming the folder when one cannot be searched."""
    found = []
    for path in paths:
        try:
            if path.is_file():
                found.append(path)
        except OSError as err:  # is_file() passes PermissionError on instead of answering False
            raise DatasetUnreadableError(
                f"the data folder {path.parent} cannot be searched ({err.strerror or err}); make it readable "
                f"(e.g. chmod a+rx {path.parent}) or set GANLAB_DATA to a folder you can read") from err
    return found


def _no_folder(path: Path) -> bool:
    try:
        return not path.is_dir()
    except OSError:  # there but not searchable: _existing names it
        return False


def find_dataset(name: str = "fashion_mnist", split: str = "train") -> tuple[Path, Path]:
    """Paths of the (images, labels) idx files of a dataset split; raises DatasetNotFoundError if none.

    A ``GANLAB_DATA`` that names no folder gets a RuntimeWarning naming it and the copy used instead.
    """
    _check_name(name, split)
    prefix, _ = SPLITS[split]
    tried = []
    env = os.environ.get("GANLAB_DATA")
    missing_env = Path(env).expanduser() if env and _no_folder(Path(env).expanduser()) else None
    for root in candidate_roots():
        images = _existing(_file_candidates(root, name, f"{prefix}-images-idx3-ubyte"))
        labels = _existing(_file_candidates(root, name, f"{prefix}-labels-idx1-ubyte"))
        if images and labels:
            if missing_env is not None:
                warnings.warn(f"GANLAB_DATA={env} is not a folder (nothing there); using the copy of {name} at "
                              f"{images[0].parent} instead. Fix GANLAB_DATA, or unset it to use that copy quietly",
                              RuntimeWarning, stacklevel=2)
            return images[0], labels[0]
        tried.append(f"{root} (GANLAB_DATA; no such folder)" if root == missing_env else str(root))
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
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:  # damaged content: the file itself is bad
        raise CorruptDatasetError(f"{path} is not a valid gzip file ({err}); it is truncated or corrupt: "
                                  f"delete it and run `make data` again") from err
    except OSError as err:  # permission denied, I/O error: the file may be fine, this process cannot read it
        raise DatasetUnreadableError(
            f"{path} cannot be read: {err.strerror or err}. The file is there but this user may not read it; "
            f"make it readable (e.g. chmod a+r {path}) or set GANLAB_DATA to a copy you can read") from err
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


_CACHE: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, Path]] = {}  # (images, labels, images file)


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
        _check_labels(labels, labels_path, name)
        _CACHE[key] = (images, labels, images_path)
    images_u8, labels_u8, source = _CACHE[key]
    device = torch.device(device) if device is not None else torch.device("cpu")
    images = torch.from_numpy(images_u8.copy()).to(device).unsqueeze(1).float().div_(127.5).sub_(1.0)
    labels = torch.from_numpy(labels_u8.astype(np.int64)).to(device)
    return ImageData(images, labels, name, split, DATASETS[name][2], source)


def _check_labels(labels: np.ndarray, path: Path, name: str) -> None:
    """CorruptDatasetError unless every label (N,) indexes one of the dataset's classes."""
    classes = len(DATASETS[name][2])
    bad = np.flatnonzero(labels >= classes)
    if bad.size:
        raise CorruptDatasetError(
            f"{path} holds label {int(labels[bad[0]])} at item {int(bad[0])} ({bad.size} labels out of range), but "
            f"{name} has {classes} classes (labels 0-{classes - 1}); is it another dataset's labels file? "
            f"Delete it and run `make data` again")


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
