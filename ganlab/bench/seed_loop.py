"""The seed notebook's training loop, rebuilt as the benchmark's baseline (the "1×" of ``ganlab.bench``).

The seed trains the way many tutorials do, and each habit costs time:
  - a torchvision dataset that turns every image into a PIL image and back through ToTensor and
    Normalize, served by a DataLoader with 2 worker processes (on a 2-core machine the workers compete
    with the training arithmetic for the cores);
  - each batch copied from the host to the device;
  - D ends in a sigmoid and the loss is ``nn.BCELoss`` on probabilities, with the target tensors
    rebuilt at every update;
  - the fake batch for D's update is made with autograd recording and then detached, and G's update
    also computes gradients for D's weights (D is not frozen);
  - ``.item()`` on every loss and mean output, a host-device sync after each update.

The networks are ganlab's own (``build_models``): the seed's MLP Generator and Discriminator are the
same architecture as ``MLPGenerator``/``MLPDiscriminator``, so the seed's D is ganlab's D followed by a
sigmoid (``Probability``). Everything else follows the seed's loop as written.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ..config import GANConfig
from ..nets import build_models

WORKERS = 2  # the seed's DataLoader(num_workers=2)


class IdxImages(Dataset):
    """A torchvision-style image dataset over uint8 arrays (N, H, W): PIL image → transform, per item.

    Mirrors what ``torchvision.datasets.FashionMNIST`` does in ``__getitem__``; built from the local
    idx files because the seed's MNIST download is not available offline.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        from torchvision import transforms

        self.images, self.labels = images, labels
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])

    @classmethod
    def from_files(cls, name: str = "fashion_mnist", split: str = "train") -> IdxImages:
        """The dataset's idx files as found by ``ganlab.data`` (same lookup, same checks)."""
        from ..data import SPLITS, find_dataset, read_idx

        images_path, labels_path = find_dataset(name, split)
        count = SPLITS[split][1]
        return cls(read_idx(images_path, count), read_idx(labels_path, count))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])  # (1, H, W) in [-1, 1]


def point_dataset(points: Tensor) -> Dataset:
    """Toy samples (N, d) as a dataset of (point, 0) pairs, for the same DataLoader."""
    return TensorDataset(points.float().cpu(), torch.zeros(len(points), dtype=torch.long))


class Probability(nn.Module):
    """The seed's D output: σ(logit) as (N, 1) probabilities, from a ganlab D that returns logits (N,)."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.discriminator(x)).unsqueeze(1)


class SeedLoop:
    """The seed's GANTrainer: BCE on probabilities, DataLoader batches, ``.item()`` after every update."""

    def __init__(self, cfg: GANConfig, dataset: Dataset, device: str | torch.device = "cpu",
                 workers: int = WORKERS) -> None:
        self.cfg, self.device = cfg, torch.device(device)
        torch.manual_seed(cfg.seed)
        generator, discriminator = build_models(cfg)
        self.generator = generator.to(self.device)
        self.discriminator = Probability(discriminator).to(self.device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr_d, betas=cfg.betas)
        self.criterion = nn.BCELoss()
        self.loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, drop_last=True,
                                 num_workers=workers)
        self._batches = iter(self.loader)

    def _next_batch(self) -> Tensor:
        try:
            real, _ = next(self._batches)
        except StopIteration:  # a new epoch: the seed simply iterates the loader again
            self._batches = iter(self.loader)
            real, _ = next(self._batches)
        return real

    def step(self) -> tuple[float, float, float, float]:
        """One batch of the seed's train_epoch; returns (d_loss, g_loss, D(real), D(fake)) as floats."""
        self.generator.train()
        self.discriminator.train()
        real = self._next_batch().to(self.device)
        d_loss, d_real, d_fake = self._train_discriminator(real)
        g_loss = self._train_generator(real.size(0))
        return d_loss, g_loss, d_real, d_fake

    def _train_discriminator(self, real: Tensor) -> tuple[float, float, float]:
        n = real.size(0)
        real_targets = torch.full((n, 1), self.cfg.real_label, device=self.device)
        fake_targets = torch.zeros(n, 1, device=self.device)
        self.opt_d.zero_grad()
        real_probs = self.discriminator(real)
        z = torch.randn(n, self.cfg.latent_dim, device=self.device)
        fake = self.generator(z).detach()  # G's forward is recorded by autograd, then thrown away
        fake_probs = self.discriminator(fake)
        loss = self.criterion(real_probs, real_targets) + self.criterion(fake_probs, fake_targets)
        loss.backward()
        self.opt_d.step()
        return loss.item(), real_probs.mean().item(), fake_probs.mean().item()

    def _train_generator(self, n: int) -> float:
        targets = torch.full((n, 1), self.cfg.real_label, device=self.device)  # the seed smooths G's target too
        self.opt_g.zero_grad()
        z = torch.randn(n, self.cfg.latent_dim, device=self.device)
        loss = self.criterion(self.discriminator(self.generator(z)), targets)
        loss.backward()  # D is not frozen: its weight gradients are computed and left unused
        self.opt_g.step()
        return loss.item()

    def close(self) -> None:
        """Stop the loader's worker processes."""
        self._batches = None  # type: ignore[assignment]
