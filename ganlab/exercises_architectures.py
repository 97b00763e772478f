"""Self-check for notebook 10's code exercise: ``modulated_conv2d`` written by the learner.

``check_modulated_conv2d(fn)`` runs ``fn(x, weight, styles, demodulate)`` on random cases against
``ganlab.nets.layers.modulated_conv2d`` and returns (right?, why). ``None`` (an unanswered exercise, or a
function that returns None) gives a hint, not a failure, so the notebook runs under nbval with it left open.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .nets.style import modulated_conv2d

HINT = ("modulate: w'[n] = weight · styles[n] over the input channels (shape (N, C_out, C_in, k, k)); demodulate: "
        "divide each (n, out) filter by sqrt(Σ w'² + 1e-8); then fold the batch into groups: x as (1, N·C_in, H, W), "
        "w' as (N·C_out, C_in, k, k), F.conv2d(..., padding=k // 2, groups=N), and reshape to (N, C_out, H, W)")


def check_modulated_conv2d(fn: Callable[..., Tensor | None] | None) -> tuple[bool, str]:
    """(ok, message): does ``fn`` agree with the package's modulated_conv2d on shapes, values, and both modes?"""
    if fn is None:
        return False, "not answered yet. " + HINT
    g = torch.Generator().manual_seed(0)
    for n, c_in, c_out, k, demodulate in ((2, 3, 4, 3, True), (3, 5, 2, 1, True), (2, 4, 3, 3, False)):
        x = torch.randn(n, c_in, 6, 5, generator=g, dtype=torch.float64)
        weight = torch.randn(c_out, c_in, k, k, generator=g, dtype=torch.float64)
        styles = torch.rand(n, c_in, generator=g, dtype=torch.float64) * 2 + 0.1
        got = fn(x, weight, styles, demodulate)
        if got is None:
            return False, "your function returned None; it should return a tensor (N, C_out, H, W). " + HINT
        want = modulated_conv2d(x, weight, styles, demodulate)
        case = f"N={n}, C_in={c_in}, C_out={c_out}, k={k}, demodulate={demodulate}"
        if tuple(got.shape) != tuple(want.shape):
            return False, f"for {case} the output has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        if not torch.allclose(got.to(want.dtype), want, rtol=1e-6, atol=1e-8):
            plain = modulated_conv2d(x, weight, styles, not demodulate)
            if torch.allclose(got.to(want.dtype), plain, rtol=1e-6, atol=1e-8):
                return False, (f"for {case} you {'skipped' if demodulate else 'applied'} the demodulation; it "
                               f"should run only when demodulate=True")
            return False, (f"for {case} the values differ (largest gap {(got - want).abs().max().item():.3g}); "
                           "check that each sample uses its own styles (groups=N) and the padding k // 2")
    return True, ("right: one grouped convolution does N different convolutions at once, and demodulation makes "
                  "each output channel's weights have unit norm per sample")
