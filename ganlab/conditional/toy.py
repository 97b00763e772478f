"""The class-conditional 2-D toy: a mixture of Gaussians whose modes carry class labels, and its nets.

The simplest place to see conditioning work before images (the dashboard's conditional data sets):

    from ganlab.conditional.toy import labelled_toy, toy_config
    from ganlab.conditional import ConditionalTrainer
    trainer = ConditionalTrainer(toy_config("ring8_classes"), labelled_toy("ring8_classes"), progress=False)
    trainer.fit(steps=600)
    class_hits(trainer)   # per class: the share of G(z, y)'s samples nearest to a mode of class y

A ``LabelledMixture`` is a ``ganlab.toy.Mixture`` (so densities, bounds and plain ``sample`` work as for any toy
set) whose components each belong to a class; ``sample_labelled`` draws (points, labels) together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .. import toy
from ..config import GANConfig
from ..nets.conditional_toy import (
    ToyACGANDiscriminator,
    ToyConcatDiscriminator,
    ToyConditionalGenerator,
    ToyProjectionDiscriminator,
)

TOY_SCHEMES = ("concat", "projection", "acgan")  # the class schemes of ganlab.conditional.train at toy size


class LabelledMixture(toy.Mixture):
    """A Gaussian mixture whose K components belong to classes: ``component_labels`` (K,) int64 in 0..C−1.

    ``classes``: the C class names. The class of a sample is the class of the component it was drawn from.
    """

    def __init__(self, mixture: toy.Mixture, component_labels: Tensor, classes: tuple[str, ...]) -> None:
        super().__init__(mixture.means, mixture.stds, mixture.weights)
        labels = torch.as_tensor(component_labels, dtype=torch.long)
        if labels.shape != (len(mixture.weights),):
            raise ValueError(f"need one label per component ({len(mixture.weights)}), got shape {tuple(labels.shape)}")
        missing = sorted(set(range(len(classes))) - set(labels.tolist()))
        if labels.min() < 0 or labels.max() >= len(classes) or missing:
            raise ValueError(f"component labels must cover 0..{len(classes) - 1} (one per class name) and nothing "
                             f"else; got {labels.tolist()}")
        self.component_labels, self.classes = labels, tuple(classes)
        self._labels_on: dict[torch.device, Tensor] = {}  # per device: no host copy in a training step

    def __repr__(self) -> str:
        return f"LabelledMixture(components={len(self.weights)}, classes={len(self.classes)}, dim={self.dim})"

    def sample_labelled(self, n: int, generator: torch.Generator | None = None,
                        dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
        """n draws with their classes: points (n, d) and labels (n,) int64, on ``generator.device``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n={n!r} must be an integer >= 1 (the number of samples)")
        device = generator.device if generator is not None else torch.device("cpu")
        means, stds, weights = self._params(device, dtype)
        idx = torch.multinomial(weights, n, replacement=True, generator=generator)  # (n,) component of each
        noise = torch.randn(n, self.dim, generator=generator, device=device, dtype=dtype)
        if device not in self._labels_on:
            self._labels_on[device] = self.component_labels.to(device)
        return means[idx] + stds[idx] * noise, self._labels_on[device][idx]

    def class_modes(self, label: int) -> Tensor:
        """The means (m, d) of class ``label``'s components."""
        return self.means[self.component_labels == self._check_label(label)]

    def class_mixture(self, label: int) -> toy.Mixture:
        """p(x | y = label): class ``label``'s components with their weights renormalised."""
        keep = self.component_labels == self._check_label(label)
        return toy.Mixture(self.means[keep], self.stds[keep], self.weights[keep] / self.weights[keep].sum())

    def _check_label(self, label: int) -> int:
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(self.classes):
            raise ValueError(f"class {label!r} is unknown; use 0..{len(self.classes) - 1} ({', '.join(self.classes)})")
        return label


@dataclass(frozen=True)
class LabelledToy:
    """A named labelled toy set: the unlabelled ``base`` (a ``ganlab.toy`` name) and how its modes get classes."""

    name: str
    base: str
    build: Callable[[], LabelledMixture]
    description: str


def _ring8_classes() -> LabelledMixture:
    ring = toy.ring8()
    return LabelledMixture(ring, torch.arange(8) % 4, ("E/W", "NE/SW", "N/S", "NW/SE"))


def _grid25_rows() -> LabelledMixture:
    grid = toy.grid25()  # means in meshgrid "ij" order: component i·5 + j sits at x = −4 + 2i, y = −4 + 2j
    return LabelledMixture(grid, torch.arange(25) % 5, tuple(f"y = {-4 + 2 * j}" for j in range(5)))


LABELLED_TOYS: dict[str, LabelledToy] = {
    s.name: s
    for s in (
        LabelledToy("ring8_classes", "ring8", _ring8_classes,
                    "ring8 with 4 classes: opposite modes share a class, so each class has two modes"),
        LabelledToy("grid25_rows", "grid25", _grid25_rows, "grid25 with 5 classes: one per row of 5 modes"),
    )
}


def labelled_toy(name: str) -> LabelledMixture:
    """A labelled toy set by name (see ``LABELLED_TOYS``), with an error listing the names that exist."""
    try:
        return LABELLED_TOYS[name].build()
    except KeyError:
        raise ValueError(f"labelled toy set {name!r} is unknown; use one of {sorted(LABELLED_TOYS)}") from None


def toy_config(name: str, scheme: str = "concat", **fields: Any) -> GANConfig:
    """The GANConfig of a conditional run on labelled toy ``name``: the toy recipe (2-D latent, 64-wide MLPs).

    ``cfg.dataset`` is the unlabelled base set (what ``GANConfig`` knows); ``extra["labelled"]`` names the labels.
    """
    if name not in LABELLED_TOYS:
        labelled_toy(name)  # raises with the list of names
    extra = {**fields.pop("extra", {}), "scheme": scheme, "labelled": name}
    recipe = dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=64, real_label=1.0, lr_g=1e-3, lr_d=2e-3,
                  batch_size=128)
    return GANConfig(**{**recipe, **fields, "dataset": LABELLED_TOYS[name].base, "extra": extra})


_DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {
    "concat": ToyConcatDiscriminator, "projection": ToyProjectionDiscriminator, "acgan": ToyACGANDiscriminator}


def build_toy_pair(cfg: GANConfig, n_classes: int) -> tuple[nn.Module, nn.Module]:
    """G(z, y) and the scheme's D at toy size for ``cfg`` (extra["scheme"] in ``TOY_SCHEMES``)."""
    scheme = cfg.extra.get("scheme", "concat")
    if scheme not in _DISCRIMINATORS:
        raise ValueError(f"extra['scheme']={scheme!r} has no 2-D toy nets; use one of {list(TOY_SCHEMES)}")
    (dim,) = cfg.image_shape
    generator = ToyConditionalGenerator(cfg.latent_dim, n_classes, cfg.hidden_dim, dim)
    return generator, _DISCRIMINATORS[scheme](n_classes, cfg.hidden_dim, dim)


@torch.no_grad()
def class_confusion(trainer: Any, n: int = 512, seed: int = 0) -> Tensor:
    """Row y: where n samples G(z, y) land, as the share nearest to a mode of each class, (C, C); rows sum to 1.

    A G that ignores y gives every row about the classes' shares of the modes; a perfect conditional G gives the
    identity. The same z (from ``seed``) serves every class. ``trainer``: a ``ConditionalTrainer`` on a
    ``LabelledMixture``.
    """
    data: LabelledMixture = trainer.data
    z = torch.randn(n, trainer.cfg.latent_dim, generator=torch.Generator().manual_seed(seed))
    means, owners, n_classes = data.means.float(), data.component_labels, len(data.classes)
    rows = []
    for label in range(n_classes):
        fake = trainer.sample(n, z, label)  # (n, d) on the CPU
        landed = owners[torch.cdist(fake, means).argmin(dim=1)]  # (n,) class of the nearest mode
        rows.append(torch.bincount(landed, minlength=n_classes).float() / n)
    return torch.stack(rows)


def class_hits(trainer: Any, n: int = 512, seed: int = 0) -> Tensor:
    """Per class y, the share of G(z, y)'s samples nearest to a mode of class y: ``class_confusion``'s diagonal."""
    return class_confusion(trainer, n, seed).diagonal()
