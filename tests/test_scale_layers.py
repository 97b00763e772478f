"""The scale-era layers (nets.style, nets.attention, nets.orthogonal) against references written another way."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from ganlab.nets.layers import SelfAttention, modulated_conv2d, orthogonal_penalty, pixel_norm


def test_pixel_norm_matches_a_per_pixel_loop_and_gives_unit_rms():
    x = torch.randn(2, 5, 3, 4, dtype=torch.float64) * 3.0
    out = pixel_norm(x)
    for n in range(2):
        for i in range(3):
            for j in range(4):
                v = x[n, :, i, j]
                assert_close(out[n, :, i, j], v / torch.sqrt((v * v).sum() / 5 + 1e-8))
    assert_close(out.pow(2).mean(dim=1), torch.ones(2, 3, 4, dtype=torch.float64))


def test_pixel_norm_refuses_input_without_channels():
    with pytest.raises(ValueError, match="channel"):
        pixel_norm(torch.randn(7))


def _modulated_reference(x, weight, styles, demodulate):
    """One ordinary convolution per sample, its weight built with explicit loops over output channels."""
    outs = []
    for n in range(x.shape[0]):
        w = weight * styles[n][None, :, None, None]
        if demodulate:
            w = torch.stack([w[o] / torch.sqrt((w[o] ** 2).sum() + 1e-8) for o in range(w.shape[0])])
        outs.append(F.conv2d(x[n:n + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outs)


@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_modulated_conv2d_matches_one_convolution_per_sample(demodulate, k):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, 5, generator=g, dtype=torch.float64)
    weight = torch.randn(7, 4, k, k, generator=g, dtype=torch.float64)
    styles = torch.rand(3, 4, generator=g, dtype=torch.float64) + 0.5
    out = modulated_conv2d(x, weight, styles, demodulate=demodulate)
    assert out.shape == (3, 7, 6, 5)
    assert_close(out, _modulated_reference(x, weight, styles, demodulate))


def test_demodulation_gives_unit_variance_outputs_for_unit_variance_inputs():
    # Independent N(0, 1) inputs: an output is Σ w'·x, whose variance is Σ w'² = 1 after demodulation, for any weight
    # and style scale. Interior pixels only (zero padding lowers the border's variance). 4 × 40 × 40 interior values
    # per channel give a standard error of about sqrt(2 / 6400) ≈ 0.018 on each variance; the tolerance is 5 of those.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 16, 42, 42, generator=g)
    weight = torch.randn(8, 16, 3, 3, generator=g) * 5.0
    styles = torch.rand(4, 16, generator=g) * 3.0
    out = modulated_conv2d(x, weight, styles)[:, :, 1:-1, 1:-1]
    variances = out.permute(1, 0, 2, 3).reshape(8, -1).var(dim=1)
    assert_close(variances, torch.ones(8), atol=0.09, rtol=0)
    # Without demodulation the variance follows the (large) weights instead: the check above can fail.
    raw = modulated_conv2d(x, weight, styles, demodulate=False)[:, :, 1:-1, 1:-1]
    assert raw.permute(1, 0, 2, 3).reshape(8, -1).var(dim=1).min() > 10


def test_modulated_conv2d_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="disagree"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 5, 3, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="odd"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 4, 2, 2), torch.randn(2, 4))


def test_orthogonal_penalty_matches_pairwise_sum_and_its_closed_form_gradient():
    weight = torch.randn(5, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    w = weight.detach().reshape(5, -1)
    pairs = sum((w[i] @ w[j]) ** 2 for i in range(5) for j in range(5) if i != j)
    penalty = orthogonal_penalty(weight)
    assert penalty.dim() == 0
    assert_close(penalty.detach(), pairs)
    (grad,) = torch.autograd.grad(penalty, weight)
    off = w @ w.T * (1 - torch.eye(5, dtype=torch.float64))
    assert_close(grad.reshape(5, -1), 4 * off @ w)


def test_orthogonal_penalty_is_zero_for_orthogonal_rows_of_any_norm():
    q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
    scaled = q.T * torch.arange(1.0, 7.0, dtype=torch.float64)[:, None]  # orthogonal rows, norms 1..6
    assert orthogonal_penalty(scaled).item() < 1e-20
    with pytest.raises(ValueError, match="2 axes"):
        orthogonal_penalty(torch.randn(4))


def _attention_reference(block, x):
    """Pixel by pixel: softmax over all pixels of q_i·k_j, then the weighted sum of values, then the projection."""
    n, c, h, w = x.shape
    q, k, v = (conv(x).flatten(2) for conv in (block.query, block.key, block.value))
    out = torch.zeros(n, c // 2, h * w, dtype=x.dtype)
    for s in range(n):
        for i in range(h * w):
            scores = torch.stack([q[s, :, i] @ k[s, :, j] for j in range(h * w)])
            weights = torch.exp(scores - scores.max())
            weights = weights / weights.sum()
            out[s, :, i] = (v[s] * weights[None]).sum(dim=1)
    return x + block.gamma * block.out(out.reshape(n, c // 2, h, w))


def test_self_attention_is_the_identity_at_initialisation_and_matches_a_loop_after():
    torch.manual_seed(0)
    block = SelfAttention(16).double()
    x = torch.randn(2, 16, 3, 4, dtype=torch.float64)
    assert torch.equal(block(x), x)
    rows = block.attention(x)
    assert rows.shape == (2, 12, 12)
    assert_close(rows.sum(dim=-1), torch.ones(2, 12, dtype=torch.float64))
    with torch.no_grad():
        block.gamma.fill_(0.7)
    out = block(x)
    assert not torch.allclose(out, x)
    assert_close(out, _attention_reference(block, x))


def test_self_attention_refuses_too_few_channels():
    with pytest.raises(ValueError, match="8 channels"):
        SelfAttention(4)
