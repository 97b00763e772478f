"""ganlab.losses: every objective against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab.losses import (
    LOSSES,
    bce_d_loss,
    get_objective,
    hinge_d_loss,
    hinge_g_loss,
    least_squares_d_loss,
    least_squares_g_loss,
    non_saturating_g_loss,
    saturating_g_loss,
    wasserstein_d_loss,
    wasserstein_g_loss,
)

LN3 = math.log(3.0)  # σ(ln 3) = 3/4: logits with round-number probabilities


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def scalar(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def test_bce_d_loss_by_hand() -> None:
    # At D = ½ everywhere: log 2 + log 2.
    assert_close(bce_d_loss(t(0.0, 0.0), t(0.0)), scalar(2 * math.log(2)))
    # D(x) = 3/4 on the real sample, 1/4 on the fake: −log ¾ − log(1 − ¼) = −2 log ¾.
    assert_close(bce_d_loss(t(LN3), t(-LN3)), scalar(-2 * math.log(0.75)))
    # Means over the batch: real D = (¾, ½), fake D = ½.
    assert_close(bce_d_loss(t(LN3, 0.0), t(0.0)), scalar(-(math.log(0.75) + math.log(0.5)) / 2 + math.log(2)))


def test_bce_targets_smoothing_and_per_sample_flips() -> None:
    # Smoothed real target 0.9 at D = ¾: −(0.9 log ¾ + 0.1 log ¼).
    expected = -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)) + math.log(2)
    assert_close(bce_d_loss(t(LN3), t(0.0), real_target=0.9), scalar(expected))
    # A per-sample target tensor: the second real sample is labelled fake.
    got = bce_d_loss(t(LN3, LN3), t(0.0), real_target=t(1.0, 0.0))
    assert_close(got, scalar(-(math.log(0.75) + math.log(0.25)) / 2 + math.log(2)))


def test_generator_losses_by_hand() -> None:
    # D(G(z)) = ¾: saturating log(1 − ¾) = log ¼ = −softplus(ln 3); non-saturating −log ¾.
    assert_close(saturating_g_loss(t(LN3)), scalar(math.log(0.25)))
    assert_close(non_saturating_g_loss(t(LN3)), scalar(-math.log(0.75)))


def test_generator_gradients_wrt_the_logit() -> None:
    """d/dl of log(1 − σ(l)) is −σ(l); of −log σ(l) it is −(1 − σ(l)): the saturation argument."""
    logits = t(-6.0, -1.0, 0.0, LN3).requires_grad_(True)
    (sat,) = torch.autograd.grad(saturating_g_loss(logits) * 4, logits)  # ×4 undoes the batch mean
    (non_sat,) = torch.autograd.grad(non_saturating_g_loss(logits) * 4, logits)
    d = torch.sigmoid(logits.detach())
    assert_close(sat, -d)
    assert_close(non_sat, -(1 - d))
    assert abs(sat[0]) < 0.003 and abs(non_sat[0]) > 0.99  # D(G(z)) ≈ 0.0025: only one of them still pushes


def test_bce_family_is_finite_at_extreme_logits() -> None:
    big = t(-200.0, 200.0)
    for value in (bce_d_loss(big, big), saturating_g_loss(big), non_saturating_g_loss(big)):
        assert torch.isfinite(value)
    assert_close(non_saturating_g_loss(t(-200.0)), scalar(200.0))


def test_least_squares_by_hand() -> None:
    # ½(2 − 1)² + ½(0.5 − 0)² and ½(0.5 − 1)².
    assert_close(least_squares_d_loss(t(2.0), t(0.5)), scalar(0.5 + 0.125))
    assert_close(least_squares_g_loss(t(0.5)), scalar(0.125))
    assert_close(least_squares_d_loss(t(2.0), t(0.5), real_target=0.5, fake_target=-1.0),
                 scalar(0.5 * 1.5**2 + 0.5 * 1.5**2))


def test_wasserstein_by_hand() -> None:
    assert_close(wasserstein_d_loss(t(1.0, 3.0), t(-1.0, 0.0)), scalar(-0.5 - 2.0))
    assert_close(wasserstein_g_loss(t(-1.0, 0.0)), scalar(0.5))


def test_hinge_by_hand() -> None:
    # real: max(0, 1 − 0.5) = 0.5, max(0, 1 − 2) = 0 → 0.25; fake: max(0, 1 − 2) = 0, max(0, 1 + 0) = 1 → 0.5.
    assert_close(hinge_d_loss(t(0.5, 2.0), t(-2.0, 0.0)), scalar(0.75))
    assert_close(hinge_g_loss(t(-2.0, 0.0)), scalar(1.0))


def test_registry_pairs_each_objective() -> None:
    assert set(LOSSES) == {"minimax", "non_saturating", "least_squares", "wasserstein", "hinge"}
    assert LOSSES["minimax"].g_loss is saturating_g_loss
    assert LOSSES["non_saturating"].g_loss is non_saturating_g_loss
    assert LOSSES["minimax"].d_loss is LOSSES["non_saturating"].d_loss is bce_d_loss  # same D, different G
    assert LOSSES["least_squares"].d_loss is least_squares_d_loss
    assert LOSSES["wasserstein"].d_loss is wasserstein_d_loss and not LOSSES["wasserstein"].uses_targets
    assert LOSSES["hinge"].d_loss is hinge_d_loss and not LOSSES["hinge"].uses_targets
    for name, objective in LOSSES.items():
        assert objective.name == name and objective.description
        real, fake = torch.randn(8), torch.randn(8)
        assert objective.d_loss(real, fake).shape == () and objective.g_loss(fake).shape == ()


def test_unknown_loss_names_the_choices() -> None:
    assert get_objective("hinge") is LOSSES["hinge"]
    with pytest.raises(ValueError, match="non_saturating"):
        get_objective("vanilla")
