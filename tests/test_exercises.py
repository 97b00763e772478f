import math

import pytest

from ganlab.exercises import check


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
