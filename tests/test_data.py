import gzip

import numpy as np
import pytest
import torch

from ganlab import data
from ganlab.data import CorruptDatasetError, DatasetNotFoundError, find_dataset, load_images, read_idx


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


def test_lookup_order_prefers_env_then_repo_then_system(isolated):
    for folder in ("repo", "system"):
        (isolated / folder / "fashion-mnist").mkdir(parents=True)
        make_split(isolated / folder / "fashion-mnist", "train", 12)
    assert find_dataset("fashion_mnist")[0].parent == isolated / "repo" / "fashion-mnist"
    (isolated / "env").mkdir()
    make_split(isolated / "env", "train", 12, gz=False)  # flat layout, not gzipped
    assert find_dataset("fashion_mnist")[0].parent == isolated / "env"


def test_torchvision_layout_is_found(isolated):
    raw = isolated / "repo" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    make_split(raw, "t10k", 5)
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


@pytest.mark.parametrize("damage", ["header", "gzip", "count"])
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
    else:
        write_idx(path, np.zeros(11, np.uint8))
    with pytest.raises(CorruptDatasetError, match="train-labels-idx1-ubyte.gz"):
        load_images("fashion_mnist", "train")


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
