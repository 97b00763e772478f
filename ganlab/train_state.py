"""A trainer's state: what a checkpoint and a divergence restore hold, and how a config change reaches it.

``capture(t)`` returns a plain dict (tensors, numbers, strings) with everything needed to continue
exactly: the config it was taken with, the weights, the optimizers' moments, the random states and the
device they were drawn on, the data position, the history, the fixed noise, and the state of every part
registered with ``Trainer.register_state`` (a remedy's replay buffer or running averages).

``restore(t, state)`` puts all of it back in one go, so afterwards ``t.cfg``, the optimizers and the
weights agree: the optimizers are rebuilt when the state's config names another kind (a restore point
taken under Adam, loaded after ``update(optimizer="sgd")``), their learning rates are the state's, and
spectral norm is switched to the state's setting before its weights are loaded. The trainer keeps its
own device: a state taken on another device (a CUDA checkpoint opened on a CPU-only machine) has its
tensors moved, and since one device's random-generator state cannot seed another's, the trainer's
generator is then re-seeded with ``cfg.seed + step``, with a warning that the random stream differs.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .checkpoint import read_checkpoint
from .config import BUILD_FIELDS, GANConfig, resolve_device
from .fast import adam_options
from .nets import set_spectral_norm

if TYPE_CHECKING:
    from .train import Trainer

LIVE_FIELDS = tuple(f.name for f in dataclasses.fields(GANConfig) if f.name not in BUILD_FIELDS)
STATS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")
_DEVICE_FLAGS = ("fused", "foreach", "capturable")  # how this machine runs an optimizer, not what it learned


def make_optimizer(name: str, params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam (with ``betas``; fused where torch has the kernel), plain SGD or RMSprop, by name."""
    params = list(params)
    table: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "adam": lambda: torch.optim.Adam(params, lr=lr, betas=betas, **adam_options(params)),
        "sgd": lambda: torch.optim.SGD(params, lr=lr),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr),
    }
    return table[name]()


def drain(pending: list[Tensor], step_count: int) -> tuple[Tensor, int, tuple[int, int] | None]:
    """The statistics waiting on the device, copied to the host in one sync; ``pending`` is emptied.

    ``pending`` holds one (n_stats,) tensor per step, the last of them step ``step_count``. Returns the stats
    (steps, n_stats) on the CPU, the step number of their first row, and (row, column) of the first NaN or inf
    (None when all are finite). Shared by every trainer's ``flush``.
    """
    stats = torch.stack(pending).cpu()
    first = step_count - len(pending) + 1
    pending.clear()
    bad = (~torch.isfinite(stats)).nonzero()
    return stats, first, (tuple(bad[0].tolist()) if len(bad) else None)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the trainer has been put back to its last checked state, config included."""


def diverged(names: tuple[str, ...], stats: Tensor, first: int, bad: tuple[int, int], restored_to: int,
             advice: str, undone: list[str] | tuple[str, ...] = ()) -> TrainingDiverged:
    """The error a trainer raises after ``drain`` found ``bad`` and the trainer was restored to ``restored_to``.

    It names the statistic, its value and step, the step restored to, any config values the restore undid
    (``undone``, as "name old → new"), and ``advice``.
    """
    row, col = bad
    config = f", with the config it had then ({'; '.join(undone)})" if undone else ""
    return TrainingDiverged(f"{names[col]} became {stats[row, col].item()} at step {first + row}; the trainer was "
                            f"restored to step {restored_to}, its last checked good state{config}. {advice}")


def extend_history(history: dict[str, list[float]], keys: tuple[str, ...], stats: Tensor) -> None:
    """Append each column of ``stats`` (steps, len(keys)) to ``history[key]``."""
    for i, key in enumerate(keys):
        history[key] += stats[:, i].tolist()


def check_live(old: GANConfig, new: GANConfig) -> None:
    """Refuse a change of a field the trainer was built from (``config.BUILD_FIELDS``), naming what can change."""
    fixed = [name for name in BUILD_FIELDS if getattr(old, name) != getattr(new, name)]
    if fixed:
        raise ValueError(f"update cannot change {', '.join(fixed)}: the nets, the data and the seeded start were "
                         f"built from them. It changes these live: {', '.join(LIVE_FIELDS)}. For a new "
                         f"{fixed[0]}, build a new Trainer, e.g. Trainer(dataclasses.replace(trainer.cfg, "
                         f"{fixed[0]}=...)) (ganlab.remedies.build_trainer for remedies)")


def apply_config(t: Trainer, new: GANConfig) -> None:
    """Make ``new`` the trainer's config: optimizers of its kind and learning rates, spectral norm on or off."""
    if new.spectral_norm != t.cfg.spectral_norm:
        set_spectral_norm(t.discriminator, new.spectral_norm)  # same Parameter objects: moments carry on
    if new.optimizer != t.cfg.optimizer:
        t.opt_g = make_optimizer(new.optimizer, t.generator.parameters(), new.lr_g, new.betas)
        t.opt_d = make_optimizer(new.optimizer, t.discriminator.parameters(), new.lr_d, new.betas)
    for opt, lr in ((t.opt_g, new.lr_g), (t.opt_d, new.lr_d)):
        for group in opt.param_groups:
            group["lr"] = lr
            if "betas" in group:
                group["betas"] = new.betas
    t.cfg = new


def capture(t: Trainer) -> dict[str, Any]:
    """Everything needed to continue exactly (see the module docstring), as an independent copy."""
    flushed = len(t._history["d_loss"])
    state = {
        "config": t.cfg.to_dict(), "device": t.device.type,
        "generator": t.generator.state_dict(), "discriminator": t.discriminator.state_dict(),
        "opt_g": t.opt_g.state_dict(), "opt_d": t.opt_d.state_dict(),
        "rng": t.rng.get_state(), "torch_rng": torch.get_rng_state(),
        "step": t.step_count, "epoch": t.epoch, "perm": t._perm, "pos": t._pos,
        "history": torch.tensor([t._history[k] for k in STATS]).reshape(len(STATS), flushed),
        "fixed_noise": t.fixed_noise,
        "parts": {name: part.state_dict() for name, part in t.parts.items()},
    }
    if t.device.type == "cuda":  # dropout on CUDA draws from the device's default generator
        state["cuda_rng"] = torch.cuda.get_rng_state(t.device)
    return copy.deepcopy(state)


def restore(t: Trainer, state: dict[str, Any]) -> None:
    """Put the trainer back to ``state`` (from ``capture``, or a format-v1 checkpoint without config)."""
    saved = t.cfg if "config" not in state else dataclasses.replace(
        GANConfig.from_dict(state["config"]), device=t.cfg.device)  # the trainer stays on its device
    if saved.spectral_norm != t.cfg.spectral_norm:  # first, so that D's state-dict keys match the saved ones
        set_spectral_norm(t.discriminator, saved.spectral_norm)
        t.cfg = dataclasses.replace(t.cfg, spectral_norm=saved.spectral_norm)
    t.generator.load_state_dict(state["generator"])
    t.discriminator.load_state_dict(state["discriminator"])
    apply_config(t, saved)  # optimizers of the saved kind, then their saved moments and learning rates
    load_optimizer(t.opt_g, state["opt_g"])
    load_optimizer(t.opt_d, state["opt_d"])
    _restore_rng(t, state)
    t.step_count, t.epoch, t._pos = state["step"], state["epoch"], state["pos"]
    t._perm = None if state["perm"] is None else state["perm"].to(t.device)
    t.fixed_noise = state["fixed_noise"].to(t.device)
    t._pending.clear()
    t._history = {k: state["history"][i].tolist() for i, k in enumerate(STATS)}
    _restore_parts(t, state.get("parts", {}))


def read_trainer_checkpoint(path: str | Path, device: str | None = None) -> tuple[GANConfig, dict[str, Any]]:
    """A checkpoint's config (on ``device`` when given) and state, with errors that say what to do."""
    cfg_dict, state = read_checkpoint(path)
    try:
        cfg = GANConfig.from_dict(cfg_dict)
        if device is not None:
            cfg = dataclasses.replace(cfg, device=device)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} holds a config this ganlab cannot use: {err}") from err
    try:
        resolve_device(cfg.device)
    except ValueError as err:
        raise ValueError(f"{path} was saved for device={cfg.device!r}: {err}. Choose where to load it, e.g. "
                         f"Trainer.load(path, device='cpu')") from err
    return cfg, state


def resume(trainer: Trainer, state: dict[str, Any], path: str | Path) -> Trainer:
    """Load a checkpoint's ``state`` into a freshly built ``trainer`` and make it the divergence restore point."""
    try:
        trainer.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError, TypeError) as err:
        raise ValueError(f"{path} does not match the trainer it should restore ({type(err).__name__}: {err}); "
                         f"was it saved with different networks or another ganlab version?") from err
    trainer._good = trainer.state_dict()
    return trainer


def load_optimizer(opt: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Load moments and hyperparameters, keeping this machine's fused/foreach/capturable flags."""
    if len(saved["param_groups"]) != len(opt.param_groups):
        raise ValueError(f"the saved optimizer has {len(saved['param_groups'])} parameter groups, this one "
                         f"{len(opt.param_groups)}")
    groups = [{**group, **{k: now[k] for k in _DEVICE_FLAGS if k in now}}
              for group, now in zip(saved["param_groups"], opt.param_groups)]
    # A copy: torch keeps tensors already on the right device as they are, and the steps after a divergence
    # restore would then update the restore point's moments in place.
    opt.load_state_dict(copy.deepcopy({"state": saved["state"], "param_groups": groups}))


def _restore_rng(t: Trainer, state: dict[str, Any]) -> None:
    """The trainer's generator, torch's CPU generator and (on CUDA) the device's default generator."""
    torch.set_rng_state(state["torch_rng"])
    here, there = t.device.type, state.get("device")  # no "device": a format-v1 checkpoint
    rng = state["rng"]
    if there == here:
        if "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], t.device)
        try:
            t.rng.set_state(rng)
            return
        except (RuntimeError, TypeError) as err:
            kind = f"{tuple(rng.shape)} {rng.dtype}" if isinstance(rng, Tensor) else type(rng).__name__
            raise ValueError(f"its random-generator state ({kind}) is not a {here} generator's state: the file "
                             f"was damaged or edited ({err})") from err
    if there is None:  # a format-v1 checkpoint does not say its device: use its state if it fits
        try:
            t.rng.set_state(rng)
            return
        except (RuntimeError, TypeError):
            pass
    seed = (t.cfg.seed + state["step"]) % 2**64
    t.rng.manual_seed(seed)
    warnings.warn(f"the trainer's random stream was saved on {there or 'another device'} and cannot continue "
                  f"on {here}; it was re-seeded with cfg.seed + step = {seed}. Weights, optimizers and data "
                  f"position are restored exactly, but from here the run differs from one that never stopped.",
                  stacklevel=4)


def _restore_parts(t: Trainer, saved: dict[str, Any]) -> None:
    """Hand each registered part its saved state, moved to the trainer's device."""
    unknown = sorted(set(saved) - set(t.parts))
    if unknown:
        raise ValueError(f"the state holds {unknown}, which this trainer does not have; build it the way the "
                         f"saved one was built (ganlab.remedies.load_trainer for remedies)")
    for name, part in t.parts.items():
        if name in saved:
            part.load_state_dict(_to_device(saved[name], t.device))
        else:
            warnings.warn(f"the state holds nothing for {name!r} (saved by an older ganlab); it keeps its "
                          f"fresh state", stacklevel=4)


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    return value
