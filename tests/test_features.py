"""Feature extractors: the domain classifier's shapes, cache, corrupt-cache handling and RNG hygiene;
Inception-v3's offline error and its loading path (with random weights written where torchvision's would be)."""

from __future__ import annotations

import urllib.error
import warnings
from pathlib import Path

import pytest
import torch

from ganlab import features
from ganlab.data import DatasetNotFoundError, find_dataset

TINY = features.Budget(epochs=1, n_train=256, batch_size=64)


def _have_fashion_mnist() -> bool:
    try:
        find_dataset("fashion_mnist", "train")
        return True
    except DatasetNotFoundError:
        return False


needs_data = pytest.mark.skipif(not _have_fashion_mnist(), reason="Fashion-MNIST not found; run `make data`")


def test_domain_cnn_shapes_and_probabilities(tiny_images):
    model = features.ARCHITECTURES[features.DEFAULT_ARCH]().eval()
    x = tiny_images[:5]
    assert model.features(x).shape == (5, 128)
    assert model(x).shape == (5, 10)
    probs = model.probs(x)
    torch.testing.assert_close(probs.sum(1), torch.ones(5), rtol=0, atol=1e-6)
    assert (probs >= 0).all()
    # features are the penultimate activations: the head applied to them gives the logits
    torch.testing.assert_close(model.head(model.features(x)), model(x))


def test_domain_cnn_rejects_flat_or_wrong_sized_images():
    model = features.ARCHITECTURES[features.DEFAULT_ARCH]()
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\)"):
        model.features(torch.zeros(3, 784))
    with pytest.raises(ValueError, match="shape"):
        model.probs(torch.zeros(3, 3, 28, 28))


@needs_data
def test_classifier_trains_once_then_loads_from_cache(tmp_path, monkeypatch):
    first = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    files = list(tmp_path.glob("*.pt"))
    assert [f.name for f in files] == ["fashion_mnist_cnn16-32-128_custom-e1-n256-b64-lr0p003_seed0.pt"]
    assert 0.1 <= first.test_accuracy <= 1.0
    assert not first.training and not any(p.requires_grad for p in first.parameters())

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been loaded, not retrained")

    monkeypatch.setattr(features, "train_classifier", no_training)
    second = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    assert second.test_accuracy == first.test_accuracy
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@needs_data
def test_training_leaves_the_callers_random_stream_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)


@needs_data
@pytest.mark.parametrize("content", [b"not a checkpoint at all", "wrong key"])
def test_a_bad_cache_file_is_moved_aside_with_a_warning_and_retrained(tmp_path, content):
    path = features.cache_path("fashion_mnist", budget="custom-e1-n256-b64-lr0p003", root=tmp_path)
    if content == "wrong key":  # a readable file that holds another classifier
        torch.save({"format": features.FORMAT, "dataset": "mnist", "arch": features.DEFAULT_ARCH,
                    "budget": "full", "seed": 0, "state": {}, "test_accuracy": 0.5}, path)
    else:
        path.write_bytes(content)
    original = path.read_bytes()
    with pytest.warns(RuntimeWarning, match="moved to .*corrupt.* retrained"):
        model = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    aside = path.with_name(path.name + ".corrupt")
    assert aside.read_bytes() == original  # nothing lost
    assert path.is_file() and model.test_accuracy > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fresh cache loads without complaint
        features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    path.write_bytes(b"damaged again")  # a second bad file never overwrites the first one set aside
    with pytest.warns(RuntimeWarning, match=r"corrupt\.1"):
        features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    assert aside.read_bytes() == original
    assert path.with_name(path.name + ".corrupt.1").read_bytes() == b"damaged again"


def _fake_training(monkeypatch) -> list:
    """Replace the 1-2 minute training by an untrained model; returns the list of calls."""
    calls: list = []

    def train(dataset, arch, budget, seed, device, progress):
        calls.append(dataset)
        torch.manual_seed(len(calls))
        model = features.ARCHITECTURES[arch]().eval()
        model.test_accuracy = 0.5
        return model, 0.01

    monkeypatch.setattr(features, "train_classifier", train)
    return calls


@pytest.mark.parametrize("junk", [b".", b"\x80\x02K\x01\x85R.", b"\x80\x02s."])
def test_junk_bytes_that_crash_the_unpickler_are_moved_aside(tmp_path, monkeypatch, junk):
    # These make torch's weights-only unpickler raise IndexError, not one of the errors a loader expects.
    calls = _fake_training(monkeypatch)
    path = features.cache_path("fashion_mnist", budget="custom-e1-n256-b64-lr0p003", root=tmp_path)
    path.write_bytes(junk)
    with pytest.warns(RuntimeWarning, match=r"could not be used .*moved to .*\.pt\.corrupt.* retrained") as record:
        model = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    message = str(record[0].message)
    assert str(path) in message and str(path.with_name(path.name + ".corrupt")) in message
    assert path.with_name(path.name + ".corrupt").read_bytes() == junk and calls == ["fashion_mnist"]
    assert model.test_accuracy == 0.5 and path.is_file()  # retrained and cached afresh


def test_an_unwritable_cache_folder_is_named_before_training_and_the_model_is_kept(tmp_path, monkeypatch):
    calls = _fake_training(monkeypatch)
    locked = tmp_path / "classifiers"
    real_mkstemp = features.tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # root may write anywhere, so a read-only folder is simulated
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(features.tempfile, "mkstemp", mkstemp)
    seen_before_training: list = []
    real_warn = features.warnings.warn
    monkeypatch.setattr(features.warnings, "warn", lambda *a, **k: (seen_before_training.append(list(calls)),
                                                                    real_warn(*a, **k)))
    with pytest.warns(RuntimeWarning, match=r"classifiers cannot be written \(Permission denied\).*kept in memory"):
        model = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=locked)
    assert seen_before_training == [[]] and calls == ["fashion_mnist"]  # warned first, then trained once
    assert model.test_accuracy == 0.5 and not model.training and not list(locked.glob("*.pt"))


def test_a_failed_save_after_training_keeps_the_model(tmp_path, monkeypatch):
    _fake_training(monkeypatch)

    def disk_full(obj, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(features, "atomic_save", disk_full)
    with pytest.warns(RuntimeWarning, match="could not be cached .*No space left.*kept in memory"):
        model = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    assert model.test_accuracy == 0.5


def test_a_bad_cache_file_that_cannot_be_moved_aside_is_left_in_place(tmp_path, monkeypatch):
    calls = _fake_training(monkeypatch)
    path = features.cache_path("fashion_mnist", budget="custom-e1-n256-b64-lr0p003", root=tmp_path)
    path.write_bytes(b"junk")

    def refuse(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(features.Path, "replace", refuse)
    with pytest.warns(RuntimeWarning, match=r"nor moved aside .*Permission denied.*left in place.*in memory only"):
        model = features.classifier("fashion_mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    assert calls == ["fashion_mnist"] and model.test_accuracy == 0.5
    assert path.read_bytes() == b"junk"  # never overwritten: it is all that is left of what was there


def test_budget_choice_follows_fast_mode_and_the_cache(tmp_path, monkeypatch):
    def resolved() -> str:
        return features._resolve_budget(None, "fashion_mnist", features.DEFAULT_ARCH, 0, tmp_path)[0]

    monkeypatch.setenv("GANLAB_FAST", "0")
    assert resolved().startswith("full-e")
    monkeypatch.setenv("GANLAB_FAST", "1")
    assert resolved().startswith("fast-e")
    features.cache_path("fashion_mnist", root=tmp_path).write_bytes(b"")  # a full classifier is cached
    assert resolved().startswith("full-e")


def test_bad_names_are_rejected():
    with pytest.raises(ValueError, match="has no classifier"):
        features.classifier("cifar10")
    with pytest.raises(ValueError, match="budget"):
        features.classifier("fashion_mnist", budget="huge")
    with pytest.raises(ValueError, match="unknown"):
        features.extractor("vgg")


@needs_data
@pytest.mark.slow
def test_the_cached_full_classifier_reaches_91_percent():
    path = features.cache_path("fashion_mnist")
    if not path.is_file():
        pytest.skip(f"no full classifier cached at {path} (it trains on first use of features.classifier())")
    from ganlab.data import load_images

    model = features.classifier("fashion_mnist", "cpu", progress=False, budget="full")
    assert features.accuracy(model, load_images("fashion_mnist", "test")) >= 0.91


def test_extract_batches_match_one_pass(tiny_images):
    model = features.ARCHITECTURES[features.DEFAULT_ARCH]().eval()
    feats, probs = features.extract(model, tiny_images[:10], batch_size=3)
    with torch.no_grad():
        torch.testing.assert_close(feats, model.features(tiny_images[:10]))
        torch.testing.assert_close(probs, model.probs(tiny_images[:10]))


def test_extract_runs_the_convolutions_once_per_batch(tiny_images):
    model = features.ARCHITECTURES[features.DEFAULT_ARCH]().eval()
    calls = []
    model.body.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    features.extract(model, tiny_images[:10], batch_size=4)
    assert calls == [4, 4, 2]  # features and probs from one pass (two passes cost twice the time)
    feats, _ = features.extract(model.requires_grad_(True), tiny_images[:3])
    assert not feats.requires_grad  # extract builds no graph, even for a model with trainable weights


def test_extract_takes_any_object_with_features_and_probs(tiny_images):
    class TwoMethods(torch.nn.Module):  # no features_and_probs: extract falls back to the two calls
        def __init__(self) -> None:
            super().__init__()
            self.inner = features.ARCHITECTURES[features.DEFAULT_ARCH]().eval()

        def features(self, x):
            return self.inner.features(x)

        def probs(self, x):
            return self.inner.probs(x)

    model = TwoMethods()
    got = features.extract(model, tiny_images[:6], batch_size=4)
    want = features.extract(model.inner, tiny_images[:6], batch_size=4)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_inception_features_and_probs_equal_the_two_calls():
    class Tiny(torch.nn.Module):  # stands in for Inception-v3's trunk: (N, 3, 299, 299) → (N, 4), and a .fc
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.fc = torch.nn.Conv2d(3, 4, 5, stride=4), torch.nn.Linear(4, 6)

        def forward(self, x):
            return self.conv(x).mean((2, 3))

    torch.manual_seed(0)
    net = features.InceptionFeatures(Tiny()).eval()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    feats, probs = net.features_and_probs(x)
    torch.testing.assert_close(feats, net.features(x), rtol=0, atol=0)
    torch.testing.assert_close(probs, net.probs(x), rtol=0, atol=0)
    assert probs.shape == (3, 6)


# ------------------------------------------------------------------------------------------ Inception-v3
def test_inception_offline_says_why_without_touching_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("must not try to download without download=True")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(features.WeightsUnavailableError, match="not on this machine.*download=True"):
        features.inception()
    with pytest.raises(features.WeightsUnavailableError):
        features.extractor("inception")


def test_inception_failed_download_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(features.WeightsUnavailableError, match="downloading .* failed .*URLError.*offline"):
        features.inception(download=True)


@pytest.mark.slow
def test_inception_loads_weights_from_the_hub_cache(tmp_path, monkeypatch):
    from torchvision.models import Inception_V3_Weights, inception_v3

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = tmp_path / "hub" / "checkpoints" / Inception_V3_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[1]
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(inception_v3(weights=None, init_weights=False, aux_logits=True).state_dict(), path)
    net = features.inception("cpu")
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    assert net.features(x).shape == (2, 2048)
    probs = net.probs(x)
    assert probs.shape == (2, 1000)
    torch.testing.assert_close(probs.sum(1), torch.ones(2), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="images must be"):
        net.features(torch.zeros(2, 784))


def test_mnist_without_its_files_says_how_to_get_them(tmp_path):
    try:
        find_dataset("mnist", "train")
        pytest.skip("MNIST is present here; this test is about the error when it is not")
    except DatasetNotFoundError:
        pass
    with pytest.raises(DatasetNotFoundError, match="mnist"):
        features.classifier("mnist", "cpu", progress=False, budget=TINY, root=tmp_path)
    assert not list(tmp_path.glob("*.pt"))  # nothing half-written
