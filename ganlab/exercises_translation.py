"""Self-checks for notebook 11's exercises: CycleGAN's cycle loss written by hand, a receptive field by hand.

``check(name, answer)`` prints ✓/✗ and why (``ganlab.exercises.run_check``); ``None`` means not answered yet,
so the notebook runs under nbval with the exercises left open.
  "11.cycle_loss"       ``fn(a, a_back, b, b_back)`` → scalar, against ``ganlab.translation.reconstruction_loss``;
  "11.receptive_field"  an int: the receptive field of ``PatchDiscriminator(n_layers=2)``, against
                        ``ganlab.nets.translation.receptive_field``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .exercises import run_check
from .nets.translation import PatchDiscriminator, receptive_field
from .translation import reconstruction_loss


def cycle_loss_verdict(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor | None]) -> tuple[bool, str]:
    """Whether ``answer(a, a_back, b, b_back)`` is E|a_back − a|₁ + E|b_back − b|₁; and the reason."""
    g = torch.Generator().manual_seed(11)
    for shape in ((4, 1, 6, 6), (2, 3, 5, 7)):
        a, a_back, b, b_back = (torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(4))
        b_back = b + 0.1 * b_back  # b nearly reconstructed, a not: the two halves differ in size
        got = answer(a, a_back, b, b_back)
        if got is None:
            return False, "your function returned None: return a scalar tensor"
        got = torch.as_tensor(got, dtype=torch.float64)
        want = reconstruction_loss(a, a_back, b, b_back)
        if got.numel() != 1:
            return False, f"you returned a tensor of shape {tuple(got.shape)}; average to a single number"
        if torch.allclose(got, want, rtol=1e-6):
            continue
        wrong = {
            "squared errors (an L2 loss); CycleGAN uses absolute errors, which blur less":
                (a_back - a).pow(2).mean() + (b_back - b).pow(2).mean(),
            "only the A → B → A cycle; add the B → A → B cycle": (a_back - a).abs().mean(),
            "sums over pixels; take the mean, so λ_cyc = 10 means the same at any image size":
                (a_back - a).abs().sum() + (b_back - b).abs().sum(),
            "averaged the two cycles; the loss adds them": ((a_back - a).abs().mean() + (b_back - b).abs().mean()) / 2,
        }
        for why, value in wrong.items():
            if torch.allclose(got, value, rtol=1e-6):
                return False, f"you computed {why}"
        return False, (f"got {got.item():.6g}, expected {want.item():.6g}: the mean absolute difference of each "
                       "image and its reconstruction, for both domains, added")
    return True, "right: both cycles, L1, averaged over pixels; the trainer multiplies it by λ_cyc = 10"


def receptive_field_verdict(answer: Any) -> tuple[bool, str]:
    """Whether ``answer`` is the receptive field (pixels per side) of ``PatchDiscriminator(n_layers=2)``."""
    want = receptive_field(PatchDiscriminator(1, 8, n_layers=2))
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        return False, f"answer a whole number of pixels, not {answer!r}"
    answer = int(answer)
    if answer == want:
        return True, (f"right: r = 1 + 3·(1 + 2 + 4 + 4) = {want}: four 4×4 layers, at input steps 1, 2, 4 and 4; more "
                      "than a 28×28 image, so near the middle each logit judges the whole garment")
    hints = {16: "that is n_layers = 1; n_layers = 2 has one more stride-2 layer",
             70: "that is n_layers = 3; n_layers = 2 has one stride-2 layer fewer",
             13: "you added the kernels once each (1 + 3·4); each layer counts its step: 1, 2, 4, 4"}
    return False, hints.get(answer, "grow r layer by layer: r += (k − 1) · (product of the strides before it), k = 4, "
                                    "strides 2, 2, 1, 1")


EXERCISES = {"11.cycle_loss": cycle_loss_verdict, "11.receptive_field": receptive_field_verdict}


def check(name: str, answer: Any) -> bool:
    """Check an answer to one of notebook 11's exercises; prints ✓/✗ and the reason, returns whether it is right."""
    return run_check(EXERCISES, name, answer)
