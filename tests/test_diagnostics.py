"""ganlab.diagnostics on synthetic histories: each pattern is found when present and only then."""

from __future__ import annotations

import numpy as np
import pytest

from ganlab.diagnostics import Finding, diagnose, oscillation_strength, summary

N = 400


def healthy(seed: int = 0) -> dict[str, list[float]]:
    """A run near equilibrium: losses noisy around their equilibrium values, stable gradient norms."""
    rng = np.random.default_rng(seed)
    noise = lambda scale: scale * rng.standard_normal(N)  # noqa: E731
    return {
        "d_loss": list(1.38 + noise(0.05)), "g_loss": list(0.69 + noise(0.05)),
        "d_real": list(0.55 + noise(0.02)), "d_fake": list(0.45 + noise(0.02)),
        "d_grad_norm": list(1.0 + noise(0.1)), "g_grad_norm": list(0.5 + noise(0.05)),
    }


def names(findings: list[Finding]) -> set[str]:
    return {f.name for f in findings}


def test_healthy_run_has_no_findings() -> None:
    for seed in range(5):
        assert diagnose(healthy(seed)) == []
    assert summary([]) == "No failure pattern in the recent steps."


def test_too_short_history_is_not_judged() -> None:
    h = {k: v[:150] for k, v in healthy().items()}
    assert diagnose(h, window=100) == []
    with pytest.raises(ValueError, match="window"):
        diagnose(healthy(), window=4)


def test_d_loss_collapsing_while_g_grows() -> None:
    h = healthy()
    h["d_loss"] = list(np.linspace(1.4, 0.01, N))
    h["g_loss"] = list(np.linspace(0.7, 6.0, N))
    assert "d_wins" in names(diagnose(h))
    assert "d_wins" not in names(diagnose(h, loss="wasserstein"))  # the critic's loss has no floor at 0
    h["d_loss"] = list(0.33 + 1.05 * np.exp(-np.arange(N) / 50))  # BCE with real label 0.9 bottoms out at 0.33
    assert "d_wins" in names(diagnose(h))
    h["g_loss"] = list(np.full(N, 0.7))  # D's loss low but G not worse: not this pattern
    assert "d_wins" not in names(diagnose(h))


def test_outputs_pinned_apart() -> None:
    h = healthy()
    h["d_real"] = list(np.full(N, 0.97))
    h["d_fake"] = list(np.full(N, 0.02))
    found = diagnose(h)
    assert "pinned" in names(found)
    assert "0.95" in next(f.message for f in found if f.name == "pinned")


def test_vanishing_generator_gradient() -> None:
    h = healthy()
    h["g_grad_norm"] = list(np.geomspace(1.0, 1e-4, N))
    h["d_fake"] = list(np.geomspace(0.4, 1e-3, N))
    assert "vanishing" in names(diagnose(h))
    h["d_fake"] = list(np.full(N, 0.45))  # a small gradient because G is already good is not a failure
    assert "vanishing" not in names(diagnose(h))


def test_exploding_gradient_norms() -> None:
    h = healthy()
    h["d_grad_norm"] = list(np.geomspace(1.0, 1e4, N))
    found = [f for f in diagnose(h) if f.name == "exploding"]
    assert found and "D's" in found[0].message
    h = healthy()
    h["g_grad_norm"][-1] = float("inf")
    assert "exploding" in names(diagnose(h))


def test_oscillating_losses() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(N)
    h = healthy()
    h["g_loss"] = list(0.7 + 0.5 * np.sin(2 * np.pi * t / 30) + 0.05 * rng.standard_normal(N))
    assert "oscillating" in names(diagnose(h))
    assert oscillation_strength(h["g_loss"][-100:]) < -0.6
    for period in (8, 15, 40):
        assert oscillation_strength(np.sin(2 * np.pi * t[:100] / period)) < -0.5


def test_noise_and_trends_are_not_oscillation() -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        assert oscillation_strength(rng.standard_normal(100)) > -0.5
        assert oscillation_strength(np.cumsum(rng.standard_normal(100))) > -0.5  # a random walk: no period
    assert oscillation_strength(np.linspace(0, 5, 100)) == 0.0  # a pure drift is removed, nothing is left
    assert oscillation_strength([1.0] * 5) == 0.0


def test_summary_joins_message_and_hint() -> None:
    f = Finding("pinned", "D wins", "slow D down")
    assert summary([f, f]) == "D wins — try: slow D down | D wins — try: slow D down"


def test_chance_level_of_each_loss() -> None:
    from ganlab.diagnostics import chance_d_loss

    assert chance_d_loss("non_saturating") == pytest.approx(2 * np.log(2), rel=1e-6)
    assert chance_d_loss("least_squares") == pytest.approx(0.5, rel=1e-6)
    assert chance_d_loss("hinge") == pytest.approx(2.0, rel=1e-6)
