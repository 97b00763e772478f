"""GANConfig: the training recipe as one typed, validated dataclass.

The defaults are the seed notebook's MLP GAN (Goodfellow et al. 2014 with the DCGAN-era tricks of
Radford et al. 2016): Adam 2e-4 with beta1 = 0.5, batch 64, one-sided label smoothing at 0.9.
A checkpoint stores ``asdict(cfg)`` beside the weights, so every field must stay a plain value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
PENALTIES = ("none", "gp", "lp", "r1", "r2")


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
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        _positive_int(self, "latent_dim", "hidden_dim", "batch_size", "epochs", "n_critic")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be a positive finite learning rate, e.g. 2e-4")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas={self.betas!r} must be two numbers in [0, 1), e.g. (0.5, 0.999)")
        if not (0.0 < self.real_label <= 1.0):
            raise ValueError(f"real_label={self.real_label!r} must lie in (0, 1]; 0.9 smooths, 1.0 does not")
        if not (0.0 <= self.label_flip < 0.5):
            raise ValueError(f"label_flip={self.label_flip!r} must lie in [0, 0.5); 0.05 is a usual value")
        if not self.image_shape or any(s < 1 for s in self.image_shape):
            raise ValueError(f"image_shape={self.image_shape!r} must be positive sizes, e.g. (1, 28, 28) or (2,)")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r} is unknown; use one of {OPTIMIZERS}")
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty={self.penalty!r} is unknown; use one of {PENALTIES}")
        if not (math.isfinite(self.penalty_weight) and self.penalty_weight >= 0):
            raise ValueError(f"penalty_weight={self.penalty_weight!r} must be a finite number >= 0")
        if self.clip is not None and not (self.clip > 0):
            raise ValueError(f"clip={self.clip!r} must be a positive bound such as 0.01, or None for no clipping")
        if not (self.instance_noise >= 0):
            raise ValueError(f"instance_noise={self.instance_noise!r} must be a standard deviation >= 0")
        if not isinstance(self.bf16, bool):
            raise ValueError(f"bf16={self.bf16!r} must be True or False")
        if not isinstance(self.seed, int):
            raise ValueError(f"seed={self.seed!r} must be an integer")
        # Late imports: the registries live with the things they name.
        from .losses import LOSSES
        from .nets import MODELS

        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r} is unknown; use one of {sorted(LOSSES)}")
        if self.model not in MODELS:
            raise ValueError(f"model={self.model!r} is unknown; use one of {sorted(MODELS)}")
        base = self.device.split(":")[0] if isinstance(self.device, str) else None
        if base not in DEVICES:
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


def _positive_int(cfg: GANConfig, *names: str) -> None:
    for name in names:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be an integer >= 1")
