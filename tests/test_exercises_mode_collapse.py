import torch

from ganlab.exercises_mode_collapse import check_minibatch_std, minibatch_std_verdict
from ganlab.nets.remedies import MinibatchStd


def right(h):
    std = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)


def test_right_answer_passes_and_matches_the_layer():
    h = torch.randn(10, 3)
    torch.testing.assert_close(right(h), MinibatchStd(0)(h))
    assert minibatch_std_verdict(right)[0]
    assert check_minibatch_std(right)


def test_unbiased_std_fails():
    def unbiased(h):
        std = h.std(dim=0).mean()  # 1/(N−1): off by sqrt(N/(N−1))
        return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)
    ok, why = minibatch_std_verdict(unbiased)
    assert not ok and "biased" in why


def test_per_sample_std_fails():
    def per_sample(h):  # std over features of each sample: differs per row
        return torch.cat([h, h.std(dim=1, unbiased=False, keepdim=True)], dim=1)
    ok, why = minibatch_std_verdict(per_sample)
    assert not ok and "same value" in why


def test_wrong_shape_and_changed_input_and_none_fail():
    assert not minibatch_std_verdict(lambda h: h)[0]  # no column appended
    assert "unchanged" in minibatch_std_verdict(lambda h: right(h) * 2)[1]
    assert "None" in minibatch_std_verdict(lambda h: None)[1]
    assert check_minibatch_std(None) is False


def test_check_prints_verdicts_and_an_untouched_stub_as_not_answered(capsys):
    assert check_minibatch_std(right) is True
    assert capsys.readouterr().out.startswith("✓ 05.minibatch_std")
    assert check_minibatch_std(lambda h: h) is False
    assert capsys.readouterr().out.startswith("✗ 05.minibatch_std")
    assert check_minibatch_std(lambda h: None) is False
    out = capsys.readouterr().out
    assert out.startswith("… 05.minibatch_std: not answered yet") and "✗" not in out, out
