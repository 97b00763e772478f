"""ganlab.exercises_applications: right answers pass, each typical mistake fails with its own reason."""

import pytest

from ganlab.exercises_applications import EXERCISES, check


def right_score(x, rec, fx, frec, kappa):
    return (x - rec).pow(2).flatten(1).mean(1) + kappa * (fx - frec).pow(2).mean(1)


def right_auroc(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).double() + 0.5 * (pos[:, None] == neg[None, :]).double()
    return wins.mean().item()


def test_right_answers_pass(capsys):
    assert check("applications.anomaly_score", right_score)
    assert check("applications.auroc", right_auroc)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("answer, says", [
    (lambda x, r, fx, fr, k: (x - r).pow(2).flatten(1).mean(1) + (fx - fr).pow(2).mean(1), "κ must weight"),
    (lambda x, r, fx, fr, k: (x - r).pow(2).flatten(1).sum(1) + k * (fx - fr).pow(2).sum(1), "not sums"),
    (lambda x, r, fx, fr, k: (x - r).abs().flatten(1).mean(1) + k * (fx - fr).abs().mean(1), "square"),
    (lambda x, r, fx, fr, k: (x - r).pow(2).flatten(1).mean(1), "add the feature term"),
    (lambda x, r, fx, fr, k: ((x - r).pow(2).mean() + k * (fx - fr).pow(2).mean()), "one score per image"),
    (lambda x, r, fx, fr, k: (x - r).pow(2).flatten(1).mean(1) * k, "differ"),
])
def test_wrong_scores_fail_and_say_why(answer, says, capsys):
    assert not check("applications.anomaly_score", answer)
    assert says in capsys.readouterr().out


@pytest.mark.parametrize("answer, says", [
    (lambda s, y: (s[y == 1][:, None] > s[y == 0][None, :]).double().mean().item(), "not zero"),
    (lambda s, y: (s[y == 1][:, None] >= s[y == 0][None, :]).double().mean().item(), "not a whole win"),
    (lambda s, y: 1 - right_auroc(s, y), "wrong way round"),
    (lambda s, y: 0.5, "compare every anomaly"),
])
def test_wrong_aurocs_fail_and_say_why(answer, says, capsys):
    assert not check("applications.auroc", answer)
    assert says in capsys.readouterr().out


def test_unanswered_exercises_print_a_hint(capsys):
    for name in EXERCISES:
        assert not check(name, None)
        assert not check(name, lambda *args: None)  # the notebook's untouched stub
    out = capsys.readouterr().out
    assert out.count("not answered yet") == 2 * len(EXERCISES) and "✗" not in out
