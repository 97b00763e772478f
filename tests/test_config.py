from pathlib import Path

import pytest
import torch

from ganlab import GANConfig, resolve_device


def test_defaults_are_the_seed_recipe():
    cfg = GANConfig()
    assert (cfg.latent_dim, cfg.hidden_dim, cfg.batch_size, cfg.epochs) == (100, 256, 64, 50)
    assert cfg.lr_g == cfg.lr_d == 2e-4 and cfg.betas == (0.5, 0.999)
    assert cfg.real_label == 0.9 and cfg.image_shape == (1, 28, 28) and cfg.device == "auto"
    assert cfg.loss == "non_saturating" and cfg.n_critic == 1
    assert cfg.data_dim == 784


@pytest.mark.parametrize("field, value, words", [
    ("lr_g", 0.0, "lr_g"), ("lr_d", -1e-3, "lr_d"), ("lr_d", float("nan"), "lr_d"),
    ("batch_size", 0, "batch_size"), ("epochs", 1.5, "epochs"), ("n_critic", 0, "n_critic"),
    ("real_label", 0.0, "real_label"), ("real_label", 1.2, "real_label"), ("label_flip", 0.7, "label_flip"),
    ("loss", "vanilla", "non_saturating"), ("model", "resnet", "mlp"), ("device", "tpu", "cuda"),
    ("betas", (0.5, 1.0), "betas"), ("optimizer", "adagrad", "rmsprop"), ("penalty", "l2", "gp"),
    ("clip", 0.0, "clip"), ("image_shape", (0, 28, 28), "image_shape"), ("latent_dim", True, "latent_dim"),
])
def test_bad_values_name_the_field_and_what_is_allowed(field, value, words):
    with pytest.raises(ValueError) as err:
        GANConfig(**{field: value})
    assert field in str(err.value) and words in str(err.value)


def test_round_trip_through_plain_dict():
    cfg = GANConfig(loss="hinge", extra={"dropout": 0.0})
    assert GANConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown fields"):
        GANConfig.from_dict({**cfg.to_dict(), "learning_rate": 1})


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")


@pytest.mark.parametrize("field, value, words", [
    ("spectral_norm", "no", "True or False"), ("bf16", 1, "True or False"),
    ("real_label", "0.9", "number"), ("label_flip", "0", "number"), ("clip", "0.01", "number"),
    ("instance_noise", "0.1", "number"), ("penalty_weight", "10", "number"), ("lr_g", True, "number"),
    ("lr_d", "2e-4", "number"), ("betas", (0.5, "0.9"), "number"), ("betas", 0.5, "two numbers"),
    ("image_shape", (1.7, 28, 28), "not an integer"), ("image_shape", (1, 28.0, 28), "not an integer"),
    ("image_shape", 784, "tuple"), ("hidden_dim", 8.0, "not an integer"), ("seed", 2**70, "2**63"),
    ("seed", -1, "2**63"), ("seed", 1.5, "not an integer"), ("dataset", "cifar10", "ring8"),
    ("dataset", None, "string"), ("loss", ["hinge"], "string"), ("instance_noise", float("inf"), ">= 0"),
])
def test_wrong_types_are_refused_with_the_field_and_an_example(field, value, words):
    with pytest.raises(ValueError) as err:
        GANConfig(**{field: value})
    assert field in str(err.value) and words in str(err.value) and "e.g." in str(err.value)


def test_numpy_numbers_are_taken_as_python_numbers():
    np = pytest.importorskip("numpy")
    cfg = GANConfig(lr_g=np.float32(1e-3), batch_size=np.int64(32), image_shape=(np.int64(2),),
                    spectral_norm=np.bool_(True), seed=np.uint32(7),
                    extra={"dropout": np.float64(0.25), "sizes": [np.int32(3)], "nested": {"on": np.bool_(False)}})
    assert type(cfg.lr_g) is float and cfg.lr_g == pytest.approx(1e-3)
    assert type(cfg.batch_size) is int and cfg.image_shape == (2,) and type(cfg.image_shape[0]) is int
    assert cfg.spectral_norm is True and type(cfg.seed) is int and cfg.seed == 7
    assert cfg.extra == {"dropout": 0.25, "sizes": [3], "nested": {"on": False}}
    assert type(cfg.extra["dropout"]) is float and type(cfg.extra["sizes"][0]) is int


def test_every_accepted_config_survives_a_weights_only_round_trip(tmp_path):
    np = pytest.importorskip("numpy")
    cfg = GANConfig(extra={"dropout": np.float64(0.1), "remedies": {"pack": {"pack": 2}}, "shape": (1, 2),
                           "name": "x", "none": None})
    path = tmp_path / "cfg.pt"
    torch.save(cfg.to_dict(), path)
    assert GANConfig.from_dict(torch.load(path, weights_only=True)) == cfg


@pytest.mark.parametrize("value, words", [
    (Path("runs/x"), "extra['out']"), (torch.tensor(1.0), "extra['out']"), ({"a": {1: 2}}, "string keys"),
    ({"deep": [object()]}, "extra['out']['deep'][0]"),
])
def test_extra_values_a_checkpoint_cannot_store_are_refused(value, words):
    with pytest.raises(ValueError) as err:
        GANConfig(extra={"out": value})
    assert words in str(err.value)
    if isinstance(value, Path):
        assert "str(path)" in str(err.value)


def test_known_datasets_are_accepted():
    for name in ("fashion_mnist", "mnist", "ring8", "grid25", "bimodal1d"):
        assert GANConfig(dataset=name).dataset == name


def test_require_positive_names_the_field_and_refuses_bools_and_strings():
    from types import SimpleNamespace

    from ganlab.config import require_positive

    good = SimpleNamespace(width=3, lr=0.01)
    require_positive(good, integers=("width",), numbers=("lr",))  # no error
    for bad, field in [(SimpleNamespace(width=0, lr=0.01), "width"), (SimpleNamespace(width=True, lr=0.01), "width"),
                       (SimpleNamespace(width=2.0, lr=0.01), "width"), (SimpleNamespace(width=3, lr=0.0), "lr"),
                       (SimpleNamespace(width=3, lr=float("nan")), "lr"), (SimpleNamespace(width=3, lr="0.1"), "lr"),
                       (SimpleNamespace(width=3, lr=True), "lr")]:
        with pytest.raises(ValueError, match=f"^{field}"):
            require_positive(bad, integers=("width",), numbers=("lr",))
