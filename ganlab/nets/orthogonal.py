"""BigGAN's orthogonal regulariser (Brock et al. 2019)."""

from __future__ import annotations

import torch
from torch import Tensor


def orthogonal_penalty(weight: Tensor) -> Tensor:
    """‖W Wᵀ ⊙ (1 − I)‖²_F with W = weight reshaped to (out, −1); a scalar tensor.

    Only the off-diagonal entries are penalised: BigGAN's relaxation of orthogonal regularisation pushes the
    filters (rows of W) towards being orthogonal to each other without fixing their norms.
    Its gradient is 4 (W Wᵀ ⊙ (1 − I)) W.
    """
    if weight.dim() < 2:
        raise ValueError(f"orthogonal_penalty needs a weight with at least 2 axes (out, in, ...), got shape "
                         f"{tuple(weight.shape)}")
    w = weight.reshape(weight.shape[0], -1)
    gram = w @ w.T
    off_diagonal = gram - torch.diag_embed(torch.diagonal(gram))
    return off_diagonal.pow(2).sum()
