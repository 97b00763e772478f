"""torchvision's Inception-v3 as a feature extractor, used only when its ImageNet weights are on this machine.

The published FID/IS numbers use it. Its weights are not fetched unless asked (``download=True``): an offline
machine gets a ``WeightsUnavailableError`` that says where the file was looked for and what to do instead.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checkpoint import safe_load
from .config import resolve_device


class WeightsUnavailableError(FileNotFoundError):
    """Pretrained weights are not on this machine and could not (or were not allowed to) be downloaded."""


class InceptionFeatures(nn.Module):
    """torchvision's Inception-v3 as a feature extractor: 2048-d pool features and 1000 ImageNet probabilities.

    Images (N, 1 or 3, H, W) in [-1, 1] are repeated to three channels and resized to 299×299; the
    network's ``transform_input`` is off because [-1, 1] is already the scaling its weights expect.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.fc, net.fc = net.fc, nn.Identity()
        self.net = net

    def features(self, x: Tensor) -> Tensor:
        """(N, C, H, W) in [-1, 1] → pool-layer features (N, 2048)."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"images must be (N, 1 or 3, H, W); got shape {tuple(x.shape)}")
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.net(x)

    def probs(self, x: Tensor) -> Tensor:
        """ImageNet class probabilities (N, 1000)."""
        return F.softmax(self.fc(self.features(x)), dim=1)

    def features_and_probs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(features(x), probs(x))`` from one pass through the network."""
        feats = self.features(x)
        return feats, F.softmax(self.fc(feats), dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


def inception(device: str | torch.device | None = None, progress: bool = True, *, download: bool = False
              ) -> InceptionFeatures:
    """Inception-v3 with ImageNet weights, if they can be had; ``WeightsUnavailableError`` saying why if not.

    Looks for torchvision's weight file in the torch hub cache (``$TORCH_HOME/hub/checkpoints``).
    Only with ``download=True`` does it try the network, and a failure there is reported the same way.
    """
    from torchvision.models import Inception_V3_Weights, inception_v3

    weights = Inception_V3_Weights.IMAGENET1K_V1
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not path.is_file():
        if not download:
            raise WeightsUnavailableError(
                f"Inception-v3 weights are not on this machine (looked for {path}). Either copy the file "
                f"{path.name} there, or call features.inception(download=True) on a machine with internet "
                f"access. Offline, use the domain classifier instead: features.classifier('fashion_mnist').")
        try:
            torch.hub.load_state_dict_from_url(weights.url, progress=progress, check_hash=True)
        except Exception as err:  # URLError, HTTPError, OSError, hash mismatch: all mean "no weights"
            raise WeightsUnavailableError(
                f"downloading the Inception-v3 weights failed ({type(err).__name__}: {err}); this machine is "
                f"probably offline. Copy {path.name} into {path.parent}, or use features.classifier().") from err
    net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    net.load_state_dict(safe_load(path, "Inception-v3 weight file"))
    net.aux_logits, net.AuxLogits = False, None  # the auxiliary head only matters for training
    device = resolve_device("auto" if device is None else str(device))
    return InceptionFeatures(net).to(device).eval().requires_grad_(False)
