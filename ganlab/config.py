"""GANConfig: the training recipe as one typed, validated dataclass.

The defaults are the seed notebook's MLP GAN (Goodfellow et al. 2014 with the DCGAN-era tricks of
Radford et al. 2016): Adam 2e-4 with beta1 = 0.5, batch 64, one-sided label smoothing at 0.9.
A checkpoint stores ``asdict(cfg)`` beside the weights, so every field must stay a plain value:
``__post_init__`` checks each field's type and range (numpy numbers are taken as Python numbers) and
refuses anything in ``extra`` that ``torch.load(weights_only=True)`` could not read back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
PENALTIES = ("none", "gp", "lp", "r1", "r2")
# Fields a Trainer is built from: its nets (model, sizes, extra's model and remedy options), its data and its
# seeded start. ``Trainer.update`` refuses to change them; every other field is read live at each step.
BUILD_FIELDS = ("model", "latent_dim", "hidden_dim", "image_shape", "dataset", "seed", "device", "extra")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' → cuda if available, then mps, then cpu; other names are checked and returned."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    base = name.split(":")[0]
    if base not in DEVICES:
        raise ValueError(f"device={name!r} is not a device ganlab knows; use one of {DEVICES}")
    if base == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device='mps' but this torch has no MPS backend; use device='auto' or 'cpu'")
    return torch.device(name)


@dataclass
class GANConfig:
    """Everything that defines a GAN training run.

    Shapes: ``image_shape`` is the shape of one sample, (C, H, W) for images or (d,) for toy data.
    """

    # --- models ---
    model: str = "mlp"  # a name in ganlab.nets.MODELS: "mlp" (the seed's), "dcgan", "toy"
    latent_dim: int = 100  # z ~ N(0, I_latent_dim), as in the seed
    hidden_dim: int = 256  # MLP width unit: G is 256-512-1024, D is 1024-512-256
    image_shape: tuple[int, ...] = (1, 28, 28)
    dataset: str = "fashion_mnist"  # an image set of ganlab.data or a toy set of ganlab.toy

    # --- optimisation (seed: Adam 2e-4, betas (0.5, 0.999); Radford et al. 2016) ---
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # beta1 = 0.5 damps momentum's overshoot in the game
    batch_size: int = 64
    epochs: int = 50
    n_critic: int = 1  # D steps per G step: k in Algorithm 1 of Goodfellow et al. 2014

    # --- objective ---
    loss: str = "non_saturating"  # a name in ganlab.losses.LOSSES
    real_label: float = 0.9  # one-sided label smoothing (Salimans et al. 2016); 1.0 turns it off
    label_flip: float = 0.0  # fraction of D's labels swapped each step (the noisy-labels trick)
    penalty: str = "none"  # "gp" (Gulrajani 2017), "lp" (Petzka 2018), "r1", "r2" (Mescheder 2018)
    penalty_weight: float = 10.0  # lambda for gp/lp (paper value 10); gamma for r1/r2
    clip: float | None = None  # WGAN weight clipping bound c (Arjovsky 2017 used 0.01)
    spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    instance_noise: float = 0.0  # std of Gaussian noise added to D's inputs, real and fake

    # --- bookkeeping ---
    seed: int = 0
    device: str = "auto"
    bf16: bool = False  # bf16 autocast of the forward passes, CUDA only (ganlab.fast.autocast); unmeasured quality
    extra: dict[str, Any] = field(default_factory=dict)  # model-specific options, e.g. {"dropout": 0.0}

    def __post_init__(self) -> None:
        # Every field is checked for its type as well as its range: a string where a number belongs, a bool
        # where a number belongs (True would train at lr 1.0), or a float size (1.7 → 1) are mistakes to name,
        # not values to coerce. numpy numbers are taken as the Python numbers they hold.
        for name in ("model", "dataset", "optimizer", "loss", "penalty", "device"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a string, e.g. {name}={EXAMPLES[name]!r}")
        if not isinstance(self.image_shape, (tuple, list, torch.Size)):
            raise ValueError(f"image_shape={self.image_shape!r} must be a tuple of sizes, e.g. (1, 28, 28) or (2,)")
        self.image_shape = tuple(_integer("image_shape", s, "(1, 28, 28) or (2,)") for s in self.image_shape)
        if not self.image_shape or any(s < 1 for s in self.image_shape):
            raise ValueError(f"image_shape={self.image_shape!r} must be positive sizes, e.g. (1, 28, 28) or (2,)")
        for name in ("latent_dim", "hidden_dim", "batch_size", "epochs", "n_critic"):
            setattr(self, name, _integer(name, getattr(self, name), EXAMPLES[name]))
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r} must be an integer >= 1, e.g. {EXAMPLES[name]}")
        for name in ("lr_g", "lr_d"):
            value = _number(name, getattr(self, name), "2e-4")
            setattr(self, name, value)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be a positive finite learning rate, e.g. 2e-4")
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas={self.betas!r} must be two numbers in [0, 1), e.g. (0.5, 0.999)")
        self.betas = tuple(_number("betas", b, "(0.5, 0.999)") for b in self.betas)  # type: ignore[assignment]
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas={self.betas!r} must be two numbers in [0, 1), e.g. (0.5, 0.999)")
        for name in ("real_label", "label_flip", "penalty_weight", "instance_noise"):
            setattr(self, name, _number(name, getattr(self, name), EXAMPLES[name]))
        if self.clip is not None:
            self.clip = _number("clip", self.clip, "0.01 or None")
        if not (0.0 < self.real_label <= 1.0):
            raise ValueError(f"real_label={self.real_label!r} must lie in (0, 1]; 0.9 smooths, 1.0 does not")
        if not (0.0 <= self.label_flip < 0.5):
            raise ValueError(f"label_flip={self.label_flip!r} must lie in [0, 0.5); 0.05 is a usual value")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r} is unknown; use one of {OPTIMIZERS}")
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty={self.penalty!r} is unknown; use one of {PENALTIES}")
        if not (math.isfinite(self.penalty_weight) and self.penalty_weight >= 0):
            raise ValueError(f"penalty_weight={self.penalty_weight!r} must be a finite number >= 0, e.g. 10.0")
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"clip={self.clip!r} must be a positive bound such as 0.01, or None for no clipping")
        if not (math.isfinite(self.instance_noise) and self.instance_noise >= 0):
            raise ValueError(f"instance_noise={self.instance_noise!r} must be a standard deviation >= 0, e.g. 0.1")
        for name in ("spectral_norm", "bf16"):
            setattr(self, name, _flag(name, getattr(self, name)))
        self.seed = _integer("seed", self.seed, "0")
        if not 0 <= self.seed < SEED_LIMIT:
            raise ValueError(f"seed={self.seed!r} must lie in [0, 2**63) (torch.Generator.manual_seed takes a "
                             f"64-bit seed; ganlab adds step counts to it), e.g. seed=0")
        if not isinstance(self.extra, dict):
            raise ValueError(f"extra={self.extra!r} must be a dict of options, e.g. {{'dropout': 0.0}}")
        self.extra = {key: _plain(f"extra[{key!r}]", value) for key, value in self.extra.items()}
        # Late imports: the registries live with the things they name.
        from . import toy
        from .data import DATASETS
        from .losses import LOSSES
        from .nets import MODELS

        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r} is unknown; use one of {sorted(LOSSES)}")
        if self.model not in MODELS:
            raise ValueError(f"model={self.model!r} is unknown; use one of {sorted(MODELS)}")
        if self.dataset not in DATASETS and self.dataset not in toy.TOY_SETS:
            raise ValueError(f"dataset={self.dataset!r} is unknown; use an image set {sorted(DATASETS)} or a toy "
                             f"set {toy.names()}, e.g. dataset='ring8' with model='toy', image_shape=(2,)")
        if self.device.split(":")[0] not in DEVICES:
            raise ValueError(f"device={self.device!r} is unknown; use one of {DEVICES}")

    @property
    def data_dim(self) -> int:
        """Number of values in one sample (784 for 28×28 greyscale)."""
        return math.prod(self.image_shape)

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form stored in checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GANConfig:
        """Inverse of ``to_dict``; unknown keys are an error (a checkpoint from another program)."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"config has unknown fields {sorted(unknown)}; is it from another ganlab version?")
        return cls(**values)


SEED_LIMIT = 2**63
EXAMPLES: dict[str, Any] = {
    "model": "mlp", "dataset": "fashion_mnist", "optimizer": "adam", "loss": "non_saturating", "penalty": "none",
    "device": "auto", "latent_dim": 100, "hidden_dim": 256, "batch_size": 64, "epochs": 50, "n_critic": 1,
    "real_label": 0.9, "label_flip": 0.05, "penalty_weight": 10.0, "instance_noise": 0.1,
}


def _from_numpy(value: Any) -> Any:
    """A numpy scalar (np.float32(0.1), np.int64(3), np.bool_(True)) as the Python value it holds."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _number(name: str, value: Any, example: str) -> float:
    """``value`` as a float; a bool, a string or any other non-number is an error naming the field."""
    value = _from_numpy(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}={value!r} must be a number (not {type(value).__name__}), e.g. {name}={example}")
    return float(value)


def _integer(name: str, value: Any, example: str) -> int:
    """``value`` as an int; floats (even 28.0), bools and strings are errors naming the field."""
    value = _from_numpy(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} holds {value!r}, which is not an integer; use whole numbers, e.g. {name}={example}")
    return value


def require_positive(obj: Any, integers: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> None:
    """Check a config's fields: ``integers`` whole numbers >= 1, ``numbers`` finite numbers > 0.

    Shared by the configs beside ``GANConfig`` (VAE, diffusion); the error names the field and a valid value.
    """
    for name in integers:
        value = _integer(name, getattr(obj, name), "1")
        if value < 1:
            raise ValueError(f"{name}={value!r} must be an integer >= 1")
    for name in numbers:
        value = _number(name, getattr(obj, name), "0.001")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive number, e.g. {name}=0.001")


def _flag(name: str, value: Any) -> bool:
    """``value`` as a bool; "no", 0 or None are errors (a non-empty string would otherwise read as True)."""
    value = _from_numpy(value)
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be True or False, e.g. {name}=True")
    return value


def _plain(where: str, value: Any) -> Any:
    """``value`` made of None, bool, int, float, str, lists, tuples and str-keyed dicts (numpy scalars converted).

    Only such values survive a checkpoint read with ``torch.load(weights_only=True)``; anything else (a Path,
    an array, an object) would save and then refuse to load, so it is refused here, naming where it sits.
    """
    value = _from_numpy(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(f"{where}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"{where} has keys {list(value)!r}; config dicts need string keys")
        return {k: _plain(f"{where}[{k!r}]", v) for k, v in value.items()}
    raise ValueError(f"{where}={value!r} is a {type(value).__name__}, which a checkpoint cannot store; use a plain "
                     f"value (number, string, bool, None, list or dict of them), e.g. str(path) for a Path")
