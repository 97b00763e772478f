"""Remedies for mode collapse as options of the ordinary ``Trainer``: no training loop is copied.

A remedy changes one of four things before the trainer is built, in this order (its ``stage``):
  0  D's input     "pack"                      PacGAN: D scores packs of samples (Lin et al. 2018)
  1  D's layers    "minibatch_std"             a batch-std feature before D's head (Karras et al. 2018)
                   "minibatch_discrimination"  closeness to the rest of the batch (Salimans et al. 2016)
  2  the steps     "feature_matching"          G matches D's mean features (Salimans et al. 2016)
                   "unrolled"                  G steps against D unrolled k steps ahead (Metz et al. 2017)
                   "replay"                    D also sees fakes from the past (experience replay)
  3  the update    "historical_averaging"      pull both players towards their running average
                                               (Salimans et al. 2016)

Choose them by name in ``cfg.extra["remedies"]`` (a name, a list of names, or {name: {option: value}})
or with the ``remedies=`` argument, then ``build_trainer(cfg)`` returns a ``Trainer``. Its checkpoints
hold the remedies' state (replay buffer, running averages); ``load_trainer(path)`` rebuilds the remedies
from the saved ``cfg.extra`` and resumes exactly. ``REMEDIES``
lists each one's options and defaults (the dashboard reads it). The step functions live in
``ganlab.remedy_steps``, the layers in ``ganlab.nets.remedies``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import remedy_steps as steps
from .config import GANConfig
from .nets import MODELS
from .nets.layers import apply_spectral_norm
from .nets.remedies import MinibatchDiscrimination, MinibatchStd, PackedDiscriminator, insert_before_head
from .train import Trainer
from .train import d_step as plain_d_step
from .train import g_step as plain_g_step
from .train_state import read_trainer_checkpoint, resume

Spec = str | Sequence[str] | dict[str, dict[str, Any]] | None


@dataclass
class Setup:
    """What remedies may change before the ``Trainer`` exists; ``finish`` runs on the built trainer."""

    cfg: GANConfig
    generator: nn.Module
    discriminator: nn.Module
    d_step: Callable[..., Any] = plain_d_step
    g_step: Callable[..., Any] = plain_g_step
    finish: list[Callable[[Trainer], None]] = field(default_factory=list)


@dataclass(frozen=True)
class Remedy:
    """A named remedy: ``apply(setup, options)`` with ``options`` = ``defaults`` updated by the user's."""

    name: str
    title: str
    paper: str
    idea: str
    defaults: dict[str, Any]
    stage: int
    apply: Callable[[Setup, dict[str, Any]], None]


def _pack(s: Setup, o: dict[str, Any]) -> None:
    pack = o["pack"]
    if s.cfg.batch_size % pack:
        raise ValueError(f"batch_size={s.cfg.batch_size} is not divisible by pack={pack}; PacGAN needs whole packs")
    shape = (s.cfg.image_shape[0] * pack, *s.cfg.image_shape[1:])  # pack samples side by side on dim 1
    _, inner = MODELS[s.cfg.model](dataclasses.replace(s.cfg, image_shape=shape))
    s.discriminator = PackedDiscriminator(inner, pack)


def _minibatch_std(s: Setup, o: dict[str, Any]) -> None:
    insert_before_head(s.discriminator, lambda _width: MinibatchStd(o["group_size"]))


def _minibatch_discrimination(s: Setup, o: dict[str, Any]) -> None:
    insert_before_head(s.discriminator, lambda width: MinibatchDiscrimination(width, o["kernels"], o["kernel_dim"]))


def _set_step(s: Setup, which: str, step: Callable[..., Any], name: str) -> None:
    plain = plain_d_step if which == "d_step" else plain_g_step
    if getattr(s, which) is not plain:
        raise ValueError(f"{name} replaces {which}, which another chosen remedy already replaced; pick one of them")
    setattr(s, which, step)


def _feature_matching(s: Setup, o: dict[str, Any]) -> None:
    _set_step(s, "g_step", steps.FeatureMatching(o["adversarial_weight"]), "feature_matching")


def _unrolled(s: Setup, o: dict[str, Any]) -> None:
    _set_step(s, "g_step", steps.Unrolled(o["steps"]), "unrolled")


def _replay(s: Setup, o: dict[str, Any]) -> None:
    replay = steps.Replay(o["size"], o["fraction"])
    _set_step(s, "d_step", replay, "replay")
    s.finish.append(lambda t: t.register_state("replay", replay))  # the buffer goes into checkpoints


def _historical_averaging(s: Setup, o: dict[str, Any]) -> None:
    s.finish.append(lambda t: steps.HistoricalAverage(o["weight"]).attach(t))


REMEDIES: dict[str, Remedy] = {r.name: r for r in (
    Remedy("pack", "PacGAN packing", "Lin et al. 2018",
           "D scores `pack` samples at once, so a batch stuck on few modes is easy to reject",
           {"pack": 4}, 0, _pack),
    Remedy("minibatch_std", "minibatch standard deviation", "Karras et al. 2018",
           "D's head also sees the features' std over the batch: near 0 for a collapsed batch",
           {"group_size": 0}, 1, _minibatch_std),
    Remedy("minibatch_discrimination", "minibatch discrimination", "Salimans et al. 2016",
           "D's head also sees how close each sample is to the others of its batch",
           {"kernels": 8, "kernel_dim": 4}, 1, _minibatch_discrimination),
    Remedy("feature_matching", "feature matching", "Salimans et al. 2016",
           "G matches the mean of D's last hidden features on real data instead of fooling D",
           {"adversarial_weight": 0.0}, 2, _feature_matching),
    Remedy("unrolled", "unrolled GAN", "Metz et al. 2017",
           "G's loss is taken against D after k more (differentiable) D updates",
           {"steps": 5}, 2, _unrolled),
    Remedy("replay", "experience replay", "Shrivastava et al. 2017; Pfau & Vinyals 2016",
           "part of each fake batch D sees is drawn from a buffer of earlier fakes",
           {"size": 10_000, "fraction": 0.5}, 2, _replay),
    Remedy("historical_averaging", "historical averaging", "Salimans et al. 2016",
           "both losses get λ‖θ − θ̄‖², θ̄ the running mean of past parameters",
           {"weight": 1e-3}, 3, _historical_averaging),
)}


def parse(spec: Spec) -> dict[str, dict[str, Any]]:
    """A name, names or {name: options} → {name: full options}, checked against ``REMEDIES``."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [spec]
    if not isinstance(spec, dict):
        spec = {name: {} for name in spec}
    out = {}
    for name, options in spec.items():
        if name not in REMEDIES:
            raise ValueError(f"remedy {name!r} is unknown; use any of {sorted(REMEDIES)}")
        unknown = set(options or {}) - set(REMEDIES[name].defaults)
        if unknown:
            raise ValueError(f"remedy {name!r} has no option {sorted(unknown)}; its options are "
                             f"{REMEDIES[name].defaults}")
        out[name] = {**REMEDIES[name].defaults, **(options or {})}
    return out


def build_trainer(cfg: GANConfig, remedies: Spec = None, data: Any = None, **trainer_kwargs: Any) -> Trainer:
    """A ``Trainer`` for ``cfg`` with the remedies of ``remedies`` (default ``cfg.extra["remedies"]``).

    The chosen remedies and their full options are written back to ``cfg.extra["remedies"]`` so a
    checkpoint records them. ``trainer_kwargs`` go to ``Trainer`` (progress, check_every, ...).
    """
    chosen = parse(cfg.extra.get("remedies") if remedies is None else remedies)
    cfg = dataclasses.replace(cfg, extra={**cfg.extra, "remedies": chosen})
    torch.manual_seed(cfg.seed)  # the networks are built here, before the Trainer seeds its own draws
    generator, discriminator = MODELS[cfg.model](cfg)
    setup = Setup(cfg, generator, discriminator)
    for name in sorted(chosen, key=lambda n: REMEDIES[n].stage):
        REMEDIES[name].apply(setup, chosen[name])
    if cfg.spectral_norm:  # after the layers, so spectral norm also covers the widened head
        apply_spectral_norm(setup.discriminator)
    trainer = Trainer(cfg, data, setup.generator, setup.discriminator, d_step=setup.d_step, g_step=setup.g_step,
                      **trainer_kwargs)
    for finish in setup.finish:
        finish(trainer)
    return trainer


def load_trainer(path: str | Path, data: Any = None, *, device: str | None = None, **trainer_kwargs: Any
                 ) -> Trainer:
    """Rebuild a trainer saved from ``build_trainer`` (its remedies from the saved ``cfg.extra["remedies"]``)
    and resume it exactly, replay buffer and running averages included. Plain checkpoints load too.

    ``device`` and ``trainer_kwargs`` as for ``Trainer.load``.
    """
    cfg, state = read_trainer_checkpoint(path, device)
    return resume(build_trainer(cfg, data=data, **trainer_kwargs), state, path)
