"""Self-checks for the DCGAN notebook's exercises: ``check(name, answer)`` says right or wrong, and why.

Same habits as ``ganlab.exercises``: an unanswered exercise (``None``, or a function that returns ``None``)
prints a hint instead of failing, so the notebook runs under nbval with the exercises left open.

- ``"dcgan.output_size"``: ``transposed_output_size(h, k, s, p, output_padding)`` → int, checked against the
  shape ``torch.nn.ConvTranspose2d`` really produces.
- ``"dcgan.transposed_conv"``: ``transposed_conv(x, w, stride, padding)`` for x (N, C_in, H, W) and
  w (C_in, C_out, k, k) → (N, C_out, H_out, W_out), checked against ``torch.nn.functional.conv_transpose2d``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

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
    "dcgan.transposed_conv": _transposed_conv,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise named {name!r}; known: {sorted(EXERCISES)}")
    if answer is None:
        print(f"… {name}: not answered yet")
        return False
    ok, why = EXERCISES[name](answer)
    print(f"{'✓' if ok else '✗'} {name}: {why}")
    return ok


__all__ = ["EXERCISES", "check", "SIZE_CASES", "CONV_CASES"]
