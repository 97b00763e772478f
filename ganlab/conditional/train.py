"""Training conditional GANs with the ordinary ``Trainer``: only the two step functions and the batches differ.

A *scheme* names how the condition enters (a ``Scheme`` in ``SCHEMES``, chosen by ``cfg.extra["scheme"]``):
  "concat"      one-hot planes stacked onto D's input, embedding concatenated to z (Mirza & Osindero 2014);
  "acgan"       D also classifies; loss L_S + L_C (Odena et al. 2017);
  "projection"  D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩ (Miyato & Koyama 2018);
  "infogan"     no labels at all: a categorical and continuous codes, recovered by a Q head (Chen et al. 2016).
The conditional value function of the class schemes is
    min_G max_D  E_{(x,y)~p_data}[log D(x, y)] + E_{z~p_z, y~p(y)}[log(1 − D(G(z, y), y))].

``ConditionalTrainer`` subclasses ``Trainer``: the loop, checkpoints, history and the NaN check are the
base class's. Its ``real_batch()`` returns (images, labels), and its ``d_step``/``g_step`` are
``conditional_d_step``/``conditional_g_step`` below, which ask the scheme for the losses.
The class schemes share one generator, so they differ only in how D reads the label: by default the
label embedding concatenated to z ("embed"); ``extra["generator"] = "cbn"`` swaps in conditional BatchNorm.
Options in ``cfg.extra``: scheme, width (64), embed_dim (10), generator ("embed" or "cbn"),
class_weight (1.0, AC-GAN's weight on L_C), fake_class_weight (1.0: D's L_C also scores fakes, as in the
paper; 0: on real images only), n_cont (2), info_weight (1.0), cont_weight (1.0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..config import GANConfig
from ..data import ImageData, load_images
from ..nets.conditional import (
    ACGANDiscriminator,
    CBNGenerator,
    ConcatDiscriminator,
    EmbeddingGenerator,
    InfoGANDiscriminator,
    InfoGANGenerator,
    ProjectionDiscriminator,
    info_code,
)
from ..nets.layers import apply_spectral_norm
from ..penalties import weight_clip
from ..train import Trainer, adversarial_d_loss, g_update, grad_norm
from .losses import auxiliary_class_loss, class_loss, info_loss
from .toy import LabelledMixture, build_toy_pair, labelled_toy

GENERATORS: dict[str, Callable[..., nn.Module]] = {
    "embed": lambda cfg, k, w, c: EmbeddingGenerator(cfg.latent_dim, k, w, c, cfg.extra.get("embed_dim", 10)),
    "cbn": lambda cfg, k, w, c: CBNGenerator(cfg.latent_dim, k, w, c),
}


# ---------------------------------------------------------------------- the schemes' pieces
def _class_pair(discriminator: type[nn.Module]) -> Callable[..., tuple[nn.Module, nn.Module]]:
    def build(cfg: GANConfig, n_classes: int) -> tuple[nn.Module, nn.Module]:
        width, channels = _layout(cfg)
        name = cfg.extra.get("generator", "embed")
        if name not in GENERATORS:
            raise ValueError(f"extra['generator']={name!r} is unknown; use one of {sorted(GENERATORS)}")
        return GENERATORS[name](cfg, n_classes, width, channels), discriminator(n_classes, width, channels)
    return build


def _infogan_pair(cfg: GANConfig, n_classes: int) -> tuple[nn.Module, nn.Module]:
    width, channels = _layout(cfg)
    n_cont = cfg.extra.get("n_cont", 2)
    return (InfoGANGenerator(cfg.latent_dim, n_classes, n_cont, width, channels),
            InfoGANDiscriminator(n_classes, n_cont, width, channels))


def _layout(cfg: GANConfig) -> tuple[int, int]:
    if len(cfg.image_shape) != 3 or cfg.image_shape[1:] != (28, 28):
        raise ValueError(f"the conditional nets are built for (C, 28, 28) images, not image_shape={cfg.image_shape}")
    return cfg.extra.get("width", 64), cfg.image_shape[0]


def random_labels(t: ConditionalTrainer, n: int) -> Tensor:
    """Labels y ~ uniform over the classes, (n,) int64 on the device (Fashion-MNIST is balanced)."""
    return torch.randint(0, t.n_classes, (n,), device=t.device, generator=t.rng)


def grid_labels(t: ConditionalTrainer, n: int) -> Tensor:
    """0, 1, …, K−1, 0, 1, …: one class per column of an n-sample grid with K columns."""
    return torch.arange(n, device=t.device) % t.n_classes


def random_codes(t: ConditionalTrainer, n: int) -> Tensor:
    """InfoGAN codes [one-hot(c_cat), c_cont] with c_cat uniform and c_cont ~ U(−1, 1): (n, K + n_cont)."""
    cat = random_labels(t, n)
    cont = 2 * torch.rand(n, t.generator.n_cont, device=t.device, generator=t.rng) - 1
    return info_code(cat, cont, t.n_classes)


def grid_codes(t: ConditionalTrainer, n: int) -> Tensor:
    """Codes with c_cat = 0, 1, …, K−1, 0, … and every continuous code at 0."""
    cont = torch.zeros(n, t.generator.n_cont, device=t.device)
    return info_code(grid_labels(t, n), cont, t.n_classes)


def _class_d_loss(t: Trainer, real: Tensor, labels: Tensor, fake: Tensor, fake_labels: Tensor
                  ) -> tuple[Tensor, Tensor, Tensor]:
    real_logits, fake_logits = t.discriminator(real, labels), t.discriminator(fake, fake_labels)
    return adversarial_d_loss(t, real_logits, fake_logits), real_logits, fake_logits


def _class_g_loss(t: Trainer, fake: Tensor, fake_labels: Tensor) -> Tensor:
    return t.objective.g_loss(t.discriminator(fake, fake_labels))


def _acgan_d_loss(t: Trainer, real: Tensor, labels: Tensor, fake: Tensor, fake_labels: Tensor
                  ) -> tuple[Tensor, Tensor, Tensor]:
    (real_logits, real_class), (fake_logits, fake_class) = t.discriminator(real), t.discriminator(fake)
    source = adversarial_d_loss(t, real_logits, fake_logits)  # −L_S
    classes = auxiliary_class_loss(real_class, fake_class, labels, fake_labels,  # −L_C
                                   t.cfg.extra.get("fake_class_weight", 1.0))
    return source + t.cfg.extra.get("class_weight", 1.0) * classes, real_logits, fake_logits


def _acgan_g_loss(t: Trainer, fake: Tensor, fake_labels: Tensor) -> Tensor:
    logits, class_logits = t.discriminator(fake)
    return t.objective.g_loss(logits) + t.cfg.extra.get("class_weight", 1.0) * class_loss(class_logits, fake_labels)


def _code_loss(t: Trainer, code_logits: Tensor, code_means: Tensor, codes: Tensor) -> Tensor:
    k = code_logits.shape[1]
    nll = info_loss(code_logits, code_means, codes[:, :k].argmax(dim=1), codes[:, k:],
                    t.cfg.extra.get("cont_weight", 1.0))
    return t.cfg.extra.get("info_weight", 1.0) * nll


def _infogan_d_loss(t: Trainer, real: Tensor, labels: Tensor, fake: Tensor, codes: Tensor
                    ) -> tuple[Tensor, Tensor, Tensor]:
    # ``labels`` is ignored on purpose: InfoGAN never sees a class label.
    real_logits, _, _ = t.discriminator(real)
    fake_logits, code_logits, code_means = t.discriminator(fake)
    loss = adversarial_d_loss(t, real_logits, fake_logits) + _code_loss(t, code_logits, code_means, codes)
    return loss, real_logits, fake_logits


def _infogan_g_loss(t: Trainer, fake: Tensor, codes: Tensor) -> Tensor:
    logits, code_logits, code_means = t.discriminator(fake)
    return t.objective.g_loss(logits) + _code_loss(t, code_logits, code_means, codes)


@dataclass(frozen=True)
class Scheme:
    """How a condition enters a GAN: the nets, how conditions are drawn, and D's and G's losses.

    ``d_loss(t, real, labels, fake, conditions)`` → (loss, real adversarial logits (N,), fake ones (N,));
    ``g_loss(t, fake, conditions)`` → loss. ``conditions`` are labels (N,) or InfoGAN codes (N, K + n_cont).
    """

    name: str
    build: Callable[[GANConfig, int], tuple[nn.Module, nn.Module]]
    draw: Callable[[ConditionalTrainer, int], Tensor]  # random conditions for training
    grid: Callable[[ConditionalTrainer, int], Tensor]  # fixed conditions for sample grids
    d_loss: Callable[..., tuple[Tensor, Tensor, Tensor]]
    g_loss: Callable[..., Tensor]
    description: str


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("concat", _class_pair(ConcatDiscriminator), random_labels, grid_labels,
               _class_d_loss, _class_g_loss, "cGAN: the label is concatenated to G's and D's inputs"),
        Scheme("acgan", _class_pair(ACGANDiscriminator), random_labels, grid_labels,
               _acgan_d_loss, _acgan_g_loss, "AC-GAN: D also predicts the class; loss L_S + L_C"),
        Scheme("projection", _class_pair(ProjectionDiscriminator), random_labels, grid_labels,
               _class_d_loss, _class_g_loss, "projection D: the class enters as an inner product with D's features"),
        Scheme("infogan", _infogan_pair, random_codes, grid_codes, _infogan_d_loss, _infogan_g_loss,
               "InfoGAN: unsupervised codes made recoverable by a Q head"),
    )
}


def get_scheme(name: Any) -> Scheme:
    """Look up a conditioning scheme by name, with an error listing the names that exist."""
    if name not in SCHEMES:
        raise ValueError(f"extra['scheme']={name!r} is unknown; use one of {sorted(SCHEMES)}")
    return SCHEMES[name]


# ---------------------------------------------------------------------- the steps the Trainer calls
def conditional_d_step(t: ConditionalTrainer, real: tuple[Tensor, Tensor], z: Tensor
                       ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One D update on (images (N, C, H, W), labels (N,)) and noise (N, latent); fakes get random conditions.

    Returns (loss, mean D(real), mean D(fake), ‖∇D‖) as device scalars, like ``ganlab.train.d_step``.
    """
    images, labels = real
    conditions = t.scheme.draw(t, images.shape[0])
    with torch.no_grad():
        fake = t.generator(z, conditions)
    loss, real_logits, fake_logits = t.scheme.d_loss(t, t.noisy(images), labels, t.noisy(fake), conditions)
    t.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    norm = grad_norm(t.discriminator)
    t.opt_d.step()
    if t.cfg.clip is not None:
        weight_clip(t.discriminator, t.cfg.clip)
    with torch.no_grad():
        return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean(), norm


def conditional_g_step(t: ConditionalTrainer, z: Tensor) -> tuple[Tensor, Tensor]:
    """One G update on noise (N, latent) with fresh random conditions; D (and InfoGAN's Q head) stay frozen."""
    conditions = t.scheme.draw(t, z.shape[0])
    return g_update(t, lambda: t.scheme.g_loss(t, t.noisy(t.generator(z, conditions)), conditions))


class ConditionalTrainer(Trainer):
    """A ``Trainer`` for the schemes in ``SCHEMES``, picked by ``cfg.extra["scheme"]`` (default "acgan").

    ``data`` must be a labelled ``ImageData`` or a labelled 2-D toy (``ganlab.conditional.toy``; default:
    ``cfg.extra["labelled"]``'s toy if set, else ``cfg.dataset``'s training split). The nets are
    built from the scheme unless both ``generator`` and ``discriminator`` are given.
    """

    def __init__(self, cfg: GANConfig | None = None, data: ImageData | LabelledMixture | None = None,
                 generator: nn.Module | None = None, discriminator: nn.Module | None = None,
                 **kwargs: Any) -> None:
        cfg = cfg if cfg is not None else GANConfig(model="dcgan", extra={"scheme": "acgan"})
        self.scheme = get_scheme(cfg.extra.get("scheme", "acgan"))
        if cfg.penalty != "none":
            raise ValueError(f"penalty={cfg.penalty!r}: gradient penalties call D(x) without a label, so the "
                             f"conditional trainer does not support them; use penalty='none' with "
                             f"spectral_norm=True instead")
        if data is None:
            labelled = cfg.extra.get("labelled")
            data = load_images(cfg.dataset, "train") if labelled is None else labelled_toy(labelled)
        self.toy = isinstance(data, LabelledMixture)
        if not (self.toy or isinstance(data, ImageData)):
            raise ValueError(f"a conditional GAN needs labelled images (an ImageData) or a labelled 2-D toy (a "
                             f"LabelledMixture from ganlab.conditional.toy), not {type(data).__name__}")
        self.n_classes = len(data.classes)
        if (generator is None) != (discriminator is None):
            raise ValueError("pass both generator and discriminator, or neither to build them from the scheme")
        if generator is None:
            torch.manual_seed(cfg.seed)  # the same initial weights for the same seed, as in Trainer
            build = build_toy_pair if self.toy else self.scheme.build  # a labelled 2-D toy: MLPs of toy size
            generator, discriminator = build(cfg, self.n_classes)
            if cfg.spectral_norm:
                apply_spectral_norm(discriminator)
        super().__init__(cfg, data, generator, discriminator, d_step=conditional_d_step,
                         g_step=conditional_g_step, **kwargs)

    def real_batch(self) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """The next real batch with its labels: images (B, C, H, W) (a toy's points (B, d)) and labels (B,) int64."""
        if self.toy:
            return self.data.sample_labelled(self.cfg.batch_size, generator=self.rng)
        images = super().real_batch()
        idx = self._perm[self._pos - images.shape[0]:self._pos]  # the slice the base class just took
        return images, self.data.labels[idx]

    def update(self, **changes: Any) -> None:
        """``Trainer.update``, refusing the gradient penalties (they call D(x) without a label)."""
        if changes.get("penalty", "none") != "none":
            raise ValueError(f"penalty={changes['penalty']!r}: gradient penalties call D(x) without a label, so the "
                             f"conditional trainer does not support them; use spectral norm or weight clipping")
        super().update(**changes)

    def conditions(self, n: int, random: bool = False) -> Tensor:
        """n conditions on the device: the grid's (one class per column) or, with ``random``, drawn ones."""
        return (self.scheme.draw if random else self.scheme.grid)(self, n)

    @torch.no_grad()
    def sample(self, n: int = 64, z: Tensor | None = None, conditions: Tensor | int | None = None) -> Tensor:
        """n samples (n, C, H, W) on the CPU with G in eval mode.

        ``conditions``: labels (n,), one class for all (an int), InfoGAN codes (n, K + n_cont), or None
        for the grid's (classes 0…K−1 repeated; InfoGAN: categorical code repeated, continuous codes 0).
        """
        z = self.noise(n) if z is None else z.to(self.device)
        if conditions is None:
            conditions = self.conditions(n)
        elif isinstance(conditions, int):
            conditions = torch.full((n,), conditions, device=self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(z, conditions.to(self.device)).float().cpu()
        finally:
            self.generator.train(was_training)
