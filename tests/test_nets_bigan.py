import pytest
import torch

from ganlab.nets.bigan import BiGANPair, Encoder, JointDiscriminator, joint_input
from ganlab.nets.dcgan import DCGANGenerator


def test_shapes():
    x, z = torch.rand(5, 1, 28, 28) * 2 - 1, torch.randn(5, 6)
    assert Encoder(6, 4)(x).shape == (5, 6)
    assert JointDiscriminator(6, 4, hidden=8)(x, z).shape == (5,)
    pair = BiGANPair(DCGANGenerator(6, 4), Encoder(6, 4))
    assert pair(z).shape == (5, 1, 28, 28) and pair.encode(x).shape == (5, 6)


def test_joint_input_is_both_parts_side_by_side():
    a, b = torch.randn(3, 4), torch.randn(3, 2)
    joined = joint_input(a, b)
    torch.testing.assert_close(joined[:, :4], a)
    torch.testing.assert_close(joined[:, 4:], b)
    with pytest.raises(ValueError, match="pairs"):
        joint_input(a, b[:2])


def test_discriminator_reads_the_code():
    # The same image with another code must get another logit: D judges pairs, not images alone.
    D = JointDiscriminator(6, 4, hidden=8, dropout=0.0).eval()
    x = torch.rand(4, 1, 28, 28)
    z = torch.randn(4, 6)
    with torch.no_grad():
        assert not torch.allclose(D(x, z), D(x, z + 1.0))
        # ...and the logit of one pair does not depend on the other pairs in the batch (no BatchNorm).
        torch.testing.assert_close(D(x[:1], z[:1]), D(x, z)[:1])


def test_one_step_smoke_updates_every_part():
    pair, D = BiGANPair(DCGANGenerator(6, 4), Encoder(6, 4)), JointDiscriminator(6, 4, hidden=8)
    x, z = torch.rand(4, 1, 28, 28), torch.randn(4, 6)
    opt = torch.optim.Adam(list(pair.parameters()) + list(D.parameters()), 1e-3)
    before = [p.detach().clone() for p in pair.parameters()] + [p.detach().clone() for p in D.parameters()]
    (D(x, pair.encode(x)).mean() + torch.sigmoid(D(pair(z), z)).mean()).backward()  # no gradient cancels
    opt.step()
    after = list(pair.parameters()) + list(D.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after) if b.grad is not None)
    assert all(p.grad is not None for p in after)


def test_errors():
    with pytest.raises(ValueError, match="28, 28"):
        Encoder(6, 4)(torch.rand(2, 784))
    with pytest.raises(ValueError, match=r"\(N, 6\)"):
        JointDiscriminator(6, 4, hidden=8)(torch.rand(2, 1, 28, 28), torch.randn(2, 5))
    with pytest.raises(ValueError, match="dropout"):
        JointDiscriminator(6, 4, dropout=1.0)
    with pytest.raises(ValueError, match="same latent_dim"):
        BiGANPair(DCGANGenerator(7, 4), Encoder(6, 4))
