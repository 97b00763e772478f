import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import data
from ganlab.data import (
    CorruptDatasetError,
    DatasetNotFoundError,
    DatasetUnreadableError,
    find_dataset,
    load_images,
    read_idx,
)

as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                             reason="root reads files whatever their permissions; the monkeypatched test covers it")


def write_idx(path, array, gz=True):
    """Write a uint8 array as an idx file (magic 0x0000 08 ndim, big-endian dims, bytes)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    # Close the file (``with``): on Python 3.12 an unclosed gzip writer leaves the file empty.
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)


def make_split(folder, prefix, n, gz=True):
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28)), gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", rng.integers(0, 10, (n,)), gz)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real dataset visible: GANLAB_DATA, the repo's data/ and the system folder all point into tmp."""
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(data, "REPO_DATA", tmp_path / "repo")
    monkeypatch.setattr(data, "SYSTEM_DATA", tmp_path / "system")
    monkeypatch.setattr(data, "_CACHE", {})
    monkeypatch.setattr(data, "SPLITS", {"train": ("train", 12), "test": ("t10k", 5)})
    return tmp_path


def test_missing_dataset_lists_every_path_and_both_fixes(isolated):
    with pytest.raises(DatasetNotFoundError) as err:
        find_dataset("fashion_mnist", "train")
    text = str(err.value)
    for folder in ("env", "repo", "system"):
        assert str(isolated / folder) in text
    assert "make data" in text and "GANLAB_DATA" in text
    assert f"{isolated / 'env'} (GANLAB_DATA; no such folder)" in text


def test_lookup_order_prefers_env_then_repo_then_system(isolated):
    for folder in ("repo", "system"):
        (isolated / folder / "fashion-mnist").mkdir(parents=True)
        make_split(isolated / folder / "fashion-mnist", "train", 12)
    with pytest.warns(RuntimeWarning, match="GANLAB_DATA"):  # it names no folder (yet)
        assert find_dataset("fashion_mnist")[0].parent == isolated / "repo" / "fashion-mnist"
    (isolated / "env").mkdir()
    make_split(isolated / "env", "train", 12, gz=False)  # flat layout, not gzipped
    assert find_dataset("fashion_mnist")[0].parent == isolated / "env"


def test_torchvision_layout_is_found(isolated):
    raw = isolated / "repo" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    make_split(raw, "t10k", 5)
    with pytest.warns(RuntimeWarning, match="GANLAB_DATA"):
        images, labels = find_dataset("fashion_mnist", "test")
    assert images.parent == raw and labels.name.startswith("t10k-labels")


def test_load_images_scales_to_minus_one_one(isolated):
    (isolated / "env").mkdir()
    make_split(isolated / "env", "train", 12)
    ds = load_images("fashion_mnist", "train")
    assert ds.images.shape == (12, 1, 28, 28) and ds.images.dtype == torch.float32
    assert ds.labels.dtype == torch.int64 and ds.labels.shape == (12,)
    assert -1.0 <= ds.images.min() and ds.images.max() <= 1.0
    raw = read_idx(isolated / "env" / "train-images-idx3-ubyte.gz")
    torch.testing.assert_close(ds.images[3, 0], torch.from_numpy(raw[3].copy()).float() / 127.5 - 1)


def test_mnist_is_accepted_the_same_way(isolated):
    (isolated / "env" / "mnist").mkdir(parents=True)
    make_split(isolated / "env" / "mnist", "train", 12)
    assert len(load_images("mnist", "train")) == 12


def test_truncated_file_names_the_file(isolated):
    folder = isolated / "env"
    folder.mkdir()
    make_split(folder, "train", 12)
    path = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = f.read()
    with gzip.open(path, "wb") as f:
        f.write(raw[:-100])
    with pytest.raises(CorruptDatasetError, match="train-images-idx3-ubyte.gz.*truncated"):
        load_images("fashion_mnist", "train")


@pytest.mark.parametrize("damage", ["header", "gzip", "deflate", "count"])
def test_corrupt_files_give_clear_errors(isolated, damage):
    folder = isolated / "env"
    folder.mkdir()
    make_split(folder, "train", 12)
    path = folder / "train-labels-idx1-ubyte.gz"
    if damage == "header":
        with gzip.open(path, "wb") as f:
            f.write(b"\x12\x34garbage")
    elif damage == "gzip":
        path.write_bytes(b"this is not gzip")
    elif damage == "deflate":  # a gzip header, then a damaged compressed stream (zlib.error, not an OSError)
        raw = bytearray(path.read_bytes())
        start = raw.index(b"\x00", 10) + 1  # after the header and the file name it holds
        raw[start + 8:start + 14] = b"\xff" * 6
        path.write_bytes(bytes(raw))
    else:
        write_idx(path, np.zeros(11, np.uint8))
    with pytest.raises(CorruptDatasetError, match="train-labels-idx1-ubyte.gz"):
        load_images("fashion_mnist", "train")


def test_labels_outside_the_classes_are_refused_at_load(isolated):
    folder = isolated / "env"
    folder.mkdir()
    make_split(folder, "train", 12)
    labels = np.arange(12) % 10
    labels[7] = 200  # a 10-class set
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(CorruptDatasetError, match=r"labels-idx1-ubyte\.gz holds label 200 at item 7 .*10 classes"):
        load_images("fashion_mnist", "train")


def test_an_unreadable_file_is_not_called_corrupt(isolated, monkeypatch):
    folder = isolated / "env"
    folder.mkdir()
    make_split(folder, "train", 12)
    make_split(folder, "t10k", 5, gz=False)
    real_open = gzip.open

    def denied(path, *args, **kwargs):  # as root cannot be refused a read, the refusal is simulated
        if Path(path).parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def denied_bytes(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(data.gzip, "open", denied)
    monkeypatch.setattr(data.Path, "read_bytes", denied_bytes)
    for split, name in (("train", "train-images-idx3-ubyte.gz"), ("test", "t10k-images-idx3-ubyte")):
        with pytest.raises(DatasetUnreadableError, match=f"{name} cannot be read: Permission denied") as err:
            load_images("fashion_mnist", split)
        assert "corrupt" not in str(err.value) and "delete" not in str(err.value) and "chmod" in str(err.value)


@as_root
def test_an_unreadable_file_by_its_permissions(isolated):
    folder = isolated / "env"
    folder.mkdir()
    make_split(folder, "train", 12)
    (folder / "train-images-idx3-ubyte.gz").chmod(0)
    with pytest.raises(DatasetUnreadableError, match="cannot be read: Permission denied"):
        load_images("fashion_mnist", "train")


def test_an_unsearchable_folder_is_named(isolated, monkeypatch):
    folder = isolated / "env"
    folder.mkdir()
    real_is_file = Path.is_file

    def denied(self):
        if folder in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(data.Path, "is_file", denied)
    with pytest.raises(DatasetUnreadableError, match=f"the data folder {folder} cannot be searched "
                                                     r"\(Permission denied\).*GANLAB_DATA"):
        find_dataset("fashion_mnist", "train")


@as_root
def test_an_unsearchable_folder_by_its_permissions(isolated):
    folder = isolated / "env" / "fashion-mnist"
    folder.mkdir(parents=True)
    folder.chmod(0)
    try:
        with pytest.raises(DatasetUnreadableError, match="fashion-mnist cannot be searched"):
            find_dataset("fashion_mnist", "train")
    finally:
        folder.chmod(0o700)


def test_a_missing_ganlab_data_folder_is_reported_with_the_copy_used(isolated):
    (isolated / "system" / "fashion-mnist").mkdir(parents=True)
    make_split(isolated / "system" / "fashion-mnist", "train", 12)
    with pytest.warns(RuntimeWarning) as record:
        ds = load_images("fashion_mnist", "train")
    message = str(record[0].message)
    assert f"GANLAB_DATA={isolated / 'env'} is not a folder" in message
    assert f"using the copy of fashion_mnist at {isolated / 'system' / 'fashion-mnist'}" in message
    assert ds.source == isolated / "system" / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    assert ds.subset(5).source == ds.to("cpu").source == ds.source  # the source travels with the data


def test_unknown_names_are_value_errors():
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_images("cifar10")
    with pytest.raises(ValueError, match="train"):
        load_images("fashion_mnist", "validation")


def test_epoch_batches_cover_the_set_once(isolated):
    (isolated / "env").mkdir()
    make_split(isolated / "env", "train", 12)
    ds = load_images("fashion_mnist", "train")
    batches = list(ds.epoch_batches(5, torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [5, 5]
    assert len(torch.cat(batches).unique()) == 10


def test_download_offline_gives_a_clear_error(isolated, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(DatasetNotFoundError, match="offline.*dataset-fashion-mnist"):
        data.ensure("fashion_mnist")


def test_real_fashion_mnist_when_installed():
    try:
        find_dataset("fashion_mnist", "test")
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed here (make data installs it)")
    ds = load_images("fashion_mnist", "test")
    assert len(ds) == 10_000 and ds.classes[9] == "Ankle boot"
    assert torch.bincount(ds.labels).tolist() == [1000] * 10
