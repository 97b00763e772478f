import math

import torch
import torch.nn.functional as F

from ganlab.exercises_inference import EXERCISES, check, reference_d_loss
from ganlab.inference import lerp, slerp


def verdict(name, answer):
    return EXERCISES[name](answer)


def test_joint_d_loss_accepts_the_reference_and_a_written_out_version():
    assert verdict("12.joint_d_loss", reference_d_loss)[0]

    def mine(D, G, E, x, z):
        real = D(x, E(x).detach())
        fake = D(G(z).detach(), z)
        return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    assert verdict("12.joint_d_loss", mine)[0]


def test_joint_d_loss_names_the_usual_mistakes():
    def wrong_real_pair(D, G, E, x, z):
        return F.softplus(-D(x, z)).mean() + F.softplus(D(G(z).detach(), z)).mean()

    def swapped(D, G, E, x, z):
        return F.softplus(D(x, E(x).detach())).mean() + F.softplus(-D(G(z).detach(), z)).mean()

    def not_detached(D, G, E, x, z):
        return F.softplus(-D(x, E(x))).mean() + F.softplus(D(G(z), z)).mean()

    ok, why = verdict("12.joint_d_loss", wrong_real_pair)
    assert not ok and "(x, E(x))" in why
    ok, why = verdict("12.joint_d_loss", swapped)
    assert not ok and "swapped" in why
    ok, why = verdict("12.joint_d_loss", not_detached)
    assert not ok and "constants" in why
    assert not verdict("12.joint_d_loss", lambda D, G, E, x, z: torch.tensor(1.0))[0]


def test_slerp_exercise():
    assert verdict("12.slerp", slerp)[0]
    ok, why = verdict("12.slerp", lerp)
    assert not ok and "straight line" in why

    def renormalised(a, b, t):
        p = lerp(a, b, t)
        return p / p.norm(dim=1, keepdim=True) * a.norm()
    ok, why = verdict("12.slerp", renormalised)
    assert not ok and "uneven speed" in why
    assert not verdict("12.slerp", lambda a, b, t: torch.zeros(3))[0]


def test_midpoint_norm_exercise(capsys):
    assert verdict("12.midpoint_norm", 0.5)[0]
    assert not verdict("12.midpoint_norm", 1 / math.sqrt(2))[0]
    assert not verdict("12.midpoint_norm", "half")[0]
    assert check("12.midpoint_norm", None) is False
    assert "not answered" in capsys.readouterr().out
    # the claim itself, by Monte Carlo in 64 dimensions
    z, w = torch.randn(2, 20000, 64, generator=torch.Generator().manual_seed(0))
    ratio = ((z + w) / 2).pow(2).sum(1).mean() / z.pow(2).sum(1).mean()
    torch.testing.assert_close(ratio, torch.tensor(0.5), atol=0.01, rtol=0)


def test_untouched_stubs_read_as_not_answered(capsys):
    assert check("12.joint_d_loss", lambda d, g, e, x, z: None) is False
    assert check("12.slerp", lambda a, b, t: None) is False
    out = capsys.readouterr().out
    assert out.count("… 12.") == 2 and "✗" not in out
