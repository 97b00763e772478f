"""The fast path of ``Trainer.step``: the same updates, with the overhead around them taken out.

Everywhere (CPU, CUDA, MPS):
  - data resident on the device, batches are index slices drawn there (``ganlab.data``, ``real_batch``);
  - no host sync inside a step: statistics stay on the device until the trainer's log point;
  - losses on logits, ``zero_grad(set_to_none=True)``;
  - Adam's fused kernel (``adam_options``): one pass over each parameter instead of about seven
    separate element-wise passes; torch has it on CPU as well as CUDA.
  - optionally (``Trainer(channels_last=True)``, ``to_channels_last``), convolution weights and so activations
    in channels-last order: on the 2-core CPU the DCGAN step ran 1.14-1.17× faster; off by default.

On CUDA the whole step is, in addition, captured once as a CUDA graph and replayed: that machinery
lives in ``ganlab.graph``; this module holds what it builds on (``graph_safe``, ``eager_reason``,
``autocast``) and what every device uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

if TYPE_CHECKING:
    from .train import Trainer

BF16_DEVICES = ("cuda",)
GRAPH_SAFE = "graph_safe"  # attribute of a d_step/g_step that may be captured


def graph_safe(step: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a ``d_step``/``g_step`` as capturable: no host syncs, no Python branches on tensor values, and
    random draws only from torch's default generator (dropout), never from the trainer's ``rng``."""
    setattr(step, GRAPH_SAFE, True)
    return step


def adam_options(params: list[Tensor]) -> dict[str, Any]:
    """``{"fused": True}`` when every parameter is a float tensor on a device with fused Adam, else ``{}``.

    Fused Adam updates each parameter in one kernel (moments, bias correction, step). Measured on the MLP
    GAN at batch 64, one CPU thread: about 10 % more steps per CPU-second than torch's default loop.
    """
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

        devices = _get_fused_kernels_supported_devices()
    except ImportError:  # a private helper of torch: if it moves, fall back to the devices known to work
        devices = ["cpu", "cuda"]
    ok = bool(params) and all(p.is_floating_point() and p.device.type in devices for p in params)
    return {"fused": True} if ok else {}


@contextlib.contextmanager
def autocast(trainer: Trainer) -> Iterator[None]:
    """bf16 autocast of the step's forward passes when ``cfg.bf16`` is set and the trainer is on CUDA.

    Meant for the convolutional models (DCGAN), whose convolutions run on tensor cores in bf16; the
    losses run in float32 by autocast's own rules and the weights and Adam moments stay float32.
    Off by default and a no-op off CUDA. The weight-cast cache is off so the context can sit inside
    a CUDA-graph capture.

    Quality check: NOT MEASURED. It was written on a machine without a GPU; before turning it on for a
    notebook, compare the FID of a bf16 and a float32 DCGAN run of the same length and seed.
    """
    if trainer.cfg.bf16 and trainer.device.type in BF16_DEVICES:
        with torch.autocast(trainer.device.type, dtype=torch.bfloat16, cache_enabled=False):
            yield
    else:
        yield


def to_channels_last(*nets: nn.Module) -> bool:
    """Store the 4-D weights of ``nets`` (convolutions) channels-last, in place; True when any net has one.

    Convolutions then run on NHWC data, which the CPU's convolution kernels handle with fewer layout changes:
    measured on the 2-core development CPU (DCGAN, batch 64, steps taken in turns in one process), 1.17× the
    steps per second on one thread and 1.14× on two (``python -m ganlab.bench --models dcgan``). The values are
    the same up to float rounding (another summation order), which Adam can amplify over many steps as it does
    any rounding difference. Off by default: a switch-over moves every convolutional notebook's trajectory,
    and their checks were measured without it. torch.compile was measured slower here (0.78× on the MLP GAN,
    0.87× on DCGAN, one thread, after 35-70 s of compiling), so it is not used.
    """
    found = False
    for net in nets:
        if any(p.dim() == 4 for p in net.parameters()):
            net.to(memory_format=torch.channels_last)
            found = True
    return found


# Layers whose output for one sample depends on that sample alone, in training mode too.
_PER_SAMPLE_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Flatten, nn.Unflatten, nn.Identity,
                      nn.Sequential, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid,
                      nn.Softplus, nn.Dropout, nn.LayerNorm, nn.GroupNorm)


def per_sample(discriminator: nn.Module) -> bool:
    """True when row i of D's output depends on input row i alone, so real and fake may share a pass.

    Deliberately narrow: ganlab's MLP and toy discriminators built only from the layers above, with no
    hooks and no parametrization. BatchNorm (DCGAN), spectral norm (one power iteration per call) and
    minibatch features couple a batch or count calls, so those keep two passes.
    """
    from .nets import MLPDiscriminator, ToyDiscriminator

    if type(discriminator) not in (MLPDiscriminator, ToyDiscriminator):
        return False
    return all((m is discriminator or type(m) in _PER_SAMPLE_LAYERS)
               and not (m._forward_hooks or m._forward_pre_hooks or parametrize.is_parametrized(m))
               for m in discriminator.modules())


def discriminate(discriminator: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    """D's logits on real (N, ...) and fake (M, ...) batches: (N,), (M,).

    One forward pass over the concatenated batch when ``per_sample(D)``: the same values, but the
    layers run on one batch of N + M rows and backward needs no gradient accumulation between two
    graphs. Measured on the MLP GAN at batch 64, one CPU thread: about 5 % more steps per CPU-second.
    Otherwise two passes, D(real) then D(fake).
    """
    if real.shape[1:] == fake.shape[1:] and real.dtype == fake.dtype and per_sample(discriminator):
        logits = discriminator(torch.cat([real, fake]))
        return logits[:real.shape[0]], logits[real.shape[0]:]
    return discriminator(real), discriminator(fake)


def eager_reason(trainer: Trainer, allowed: bool = True, device_types: tuple[str, ...] = ("cuda",)
                 ) -> str | None:
    """Why this trainer's step cannot be captured as a CUDA graph right now; None when it can."""
    cfg = trainer.cfg
    if trainer.device.type not in device_types:
        return f"{trainer.device.type} has no CUDA graphs"
    if not allowed:
        return "CUDA graphs switched off (Trainer(cuda_graph=False))"
    unmarked = [name for name in ("d_step", "g_step") if not getattr(getattr(trainer, name), GRAPH_SAFE, False)]
    if unmarked:
        return f"a custom {'/'.join(unmarked)} may not be capturable (mark it with ganlab.fast.graph_safe)"
    drawn_inside = [name for name, on in (("instance_noise", cfg.instance_noise > 0),
                                          ("label_flip", cfg.label_flip > 0),
                                          (f"penalty={cfg.penalty!r}", cfg.penalty in ("gp", "lp"))) if on]
    if drawn_inside:
        return f"{', '.join(drawn_inside)} draw from the trainer's generator inside the step"
    for name, opt in (("opt_d", trainer.opt_d), ("opt_g", trainer.opt_g)):
        if not all(group.get("fused") for group in opt.param_groups):
            return f"{name} ({type(opt).__name__}) has no fused kernel to capture"
    return None
