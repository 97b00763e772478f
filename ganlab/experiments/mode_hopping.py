"""Notebook 05's sections 1 and 2, seeds batched: a GAN hopping round the ring, and G climbing a frozen D.

Both train several seeds of one toy recipe, so each trains them as one ``ganlab.batched.BatchedTrainer``: run s
is the run a lone ``Trainer`` with seed ``seeds[s]`` makes, up to float rounding (tests/test_batched.py), at
less per-op overhead than k runs one after another.

``hopping_runs``  every ``every`` steps, the samples of a fixed noise batch and their shares near each mode;
``frozen_d_runs`` train, then take generator steps only (D never updated) and compare before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..batched import BatchedTrainer, seed_configs
from ..config import GANConfig
from ..metrics import mode_shares


@dataclass
class Hopping:
    """What ``hopping_runs`` returns: the trained batch, snapshots {step: (k, n, d)} of G(z_fixed) per run,
    and ``shares`` (k, snapshots, M): each run's share of the n samples within ``radius`` of each mode."""

    batch: BatchedTrainer
    snapshots: dict[int, Tensor]
    shares: Tensor


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. seeds=[0, 1, 2]")
    return seeds


@torch.no_grad()
def fixed_samples(batch: BatchedTrainer, z: Tensor) -> Tensor:
    """Every run's generator applied to the same noise z (n, latent): (k, n, d) on the CPU, as a lone
    ``Trainer.sample(n, z)`` per run."""
    return batch.generator(z.to(batch.device).expand(batch.k, -1, -1)).float().cpu()


def hopping_runs(cfg: GANConfig, seeds: Sequence[int], steps: int, every: int, z: Tensor, modes: Tensor,
                 radius: float) -> Hopping:
    """Train ``cfg`` for each seed (one batch) for ``steps`` steps, snapshotting G(z) every ``every`` steps.

    z: (n, latent) fixed noise; modes: (M, d). Returns ``Hopping`` with ``steps // every`` snapshots.
    """
    seeds = _check_seeds(seeds)
    if every < 1 or steps % every:
        raise ValueError(f"steps={steps} must be a positive multiple of every={every}, e.g. steps=1000, every=50")
    batch = BatchedTrainer(seed_configs(cfg, seeds), check_every=every)
    snapshots, rows = {}, []
    for _ in range(steps // every):
        batch.fit(every)
        x = fixed_samples(batch, z)  # (k, n, d)
        snapshots[batch.step_count] = x
        rows.append(torch.stack([mode_shares(run, modes, radius) for run in x]))  # (k, M)
    return Hopping(batch, snapshots, torch.stack(rows, dim=1))  # shares (k, snapshots, M)


@torch.no_grad()
def mean_d(batch: BatchedTrainer, x: Tensor) -> Tensor:
    """Per run, the mean of D_s's probability sigmoid(D_s(x_s)) over x (k, n, d): (k,)."""
    return torch.sigmoid(batch.discriminator(x.to(batch.device))).mean(dim=1).cpu()


def frozen_d_runs(cfg: GANConfig, seeds: Sequence[int], train_steps: int, g_steps: int, g_lr: float,
                  z: Tensor) -> dict[str, Tensor]:
    """Train ``cfg`` for each seed (one batch), then take ``g_steps`` generator steps at learning rate ``g_lr``
    against the frozen discriminators (each run's own ``g_update``; D is never stepped).

    Returns before/after samples of G(z) (k, n, d) and each run's mean D(fake) on them, d_before/d_after (k,).
    """
    seeds = _check_seeds(seeds)
    batch = BatchedTrainer(seed_configs(cfg, seeds), check_every=max(1, train_steps))
    batch.fit(train_steps)
    before = fixed_samples(batch, z)
    for group in batch.opt_g.param_groups:  # every run gets the same rate: a plain (fused) Adam
        group["lr"] = g_lr
    for _ in range(g_steps):
        batch.g_update(batch.noise(cfg.batch_size))  # as a lone run's g_step(t, t.noise(batch_size))
    after = fixed_samples(batch, z)
    return {"before": before, "after": after, "d_before": mean_d(batch, before), "d_after": mean_d(batch, after)}
