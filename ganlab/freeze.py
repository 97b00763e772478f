"""Train one player alone (GAN Lab's "train D only / G only"): the other player is frozen.

A frozen player's step still runs, so its loss, outputs and gradient norm are measured and logged as usual,
but its optimizer does not step and its state (parameters and buffers: batch-norm statistics, spectral-norm
power-iteration vectors) is put back exactly afterwards. Adam's moments of the frozen player stay as they were,
so unfreezing continues where it stopped.

    train_only(trainer, "D")     # D learns, G is frozen
    train_only(trainer, "both")  # back to the normal game
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from .train import Trainer

MODES = ("both", "D", "G")  # which players learn
_PARTS = {"D": ("discriminator", "opt_d"), "G": ("generator", "opt_g")}
_ORIGINAL = "unfrozen_step"  # attribute of a frozen step: the step it wraps


def _no_update(*args: Any, **kwargs: Any) -> None:
    return None


def frozen(step: Callable[..., Any], player: str) -> Callable[..., Any]:
    """``step`` (a ``d_step``/``g_step``, trainer first) with ``player`` ("D" or "G") left exactly unchanged."""
    if player not in _PARTS:
        raise ValueError(f"player={player!r} is unknown; use 'D' or 'G'")
    step = unfrozen(step)
    net_name, opt_name = _PARTS[player]

    def step_without_learning(t: Trainer, *args: Any) -> Any:
        net, opt = getattr(t, net_name), getattr(t, opt_name)
        saved = {k: v.detach().clone() for k, v in net.state_dict(keep_vars=True).items()}
        opt.step = _no_update  # an instance attribute shadows the method for this call only
        try:
            return step(t, *args)
        finally:
            del opt.step
            with torch.no_grad():  # also undoes weight clipping and buffer updates done inside the step
                for k, v in net.state_dict(keep_vars=True).items():
                    v.copy_(saved[k])

    setattr(step_without_learning, _ORIGINAL, step)
    step_without_learning.__name__ = f"{getattr(step, '__name__', 'step')}_frozen_{player}"
    return step_without_learning


def unfrozen(step: Callable[..., Any]) -> Callable[..., Any]:
    """The step a ``frozen`` step wraps (``step`` itself when it is not frozen)."""
    return getattr(step, _ORIGINAL, step)


def train_only(trainer: Trainer, mode: str) -> None:
    """Set which players learn from the next step on: "both", "D" (G frozen) or "G" (D frozen)."""
    if mode not in MODES:
        raise ValueError(f"train mode {mode!r} is unknown; use one of {list(MODES)} ('D': only D learns)")
    d_step, g_step = unfrozen(trainer.d_step), unfrozen(trainer.g_step)
    trainer.d_step = frozen(d_step, "D") if mode == "G" else d_step
    trainer.g_step = frozen(g_step, "G") if mode == "D" else g_step


def training_mode(trainer: Trainer) -> str:
    """Which players learn now: "both", "D" or "G"."""
    d_frozen = unfrozen(trainer.d_step) is not trainer.d_step
    g_frozen = unfrozen(trainer.g_step) is not trainer.g_step
    return "G" if d_frozen and not g_frozen else "D" if g_frozen and not d_frozen else "both"
