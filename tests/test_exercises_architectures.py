"""exercises_architectures: the modulated-convolution checker accepts a right answer and explains wrong ones."""

import torch
import torch.nn.functional as F

from ganlab.exercises_architectures import check_modulated_conv2d


def _per_sample(x, weight, styles, demodulate):
    """A correct answer written another way: one plain convolution per sample."""
    outs = []
    for n in range(x.shape[0]):
        w = weight * styles[n][None, :, None, None]
        if demodulate:
            w = w / torch.sqrt(w.pow(2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        outs.append(F.conv2d(x[n:n + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outs)


def test_a_right_answer_passes():
    ok, why = check_modulated_conv2d(_per_sample)
    assert ok, why


def test_wrong_answers_are_caught_with_the_reason():
    ok, why = check_modulated_conv2d(None)
    assert not ok and "not answered" in why
    ok, why = check_modulated_conv2d(lambda x, w, s, d: None)
    assert not ok and "returned None" in why
    ok, why = check_modulated_conv2d(lambda x, w, s, d: _per_sample(x, w, s, False))
    assert not ok and "skipped the demodulation" in why
    ok, why = check_modulated_conv2d(lambda x, w, s, d: _per_sample(x, w, s[:1].expand_as(s), d))
    assert not ok and "values differ" in why
    ok, why = check_modulated_conv2d(lambda x, w, s, d: _per_sample(x, w, s, d)[:, :, 1:])
    assert not ok and "shape" in why
