"""nets.sagan: attention block placement, identity at initialisation, spectral norm, one step."""

import torch
from torch.nn.utils import parametrize

from ganlab.nets.attention import SelfAttention
from ganlab.nets.sagan import SAGANDiscriminator, SAGANGenerator


def test_with_and_without_attention_start_as_the_same_function():
    torch.manual_seed(0)
    with_block = SAGANGenerator(8, 16, spectral_norm=False)
    without = SAGANGenerator(8, 16, attention=False, spectral_norm=False)
    # copy the shared layers; the block's own parameters (net.6.*, also under .attention) are left out
    shared = {k: v for k, v in with_block.state_dict().items() if not k.startswith(("attention.", "net.6."))}
    without.load_state_dict(shared)
    z = torch.randn(4, 8)
    with_block.eval(), without.eval()
    assert torch.equal(with_block(z), without(z))
    with torch.no_grad():
        with_block.attention.gamma.fill_(1.0)
    assert not torch.allclose(with_block(z), without(z))


def test_discriminator_shapes_spectral_norm_and_attention_at_14():
    d = SAGANDiscriminator(16)
    assert isinstance(d.attention, SelfAttention)
    assert parametrize.is_parametrized(d.net[0], "weight")
    seen = []
    d.attention.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    logits = d(torch.randn(3, 1, 28, 28))
    assert logits.shape == (3,) and seen == [(3, 16, 14, 14)]
    logits.mean().backward()
    assert d.attention.gamma.grad is not None
