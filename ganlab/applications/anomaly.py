"""Anomaly detection with a GAN trained on normal data only, against non-GAN baselines.

One class is held out of training (``holdout``); at test time its images are the anomalies (label 1) and
the other classes' test images the normal points (label 0). Every score is "higher = more anomalous", so
``ganlab.metrics.auroc(score, labels)`` rates it:
  ``discriminator_score``  −D(x): a discriminator trained against G calls off-distribution images fake;
  ``encoder_score``        f-AnoGAN (Schlegl et al. 2019): an encoder E trained to invert the frozen G
                           (``train_encoder``), then ‖x − G(E(x))‖²/n + κ‖f(x) − f(G(E(x)))‖²/n_f with f the
                           discriminator's features: what G cannot draw, it cannot reconstruct;
  ``knn_score``            no GAN at all: the mean distance to the k nearest normal training images, in
                           pixels or in a classifier's features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor, nn

from ..config import GANConfig
from ..data import ImageData
from ..nets.apply import apply_in_batches
from ..nets.bigan import Encoder  # E: the DCGAN discriminator's body with a linear code head
from ..nets.dcgan import DCGANDiscriminator
from ..train_state import make_optimizer


def holdout(train: ImageData, test: ImageData, anomaly_class: int) -> tuple[ImageData, Tensor, Tensor]:
    """Hold ``anomaly_class`` out: (the other classes' training images, all test images (N, C, H, W),
    test labels (N,) int64 with 1 for the held-out class and 0 for the rest)."""
    if not 0 <= anomaly_class < len(train.classes):
        raise ValueError(f"anomaly_class={anomaly_class!r} must be a class index in 0..{len(train.classes) - 1}")
    keep = train.labels != anomaly_class
    normal = replace(train, images=train.images[keep], labels=train.labels[keep])
    return normal, test.images, (test.labels == anomaly_class).long()


def discriminator_features(discriminator: DCGANDiscriminator, x: Tensor) -> Tensor:
    """f(x): the DCGAN discriminator's last feature map before its logit layer, flattened: (N, 2w·7·7)."""
    return discriminator.net[:-1](x).flatten(1)


@torch.no_grad()
def discriminator_score(discriminator: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """−D(x) for images (N, C, H, W), in eval mode, on the CPU: (N,). A confident "real" scores low."""
    return -apply_in_batches(discriminator, images, batch_size=batch_size)


def encoder_score(images: Tensor, reconstructions: Tensor, image_features: Tensor, reconstruction_features: Tensor,
                  kappa: float = 1.0) -> Tensor:
    """f-AnoGAN's anomaly score, (N,): mean squared pixel residual + κ · mean squared feature residual.

    images, reconstructions: (N, C, H, W); features: (N, d). Schlegl et al. (2019) use κ = 1.
    """
    if images.shape != reconstructions.shape or image_features.shape != reconstruction_features.shape:
        raise ValueError(f"images {tuple(images.shape)} vs reconstructions {tuple(reconstructions.shape)} and "
                         f"features {tuple(image_features.shape)} vs {tuple(reconstruction_features.shape)} must "
                         f"match pairwise; pass the reconstructions G(E(x)) of the same images")
    residual = (images - reconstructions).pow(2).flatten(1).mean(1)
    return residual + kappa * (image_features - reconstruction_features).pow(2).mean(1)


def train_encoder(generator: nn.Module, discriminator: DCGANDiscriminator, data: ImageData, steps: int,
                  batch_size: int = 64, kappa: float = 1.0, lr: float = 1e-3, seed: int = 0,
                  width: int | None = None) -> Encoder:
    """f-AnoGAN's izi_f training: E learns to invert the frozen G on real images, minimising ``encoder_score``.

    G and D stay fixed in eval mode (their BatchNorm uses running statistics); only E's weights move, with
    Adam. ``width`` defaults to D's. Returns E in eval mode.
    """
    device = data.device
    latent = generator.latent_dim
    width = width if width is not None else discriminator.net[0].out_channels
    torch.manual_seed(seed)
    encoder = Encoder(latent, width, data.shape[0]).to(device)
    opt = make_optimizer("adam", encoder.parameters(), lr, (0.5, 0.999))
    rng = torch.Generator(device=device).manual_seed(seed)
    modes = generator.training, discriminator.training
    generator.eval().requires_grad_(False)
    discriminator.eval().requires_grad_(False)
    try:
        encoder.train()
        for _ in range(steps):
            x = data.images[torch.randint(0, len(data), (batch_size,), device=device, generator=rng)]
            rec = generator(encoder(x))
            loss = encoder_score(x, rec, discriminator_features(discriminator, x),
                                 discriminator_features(discriminator, rec), kappa).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    finally:
        generator.train(modes[0]).requires_grad_(True)
        discriminator.train(modes[1]).requires_grad_(True)
    return encoder.eval()


@torch.no_grad()
def reconstruct(generator: nn.Module, encoder: Encoder, images: Tensor, batch_size: int = 500) -> Tensor:
    """G(E(x)) for images (N, C, H, W), both nets in eval mode; returned on the CPU."""
    return apply_in_batches(lambda x: generator(encoder(x)), images, generator, encoder, batch_size=batch_size)


@torch.no_grad()
def anogan_score(generator: nn.Module, discriminator: DCGANDiscriminator, encoder: Encoder, images: Tensor,
                 kappa: float = 1.0, batch_size: int = 500) -> Tensor:
    """``encoder_score`` of images (N, C, H, W) under trained G, D and E, on the CPU: (N,)."""
    def score(x: Tensor) -> Tensor:
        rec = generator(encoder(x))
        return encoder_score(x, rec, discriminator_features(discriminator, x),
                             discriminator_features(discriminator, rec), kappa)
    return apply_in_batches(score, images, generator, discriminator, encoder, batch_size=batch_size)


@torch.no_grad()
def knn_score(reference: Tensor, queries: Tensor, k: int = 5, batch_size: int = 500) -> Tensor:
    """Mean Euclidean distance from each query to its k nearest reference points: (M,) on the CPU.

    reference (N, ...) and queries (M, ...) are flattened to vectors (pixels or features). A query that is
    itself in ``reference`` finds itself at distance 0: keep training and test points apart.
    """
    if not 1 <= k <= reference.shape[0]:
        raise ValueError(f"k={k!r} must lie in 1..{reference.shape[0]} (the number of reference points)")
    ref = reference.flatten(1).float()
    out = []
    for start in range(0, queries.shape[0], batch_size):
        q = queries[start:start + batch_size].flatten(1).float().to(ref.device)
        out.append(torch.cdist(q, ref).topk(k, dim=1, largest=False).values.mean(1).cpu())
    return torch.cat(out)



SCORES = ("D's output", "f-AnoGAN encoder", "kNN pixels", "kNN classifier features")


def anomaly_study(train: ImageData, test: ImageData, anomaly_classes: Sequence[int], seeds: Sequence[int],
                  gan_cfg: GANConfig, gan_steps: int, encoder_steps: int, classifier: nn.Module | None = None,
                  n_reference: int = 5000, k: int = 5, kappa: float = 1.0, progress: bool = False
                  ) -> list[dict[str, Any]]:
    """AUROC of every score in ``SCORES`` for every held-out class and seed: one row per (class, seed).

    For each pair: a GAN of ``gan_cfg`` (seed replaced) trained ``gan_steps`` steps on the normal classes with
    ``ganlab.train.Trainer``, an encoder trained ``encoder_steps`` steps to invert it, and the kNN baselines
    against ``n_reference`` normal training images (drawn with the seed). The classifier-feature baseline
    needs ``classifier`` (with ``.features``) and is left out without one. Each row holds "class", "seed",
    one AUROC per score, and for pictures "scores" ({score name: (N,) tensor}), "labels" (N,), and the trained
    "generator" and "encoder".
    """
    from ..metrics.ranking import auroc
    from ..train import Trainer

    rows = []
    for c in anomaly_classes:
        normal, images, labels = holdout(train, test, c)
        for seed in seeds:
            gan = Trainer(replace(gan_cfg, seed=seed), normal, progress=progress)
            gan.fit(steps=gan_steps)
            encoder = train_encoder(gan.generator, gan.discriminator, normal, encoder_steps, gan_cfg.batch_size,
                                    kappa, seed=seed)
            pick = torch.randperm(len(normal), generator=torch.Generator().manual_seed(seed))[:n_reference]
            reference = normal.images[pick.to(normal.device)]
            scores = {"D's output": discriminator_score(gan.discriminator, images),
                      "f-AnoGAN encoder": anogan_score(gan.generator, gan.discriminator, encoder, images, kappa),
                      "kNN pixels": knn_score(reference, images, k)}
            if classifier is not None:
                ref_f, img_f = (apply_in_batches(classifier.features, x, classifier) for x in (reference, images))
                scores["kNN classifier features"] = knn_score(ref_f, img_f, k)
            rows.append({"class": c, "seed": seed, **{name: auroc(s, labels) for name, s in scores.items()},
                         "scores": scores, "labels": labels.cpu(), "generator": gan.generator, "encoder": encoder})
    return rows


__all__ = ["holdout", "Encoder", "discriminator_features", "discriminator_score", "encoder_score", "train_encoder",
           "reconstruct", "anogan_score", "knn_score", "SCORES", "anomaly_study"]
