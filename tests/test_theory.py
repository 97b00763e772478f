"""ganlab.theory: D*, V(D, G), KL and JSD against closed forms and against each other (Goodfellow et al. 2014)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import theory, toy
from ganlab.nets import ToyDiscriminator

LOG_2, LOG_4 = math.log(2.0), math.log(4.0)

PAIRS = {
    "shifted gaussians": (toy.gaussian(0.0, 1.0), toy.gaussian(1.5, 1.0)),
    "different widths": (toy.gaussian(0.0, 0.5), toy.gaussian(0.3, 2.0)),
    "bimodal vs gaussian": (toy.mixture([-2.0, 2.0], 0.5), toy.gaussian(0.0, 1.0)),
    "uniform vs gaussian": (toy.uniform(-1.0, 1.0), toy.gaussian(0.5, 0.7)),
    "2-D gaussians": (toy.gaussian([0.0, 0.0], 1.0), toy.gaussian([1.0, -0.5], [0.6, 1.4])),
    "2-D ring vs gaussian": (toy.ring(6, 2.0, 0.2), toy.gaussian([0.0, 0.0], 1.5)),
}


def _kl_gaussians(m1: float, s1: float, m2: float, s2: float) -> float:
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def test_optimal_discriminator_is_a_probability_and_half_where_densities_agree() -> None:
    p_data, p_g = toy.gaussian(0.0, 1.0), toy.gaussian(2.0, 1.0)
    d_star = theory.optimal_discriminator(p_data, p_g)
    x = torch.linspace(-6, 8, 301, dtype=torch.float64)[:, None]
    values = d_star(x)
    assert values.shape == (301,) and ((values > 0) & (values < 1)).all()
    # Equal variances: the densities cross at the midpoint x = 1, and D* is a logistic function of x.
    assert_close(d_star(torch.tensor([[1.0]], dtype=torch.float64)), torch.tensor([0.5], dtype=torch.float64))
    assert_close(values, torch.sigmoid(2.0 - 2.0 * x[:, 0]), rtol=1e-12, atol=1e-15)
    same = theory.optimal_discriminator(p_data, toy.gaussian(0.0, 1.0))
    assert_close(same(x), torch.full((301,), 0.5, dtype=torch.float64), rtol=0, atol=0)


def test_optimal_discriminator_outside_both_supports_is_half_and_at_one_support_is_zero_or_one() -> None:
    d_star = theory.optimal_discriminator(toy.uniform(0.0, 1.0), toy.uniform(0.5, 2.0))
    x = torch.tensor([[-1.0], [0.25], [1.5], [3.0]], dtype=torch.float64)
    assert_close(d_star(x), torch.tensor([0.5, 1.0, 0.0, 0.5], dtype=torch.float64), rtol=0, atol=0)


@pytest.mark.parametrize("pair", PAIRS, ids=list(PAIRS))
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_jsd(pair: str) -> None:
    p_data, p_g = PAIRS[pair]
    c_of_g = theory.criterion(p_data, p_g)
    assert_close(c_of_g, -LOG_4 + 2 * theory.js_divergence(p_data, p_g), rtol=0, atol=1e-8)


@pytest.mark.parametrize("pair", ["shifted gaussians", "bimodal vs gaussian", "2-D gaussians"])
def test_optimal_discriminator_beats_every_perturbation(pair: str) -> None:
    p_data, p_g = PAIRS[pair]
    best = theory.criterion(p_data, p_g)
    logit = theory.optimal_logit(p_data, p_g)
    for perturb in (lambda x, v: v + 0.3, lambda x, v: v - 0.3, lambda x, v: 0.7 * v, lambda x, v: v + x[:, 0]):
        worse = theory.value_function(lambda x, f=perturb: f(x, logit(x)), p_data, p_g, logits=True)
        assert worse < best - 1e-4
    # A discriminator that always says ½ gets exactly −log 4, whatever the distributions.
    half = theory.value_function(lambda x: torch.full(x.shape[:1], 0.5, dtype=x.dtype), p_data, p_g)
    assert_close(half, -LOG_4, rtol=0, atol=1e-10)


def test_value_function_accepts_probabilities_that_round_to_one() -> None:
    # Far in p_data's tail D* rounds to exactly 1.0 while p_g is still (tiny and) positive.
    p_data, p_g = toy.gaussian(0.0, 1.0), toy.gaussian(3.0, 1.0)
    from_probs = theory.value_function(theory.optimal_discriminator(p_data, p_g), p_data, p_g)
    from_logits = theory.criterion(p_data, p_g)
    assert math.isfinite(from_probs)
    assert_close(from_probs, from_logits, rtol=0, atol=1e-12)


def test_monte_carlo_value_agrees_with_quadrature_within_its_standard_error() -> None:
    p_data, p_g = PAIRS["bimodal vs gaussian"]
    d_star = theory.optimal_logit(p_data, p_g)
    estimate = theory.value_function_mc(d_star, p_data, p_g, n=50_000, logits=True,
                                        generator=torch.Generator().manual_seed(0))
    exact = theory.criterion(p_data, p_g)
    assert 0 < estimate.stderr < 0.02
    assert abs(estimate.value - exact) < 4 * estimate.stderr
    also = theory.value_function(d_star, p_data, p_g, logits=True, method="monte_carlo", n=50_000,
                                 generator=torch.Generator().manual_seed(0))
    assert also == estimate.value


@pytest.mark.parametrize("m1,s1,m2,s2", [(0.0, 1.0, 1.5, 1.0), (0.0, 0.5, 2.0, 3.0), (1.0, 2.0, -1.0, 0.7)])
def test_kl_between_gaussians_equals_closed_form(m1: float, s1: float, m2: float, s2: float) -> None:
    kl = theory.kl_divergence(toy.gaussian(m1, s1), toy.gaussian(m2, s2))
    assert_close(kl, _kl_gaussians(m1, s1, m2, s2), rtol=0, atol=1e-9)


def test_kl_in_two_dimensions_adds_over_independent_axes() -> None:
    kl = theory.kl_divergence(toy.gaussian([0.0, 1.0], [1.0, 0.5]), toy.gaussian([1.0, 0.5], [1.0, 2.0]))
    assert_close(kl, _kl_gaussians(0, 1, 1, 1) + _kl_gaussians(1, 0.5, 0.5, 2), rtol=0, atol=1e-8)


def test_kl_is_infinite_when_p_has_mass_where_q_has_none_and_matches_monte_carlo_otherwise() -> None:
    assert theory.kl_divergence(toy.uniform(0.0, 1.0), toy.uniform(0.5, 1.5)) == math.inf
    assert_close(theory.kl_divergence(toy.uniform(0.0, 1.0), toy.uniform(-1.0, 1.0)), LOG_2, rtol=0, atol=1e-12)
    p, q = toy.mixture([-2.0, 2.0], 0.5), toy.gaussian(0.0, 1.0)
    x = p.sample(100_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    log_ratio = p.log_prob(x) - q.log_prob(x)
    stderr = float(log_ratio.std()) / math.sqrt(len(x))
    assert abs(theory.kl_divergence(p, q) - float(log_ratio.mean())) < 4 * stderr


@pytest.mark.parametrize("pair", PAIRS, ids=list(PAIRS))
def test_jsd_is_symmetric_and_between_zero_and_log2(pair: str) -> None:
    p, q = PAIRS[pair]
    forward, backward = theory.js_divergence(p, q), theory.js_divergence(q, p)
    assert_close(forward, backward, rtol=0, atol=1e-10)
    assert 0.01 < forward < LOG_2
    assert_close(theory.js_divergence(p, p), 0.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shift", [1.0, 2.5, 10.0])
def test_jsd_of_disjoint_supports_is_log2(shift: float) -> None:
    jsd = theory.js_divergence(toy.uniform(0.0, 1.0), toy.uniform(shift, shift + 1.0))
    assert_close(jsd, LOG_2, rtol=0, atol=1e-12)
    box = theory.js_divergence(toy.uniform([0.0, 0.0], [1.0, 1.0]), toy.uniform([shift, 0.0], [shift + 1, 1.0]))
    assert_close(box, LOG_2, rtol=0, atol=1e-12)


def test_jsd_of_half_overlapping_uniforms_is_half_log2() -> None:
    # On the overlap m = p = q contributes nothing; off it m = p/2 contributes log 2 over half the mass.
    assert_close(theory.js_divergence(toy.uniform(0.0, 1.0), toy.uniform(0.5, 1.5)), 0.5 * LOG_2, rtol=0, atol=1e-12)


def test_histogram_divergences() -> None:
    p, q = torch.tensor([1.0, 1.0, 0.0]), torch.tensor([0.0, 2.0, 2.0])  # counts; normalised inside
    assert_close(theory.js_divergence(p, q), 0.5 * LOG_2, rtol=0, atol=1e-12)
    assert_close(theory.js_divergence(p.numpy(), q.numpy()), theory.js_divergence(q, p), rtol=0, atol=1e-12)
    assert theory.kl_divergence(p, q) == math.inf
    assert_close(theory.kl_divergence([0.5, 0.5], [0.25, 0.75]),
                 0.5 * math.log(2.0) + 0.5 * math.log(0.5 / 0.75), rtol=0, atol=1e-12)
    assert_close(theory.js_divergence([1, 0], [0, 1]), LOG_2, rtol=0, atol=1e-12)
    assert theory.js_divergence([3, 1], [3, 1]) == 0.0


def test_trained_discriminator_approaches_but_never_beats_the_optimum() -> None:
    torch.manual_seed(0)
    p_data, p_g = toy.gaussian(0.0, 1.0), toy.gaussian(2.0, 1.0)
    net = ToyDiscriminator(hidden_dim=16, data_dim=1, layers=2)
    untrained = theory.value_function(net, p_data, p_g, logits=True)
    losses = theory.train_discriminator(net, p_data, p_g, steps=300, batch_size=128, lr=1e-2, progress=False)
    assert losses.shape == (300,) and losses.dtype == torch.float32
    trained = theory.value_function(net, p_data, p_g, logits=True)
    best = theory.criterion(p_data, p_g)
    assert untrained < trained <= best + 1e-9  # V(D, G) ≤ C(G) for every D: Proposition 1
    assert best - trained < 0.02
    assert float(losses[-50:].mean()) < float(losses[:50].mean())


def test_quadrature_integrates_densities_to_one() -> None:
    # ring8's modes (std 0.01) are 100 times narrower than the ring: the rule must refine around them.
    for dist in (toy.mixture([-2.0, 3.0], [0.1, 1.0]), toy.uniform(-1.0, 2.0), toy.ring8()):
        quad = theory.quadrature(dist)
        assert_close(quad.integrate(dist.prob(quad.points)), 1.0, rtol=0, atol=1e-9)


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(ValueError, match="different dimensions"):
        theory.js_divergence(toy.gaussian(0.0, 1.0), toy.gaussian([0.0, 0.0], 1.0))
    with pytest.raises(ValueError, match="not 3-D"):
        theory.kl_divergence(toy.gaussian([0.0] * 3, 1.0), toy.gaussian([1.0] * 3, 1.0))
    with pytest.raises(ValueError, match="not one of each"):
        theory.js_divergence(toy.gaussian(0.0, 1.0), [0.5, 0.5])
    with pytest.raises(ValueError, match="same bins"):
        theory.js_divergence([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        theory.kl_divergence([1, -1], [1, 1])
    with pytest.raises(ValueError, match="method="):
        theory.value_function(lambda x: x[:, 0], toy.gaussian(0.0, 1.0), toy.gaussian(1.0, 1.0), method="exact")
    with pytest.raises(ValueError, match="points"):
        theory.quadrature(toy.ring8(), panels_per_std=50)
    with pytest.raises(ValueError, match=r"to values \(N,\)"):
        theory.value_function(lambda x: x, toy.gaussian(0.0, 1.0), toy.gaussian(1.0, 1.0))


def test_theory_exercise_checkers_accept_right_answers_and_reject_wrong_ones(capsys: pytest.CaptureFixture) -> None:
    from ganlab.exercises import check

    assert check("02.constant_discriminator", lambda c: math.log(c) + math.log(1 - c))
    assert not check("02.constant_discriminator", lambda c: math.log(c))
    assert check("02.optimal_logit_gaussians", lambda x, md, mg, s: (md - mg) * x / s**2 - (md**2 - mg**2) / (2 * s**2))
    assert not check("02.optimal_logit_gaussians", lambda x, md, mg, s: (md - mg) * x / s**2)

    def jsd(p: list[float], q: list[float]) -> float:
        p_, q_ = torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
        p_, q_ = p_ / p_.sum(), q_ / q_.sum()
        m = (p_ + q_) / 2
        return float(0.5 * torch.xlogy(p_, p_ / m).sum() + 0.5 * torch.xlogy(q_, q_ / m).sum())

    assert check("03.jsd_histogram", jsd)
    assert not check("03.jsd_histogram", lambda p, q: theory.kl_divergence(p, q))
    assert check("03.kl_gaussians", _kl_gaussians)
    assert not check("03.kl_gaussians", lambda m1, s1, m2, s2: (m1 - m2) ** 2 / 2)
    assert "✗" in capsys.readouterr().out
