"""Self-check for notebook 05's code exercise: the minibatch standard deviation feature, written by hand.

``check_minibatch_std(fn)`` runs a learner's ``fn(h)`` on a few batches and compares it with
``ganlab.nets.remedies.MinibatchStd`` (one group: the whole batch), printing ✓ or ✗ and why.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .exercises import run_check
from .nets.remedies import MinibatchStd


def _batches() -> list[Tensor]:
    """Test batches (N, F): spread out, nearly collapsed (every row almost the same), and a single column."""
    g = torch.Generator().manual_seed(5)
    spread = torch.randn(16, 6, generator=g) * torch.arange(1.0, 7.0)  # features of different scales
    collapsed = torch.ones(8, 4) + 1e-3 * torch.randn(8, 4, generator=g)
    return [spread, collapsed, torch.randn(5, 1, generator=g)]


def minibatch_std_verdict(answer: Callable[[Tensor], Tensor | None]) -> tuple[bool, str]:
    """Whether ``answer(h)`` (N, F) → (N, F + 1) appends the batch's mean feature std; and the reason."""
    reference = MinibatchStd(group_size=0)
    for h in _batches():
        got = answer(h.clone())
        if got is None:
            return False, "your function returned None; it should return a tensor of shape (N, F + 1)"
        want = reference(h)
        if not isinstance(got, Tensor) or tuple(got.shape) != tuple(want.shape):
            shape = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
            return False, (f"for h of shape {tuple(h.shape)} you returned {shape}; "
                           f"append one column: {tuple(want.shape)}")
        if not torch.allclose(got[:, :-1], h):
            return False, "the first F columns must be h itself, unchanged; the new feature goes last"
        if not torch.allclose(got[:, -1], want[:, -1], rtol=1e-4, atol=1e-6):
            spread = got[:, -1].max() - got[:, -1].min()
            hint = ("every sample should get the same value (one number for the whole batch)" if spread > 1e-6 else
                    "take each feature's std over the batch (dim 0, the biased 1/N form, + 1e-8 under the root), "
                    "then average over the features")
            return False, f"new column {got[0, -1].item():.6g}, expected {want[0, -1].item():.6g}: {hint}"
    return True, ("a collapsed batch gets a feature near 0, a spread one does not: D can tell them apart, and G's "
                  "gradient through this column pushes its samples apart")


def check_minibatch_std(answer: Callable[[Tensor], Tensor | None] | None) -> bool:
    """Print ✓ or ✗ (with the reason) for a hand-written minibatch std feature; return whether it is right."""
    return run_check({"05.minibatch_std": minibatch_std_verdict}, "05.minibatch_std", answer)
