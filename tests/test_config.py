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
