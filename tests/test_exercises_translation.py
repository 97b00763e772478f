"""exercises_translation: right answers pass, the usual wrong ones are named."""

from __future__ import annotations

import pytest

from ganlab.exercises_translation import EXERCISES, check, cycle_loss_verdict, receptive_field_verdict


def right(a, a_back, b, b_back):
    return (a - a_back).abs().flatten().mean() + (b - b_back).abs().flatten().mean()


@pytest.mark.parametrize("answer,reason", [
    (lambda a, ab, b, bb: (ab - a).pow(2).mean() + (bb - b).pow(2).mean(), "squared errors"),
    (lambda a, ab, b, bb: (ab - a).abs().mean(), "only the A → B → A"),
    (lambda a, ab, b, bb: (ab - a).abs().sum() + (bb - b).abs().sum(), "sums over pixels"),
    (lambda a, ab, b, bb: right(a, ab, b, bb) / 2, "averaged the two"),
    (lambda a, ab, b, bb: None, "returned None"),
    (lambda a, ab, b, bb: (ab - a).abs().mean(dim=0), "single number"),
    (lambda a, ab, b, bb: right(a, ab, b, bb) + 1, "expected"),
])
def test_cycle_loss_wrong_answers(answer, reason) -> None:
    ok, why = cycle_loss_verdict(answer)
    assert not ok and reason in why


def test_cycle_loss_right_answer(capsys) -> None:
    assert cycle_loss_verdict(right)[0]
    assert check("11.cycle_loss", right)
    assert "✓" in capsys.readouterr().out
    assert not check("11.cycle_loss", None)


@pytest.mark.parametrize("answer,ok,reason", [(34, True, "right"), (34.0, True, "right"), (16, False, "n_layers = 1"),
                                              (70, False, "n_layers = 3"), (13, False, "counts its step"),
                                              (35, False, "grow r"), ("34", False, "whole number"),
                                              (True, False, "whole number")])
def test_receptive_field_answers(answer, ok, reason) -> None:
    got, why = receptive_field_verdict(answer)
    assert got == ok and reason in why


def test_names() -> None:
    assert set(EXERCISES) == {"11.cycle_loss", "11.receptive_field"}
    with pytest.raises(ValueError, match="no exercise"):
        check("11.nope", 1)
