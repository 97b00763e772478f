"""ganlab.dynamics: the Dirac-GAN against the closed forms of Mescheder et al. (2018)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.dynamics import DiracGAN, check_critical_r1, critical_r1, distance_to_equilibrium


def test_vector_field_matches_closed_form() -> None:
    theta, psi = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1.5, 1.5, 4))
    v_theta, v_psi = DiracGAN().vector_field(theta, psi)
    slope = torch.sigmoid(-torch.tensor(psi * theta)).numpy()  # f'(t) = σ(−t) for f(t) = −log(1 + e^{−t})
    np.testing.assert_allclose(v_theta, -psi * slope, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v_psi, theta * slope, rtol=1e-12, atol=1e-12)
    assert v_theta.shape == (4, 5)


def test_regularised_fields_closed_form() -> None:
    theta, psi = 0.7, -1.3
    _, v_psi = DiracGAN(r1=0.3).vector_field(theta, psi)
    slope = 1 / (1 + np.exp(psi * theta))
    np.testing.assert_allclose(v_psi, theta * slope - 0.3 * psi, rtol=1e-12)
    _, v_psi = DiracGAN(gp=0.5).vector_field(theta, psi)
    np.testing.assert_allclose(v_psi, theta * slope - 0.5 * 2 * (abs(psi) - 1) * np.sign(psi), rtol=1e-12)
    v_theta, v_psi = DiracGAN("wgan").vector_field(theta, psi)
    np.testing.assert_allclose([v_theta, v_psi], [-psi, theta], rtol=1e-12)


def test_consensus_subtracts_gradient_of_half_squared_field() -> None:
    """WGAN: v = (−ψ, θ), ½‖v‖² = ½(θ² + ψ²), so consensus gives v − γ(θ, ψ)."""
    v_theta, v_psi = DiracGAN("wgan", consensus=0.4).vector_field(0.8, -0.5)
    np.testing.assert_allclose([v_theta, v_psi], [0.5 - 0.4 * 0.8, 0.8 + 0.4 * 0.5], rtol=1e-12)


def test_instance_noise_expectation_and_damping() -> None:
    game = DiracGAN(noise=0.5)
    # At σ → 0 the noisy value reduces to the plain one.
    np.testing.assert_allclose(DiracGAN(noise=1e-6).vector_field(0.3, 0.9), DiracGAN().vector_field(0.3, 0.9),
                               rtol=1e-6, atol=1e-9)
    # At θ = 0 the noise makes D's step restore ψ towards 0 (no force at all without noise).
    assert game.vector_field(0.0, 1.0)[1] < -0.01
    assert DiracGAN().vector_field(0.0, 1.0)[1] == 0.0


def test_unregularised_eigenvalues_are_purely_imaginary() -> None:
    eig = DiracGAN().eigenvalues()
    np.testing.assert_allclose(eig.real, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(sorted(eig.imag), [-0.5, 0.5], rtol=1e-12)
    np.testing.assert_allclose(DiracGAN().jacobian(), [[0.0, -0.5], [0.5, 0.0]], atol=1e-12)


def test_r1_eigenvalues_have_negative_real_parts() -> None:
    eig = DiracGAN(r1=0.3).eigenvalues()
    expected = np.roots([1.0, 0.3, 0.25])  # λ² + γλ + f'(0)²
    np.testing.assert_allclose(sorted(eig, key=lambda z: z.imag), sorted(expected, key=lambda z: z.imag),
                               rtol=1e-10)
    assert np.all(eig.real < 0)
    assert np.all(DiracGAN(consensus=0.5).eigenvalues().real < 0)
    assert np.all(DiracGAN(noise=0.5).eigenvalues().real < 0)


def test_simultaneous_descent_spirals_outward() -> None:
    path = DiracGAN().trajectory((1.0, 1.0), lr=0.2, steps=100, mode="simultaneous")
    radius = distance_to_equilibrium(path)
    assert path.shape == (101, 2)
    assert np.all(np.diff(radius) > 0)  # every step moves further from the equilibrium
    assert radius[-1] > 1.3 * radius[0]
    angle = np.unwrap(np.arctan2(path[:, 1], path[:, 0]))
    assert abs(angle[-1] - angle[0]) > np.pi  # it turns around the equilibrium, not straight away


def test_alternating_steps_stay_bounded_but_do_not_converge() -> None:
    radius = distance_to_equilibrium(DiracGAN().trajectory(steps=300, mode="alternating"))
    assert radius.max() < 2.0 and radius[-100:].min() > 1.0


def test_r1_converges_to_equilibrium() -> None:
    path = DiracGAN(r1=0.3).trajectory((1.0, 1.0), lr=0.2, steps=300, mode="simultaneous")
    np.testing.assert_allclose(path[-1], [0.0, 0.0], atol=1e-2)
    assert distance_to_equilibrium(path)[-1] < 1e-3 * distance_to_equilibrium(path)[0]


def test_clipped_wgan_does_not_converge() -> None:
    path = DiracGAN("wgan", clip=0.5).trajectory(steps=300)
    assert np.all(np.abs(path[:, 1][1:]) <= 0.5 + 1e-12)
    assert distance_to_equilibrium(path)[-50:].min() > 0.3


def test_two_time_scales_use_separate_step_sizes() -> None:
    path = DiracGAN("wgan").trajectory((1.0, 1.0), lr=0.1, lr_d=0.3, steps=1)
    np.testing.assert_allclose(path[1], [1.0 - 0.1 * 1.0, 1.0 + 0.3 * 1.0], rtol=1e-12)


def test_alternating_order_is_d_then_g() -> None:
    path = DiracGAN("wgan").trajectory((1.0, 1.0), lr=0.5, steps=1, mode="alternating")
    psi = 1.0 + 0.5 * 1.0  # D moves first
    np.testing.assert_allclose(path[1], [1.0 - 0.5 * psi, psi], rtol=1e-12)


def test_critical_r1_and_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert critical_r1() == pytest.approx(1.0, abs=1e-12)
    assert critical_r1("wgan") == pytest.approx(2.0, abs=1e-12)
    eig = DiracGAN(r1=1.0).eigenvalues()
    np.testing.assert_allclose(eig, [-0.5, -0.5], atol=1e-6)
    assert check_critical_r1(1.0) and not check_critical_r1(0.5)
    assert "still complex" in capsys.readouterr().out
    assert not check_critical_r1(None) and "Hint" in capsys.readouterr().out


def test_bad_arguments_name_the_fix() -> None:
    with pytest.raises(ValueError, match="objective"):
        DiracGAN("lsgan")
    with pytest.raises(ValueError, match="r1"):
        DiracGAN(r1=-1)
    with pytest.raises(ValueError, match="clip"):
        DiracGAN(clip=0)
    with pytest.raises(ValueError, match="mode"):
        DiracGAN().trajectory(mode="sideways")
