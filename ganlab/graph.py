"""A step of ``Trainer`` captured as a CUDA graph and replayed, or run eagerly when it cannot be.

The eager fast path every device uses (resident data, fused Adam, one D pass where exact) is in
``ganlab.fast``; the decision whether a step may be captured is ``ganlab.fast.eager_reason``.

On CUDA, in addition, the whole step (``n_critic`` D updates and the G update) is captured once as a
CUDA graph and replayed (``CudaGraphStep``, driven by ``Stepper``): one launch instead of several hundred
kernel launches, which is what bounds a small GAN on a fast GPU. Only the random inputs (real batches, noise) are drawn
outside the graph, from the trainer's own generator in the eager order, and copied into the graph's
static input buffers, so a replayed step does the same arithmetic as an eager one.

A step is captured only when it can be replayed faithfully; otherwise it runs eagerly and
``Trainer.fast_path`` says why ("eager: <reason>"): not CUDA, switched off, a ``d_step``/``g_step`` not
marked graph-safe, random draws from the trainer's generator inside the step (instance noise, label flips,
the interpolates of gp/lp), an optimizer without a fused kernel, a host sync seen in the last warm-up
step, or a capture that failed (reported with its error, never retried for the same setup).

What may change between steps, and how it reaches the next step (the rule the graph keeps):
  - **Learning rates** (``group["lr"]``: ``LinearDecay``, ``update(lr_d=...)``, any schedule or callback):
    the captured optimizer step reads them from device tensors that are refilled before every replay,
    so a new value takes effect at the next step without a new capture.
  - **Everything else a user can change** is part of the setup fingerprint (``_Setup``), checked before
    every step; any difference drops the graph, and the step is captured again after a few eager
    warm-up steps: the config (``update``, or fields set directly), the other optimizer values (betas,
    eps, weight decay...), the model, optimizer and data objects, optimizer state (``load_state_dict``,
    divergence restore), parameters swapped for new tensors (``p.data = ...``), ``requires_grad``, hooks,
    and plain attributes of every module (e.g. ``Dropout.p``, ``LeakyReLU.negative_slope``).
  - Values changed **in place** in tensors the step reads (``p.copy_``, weight clipping, a running mean
    updated with ``add_``) are read by the replay as they are by an eager step.
  - Not seen: Python state hidden in closures or in objects other than the modules, optimizers and
    config (e.g. a number captured by a custom hook's lambda). After changing such a thing, call
    ``Trainer.drop_graph()``, or train with ``cuda_graph=False``.

A failed capture never breaks the run: the CUDA generator's state and the current stream are put back
as they were, and the step runs eagerly on the inputs it had drawn.

The logic is tested on the CPU with a stand-in backend that keeps CUDA-graph semantics (Python values
frozen at capture, tensors read at replay); tests/test_fast.py also checks graph against eager steps on
CUDA when a GPU is present (``make gpu-check``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .fast import autocast, eager_reason

if TYPE_CHECKING:
    from .train import Trainer

WARMUP_STEPS = 3  # eager steps on the capture stream before capture (lazy optimizer state, cuBLAS handles)


def _plain(value: Any) -> Any:
    """A comparable stand-in for a value: tensors by identity (comparing them would sync)."""
    return ("tensor", id(value)) if isinstance(value, Tensor) else value


_SCALARS = (bool, int, float, str, type(None))
_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks", "_modules",
          "_parameters", "_buffers")


def _optimizer_values(opt: torch.optim.Optimizer) -> tuple[Any, ...]:
    """Every param-group value except the learning rate (read live), and where the state tensors live."""
    groups = tuple((k, _plain(v)) for group in opt.param_groups for k, v in group.items()
                   if k not in ("params", "lr"))
    state = tuple(v.data_ptr() for s in opt.state.values() for v in s.values() if isinstance(v, Tensor))
    return groups, state, tuple(len(group["params"]) for group in opt.param_groups)


class _Setup:
    """What a captured graph depends on; the graph is valid only while all of it is unchanged.

    Taken once when a graph is planned, then checked before every step (``holds``): the trainer's
    models, optimizers, data and step functions by identity, and by value the config, every
    param-group entry but the learning rate (the captured step reads rates from device tensors), where
    the optimizer state, parameters and buffers live, ``requires_grad``, hook counts, each module's
    children and its plain attributes (``Dropout.p``...). The module list and attribute names are
    collected once, so a check costs tens of microseconds, not a walk over ``modules()``.
    """

    def __init__(self, t: Trainer) -> None:
        modules = [m for net in (t.generator, t.discriminator) for m in net.modules()]
        # Per module, one C-level getter for its plain attributes and its dicts of hooks, children,
        # parameters and buffers, so a check does no Python-level walk over modules().
        self.getters = [attrgetter(*[k for k, v in vars(m).items() if type(v) in _SCALARS], *_DICTS)
                        for m in modules]
        self.modules = modules
        self.objects = self._objects(t)
        self.values = self._values(t)

    @staticmethod
    def _objects(t: Trainer) -> tuple[Any, ...]:
        return (t.generator, t.discriminator, t.opt_g, t.opt_d, t.opt_g.state, t.opt_d.state,
                t.opt_g.param_groups, t.opt_d.param_groups, t.data, t.d_step, t.g_step, vars(t).get("updates"))

    def _values(self, t: Trainer) -> tuple[Any, ...]:
        modules: list[Any] = []
        for m, get in zip(self.modules, self.getters):
            *plain, forward, forward_pre, backward, backward_pre, children, params, buffers = get(m)
            modules.append((*plain, len(forward), len(forward_pre), len(backward), len(backward_pre),
                            *map(id, children.values())))
            modules.extend((p.data_ptr(), p.requires_grad, len(p._backward_hooks or ()))
                           for p in params.values() if p is not None)
            modules.extend(b.data_ptr() for b in buffers.values() if b is not None)
        return (getattr(t, "graph_generation", 0), repr(t.cfg), modules,
                _optimizer_values(t.opt_g), _optimizer_values(t.opt_d))

    def holds(self, t: Trainer) -> bool:
        """True when nothing the graph depends on has changed since this setup was taken."""
        return all(a is b for a, b in zip(self.objects, self._objects(t))) and self._values(t) == self.values


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

    @contextlib.contextmanager
    def watch_syncs(self, device: torch.device) -> Iterator[list[str]]:
        """Run the body with torch's sync debug mode on "warn"; the list gets one line per host sync seen.

        A host sync (``.item()``, a device-to-host copy, ``nonzero``) cannot be captured; seeing it in an
        eager warm-up step lets the stepper stay eager instead of attempting a capture that must fail.
        """
        found: list[str] = []
        before = torch.cuda.get_sync_debug_mode()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                yield found
            finally:
                torch.cuda.set_sync_debug_mode(before)
        found.extend(str(w.message).splitlines()[0] for w in caught if "synchroniz" in str(w.message).lower())

    def capture(self, body: Callable[[], Tensor], stream: Any, device: torch.device) -> tuple[Any, Tensor]:
        """Record ``body`` (nothing runs yet) as a graph; returns it and ``body``'s static output.

        On failure the current stream and torch's CUDA generator (dropout draws from it) are put back:
        ``torch.cuda.graph`` skips restoring the stream when ending the capture fails, and it leaves the
        generator in capture mode, so the next eager dropout would raise "Offset increment outside graph
        capture encountered unexpectedly".
        """
        index = device.index if device.index is not None else torch.cuda.current_device()
        generator = torch.cuda.default_generators[index]
        saved = generator.clone_state() if hasattr(generator, "clone_state") else None  # torch >= 2.4
        previous = torch.cuda.current_stream(device)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, stream=stream):
                out = body()
        except BaseException:
            torch.cuda.set_stream(previous)
            if saved is not None:
                generator.graphsafe_set_state(saved)
            raise
        return graph, out

    def synchronize(self, device: torch.device) -> None:
        torch.cuda.synchronize(device)


class CudaGraphStep:
    """One trainer step captured as a CUDA graph: warm up eagerly, capture once, then replay.

    The first ``WARMUP_STEPS`` calls are ordinary eager steps run on a side stream (they train, they are
    not thrown away); the last of them is watched for host syncs. The next call draws its inputs,
    captures ``trainer.updates`` on static copies of them, and replays the graph; later calls copy fresh
    inputs and the current learning rates into the static buffers and replay.
    Returns the step's statistics (len(STATS),) as a fresh device tensor, without a host sync.
    """

    def __init__(self, trainer: Trainer, backend: CudaGraphs) -> None:
        self.setup = _Setup(trainer)
        self.backend = backend
        self.stream = backend.new_stream(trainer.device)
        self.warm = 0
        self.graph: Any = None
        self.inputs: tuple[list[Tensor], list[Tensor], Tensor] | None = None
        self.stats: Tensor | None = None
        self.lrs: list[tuple[dict[str, Any], Tensor]] = []  # (param group, the device lr the graph reads)

    def __call__(self, t: Trainer) -> Tensor:
        reals, zs, z_g = t.inputs()  # drawn on the current stream, in the eager order
        if self.warm < WARMUP_STEPS:
            self.warm += 1
            watch = self.backend.watch_syncs(t.device) if self.warm == WARMUP_STEPS else contextlib.nullcontext([])
            with self.backend.on_side_stream(self.stream, t.device), autocast(t), watch as syncs:
                stats = t.updates(reals, zs, z_g)
            self.backend.hand_over(stats, t.device)
            if syncs:
                raise HostSync(syncs[0], stats)
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
        for group, lr in self.lrs:
            lr.fill_(group["lr"])  # a kernel launch with the value as its argument: no sync
        self.graph.replay()
        return self.stats.clone()

    def _capture(self, t: Trainer, reals: list[Tensor], zs: list[Tensor], z_g: Tensor) -> None:
        # Own copies become the static input buffers (a real batch could be a view into the data set).
        reals, zs, z_g = [r.clone() for r in reals], [z.clone() for z in zs], z_g.clone()
        # Gradients set to None so that backward allocates them from the graph's private pool.
        t.opt_d.zero_grad(set_to_none=True)
        t.opt_g.zero_grad(set_to_none=True)
        groups = [group for opt in (t.opt_d, t.opt_g) for group in opt.param_groups]
        # CUDA's fused Adam reads a float32 rate (the nearest float32 to the group's value: a relative
        # difference below 6e-8, far under the step's own float32 rounding); elsewhere keep float64.
        dtype = torch.float32 if t.device.type == "cuda" else torch.float64
        self.lrs = [(group, torch.tensor(float(group["lr"]), device=t.device, dtype=dtype)) for group in groups]

        def body() -> Tensor:
            with autocast(t):
                return t.updates(reals, zs, z_g)

        with _capturable(t.opt_d, t.opt_g), _live_lr(self.lrs):
            self.graph, self.stats = self.backend.capture(body, self.stream, t.device)
        self.inputs = (reals, zs, z_g)  # the graph reads these buffers on every replay

    def release(self, t: Trainer) -> None:
        """Drop the graph and the gradients that live in its memory pool."""
        self.graph = self.inputs = self.stats = None
        self.lrs = []
        for module in (t.generator, t.discriminator):
            for p in module.parameters():
                p.grad = None


class HostSync(RuntimeError):
    """A warm-up step synchronised with the host, so the step cannot be captured; it ran to the end
    eagerly, and ``stats`` are its statistics."""

    def __init__(self, sync: str, stats: Tensor) -> None:
        super().__init__(sync)
        self.stats = stats


@contextlib.contextmanager
def _live_lr(lrs: list[tuple[dict[str, Any], Tensor]]) -> Iterator[None]:
    """Give the optimizers device tensors as learning rates while capturing, so the graph reads the rate
    from memory instead of baking in a number; the groups get their plain floats back afterwards."""
    before = [group["lr"] for group, _ in lrs]
    for group, lr in lrs:
        group["lr"] = lr
    try:
        yield
    finally:
        for (group, _), value in zip(lrs, before):
            group["lr"] = value


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
        if reason is None and self.failure is not None and self.failure[0].holds(t):
            return self.failure[1]
        return reason

    def describe(self, t: Trainer) -> str:
        reason = self.reason(t)
        return "cuda-graph" if reason is None else f"eager: {reason}"

    def __call__(self, t: Trainer) -> Tensor:
        """Run one step's updates on fresh inputs; returns the statistics (len(STATS),) on the device."""
        if self.reason(t) is None:
            if self.graph_step is None or not self.graph_step.setup.holds(t):
                self.release(t)
                self.graph_step = CudaGraphStep(t, self.backend)
            setup = self.graph_step.setup
            try:
                return self.graph_step(t)
            except HostSync as sync:  # the warm-up step ran to the end; its statistics are in the model
                self.failure = (setup, f"the step synchronises with the host ({sync}); it cannot be captured")
                self.release(t)
                return sync.stats
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
