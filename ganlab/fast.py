"""The fast path of ``Trainer.step``: the same updates, with the overhead around them taken out.

Everywhere (CPU, CUDA, MPS):
  - data resident on the device, batches are index slices drawn there (``ganlab.data``, ``real_batch``);
  - no host sync inside a step: statistics stay on the device until the trainer's log point;
  - losses on logits, ``zero_grad(set_to_none=True)``;
  - Adam's fused kernel (``adam_options``): one pass over each parameter instead of about seven
    separate element-wise passes; torch has it on CPU as well as CUDA.

On CUDA, in addition, the whole step (``n_critic`` D updates and the G update) is captured once as a
CUDA graph and replayed (``CudaGraphStep``): one launch instead of several hundred kernel launches,
which is what bounds a small GAN on a fast GPU. Only the random inputs (real batches, noise) are drawn
outside the graph, from the trainer's own generator in the eager order, and copied into the graph's
static input buffers, so a replayed step does the same arithmetic as an eager one.

A step is captured only when it can be replayed faithfully; otherwise it runs eagerly and
``Trainer.fast_path`` says why ("eager: <reason>"): not CUDA, switched off, custom ``d_step``/``g_step``,
random draws from the trainer's generator inside the step (instance noise, label flips, the
interpolates of gp/lp), an optimizer without a fused kernel, or a capture that failed (reported with
its error, never retried for the same setup). Any change of config, models, optimizers or optimizer
state (``update``, ``load_state_dict``, divergence restore) drops the graph; it is rebuilt after a few
eager warm-up steps.

NOTE: the CUDA-graph path was written against the PyTorch docs ("CUDA Graphs", whole-network capture)
without a GPU to run it on; tests/test_fast.py checks it against eager steps when CUDA is present.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

if TYPE_CHECKING:
    from .train import Trainer

WARMUP_STEPS = 3  # eager steps on the capture stream before capture (lazy optimizer state, cuBLAS handles)
BF16_DEVICES = ("cuda",)


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
    from . import train

    cfg = trainer.cfg
    if trainer.device.type not in device_types:
        return f"{trainer.device.type} has no CUDA graphs"
    if not allowed:
        return "CUDA graphs switched off (Trainer(cuda_graph=False))"
    if trainer.d_step is not train.d_step or trainer.g_step is not train.g_step:
        return "a custom d_step/g_step may not be capturable"
    drawn_inside = [name for name, on in (("instance_noise", cfg.instance_noise > 0),
                                          ("label_flip", cfg.label_flip > 0),
                                          (f"penalty={cfg.penalty!r}", cfg.penalty in ("gp", "lp"))) if on]
    if drawn_inside:
        return f"{', '.join(drawn_inside)} draw from the trainer's generator inside the step"
    for name, opt in (("opt_d", trainer.opt_d), ("opt_g", trainer.opt_g)):
        if not all(group.get("fused") for group in opt.param_groups):
            return f"{name} ({type(opt).__name__}) has no fused kernel to capture"
    return None


@dataclass(frozen=True)
class _Setup:
    """What a captured graph depends on; the graph is valid only while all of it is unchanged."""

    cfg: Any
    objects: tuple[Any, ...]  # models, optimizers, their state and groups, data, step functions

    @classmethod
    def of(cls, t: Trainer) -> _Setup:
        return cls(t.cfg, (t.generator, t.discriminator, t.opt_g, t.opt_d, t.opt_g.state, t.opt_d.state,
                           t.opt_g.param_groups, t.opt_d.param_groups, t.data, t.d_step, t.g_step))

    def same(self, other: _Setup | None) -> bool:
        return (other is not None and self.cfg == other.cfg
                and all(a is b for a, b in zip(self.objects, other.objects)))


class CaptureFailed(RuntimeError):
    """Capturing the step failed; carries the error and the step's already drawn inputs."""

    def __init__(self, error: Exception, inputs: tuple[list[Tensor], list[Tensor], Tensor]) -> None:
        super().__init__(str(error))
        self.error, self.inputs = error, inputs


class CudaGraphs:
    """Every CUDA-specific call ``CudaGraphStep`` makes, in one place (tests put a CPU stand-in here)."""

    device_types = ("cuda",)

    def new_stream(self, device: torch.device) -> Any:
        return torch.cuda.Stream(device)

    @contextlib.contextmanager
    def on_side_stream(self, stream: Any, device: torch.device) -> Iterator[None]:
        """Run the body on ``stream``, ordered after the current stream's work and before its next work."""
        current = torch.cuda.current_stream(device)
        stream.wait_stream(current)
        with torch.cuda.stream(stream):
            yield
        current.wait_stream(stream)

    def hand_over(self, tensor: Tensor, device: torch.device) -> None:
        """A tensor made on the side stream will be read on the current one: tell the allocator."""
        tensor.record_stream(torch.cuda.current_stream(device))

    def capture(self, body: Callable[[], Tensor], stream: Any) -> tuple[Any, Tensor]:
        """Record ``body`` (nothing runs yet) as a graph; returns it and ``body``'s static output."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            out = body()
        return graph, out

    def synchronize(self, device: torch.device) -> None:
        torch.cuda.synchronize(device)


class CudaGraphStep:
    """One trainer step captured as a CUDA graph: warm up eagerly, capture once, then replay.

    The first ``WARMUP_STEPS`` calls are ordinary eager steps run on a side stream (they train, they are
    not thrown away). The next call draws its inputs, captures ``trainer.updates`` on static copies of
    them, and replays the graph; later calls copy fresh inputs into the static buffers and replay.
    Returns the step's statistics (len(STATS),) as a fresh device tensor, without a host sync.
    """

    def __init__(self, trainer: Trainer, backend: CudaGraphs) -> None:
        self.setup = _Setup.of(trainer)
        self.backend = backend
        self.stream = backend.new_stream(trainer.device)
        self.warm = 0
        self.graph: Any = None
        self.inputs: tuple[list[Tensor], list[Tensor], Tensor] | None = None
        self.stats: Tensor | None = None

    def __call__(self, t: Trainer) -> Tensor:
        reals, zs, z_g = t.inputs()  # drawn on the current stream, in the eager order
        if self.warm < WARMUP_STEPS:
            self.warm += 1
            with self.backend.on_side_stream(self.stream, t.device), autocast(t):
                stats = t.updates(reals, zs, z_g)
            self.backend.hand_over(stats, t.device)
            return stats
        if self.graph is None:
            try:
                self._capture(t, reals, zs, z_g)
            except Exception as err:  # whatever stops a capture, the step itself can still run eagerly
                raise CaptureFailed(err, (reals, zs, z_g)) from err
        else:
            static_reals, static_zs, static_z_g = self.inputs
            for static, new in zip([*static_reals, *static_zs, static_z_g], [*reals, *zs, z_g]):
                static.copy_(new)
        self.graph.replay()
        return self.stats.clone()

    def _capture(self, t: Trainer, reals: list[Tensor], zs: list[Tensor], z_g: Tensor) -> None:
        # Own copies become the static input buffers (a real batch could be a view into the data set).
        reals, zs, z_g = [r.clone() for r in reals], [z.clone() for z in zs], z_g.clone()
        # Gradients set to None so that backward allocates them from the graph's private pool.
        t.opt_d.zero_grad(set_to_none=True)
        t.opt_g.zero_grad(set_to_none=True)

        def body() -> Tensor:
            with autocast(t):
                return t.updates(reals, zs, z_g)

        with _capturable(t.opt_d, t.opt_g):
            self.graph, self.stats = self.backend.capture(body, self.stream)
        self.inputs = (reals, zs, z_g)  # the graph reads these buffers on every replay

    def release(self, t: Trainer) -> None:
        """Drop the graph and the gradients that live in its memory pool."""
        self.graph = self.inputs = self.stats = None
        for module in (t.generator, t.discriminator):
            for p in module.parameters():
                p.grad = None


@contextlib.contextmanager
def _capturable(*optimizers: torch.optim.Optimizer) -> Iterator[None]:
    """Mark the optimizers capturable for the capture only, so checkpoints never store the flag.

    The fused kernels read the step count from the device either way; the flag only lets ``step``
    be recorded (torch refuses to capture an optimizer that is not marked capturable).
    """
    groups = [group for opt in optimizers for group in opt.param_groups]
    before = [group.get("capturable", False) for group in groups]
    for group in groups:
        group["capturable"] = True
    try:
        yield
    finally:
        for group, flag in zip(groups, before):
            group["capturable"] = flag


class Stepper:
    """What ``Trainer.step`` calls: a captured CUDA graph when the setup allows, else the eager updates."""

    def __init__(self, cuda_graph: bool = True, backend: CudaGraphs | None = None) -> None:
        self.cuda_graph = cuda_graph
        self.backend = backend if backend is not None else CudaGraphs()
        self.graph_step: CudaGraphStep | None = None
        self.failure: tuple[_Setup, str] | None = None  # a capture that failed, and for which setup

    def reason(self, t: Trainer) -> str | None:
        """Why the next step runs eagerly (None: it runs as a CUDA graph)."""
        reason = eager_reason(t, self.cuda_graph, self.backend.device_types)
        if reason is None and self.failure is not None and self.failure[0].same(_Setup.of(t)):
            return self.failure[1]
        return reason

    def describe(self, t: Trainer) -> str:
        reason = self.reason(t)
        return "cuda-graph" if reason is None else f"eager: {reason}"

    def __call__(self, t: Trainer) -> Tensor:
        """Run one step's updates on fresh inputs; returns the statistics (len(STATS),) on the device."""
        if self.reason(t) is None:
            setup = _Setup.of(t)
            if self.graph_step is None or not self.graph_step.setup.same(setup):
                self.release(t)
                self.graph_step = CudaGraphStep(t, self.backend)
            try:
                return self.graph_step(t)
            except CaptureFailed as failed:
                self.backend.synchronize(t.device)
                err = failed.error
                self.failure = (setup, f"CUDA-graph capture failed ({type(err).__name__}: "
                                       f"{str(err).splitlines()[0] if str(err) else ''})")
                self.release(t)
                with autocast(t):
                    return t.updates(*failed.inputs)  # nothing ran during the capture: do this step now
        elif self.graph_step is not None:
            self.release(t)
        with autocast(t):
            return t.updates(*t.inputs())

    def release(self, t: Trainer) -> None:
        if self.graph_step is not None:
            self.graph_step.release(t)
            self.graph_step = None
