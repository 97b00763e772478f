"""Metrics against answers known exactly: closed-form FIDs, hand-computed KID, IS of built probability rows,
k-NN manifold scores of hand-built sets, mode coverage of hand-placed samples, and the input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab import metrics


def exact_moments(n: int, d: int, mean: torch.Tensor, cov: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """n samples (n, d) whose sample mean is exactly ``mean`` and unbiased sample covariance exactly ``cov``."""
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = x - x.mean(0)
    white = x @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(x.T).reshape(d, d))).T  # sample cov = I
    return white @ torch.linalg.cholesky(cov).T + mean


def close(actual: float, expected: float, tol: float = 1e-9) -> None:
    torch.testing.assert_close(torch.tensor(actual, dtype=torch.float64),
                               torch.tensor(expected, dtype=torch.float64), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------ FID
def test_fid_same_covariance_is_the_squared_mean_gap():
    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0], dtype=torch.float64)
    close(metrics.fid(x, x + shift), float(shift.square().sum()))


@pytest.mark.parametrize("a, b, d", [(1.0, 4.0, 3), (0.25, 9.0, 7), (2.0, 2.0, 4)])
def test_fid_of_scaled_identities(a, b, d):
    eye = torch.eye(d, dtype=torch.float64)
    expected = d * (math.sqrt(a) - math.sqrt(b)) ** 2
    zero = torch.zeros(d, dtype=torch.float64)
    close(metrics.frechet_distance(zero, a * eye, zero, b * eye), expected)
    close(metrics.fid(exact_moments(50, d, zero, a * eye), exact_moments(60, d, zero, b * eye, seed=1)), expected)


def test_fid_one_dimensional_gaussians():
    # N(1, 4) vs N(3, 9): (1 - 3)² + 4 + 9 - 2·√36 = 5
    close(metrics.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]), 5.0)
    one = torch.ones(1, dtype=torch.float64)
    real = exact_moments(40, 1, 1 * one, 4 * torch.eye(1, dtype=torch.float64))
    fake = exact_moments(70, 1, 3 * one, 9 * torch.eye(1, dtype=torch.float64), seed=3)
    close(metrics.fid(real, fake), 5.0)
    close(metrics.fid(real.numpy(), fake.float()), 5.0, tol=1e-5)  # numpy and float32 inputs too


def test_fid_is_zero_for_a_set_against_itself_and_symmetric():
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randn(150, 8, generator=torch.Generator().manual_seed(1)) * 1.5 + 0.3
    close(metrics.fid(x, x), 0.0, tol=1e-9)
    close(metrics.fid(x, y), metrics.fid(y, x), tol=1e-9)


def test_fid_handles_singular_covariances():
    # a constant feature makes both covariances singular (and their product); the answer is unchanged
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(100, 3, generator=g), torch.randn(100, 3, generator=g) + 1
    pad = lambda t: torch.cat([t, torch.zeros(t.shape[0], 2)], dim=1)
    value = metrics.fid(pad(x), pad(y))
    close(value, metrics.fid(x, y), tol=1e-9)
    # rank-one covariances: N(0, diag(1, 0)) vs N(0, diag(0, 1)) → 1 + 1 - 0
    close(metrics.frechet_distance([0, 0], [[1, 0], [0, 0]], [0, 0], [[0, 0], [0, 1]]), 2.0)
    assert metrics.frechet_distance([0, 0], [[0, 0], [0, 0]], [0, 0], [[0, 0], [0, 0]]) == 0.0


def test_fid_input_checks():
    x = torch.randn(10, 3)
    with pytest.raises(ValueError, match="more samples than features"):
        metrics.fid(torch.randn(3, 5), torch.randn(100, 5))
    with pytest.raises(ValueError, match="NaN"):
        metrics.fid(torch.cat([x, torch.full((1, 3), float("nan"))]), x)
    with pytest.raises(ValueError, match="3 features per row but .* 4"):
        metrics.fid(x, torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        metrics.fid(torch.randn(10, 1, 2, 2), x)
    with pytest.raises(ValueError, match="shapes do not match"):
        metrics.frechet_distance([0, 0], np.eye(2), [0, 0, 0], np.eye(3))
    with pytest.raises(ValueError, match="zero features per row"):
        metrics.fid(torch.zeros(10, 0), torch.zeros(10, 0))


def test_frechet_distance_refuses_what_is_not_a_covariance():
    zero, eye = np.zeros(2), np.eye(2)
    with pytest.raises(ValueError, match="sigma_b contains NaN"):
        metrics.frechet_distance(zero, eye, zero, [[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="mu_a contains NaN"):
        metrics.frechet_distance([np.nan, 0.0], eye, zero, eye)
    with pytest.raises(ValueError, match=r"sigma_a is not positive semi-definite \(eigenvalue -1"):
        metrics.frechet_distance(zero, [[1.0, 2.0], [2.0, 1.0]], zero, eye)  # eigenvalues 3 and -1
    with pytest.raises(ValueError, match="sigma_b is not positive semi-definite"):
        metrics.frechet_distance(zero, eye, zero, np.diag([1.0, -1e-3]))
    with pytest.raises(ValueError, match="sigma_a is not symmetric"):
        metrics.frechet_distance(zero, [[1.0, 0.5], [0.0, 1.0]], zero, eye)


def test_frechet_distance_clips_negative_eigenvalues_from_rounding():
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    sigma = q @ torch.diag(torch.tensor([2.0, 1.0, -1e-9], dtype=torch.float64)) @ q.T  # -1e-9: rounding
    clean = q @ torch.diag(torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)) @ q.T
    zero = torch.zeros(3, dtype=torch.float64)
    close(metrics.frechet_distance(zero, sigma, zero, clean), 0.0, tol=1e-8)
    low_rank = torch.randn(5, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    low_rank = low_rank @ low_rank.T  # rank 2 of 5: three eigenvalues are rounding noise around 0
    close(metrics.frechet_distance(torch.zeros(5), low_rank, torch.zeros(5), low_rank), 0.0, tol=1e-7)


# ------------------------------------------------------------------------------------------ KID
def test_kid_hand_computed_one_dimensional_case():
    # k(x, y) = (xy + 1)³: within X {0,1}: 1; within Y {1,2}: 27; across: (1 + 1 + 8 + 27)/4 → 1 + 27 − 18.5
    result = metrics.kid([[0.0], [1.0]], [[1.0], [2.0]], subsets=1, subset_size=2)
    close(result["mean"], 9.5)
    close(result["std"], 0.0)
    close(metrics.mmd2_unbiased(torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0], [2.0]])), 9.5)


def test_kid_subsets_are_drawn_without_replacement():
    # a subset as large as the set is the whole set, every time: all rounds agree (with replacement they would not)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 4, generator=g), torch.randn(30, 4, generator=g) + 0.5
    result = metrics.kid(x, y, subsets=5, subset_size=30)
    close(result["std"], 0.0, tol=1e-12)
    close(result["mean"], metrics.mmd2_unbiased(x.double(), y.double()), tol=1e-9)


def test_mmd2_estimate_is_unbiased_over_independent_replicates():
    # E[estimate] = 0 when both sets come from one law; the biased (V-statistic) version sits above 0
    g = torch.Generator().manual_seed(0)
    unbiased, biased = [], []
    for _ in range(400):
        x, y = torch.randn(2, 10, 2, generator=g, dtype=torch.float64)
        unbiased.append(metrics.mmd2_unbiased(x, y))
        k = metrics.polynomial_kernel
        biased.append(float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()))
    unbiased_t, biased_t = torch.tensor(unbiased), torch.tensor(biased)
    standard_error = unbiased_t.std() / math.sqrt(len(unbiased))
    assert abs(unbiased_t.mean()) < 4 * standard_error
    assert biased_t.mean() > 10 * standard_error


def test_kid_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(400, 4, generator=g), torch.randn(400, 4, generator=g)
    means = [metrics.kid(x, y + shift, subsets=10, subset_size=200)["mean"] for shift in (0.0, 0.5, 1.0, 2.0)]
    assert means == sorted(means) and means[-1] > 1.0


def test_kid_input_checks():
    x = torch.randn(10, 3)
    with pytest.raises(ValueError, match="subset_size=50 is larger"):
        metrics.kid(x, x, subset_size=50)
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kid(x, x, subsets=1, subset_size=1)
    with pytest.raises(ValueError, match=r"shape \(10, 0\): zero features per row"):
        metrics.kid(torch.zeros(10, 0), torch.zeros(10, 0), subsets=1, subset_size=5)


def test_kid_of_huge_features_is_exact_while_representable_and_an_error_beyond():
    # Far from 0 the cubic kernel is homogeneous: k(s·u, s·v) → s⁶ (u·v/d)³, so MMD² → s⁶ · MMD²_pure-cubic(u, v).
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(20, 3, generator=g, dtype=torch.float64), torch.randn(20, 3, generator=g, dtype=torch.float64)
    v = v + 0.5
    k = lambda a, b: (a @ b.T / 3) ** 3
    pure = float((k(u, u).sum() - k(u, u).trace()) / 380 + (k(v, v).sum() - k(v, v).trace()) / 380 - 2 * k(u, v).mean())
    scale = 2e51  # kernel values near 1e308: the plain sums overflow to inf - inf = nan
    assert not torch.isfinite(metrics.polynomial_kernel(scale * u, scale * u).sum())
    close(metrics.kid(scale * u, scale * v, subsets=1, subset_size=20)["mean"] / scale**3 / scale**3, pure)
    with pytest.raises(ValueError, match="beyond float64's range.*rescale"):
        metrics.kid(1e120 * u, 1e120 * v, subsets=1, subset_size=20)  # MMD² near 1e720: no float64 holds it


# ------------------------------------------------------------------------------------------ IS
def test_inception_score_of_uniform_rows_is_one():
    result = metrics.inception_score(torch.full((100, 10), 0.1), splits=10)
    close(result["mean"], 1.0)
    close(result["std"], 0.0)


@pytest.mark.parametrize("classes", [2, 10])
def test_inception_score_of_balanced_one_hot_rows_is_the_class_count(classes):
    probs = torch.eye(classes).repeat(5, 1)  # every split of `classes` rows holds each class once
    close(metrics.inception_score(probs, splits=5)["mean"], float(classes))


def test_inception_score_with_entropy_h_and_uniform_marginal():
    # cyclic shifts of one row: each has entropy H, and a split holding all C shifts has a uniform marginal
    row = torch.tensor([0.6, 0.2, 0.1, 0.05, 0.05], dtype=torch.float64)
    classes = row.numel()
    rows = torch.stack([row.roll(i) for i in range(classes)]).repeat(4, 1)  # (20, 5), 4 splits
    entropy = float(-(row * row.log()).sum())
    result = metrics.inception_score(rows, splits=4)
    close(result["mean"], classes * math.exp(-entropy))
    close(result["std"], 0.0, tol=1e-12)


def test_inception_score_input_checks():
    with pytest.raises(ValueError, match="probability vectors"):
        metrics.inception_score(torch.ones(10, 3))
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(torch.full((5, 2), 0.5), splits=10)
    with pytest.raises(ValueError, match=r"splits=2\.5 must be an integer in \[1, 6\), not float"):
        metrics.inception_score(torch.full((5, 2), 0.5), splits=2.5)


def test_integer_arguments_accept_numpy_integers_and_refuse_bools_and_floats():
    x = torch.randn(30, 3, generator=torch.Generator().manual_seed(0))
    probs = torch.eye(3).repeat(4, 1)
    assert metrics.precision_recall(x, x + 0.1, k=np.int64(3)) == metrics.precision_recall(x, x + 0.1, k=3)
    assert metrics.density_coverage(x, x + 0.1, k=np.int32(5)) == metrics.density_coverage(x, x + 0.1, k=5)
    assert metrics.inception_score(probs, splits=np.int64(4)) == metrics.inception_score(probs, splits=4)
    assert metrics.kid(x, x, subsets=np.int64(2), subset_size=np.int64(10), seed=np.int64(1)) == \
        metrics.kid(x, x, subsets=2, subset_size=10, seed=1)
    assert metrics.mode_coverage(MODES, MODES, std=0.1, min_count=np.int64(1))["modes"] == 4
    for call, message in ((lambda: metrics.precision_recall(x, x, k=True), r"k=True must be an integer .*not bool"),
                          (lambda: metrics.density_coverage(x, x, k=2.0), r"k=2\.0 must be an integer .*not float"),
                          (lambda: metrics.kid(x, x, subsets=1, subset_size=10.5), r"subset_size=10\.5 must be"),
                          (lambda: metrics.kid(x, x, subsets=False, subset_size=10), r"subsets=False must be"),
                          (lambda: metrics.mode_coverage(MODES, MODES, std=0.1, min_count=True), "min_count=True"),
                          (lambda: metrics.knn_radii(x.double(), 3.0), r"k=3\.0 must be"),
                          (lambda: metrics.corrupt("noise", tiny_pool(), 10.0, 0.5), r"n=10\.0 must be")):
        with pytest.raises(ValueError, match=message):
            call()


def test_as_int_takes_what_index_takes() -> None:
    from ganlab.metrics.inputs import as_int

    assert as_int(torch.tensor(3), "k", 1) == 3 and type(as_int(np.uint8(2), "k")) is int
    for bad in ("3", None, torch.tensor(3.0), torch.tensor(True), np.bool_(True)):
        with pytest.raises(ValueError, match="must be an integer"):
            as_int(bad, "k")
    with pytest.raises(ValueError, match=r"k=0 must be an integer in \[1, 5\); use a larger k"):
        as_int(0, "k", 1, 5, "use a larger k")


# ------------------------------------------------------------------------------------------ manifold
def test_identical_sets_score_one_everywhere():
    x = torch.randn(120, 6, generator=torch.Generator().manual_seed(4))
    pr = metrics.precision_recall(x, x.clone(), k=3)
    dc = metrics.density_coverage(x, x.clone(), k=5)
    assert pr == {"precision": 1.0, "recall": 1.0}
    assert dc == {"density": 1.0, "coverage": 1.0}


@pytest.mark.parametrize("offset", [0.0, 1000.0])  # far from 0, ‖a‖² + ‖b‖² − 2a·b is rounding noise for copies
def test_a_set_with_repeated_rows_scores_one_against_itself(offset):
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(3)) + offset
    repeated = torch.cat([x, x, x, x, x[:5]])  # every row at least 4 times: k = 3 neighbours at distance 0
    assert metrics.precision_recall(repeated, repeated.clone(), k=3) == {"precision": 1.0, "recall": 1.0}
    assert metrics.density_coverage(repeated, repeated.clone(), k=3)["coverage"] == 1.0
    assert metrics.knn_radii(repeated.double(), 3).max() == 0.0  # the copies are at distance exactly 0
    # a point mass only holds its own copies: other points stay outside
    assert metrics.precision_recall(repeated, repeated + 0.1, k=3) == {"precision": 0.0, "recall": 0.0}
    some = torch.cat([x, x[:10]])  # some rows twice: open balls of the others are as before
    assert metrics.precision_recall(some, some.clone(), k=3) == {"precision": 1.0, "recall": 1.0}


def two_clusters(n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    a, b = torch.rand(n, 2, generator=g), torch.rand(n, 2, generator=g) + 100.0
    return a, b


def test_a_generator_that_drops_a_cluster_keeps_precision_loses_recall_and_coverage():
    a, b = two_clusters()
    real = torch.cat([a, b])
    pr = metrics.precision_recall(real, a.clone(), k=3)
    dc = metrics.density_coverage(real, a.clone(), k=3)
    assert pr == {"precision": 1.0, "recall": 0.5}
    assert dc == {"density": 1.0, "coverage": 0.5}  # every real ball in `a` holds exactly k of a's points


def test_fakes_off_the_manifold_score_zero_quality_and_zero_diversity():
    a, _ = two_clusters()
    pr = metrics.precision_recall(a, a + 50.0, k=3)
    dc = metrics.density_coverage(a, a + 50.0, k=3)
    assert pr == {"precision": 0.0, "recall": 0.0}
    assert dc == {"density": 0.0, "coverage": 0.0}


def test_density_counts_repeated_hits_but_coverage_does_not():
    a, _ = two_clusters()
    centre = a[:1].repeat(20, 1)  # 20 copies of one real point: inside its own ball and its neighbours'
    dc = metrics.density_coverage(a, centre, k=3)
    radii = metrics.knn_radii(a.double(), 3)
    balls = int(((a.double() - a[0].double()).square().sum(1) < radii).sum())
    close(dc["density"], balls / 3)
    close(dc["coverage"], balls / len(a))


def test_knn_radii_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]], dtype=torch.float64)
    # squared distances to the 2nd nearest other point: 0 → {1, 3} → 9; 1 → {0, 3} → 4; 3 → {1, 0} → 9; 7 → {3, 1} → 36
    torch.testing.assert_close(metrics.knn_radii(x, 2), torch.tensor([9.0, 4.0, 9.0, 36.0], dtype=torch.float64))


def test_manifold_input_checks():
    x = torch.randn(5, 2)
    with pytest.raises(ValueError, match="k=5"):
        metrics.precision_recall(x, x, k=5)
    with pytest.raises(ValueError, match="features per row"):
        metrics.density_coverage(x, torch.randn(5, 3))
    with pytest.raises(ValueError, match="NaN"):
        metrics.precision_recall(x, x * float("inf"))


# ------------------------------------------------------------------------------------------ modes
MODES = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


def test_mode_coverage_hand_placed_samples():
    samples = torch.cat([
        MODES[0].repeat(10, 1),                            # 10 high-quality on mode 0
        MODES[1].repeat(5, 1) + torch.tensor([0.2, 0.0]),  # 5 high-quality on mode 1 (0.2 < 3·0.1)
        MODES[2].repeat(5, 1) + torch.tensor([0.0, 0.4]),  # 5 nearest mode 2 but 0.4 > 0.3: low quality
    ])
    result = metrics.mode_coverage(samples, MODES, std=0.1)
    p = torch.tensor([10 / 15, 5 / 15], dtype=torch.float64)
    assert result["modes"] == 2
    close(result["high_quality"], 0.75)
    close(result["reverse_kl"], float((p * (p * 4).log()).sum()))
    assert metrics.mode_coverage(samples, MODES, std=0.1, min_count=6)["modes"] == 1


def test_mode_coverage_extremes():
    even = metrics.mode_coverage(MODES.repeat(3, 1), MODES, std=0.05)
    assert even["modes"] == 4 and even["high_quality"] == 1.0
    close(even["reverse_kl"], 0.0)
    collapsed = metrics.mode_coverage(MODES[:1].repeat(8, 1), MODES, std=0.05)
    assert collapsed["modes"] == 1
    close(collapsed["reverse_kl"], math.log(4))
    lost = metrics.mode_coverage(torch.full((6, 2), 5.0), MODES, std=0.05)
    assert lost["modes"] == 0 and lost["high_quality"] == 0.0 and lost["reverse_kl"] == math.inf


def test_mode_shares_counts_every_sample_near_a_mode():
    samples = torch.cat([
        MODES[0].repeat(6, 1),                             # 6 on mode 0
        MODES[1].repeat(2, 1) + torch.tensor([0.2, 0.0]),  # 2 within 0.25 of mode 1
        MODES[2].repeat(2, 1) + torch.tensor([0.0, 0.4]),  # 2 nearest mode 2 but beyond the radius
    ])
    shares = metrics.mode_shares(samples, MODES, radius=0.25)
    torch.testing.assert_close(shares, torch.tensor([0.6, 0.2, 0.0, 0.0], dtype=torch.float64))
    close(metrics.mode_shares(samples, MODES, radius=0.5)[2].item(), 0.2)  # a wider radius takes them in
    with pytest.raises(ValueError, match="radius"):
        metrics.mode_shares(samples, MODES, radius=0.0)


def test_mode_coverage_input_checks():
    with pytest.raises(ValueError, match="std"):
        metrics.mode_coverage(MODES, MODES, std=0.0)
    with pytest.raises(ValueError, match="min_count"):
        metrics.mode_coverage(MODES, MODES, std=0.1, min_count=0)
    with pytest.raises(ValueError, match="features per row"):
        metrics.mode_coverage(torch.zeros(3, 3), MODES, std=0.1)


# ------------------------------------------------------------------------------------------ corruptions
def tiny_pool(n: int = 200):
    from ganlab.data import ImageData

    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 10
    images = (labels.float()[:, None, None, None] / 5 - 1 + 0.1 * torch.randn(n, 1, 28, 28, generator=g)).clamp(-1, 1)
    return ImageData(images, labels, "tiny", "train", tuple(str(i) for i in range(10)))


def test_corruptions_keep_shape_and_range_and_do_nothing_at_strength_zero():
    pool = tiny_pool()
    for kind in metrics.CORRUPTIONS:
        clean = metrics.corrupt(kind, pool, 50, 0.0, seed=1)
        damaged = metrics.corrupt(kind, pool, 50, 0.8, seed=1)
        assert clean.shape == damaged.shape == (50, 1, 28, 28)
        assert damaged.min() >= -1 and damaged.max() <= 1
        if kind != "drop_classes":  # the same seed draws the same images: strength 0 is the plain draw
            torch.testing.assert_close(clean, metrics.corrupt("noise", pool, 50, 0.0, seed=1))
        assert not torch.equal(clean, damaged), kind


def test_each_corruption_does_what_it_says():
    pool = tiny_pool()
    blurred = metrics.corruptions.gaussian_blur(pool.images[:4], 1.5)
    torch.testing.assert_close(blurred.mean((1, 2, 3)), pool.images[:4].mean((1, 2, 3)), rtol=0, atol=0.02)
    assert blurred.std() < pool.images[:4].std()  # smoothing removes the pixel noise
    kept = metrics.corrupt("drop_classes", pool, 20, 1.0)  # strength 1 keeps class 0 only: every image is level −1
    assert (kept.mean((1, 2, 3)) < -0.9).all()
    dup = metrics.corrupt("duplicates", pool, 100, 0.5)
    assert len(torch.unique(dup.reshape(100, -1), dim=0)) == 50 + 8
    collapsed = metrics.corrupt("class_collapse", pool, 100, 1.0)
    assert len(torch.unique(collapsed.reshape(100, -1), dim=0)) == 10
    noisy = metrics.corrupt("noise", pool, 100, 0.4, seed=2) - metrics.corrupt("noise", pool, 100, 0.0, seed=2)
    assert 0.1 < noisy.std() < 0.2  # σ = 0.5 · 0.4, a little less after clipping


def test_corrupt_input_checks():
    pool = tiny_pool()
    with pytest.raises(ValueError, match="unknown"):
        metrics.corrupt("rotate", pool, 10, 0.5)
    with pytest.raises(ValueError, match="strength"):
        metrics.corrupt("noise", pool, 10, 1.5)
    with pytest.raises(ValueError, match="larger than the pool"):
        metrics.corrupt("noise", pool, 1000, 0.5)


def test_report_of_a_set_against_itself():
    x = torch.randn(300, 4, generator=torch.Generator().manual_seed(0))
    probs = torch.eye(10).repeat(30, 1)
    out = metrics.report(x, x, probs, kid_subsets=3, kid_subset_size=100)
    close(out["fid"], 0.0, tol=1e-9)
    expected_kid = metrics.kid(x, x, subsets=3, subset_size=100)
    assert (out["kid"], out["kid_std"]) == (expected_kid["mean"], expected_kid["std"])
    assert (out["precision"], out["recall"], out["density"], out["coverage"]) == (1.0, 1.0, 1.0, 1.0)
    close(out["inception_score"], 10.0)
    assert "inception_score" not in metrics.report(x, x, kid_subsets=1, kid_subset_size=50)


# ------------------------------------------------------------------------------------------ exercises (notebook 09)
def test_exercise_checkers_accept_the_formulas_and_reject_near_misses(capsys):
    from ganlab.exercises import check

    assert check("09.fid_1d", lambda m1, v1, m2, v2: (m1 - m2) ** 2 + v1 + v2 - 2 * math.sqrt(v1 * v2))
    assert not check("09.fid_1d", lambda m1, v1, m2, v2: (m1 - m2) ** 2 + (v1 - v2) ** 2)  # stds mixed up

    def mmd2(x, y, diagonal=False):
        k = lambda a, b: (a * b + 1) ** 3
        within = lambda s: sum(k(a, b) for i, a in enumerate(s) for j, b in enumerate(s) if diagonal or i != j)
        pairs = lambda s: len(s) * len(s) if diagonal else len(s) * (len(s) - 1)
        return within(x) / pairs(x) + within(y) / pairs(y) - 2 * sum(k(a, b) for a in x for b in y) / (len(x) * len(y))

    assert check("09.mmd2_cubic", mmd2)
    assert not check("09.mmd2_cubic", lambda x, y: mmd2(x, y, diagonal=True))  # the biased V-statistic
    assert "i ≠ j" in capsys.readouterr().out
