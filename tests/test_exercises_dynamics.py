"""ganlab.exercises_dynamics: the Dirac-GAN field exercise accepts the right code and names each usual mistake."""

from __future__ import annotations

import pytest
import torch

from ganlab.dynamics import DiracGAN
from ganlab.exercises_dynamics import _grid, check_dirac_field


def right(theta: torch.Tensor, psi: torch.Tensor, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    slope = torch.sigmoid(-psi * theta)  # f'(ψθ)
    return -psi * slope, theta * slope - gamma * psi


def test_grid_is_the_package_field_reference() -> None:
    # The reference the checker uses is DiracGAN's field; check it against the closed form on its own grid.
    theta, psi = _grid()
    v_theta, v_psi = DiracGAN(r1=0.3).vector_field(theta.numpy(), psi.numpy())
    want_theta, want_psi = right(theta, psi, 0.3)
    torch.testing.assert_close(torch.from_numpy(v_theta), want_theta, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.from_numpy(v_psi), want_psi, rtol=1e-12, atol=1e-12)
    assert (theta != 0).any() and (psi != 0).any()


def test_right_answer_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_dirac_field(right)
    assert capsys.readouterr().out.startswith("✓")


def test_unanswered_says_so_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_dirac_field(None)
    assert capsys.readouterr().out.startswith("… dirac_field: not answered yet")
    assert not check_dirac_field(lambda theta, psi, gamma: None)  # the notebook's untouched stub
    out = capsys.readouterr().out
    assert out.startswith("… ") and "returned None" in out and "Hint" in out and "✗" not in out, out


@pytest.mark.parametrize("wrong, reason", [
    (lambda t, p, g: (-right(t, p, g)[0], right(t, p, g)[1]), "v_θ has the wrong sign"),
    (lambda t, p, g: (right(t, p, g)[0], -right(t, p, g)[1]), "v_ψ has the wrong sign"),
    (lambda t, p, g: right(t, p, 0.0), "R1 is missing"),
    (lambda t, p, g: right(t, p, g / 2), "not γψ/2"),
    (lambda t, p, g: (-p * torch.sigmoid(p * t), t * torch.sigmoid(p * t) - g * p), "you used σ(t)"),
    (lambda t, p, g: (-p / 2, t / 2 - g * p), "f'(0) = ½ everywhere"),
    (lambda t, p, g: (-p * torch.sigmoid(-p * t) * 1.1, t * torch.sigmoid(-p * t) - g * p), "you returned"),
    (lambda t, p, g: (right(t, p, g)[0].sum(), right(t, p, g)[1].sum()), "of that shape"),
    (lambda t, p, g: right(t, p, g)[0], "pair of tensors"),
])
def test_wrong_answers_fail_with_their_reason(wrong, reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_dirac_field(wrong)
    out = capsys.readouterr().out
    assert out.startswith("✗") and reason in out, out


def test_tolerance_is_tight() -> None:
    # An answer off by one part in 10⁴ (say, float32 arithmetic done badly) is not accepted.
    assert not check_dirac_field(lambda t, p, g: tuple(v * (1 + 1e-4) for v in right(t, p, g)))
    # ... while one computed in float32 (relative error ~1e-7) is.
    assert check_dirac_field(lambda t, p, g: tuple(v.float() for v in right(t.float(), p.float(), g)))
