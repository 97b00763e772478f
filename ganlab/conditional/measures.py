"""Measures for conditional GANs: class fidelity, diversity within a class, and InfoGAN's code–class match.

Fidelity and diversity are read through a Fashion-MNIST classifier (``ganlab.features.classifier``): any
object with ``.probs(x)`` (N, K) and ``.features(x)`` (N, d) for images (N, 1, 28, 28) in [−1, 1] will do.
The pure functions here take predictions or features, so they are tested without a classifier.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..features import extract
from ..nets.conditional import info_code, truncated_noise
from .losses import categorical_code_nll, continuous_code_nll
from .train import ConditionalTrainer


def class_fidelity(predicted: Tensor, requested: Tensor, n_classes: int) -> tuple[Tensor, float]:
    """Share of samples whose predicted class is the requested one: per class (K,) and overall.

    ``predicted``, ``requested``: (N,) int64. A class never requested gets NaN. Chance level is 1/K.
    """
    hit = (predicted == requested).double()
    count = torch.bincount(requested, minlength=n_classes).double()
    per_class = torch.bincount(requested, weights=hit, minlength=n_classes) / count  # 0/0 → NaN
    return per_class.float(), hit.mean().item()


def mean_pairwise_distance(features: Tensor) -> float:
    """Mean Euclidean distance between distinct rows of (N, d) features: 0 for N copies of one sample."""
    if features.shape[0] < 2:
        raise ValueError("mean_pairwise_distance needs at least 2 samples")
    return torch.pdist(features.double()).mean().item()


def per_class(values: Tensor, labels: Tensor, n_classes: int, measure: Any = mean_pairwise_distance) -> Tensor:
    """``measure`` applied to the rows of ``values`` (N, d) of each class in turn: (K,)."""
    return torch.tensor([measure(values[labels == k]) for k in range(n_classes)])


def contingency(assigned: Tensor, truth: Tensor) -> np.ndarray:
    """Counts table (clusters, classes) of two labellings (N,) int64."""
    a, t = assigned.cpu().numpy(), truth.cpu().numpy()
    table = np.zeros((a.max() + 1, t.max() + 1))
    np.add.at(table, (a, t), 1)
    return table


def purity(assigned: Tensor, truth: Tensor) -> float:
    """Share of samples in their cluster's majority class: 1 for a perfect match, about 1/K for chance."""
    table = contingency(assigned, truth)
    return float(table.max(axis=1).sum() / table.sum())


def normalized_mutual_information(assigned: Tensor, truth: Tensor) -> float:
    """I(A; T) / √(H(A) H(T)) of two labellings (N,): 1 when one determines the other, 0 when independent."""
    joint = contingency(assigned, truth)
    joint /= joint.sum()
    pa, pt = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pt)[nz])).sum())
    ha, ht = (float(-(p[p > 0] * np.log(p[p > 0])).sum()) for p in (pa, pt))
    return mi / math.sqrt(ha * ht) if ha > 0 and ht > 0 else 0.0


# ---------------------------------------------------------------------- using trained models
@torch.no_grad()
def class_samples(trainer: ConditionalTrainer, n_per_class: int, threshold: float = math.inf,
                  seed: int = 0) -> tuple[Tensor, Tensor]:
    """n_per_class samples of every class (K·n, C, H, W) on the CPU, and the requested labels (K·n,).

    The noise is truncated at ``threshold`` (inf: none) and drawn from its own seeded generator, so the
    same call gives the same images.
    """
    k = trainer.n_classes
    rng = torch.Generator(device=trainer.device).manual_seed(seed)
    z = truncated_noise(k * n_per_class, trainer.cfg.latent_dim, threshold, rng)
    labels = torch.arange(k, device=trainer.device).repeat_interleave(n_per_class)
    return trainer.sample(k * n_per_class, z, labels), labels.cpu()


@torch.no_grad()
def evaluate_classes(trainer: ConditionalTrainer, classifier: Any, n_per_class: int = 100,
                     threshold: float = math.inf, seed: int = 0, real: tuple[Tensor, Tensor] | None = None,
                     batch: int = 500) -> dict[str, Any]:
    """Fidelity and diversity of a class-conditional generator, read through ``classifier``.

    Returns {"fidelity": overall float, "fidelity_per_class": (K,), "diversity": mean over classes of the
    mean pairwise distance of classifier features, "diversity_per_class": (K,)}. With ``real`` =
    (real features (N, d), their labels (N,)) also "precision" and "recall" (Kynkäänniemi et al. 2019),
    computed within each class against that class's real features and averaged over classes, plus
    their "_per_class" tensors: precision asks "does each fake look like some real image of its class",
    recall "is each real image of the class near some fake": recall falls when a class collapses.
    """
    images, labels = class_samples(trainer, n_per_class, threshold, seed)
    feats, probs = extract(classifier, images, batch)
    per_class_fidelity, fidelity = class_fidelity(probs.argmax(dim=1), labels, trainer.n_classes)
    diversity = per_class(feats, labels, trainer.n_classes)
    result = {"fidelity": fidelity, "fidelity_per_class": per_class_fidelity,
              "diversity": diversity.mean().item(), "diversity_per_class": diversity}
    if real is not None:
        result.update(per_class_precision_recall(real[0], real[1], feats, labels, trainer.n_classes))
    return result


def per_class_precision_recall(real_features: Tensor, real_labels: Tensor, fake_features: Tensor,
                               fake_labels: Tensor, n_classes: int, k: int = 3) -> dict[str, Any]:
    """Precision and recall of the fakes of each class against the real features of that class.

    Returns {"precision", "recall"}: means over classes, and {"precision_per_class", "recall_per_class"}: (K,).
    """
    from ..metrics import precision_recall  # the metrics package is only needed here

    rows = [precision_recall(real_features[real_labels == c], fake_features[fake_labels == c], k)
            for c in range(n_classes)]
    out: dict[str, Any] = {}
    for key in ("precision", "recall"):
        values = torch.tensor([r[key] for r in rows])
        out[key], out[f"{key}_per_class"] = values.mean().item(), values
    return out


def truncation_curve(trainer: ConditionalTrainer, classifier: Any, thresholds: list[float],
                     n_per_class: int = 100, seed: int = 0, real: tuple[Tensor, Tensor] | None = None
                     ) -> dict[str, list[float]]:
    """Fidelity and diversity at each truncation threshold: {"threshold", "fidelity", "diversity"} lists.

    With ``real`` = (real features (N, d), labels (N,)) also "precision" and "recall" lists (per-class
    measures averaged over classes, as in ``evaluate_classes``). Every threshold uses the same ``seed``.
    """
    rows = [evaluate_classes(trainer, classifier, n_per_class, t, seed, real) for t in thresholds]
    keys = ("fidelity", "diversity") + (("precision", "recall") if real is not None else ())
    return {"threshold": list(thresholds), **{key: [r[key] for r in rows] for key in keys}}


@torch.no_grad()
def infogan_codes(trainer: ConditionalTrainer, images: Tensor, batch: int = 500) -> Tensor:
    """Q's categorical code for real images (N, C, H, W): argmax of the code logits, (N,) int64 on the CPU."""
    D = trainer.discriminator
    was_training = D.training
    D.eval()
    try:
        out = [D(images[i:i + batch].to(trainer.device))[1].argmax(dim=1).cpu()
               for i in range(0, images.shape[0], batch)]
    finally:
        D.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def infogan_bound(trainer: ConditionalTrainer, n: int = 1000, seed: int = 0) -> dict[str, float]:
    """The mutual-information lower bound on n fresh samples, in nats, and how well Q reads the codes back.

    "categorical" is log K − CE(Q's code logits, c_cat): at most log K, reached when Q always names the
    code; "continuous" is n_cont·log 2 minus the unit-Gaussian NLL of the continuous codes, at most
    n_cont·(log 2 − ½ log 2π) ≈ −0.23·n_cont (a fixed-variance Q makes this part of the bound loose);
    "total" is their sum. "continuous_r2" is 1 − MSE / Var(U(−1, 1)): the share of the continuous codes'
    variance Q recovers (0 for a Q that always says 0, 1 for a perfect one).
    """
    G, D = trainer.generator, trainer.discriminator
    rng = torch.Generator(device=trainer.device).manual_seed(seed)
    k, n_cont = trainer.n_classes, G.n_cont
    cat = torch.randint(0, k, (n,), device=trainer.device, generator=rng)
    cont = 2 * torch.rand(n, n_cont, device=trainer.device, generator=rng) - 1
    z = torch.randn(n, trainer.cfg.latent_dim, device=trainer.device, generator=rng)
    modes = G.training, D.training
    G.eval()
    D.eval()
    try:
        _, code_logits, code_means = D(G(z, info_code(cat, cont, k)))
    finally:
        G.train(modes[0])
        D.train(modes[1])
    categorical = math.log(k) - categorical_code_nll(code_logits, cat).item()
    continuous = n_cont * math.log(2.0) - continuous_code_nll(code_means, cont).item()
    r2 = 1.0 - (code_means - cont).pow(2).mean().item() * 3.0  # Var(U(−1, 1)) = 1/3
    return {"categorical": categorical, "continuous": continuous, "total": categorical + continuous,
            "continuous_r2": r2}


def code_sweep(trainer: ConditionalTrainer, code: int, values: Tensor, n_rows: int | None = None,
               seed: int = 0) -> Tensor:
    """Images (rows·V, C, H, W): row r has c_cat = r and continuous code ``code`` swept over ``values`` (V,).

    Every other continuous code is 0 and z is fixed per row, so a row shows that code's effect alone.
    """
    k, n_cont, v = trainer.n_classes, trainer.generator.n_cont, values.shape[0]
    rows = k if n_rows is None else n_rows
    rng = torch.Generator(device=trainer.device).manual_seed(seed)
    z = torch.randn(rows, 1, trainer.cfg.latent_dim, device=trainer.device, generator=rng).expand(-1, v, -1)
    cont = torch.zeros(rows, v, n_cont, device=trainer.device)
    cont[:, :, code] = values.to(trainer.device)
    cat = torch.arange(rows, device=trainer.device)[:, None].expand(-1, v) % k
    codes = info_code(cat.reshape(-1), cont.reshape(-1, n_cont), k)
    return trainer.sample(rows * v, z.reshape(-1, trainer.cfg.latent_dim), codes)


