"""Using a trained network on many inputs: in eval mode (BatchNorm's running statistics), in batches, no graph."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


@torch.no_grad()
def apply_in_batches(fn: Callable[[Tensor], Tensor], inputs: Tensor, *nets: nn.Module,
                     batch_size: int = 500) -> Tensor:
    """``fn`` over ``inputs`` (N, ...) in batches of ``batch_size``, concatenated as float32 on the CPU: (N, ...).

    Every module in ``nets`` (or ``fn`` itself when it is a module and ``nets`` is empty) is put in eval mode for the
    call and back in the mode it had afterwards; inputs go to the device of the nets' first parameter, if any.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a whole number >= 1, e.g. batch_size=500")
    nets = nets or ((fn,) if isinstance(fn, nn.Module) else ())
    modes = [net.training for net in nets]
    device = next((p.device for net in nets for p in net.parameters()), inputs.device)
    for net in nets:
        net.eval()
    try:
        return torch.cat([fn(inputs[i:i + batch_size].to(device)).float().cpu()
                          for i in range(0, inputs.shape[0], batch_size)])
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)
