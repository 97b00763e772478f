import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.exercises_dcgan import EXERCISES, check


def size_formula(h, k, s, p, op):
    return (h - 1) * s - 2 * p + k + op


def zero_insertion(x, w, stride, padding):
    n, c, h, width = x.shape
    k = w.shape[-1]
    spread = x.new_zeros(n, c, (h - 1) * stride + 1, (width - 1) * stride + 1)
    spread[:, :, ::stride, ::stride] = x
    return F.conv2d(F.pad(spread, [k - 1 - padding] * 4), w.flip(-1, -2).transpose(0, 1))


def transposed_block(c_in, c_out):
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


def resize_block(c_in, c_out):
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c_in, c_out, 3, 1, 1), nn.BatchNorm2d(c_out),
                         nn.ReLU())


def test_right_answers_pass(capsys):
    assert check("dcgan.output_size", size_formula)
    assert check("dcgan.transposed_conv", zero_insertion)
    assert check("dcgan.generator_block", transposed_block)
    assert check("dcgan.generator_block", resize_block)
    assert capsys.readouterr().out.count("✓") == 4


@pytest.mark.parametrize("block,says", [
    (lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 3, 2, 1, 1), nn.BatchNorm2d(o), nn.ReLU()), "checkerboard"),
    (lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU()), "BatchNorm2d"),
    (lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2)), "LeakyReLU"),
    (lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 0), nn.BatchNorm2d(o), nn.ReLU()), "expected"),
    (lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU(), nn.BatchNorm2d(o)), "ReLU should come"),
    (lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, 1, 1), nn.BatchNorm2d(o), nn.ReLU()), "expected"),
    (lambda i, o: "a block", "not an nn.Module"),
])
def test_wrong_blocks_fail_and_say_why(block, says, capsys):
    assert not check("dcgan.generator_block", block)
    assert says in capsys.readouterr().out


def test_wrong_sizes_fail_and_say_why(capsys):
    assert not check("dcgan.output_size", lambda h, k, s, p, op: (h - 1) * s - 2 * p + k)  # output_padding left out
    assert "output_padding" in capsys.readouterr().out
    assert not check("dcgan.output_size", lambda h, k, s, p, op: (h - 1) * s - p + k + op)  # one side only
    assert "both sides" in capsys.readouterr().out
    assert not check("dcgan.output_size", lambda h, k, s, p, op: h * s)  # right for the DCGAN layers only
    assert not check("dcgan.output_size", lambda h, k, s, p, op: float(size_formula(h, k, s, p, op)) + 0.5)


def test_wrong_transposed_convs_fail_and_say_why(capsys):
    def unflipped(x, w, stride, padding):
        n, c, h, width = x.shape
        k = w.shape[-1]
        spread = x.new_zeros(n, c, (h - 1) * stride + 1, (width - 1) * stride + 1)
        spread[:, :, ::stride, ::stride] = x
        return F.conv2d(F.pad(spread, [k - 1 - padding] * 4), w.transpose(0, 1))

    assert not check("dcgan.transposed_conv", unflipped)
    assert "flipped" in capsys.readouterr().out
    assert not check("dcgan.transposed_conv", lambda x, w, s, p: F.conv_transpose2d(x, w, stride=s))  # padding lost
    assert "expected" in capsys.readouterr().out
    assert not check("dcgan.transposed_conv", lambda x, w, s, p: 1.001 * F.conv_transpose2d(x, w, stride=s, padding=p))


def test_zero_insertion_matches_torch_two_sided():
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(2, 3, 5, 4, generator=g), torch.randn(3, 2, 4, 4, generator=g)
    torch.testing.assert_close(zero_insertion(x, w, 2, 1), F.conv_transpose2d(x, w, stride=2, padding=1))


def test_open_exercises_do_not_fail(capsys):
    for name in EXERCISES:
        assert not check(name, None)
        assert not check(name, lambda *args: None)
    assert capsys.readouterr().out.count("None") == len(EXERCISES)


def test_unknown_exercise():
    with pytest.raises(ValueError, match="known"):
        check("dcgan.nothing", 1)
