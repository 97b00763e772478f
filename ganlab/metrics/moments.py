"""Metrics built from feature statistics: FID (Heusel et al. 2017), KID (Bińkowski et al. 2018), and the
Inception Score (Salimans et al. 2016), which works on class probabilities instead.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from .inputs import ArrayLike, as_int, as_matrix, as_pair

# How far below 0 an eigenvalue of a covariance may sit, relative to its largest one, and still count as rounding
# (a covariance computed in float32 is off by about 1e-7 of its scale); lower means the matrix is not PSD.
_PSD_ROUNDING = 1e-6


def frechet_distance(mu_a: ArrayLike, sigma_a: ArrayLike, mu_b: ArrayLike, sigma_b: ArrayLike) -> float:
    """Fréchet (2-Wasserstein) distance² between N(μa, Σa) and N(μb, Σb), in float64.

    ‖μa − μb‖² + Tr(Σa + Σb − 2(Σa Σb)^½). The trace of (Σa Σb)^½ is taken as the trace of
    (Σa^½ Σb Σa^½)^½: the two matrices have the same eigenvalues, and the second is symmetric
    positive semi-definite, so a symmetric eigendecomposition gives it with no complex arithmetic. This
    is the guard for the two failure modes of a general ``sqrtm``: a singular product (eigenvalues
    at 0 are fine here) and a small spurious imaginary part (none can appear). Eigenvalues that
    rounding pushes below zero are clipped to zero, and the result is clipped at 0.

    ValueError for NaN or infinite entries, and for a covariance that is not symmetric positive
    semi-definite beyond rounding (an eigenvalue below −1e-6 of the largest): the formula has no meaning
    there, and clipping would hide the mistake that produced it.
    """
    mu_a, mu_b = (torch.as_tensor(np.asarray(m), dtype=torch.float64).reshape(-1) for m in (mu_a, mu_b))
    sigma_a, sigma_b = (torch.as_tensor(np.asarray(s), dtype=torch.float64) for s in (sigma_a, sigma_b))
    d = mu_a.shape[0]
    if mu_b.shape[0] != d or sigma_a.shape != (d, d) or sigma_b.shape != (d, d) or d == 0:
        raise ValueError(f"shapes do not match (or hold no feature): means {tuple(mu_a.shape)}, {tuple(mu_b.shape)}; "
                         f"covariances {tuple(sigma_a.shape)}, {tuple(sigma_b.shape)}")
    for name, value in (("mu_a", mu_a), ("sigma_a", sigma_a), ("mu_b", mu_b), ("sigma_b", sigma_b)):
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} contains NaN or infinite values; check the features it was computed from")
    root_a = _psd_sqrt(sigma_a, "sigma_a")
    _psd_sqrt(sigma_b, "sigma_b", root=False)
    middle = root_a @ sigma_b @ root_a
    eig = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0)
    value = (mu_a - mu_b).square().sum() + sigma_a.trace() + sigma_b.trace() - 2 * eig.sqrt().sum()
    return max(float(value), 0.0)


def _psd_sqrt(sigma: Tensor, name: str, root: bool = True) -> Tensor:
    """Symmetric square root (d, d) of a covariance (d, d), after checking it is symmetric PSD up to rounding
    (negative rounding is clipped); with ``root=False`` only the check (then ``sigma`` is returned)."""
    tolerance = _PSD_ROUNDING * float(sigma.abs().max())
    if float((sigma - sigma.T).abs().max()) > tolerance:
        raise ValueError(f"{name} is not symmetric, so it is not a covariance; pass e.g. torch.cov(x.T) or "
                         f"np.cov(x, rowvar=False)")
    if not root:
        eig = torch.linalg.eigvalsh((sigma + sigma.T) / 2)
    else:
        eig, vec = torch.linalg.eigh((sigma + sigma.T) / 2)
    if float(eig.min()) < -_PSD_ROUNDING * float(eig.abs().max()):
        raise ValueError(f"{name} is not positive semi-definite (eigenvalue {float(eig.min()):.3g}, largest "
                         f"{float(eig.max()):.3g}): not a covariance matrix; compute it from features with "
                         f"torch.cov(x.T) or np.cov(x, rowvar=False)")
    return (vec * eig.clamp(min=0).sqrt()) @ vec.T if root else sigma


def fid(feats_a: ArrayLike, feats_b: ArrayLike) -> float:
    """Fréchet Inception Distance between two feature sets (Na, d), (Nb, d); lower is closer.

    Fits a Gaussian (mean, unbiased covariance) to each set and returns their Fréchet distance².
    Each set needs more rows than features (N > d), or its covariance is singular by construction
    and the number mostly measures the sample size. The estimate is biased upward for finite N.
    """
    a, b = as_pair(feats_a, feats_b, ("feats_a", "feats_b"), min_rows=2)
    d = a.shape[1]
    for name, x in (("feats_a", a), ("feats_b", b)):
        if x.shape[0] <= d:
            raise ValueError(f"{name} has {x.shape[0]} samples for {d} features; FID needs more samples than "
                             f"features (N > d) to estimate a covariance. Use more samples or fewer features.")
    return frechet_distance(a.mean(0), torch.cov(a.T).reshape(d, d), b.mean(0), torch.cov(b.T).reshape(d, d))


def polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    """KID's cubic kernel k(x, y) = (x·y / d + 1)³ for all pairs: (n, d), (m, d) → (n, m)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD² estimate with the cubic kernel between (m, d) and (n, d) samples (m, n ≥ 2).

    Mean of k over distinct pairs within x, plus the same within y, minus twice the mean over all
    cross pairs. Unbiased: its expectation is the population MMD², which is 0 when the laws agree,
    so it can come out slightly negative.

    Computed in float64. KID is not scale-free: features of size s give kernel values near (s²)³. The kernel is
    evaluated divided by c³, c = 1 + max ‖row‖² / d (Cauchy-Schwarz bounds |k| by c³), so no sum overflows
    however large the features; ValueError when the answer itself lies beyond float64's range (≈ 1e308).
    """
    x, y = x.double(), y.double()  # float64 whatever comes in: the scaled kernel needs its precision
    m, n, d = x.shape[0], y.shape[0], x.shape[1]
    c = 1 + float(torch.cat([x, y]).square().sum(1).max()) / d
    kernel = lambda a, b: ((a @ b.T / d + 1) / c) ** 3  # polynomial_kernel / c³, in [-1, 1]
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    value = float(within_x + within_y - 2 * k_xy.mean()) * c * c * c  # Python floats overflow to inf, no error
    if not math.isfinite(value):
        raise ValueError(f"KID of these features is beyond float64's range: rows as large as {math.sqrt(c * d):.3g} "
                         f"give cubic-kernel values near {c:.3g}³. KID depends on the features' scale: check the "
                         f"feature extractor, or rescale both sets by the same factor (e.g. the real set's std)")
    return value


def kid(feats_a: ArrayLike, feats_b: ArrayLike, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> dict[str, float]:
    """Kernel Inception Distance: {"mean", "std"} of the unbiased MMD² over random subsets.

    Each of ``subsets`` rounds draws ``subset_size`` rows of each set without replacement (fresh
    draws every round) and computes ``mmd2_unbiased``. Needs subset_size ≤ both set sizes.
    """
    a, b = as_pair(feats_a, feats_b, ("feats_a", "feats_b"), min_rows=2)
    subsets = as_int(subsets, "subsets", 1)
    subset_size = as_int(subset_size, "subset_size", 2)
    seed = as_int(seed, "seed")
    if subset_size > min(a.shape[0], b.shape[0]):
        raise ValueError(f"subset_size={subset_size} is larger than the sets ({a.shape[0]} and {b.shape[0]} rows); "
                         f"pass subset_size ≤ {min(a.shape[0], b.shape[0])} or use more samples")
    g = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        pick_a = torch.randperm(a.shape[0], generator=g)[:subset_size]
        pick_b = torch.randperm(b.shape[0], generator=g)[:subset_size]
        values.append(mmd2_unbiased(a[pick_a], b[pick_b]))
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def inception_score(probs: ArrayLike, splits: int = 10) -> dict[str, float]:
    """Inception Score {"mean", "std"} of class probabilities (N, C): exp E_x KL(p(y|x) ‖ p(y)).

    The rows are cut into ``splits`` consecutive chunks; each chunk's score uses its own marginal
    p(y), and mean/std are over chunks (Salimans et al. 2016). It lies in [1, C]: 1 when every row
    is the same, C when the rows are confident and the classes balanced.
    """
    p = as_matrix(probs, "probs", min_rows=1)
    splits = as_int(splits, "splits", 1, p.shape[0] + 1, f"at most N = {p.shape[0]} rows, one chunk per split")
    if (p < 0).any() or not torch.allclose(p.sum(1), torch.ones(p.shape[0], dtype=p.dtype), atol=1e-4):
        raise ValueError("probs rows must be probability vectors (non-negative, summing to 1); "
                         "pass softmax outputs, e.g. classifier.probs(x)")
    scores = []
    for chunk in torch.tensor_split(p, splits):
        marginal = chunk.mean(0, keepdim=True)
        # KL(p ‖ p̄) per row with 0·log 0 = 0: xlogy handles the zero entries of one-hot rows.
        kl = (torch.xlogy(chunk, chunk) - torch.xlogy(chunk, marginal)).sum(1)
        scores.append(math.exp(float(kl.mean())))
    return {"mean": float(np.mean(scores)), "std": float(np.std(scores))}
