"""nets.apply: a network over many inputs in eval mode, in batches, its training mode restored."""

import pytest
import torch
from torch import nn

from ganlab.nets.apply import apply_in_batches


def test_batches_equal_one_pass_in_eval_mode_and_the_mode_comes_back():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    x = torch.randn(11, 3)
    with torch.no_grad():
        net.eval()
        want = net(x)
    net.train()
    got = apply_in_batches(net, x, batch_size=4)  # 4 + 4 + 3: a short last batch
    torch.testing.assert_close(got, want)  # train mode would drop units and use batch statistics
    assert net.training and not got.requires_grad


def test_a_function_of_several_nets_puts_each_in_eval_mode():
    a, b = nn.Dropout(0.9), nn.Dropout(0.9)
    x = torch.ones(6, 2)
    out = apply_in_batches(lambda t: b(a(t)), x, a, b, batch_size=5)
    torch.testing.assert_close(out, x)
    assert a.training and b.training
    with pytest.raises(ValueError, match="batch_size"):
        apply_in_batches(a, x, batch_size=0)


def test_refresh_batchnorm_sets_plain_averages_of_the_current_net():
    from ganlab.nets.apply import has_batchnorm, refresh_batchnorm

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    x = torch.randn(40, 3) * 2 + 1
    net[1].running_mean.fill_(5.0)  # stale statistics, far from the truth
    net.eval()
    refresh_batchnorm(net, x, batch_size=10)  # four equal batches: the plain average of their statistics
    hidden = net[0](x).detach()
    torch.testing.assert_close(net[1].running_mean, hidden.mean(0))
    batch_vars = torch.stack([hidden[i:i + 10].var(0) for i in range(0, 40, 10)])
    torch.testing.assert_close(net[1].running_var, batch_vars.mean(0))
    assert not net.training and net[1].momentum == 0.1  # mode and momentum left as they were
    plain = nn.Sequential(nn.Linear(3, 4))
    before = plain[0].weight.clone()
    assert refresh_batchnorm(plain, x) is plain and torch.equal(plain[0].weight, before)
    assert has_batchnorm(net) and not has_batchnorm(plain)
    assert not has_batchnorm(nn.BatchNorm1d(4, track_running_stats=False))
    with pytest.raises(ValueError, match="batch_size"):
        refresh_batchnorm(net, x, batch_size=0)
