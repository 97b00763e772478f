import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import xlogy

from ganlab.exercises import EXERCISES, check


def test_right_answers_pass_and_wrong_ones_say_why(capsys):
    assert check("01.smoothed_optimum", lambda a: a / 2)
    assert not check("01.smoothed_optimum", lambda a: 0.5)
    assert "0.45" in capsys.readouterr().out
    assert check("01.optimal_logit", lambda a: math.log(a / (1 - a)))
    assert not check("01.optimal_logit", lambda a: a)


def test_open_exercises_do_not_fail(capsys):
    assert not check("01.smoothed_optimum", None)
    assert not check("01.smoothed_optimum", lambda a: None)
    assert "None" in capsys.readouterr().out


def test_unknown_exercise():
    with pytest.raises(ValueError, match="known"):
        check("99.nothing", 1)


def _jsd(p, q):
    p, q = np.asarray(p, float) / np.sum(p), np.asarray(q, float) / np.sum(q)
    m = (p + q) / 2
    return 0.5 * (xlogy(p, p / np.where(m > 0, m, 1)).sum() + xlogy(q, q / np.where(m > 0, m, 1)).sum())


def _mmd2(x, y, biased=False):
    k = lambda a, b: (np.outer(a, b) + 1.0) ** 3  # noqa: E731  the cubic kernel in 1-D
    x, y = np.asarray(x, float), np.asarray(y, float)
    kxx, kyy = k(x, x), k(y, y)
    m, n = len(x), len(y)
    if biased:
        return kxx.mean() + kyy.mean() - 2 * k(x, y).mean()
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * k(x, y).mean())


def _kl(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


# name → (a right answer, a wrong one, a phrase the explanation of the wrong one must hold)
ANSWERS = {
    "01.smoothed_optimum": (lambda a: a / 2, lambda a: 0.5, "0.45"),
    "01.optimal_logit": (lambda a: math.log(a / (1 - a)), lambda a: a, "log(α/(1 − α))"),
    "02.constant_discriminator": (lambda c: math.log(c) + math.log1p(-c), lambda c: -math.log(4), "log c + log(1 − c)"),
    "02.optimal_logit_gaussians": (
        lambda x, md, mg, s: (md - mg) * x / s**2 - (md**2 - mg**2) / (2 * s**2),
        lambda x, md, mg, s: torch.zeros_like(x), "x² terms cancel"),
    "03.jsd_histogram": (_jsd, lambda p, q: 0.0, "empty bins"),
    "03.kl_gaussians": (_kl, lambda m1, s1, m2, s2: (m1 - m2) ** 2 / 2, "log(σ₂/σ₁)"),
    "05.hq_ceiling": (lambda c: 1 - math.exp(-c * c / 2), lambda c: 0.997, "χ²"),
    "05.reverse_kl_k_of_m": (lambda k, m: math.log(m / k), lambda k, m: math.log(k), "log(M/k)"),
    "06.w1_sorted": (lambda x, y: np.abs(np.sort(x) - np.sort(y)).mean(), lambda x, y: abs(np.mean(x) - np.mean(y)),
                     "sort both"),
    "06.optimal_slope": (lambda mu, lam: 1 + mu / (2 * lam), lambda mu, lam: 1.0, "μ − 2λ(s − 1)"),
    "08.projection_logit": (lambda f, w, b, e, y: f @ w + b + (e[y] * f).sum(1), lambda f, w, b, e, y: f @ w + b,
                            "one class vector per sample"),
    "08.acgan_g_loss": (lambda lg, cl, y: F.softplus(-lg).mean() + F.cross_entropy(cl, y),
                        lambda lg, cl, y: -F.softplus(lg).mean() + F.cross_entropy(cl, y), "saturating"),
    "08.redrawn_share": (lambda psi: math.erfc(psi / math.sqrt(2)), lambda psi: 1 - math.erfc(psi / math.sqrt(2)),
                         "2(1 − Φ(ψ))"),
    "09.fid_1d": (lambda m1, v1, m2, v2: (m1 - m2) ** 2 + (math.sqrt(v1) - math.sqrt(v2)) ** 2,
                  lambda m1, v1, m2, v2: (m1 - m2) ** 2 + (v1 - v2) ** 2, "variances"),
    "09.mmd2_cubic": (_mmd2, lambda x, y: _mmd2(x, y, biased=True), "i ≠ j"),
}


def test_every_exercise_has_answers_here():
    assert set(ANSWERS) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_each_exercise_accepts_the_right_answer_and_explains_a_wrong_one(name, capsys):
    right, wrong, phrase = ANSWERS[name]
    assert check(name, right), capsys.readouterr().out
    capsys.readouterr()
    assert not check(name, wrong)
    out = capsys.readouterr().out
    assert out.startswith("✗") and phrase in out, out
    assert not check(name, lambda *args: None)
    out = capsys.readouterr().out  # an untouched stub is not answered yet, not wrong (no ✗ in a fresh notebook)
    assert out.startswith("… ") and "not answered yet" in out and "returned None" in out, out
