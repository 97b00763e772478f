"""Self-checks for the DCGAN notebook's exercises: ``check(name, answer)`` says right or wrong, and why.

Same habits as ``ganlab.exercises``: an unanswered exercise (``None``, or a function that returns ``None``)
prints a hint instead of failing, so the notebook runs under nbval with the exercises left open.

- ``"dcgan.output_size"``: ``transposed_output_size(h, k, s, p, output_padding)`` → int, checked against the
  shape ``torch.nn.ConvTranspose2d`` really produces.
- ``"dcgan.generator_block"``: ``generator_block(c_in, c_out)`` → a module taking (N, c_in, H, W) to
  (N, c_out, 2H, 2W) that follows the DCGAN guidelines (learned or resize upsampling with no uneven overlap,
  BatchNorm, ReLU; no pooling, no fully connected layer).
- ``"dcgan.transposed_conv"``: ``transposed_conv(x, w, stride, padding)`` for x (N, C_in, H, W) and
  w (C_in, C_out, k, k) → (N, C_out, H_out, W_out), checked against ``torch.nn.functional.conv_transpose2d``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .exercises import run_check

# (h, k, s, p, output_padding): the DCGAN layers first, then cases where a wrong formula shows
SIZE_CASES = ((1, 7, 1, 0, 0), (7, 4, 2, 1, 0), (14, 4, 2, 1, 0), (7, 3, 2, 1, 1), (5, 3, 2, 0, 0),
              (4, 5, 3, 2, 2), (10, 2, 2, 0, 0), (3, 6, 4, 1, 3), (8, 3, 1, 1, 0))
# (N, C_in, C_out, H, W, k, stride, padding)
CONV_CASES = ((2, 3, 4, 5, 5, 4, 2, 1), (1, 2, 3, 4, 6, 3, 2, 0), (2, 1, 2, 3, 3, 3, 1, 1), (1, 2, 2, 4, 4, 5, 3, 2))


def _output_size(answer: Callable[..., Any]) -> tuple[bool, str]:
    for h, k, s, p, op in SIZE_CASES:
        layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op)
        want = layer(torch.zeros(1, 1, h, h)).shape[-1]
        got = answer(h, k, s, p, op)
        if got is None:
            return False, "your function returned None; it should return the output height, an integer"
        if got != want:
            hint = (" (did you leave out output_padding?)" if got == want - op else
                    " (the padding is taken off both sides: − 2p)" if got == want + p else "")
            return False, (f"for H={h}, k={k}, s={s}, p={p}, output_padding={op} you returned {got}, but "
                           f"ConvTranspose2d gives {want}{hint}: each of the H inputs moves the kernel s pixels on, "
                           f"so the kernel's footprints span (H − 1)·s + k before p is cut from each side")
    return True, ("H_out = (H − 1)·s − 2p + k + output_padding: the inverse of a convolution's "
                  "⌊(H + 2p − k)/s⌋ + 1, with output_padding choosing among the sizes the floor merges")


BLOCK_CASES = ((8, 4, 7), (4, 2, 14), (3, 5, 5))  # (c_in, c_out, H)


def _generator_block(answer: Callable[[int, int], Any]) -> tuple[bool, str]:
    from torch import nn

    for c_in, c_out, h in BLOCK_CASES:
        block = answer(c_in, c_out)
        if block is None:
            return False, "your function returned None; it should return an nn.Module (e.g. an nn.Sequential)"
        if not isinstance(block, nn.Module):
            return False, f"generator_block({c_in}, {c_out}) returned a {type(block).__name__}, not an nn.Module"
        layers = list(block.modules())
        kinds = {type(m) for m in layers}
        for bad, why in ((nn.Linear, "no fully connected hidden layers"), (nn.MaxPool2d, "no pooling"),
                         (nn.AvgPool2d, "no pooling"), (nn.LeakyReLU, "ReLU in G (LeakyReLU belongs to D)")):
            if bad in kinds:
                return False, f"your block has a {bad.__name__}; the DCGAN generator uses {why}"
        uneven = [m for m in layers if isinstance(m, nn.ConvTranspose2d) and m.kernel_size[0] % m.stride[0]]
        if uneven:
            m = uneven[0]
            return False, (f"ConvTranspose2d with kernel {m.kernel_size[0]} and stride {m.stride[0]}: the stamps "
                           f"overlap unevenly and draw a checkerboard; use a kernel divisible by the stride (4, 2, 1) "
                           f"or nearest upsampling then a stride-1 convolution")
        if not any(isinstance(m, nn.BatchNorm2d) and m.num_features == c_out for m in layers):
            return False, f"your block needs a BatchNorm2d({c_out}) between the convolution and the ReLU"
        if nn.ReLU not in kinds:
            return False, "your block should end in a ReLU (the generator's hidden activation)"
        block.train()
        x = torch.randn(6, c_in, h, h, generator=torch.Generator().manual_seed(c_in))
        try:
            y = block(x)
        except RuntimeError as err:
            return False, f"generator_block({c_in}, {c_out}) failed on an input {tuple(x.shape)}: {err}"
        if tuple(y.shape) != (6, c_out, 2 * h, 2 * h):
            return False, (f"generator_block({c_in}, {c_out}) maps {tuple(x.shape)} to {tuple(y.shape)}, expected "
                           f"{(6, c_out, 2 * h, 2 * h)}: with k = 4, s = 2 the padding that doubles H is p = 1, "
                           f"since (H − 1)·2 − 2p + 4 = 2H")
        if y.min() < 0:
            return False, "your block's output has negative values; the ReLU should come last"
    return True, ("upsample ×2 (transposed 4/2/1 or resize + 3×3), BatchNorm, ReLU: the hidden block of "
                  "DCGAN's generator")


def _transposed_conv(answer: Callable[..., Any]) -> tuple[bool, str]:
    g = torch.Generator().manual_seed(0)
    for n, c_in, c_out, h, w_, k, s, p in CONV_CASES:
        x = torch.randn(n, c_in, h, w_, generator=g, dtype=torch.float64)
        w = torch.randn(c_in, c_out, k, k, generator=g, dtype=torch.float64)
        want = F.conv_transpose2d(x, w, stride=s, padding=p)
        got = answer(x, w, s, p)
        where = f"x {tuple(x.shape)}, w {tuple(w.shape)}, stride {s}, padding {p}"
        if got is None:
            return False, "your function returned None; it should return a tensor (N, C_out, H_out, W_out)"
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return False, (f"for {where} you returned {shape}, expected {tuple(want.shape)}: insert s − 1 zeros "
                           f"between inputs, pad each side with k − 1 − p, then convolve with stride 1")
        if torch.allclose(got.to(want.dtype), want, rtol=1e-6, atol=1e-8):
            continue
        flipped = F.conv_transpose2d(x, w.flip(-1, -2), stride=s, padding=p)
        hint = (" — the kernel must be flipped (and its in/out channels swapped) before conv2d"
                if torch.allclose(got.to(want.dtype), flipped, rtol=1e-6, atol=1e-8) else "")
        err = (got.to(want.dtype) - want).abs().max().item()
        return False, f"for {where} your values differ from conv_transpose2d by up to {err:.3g}{hint}"
    return True, ("a transposed convolution is zero insertion plus an ordinary convolution with the flipped "
                  "kernel; frameworks skip the zeros, but the result is the same")


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "dcgan.output_size": _output_size,
    "dcgan.generator_block": _generator_block,
    "dcgan.transposed_conv": _transposed_conv,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    return run_check(EXERCISES, name, answer)


__all__ = ["EXERCISES", "check", "SIZE_CASES", "CONV_CASES", "BLOCK_CASES"]
