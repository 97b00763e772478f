"""Using a trained network on many inputs: in eval mode (BatchNorm's running statistics), in batches, no graph;
and recomputing those running statistics for the current weights when they lag behind (``refresh_batchnorm``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import update_bn


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


def has_batchnorm(net: nn.Module) -> bool:
    """True when ``net`` holds a BatchNorm layer that keeps running statistics."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats for m in net.modules())


@torch.no_grad()
def refresh_batchnorm(net: nn.Module, inputs: Tensor, batch_size: int = 256) -> nn.Module:
    """Recompute ``net``'s BatchNorm running statistics as plain averages over ``inputs`` (N, ...), in batches.

    Training keeps them as exponential averages (momentum 0.1) of batches seen under older weights; a net that
    moves fast lags behind, and eval mode then normalises with statistics of a net that no longer exists. This
    sets them to what the current weights give on ``inputs`` (``torch.optim.swa_utils.update_bn``; the weights,
    the momenta and the train/eval mode are left as they were). A net without BatchNorm is returned untouched.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a whole number >= 1, e.g. batch_size=256")
    if has_batchnorm(net):
        device = next((p.device for p in net.parameters()), inputs.device)
        update_bn((inputs[i:i + batch_size] for i in range(0, inputs.shape[0], batch_size)), net, device)
    return net
