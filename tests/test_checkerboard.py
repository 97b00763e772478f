import math

import pytest
import torch

from ganlab.metrics.checkerboard import checkerboard_share

H, W = 8, 6
rows, cols = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
CHECKER = (-1.0) ** (rows + cols)
SMOOTH = torch.cos(2 * math.pi * rows / H)  # one period down the image: no period-2 power


def test_pure_patterns():
    shares = checkerboard_share(torch.stack([CHECKER, SMOOTH, 3 + 0 * SMOOTH])[:, None])
    torch.testing.assert_close(shares, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.5, 2.0), (2.0, 0.3)])
def test_mixture_follows_parseval(a, b):
    # ‖a·checker‖² = a²·HW and ‖b·cos‖² = b²·HW/2, and the two are orthogonal
    share = checkerboard_share((a * CHECKER + b * SMOOTH + 5.0)[None, None])
    torch.testing.assert_close(share, torch.tensor([a**2 / (a**2 + b**2 / 2)], dtype=torch.float64))


def test_stripes_count_too_and_white_noise_sits_at_its_share():
    stripes = ((-1.0) ** rows).expand(H, W)  # period 2 down the rows only
    torch.testing.assert_close(checkerboard_share(stripes[None, None]), torch.ones(1, dtype=torch.float64))
    noise = torch.randn(4000, 1, H, W, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(checkerboard_share(noise).mean().item(), (H + W - 1) / (H * W - 1), rtol=0.03, atol=0)


def test_bad_input():
    with pytest.raises(ValueError, match="channel axis"):
        checkerboard_share(torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match="even"):
        checkerboard_share(torch.zeros(2, 1, 7, 8))
