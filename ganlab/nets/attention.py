"""Self-attention over the pixels of a feature map (SAGAN, Zhang et al. 2019)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SelfAttention(nn.Module):
    """x + γ·o, where o lets every pixel read from every other pixel of the same feature map.

    For x (N, C, H, W): queries and keys are 1×1 convolutions to C/8 channels, values to C/2; pixel i's attention
    row is softmax_j(q_i · k_j) over the H·W pixels (each row sums to 1); o is a 1×1 convolution of the attended
    values back to C channels. γ starts at 0, so the block is the identity at initialisation and the network
    learns how much non-local evidence to use (the paper's choice).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels < 8:
            raise ValueError(f"SelfAttention needs at least 8 channels (queries and keys use channels // 8), "
                             f"got {channels}")
        self.query = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.key = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.value = nn.Conv2d(channels, channels // 2, 1, bias=False)
        self.out = nn.Conv2d(channels // 2, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def attention(self, x: Tensor) -> Tensor:
        """(N, H·W, H·W) attention weights: row i is where pixel i (row-major) reads from; rows sum to 1."""
        q = self.query(x).flatten(2)  # (N, C/8, HW)
        k = self.key(x).flatten(2)  # (N, C/8, HW)
        return torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (N, HW, HW)

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        v = self.value(x).flatten(2)  # (N, C/2, HW)
        attended = (v @ self.attention(x).transpose(1, 2)).reshape(n, -1, h, w)  # (N, C/2, H, W)
        return x + self.gamma * self.out(attended)
