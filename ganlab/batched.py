"""Many small runs at once: k toy GANs of one recipe (different seeds, or learning rates) as one stacked model.

A 2-D toy GAN (``ganlab.nets.toy``: MLPs of 128–256 units, batches of 256–512) is far too small to keep a core
busy: a lone run spends most of each step in per-op overhead (Python, autograd, dispatch) rather than in
arithmetic. ``BatchedTrainer`` stacks the nets of k runs along a leading run axis (``ganlab.nets.batched``),
so each layer is one ``baddbmm`` over all k runs and every op's overhead is paid once per step, not k times.

Run s is the run a lone ``Trainer(cfgs[s])`` makes, up to float rounding:
  - its nets are built exactly as the Trainer builds them (``torch.manual_seed(seed)``, ``build_models``) and
    then copied into the stack, so the initial weights are equal;
  - its random inputs come from its own ``torch.Generator`` seeded with its seed, drawn in the Trainer's order
    (the 64 fixed-noise rows at construction, then per step n_critic × (real batch, noise), then G's noise);
  - its losses are the objective's own functions (``ganlab.losses``) mapped over the run axis, and the step
    minimises their sum: runs share no parameter, so ∂(Σᵣ lossᵣ)/∂θₛ = ∂lossₛ/∂θₛ, each run's own gradient.
    The same holds for R1/R2: ∇ₓ of the summed logits at x[s, n] is ∇ₓ Dₛ(x[s, n]), because logit [r, m]
    depends on x[r, m] alone (no run and no sample is mixed with another);
  - one fused Adam over the stacked parameters is exactly k independent Adams: Adam is element-wise (its
    moments, bias correction and update of an element read only that element and the step count, which every
    run shares), so stacking changes which memory holds an element, not what is computed. Runs with different
    learning rates use ``RunAdam``, the same update with a (k,) learning rate broadcast over the run axis
    (``ganlab.batched_optim``).
The matrix products sum in a different order than a lone ``addmm``, so runs agree with lone runs to float
tolerance, not bit for bit (tests/test_batched.py measures the drift and sets its tolerance from it).

Speed (``python -m ganlab.bench --models toy_batched``: k = 10 runs of the plain mode-collapse recipe, stacked
vs the same runs stepped in turn, in one process). On the 2-core CPU the gain is small, because a lone toy run
is not mostly overhead there: its matrix products and activations already cost ~70 % of its step (a lone
D forward+backward on 512 rows: 1.7 ms; per run inside a stack of 10: 1.5 ms), and stacking only removes the
rest. Measured: ~1.2–1.6× at one torch thread (plain recipe; ~1.2× for ``best``), ~2.2× at two threads, where
the stacked products use both cores and a lone run's small ones cannot. The wide G at batch 512 alone gains
nothing on one thread (its (10, 512, 256) activations no longer fit the cache). On a GPU a lone toy run leaves
the device nearly idle, so k runs should cost about as much as one until the device fills (not yet measured).
With both cores busy, as in the mode-collapse benchmark's two worker processes, the gain shrinks further: 1.2–1.3×
for the plain recipe and 1.0–1.1× for ``best`` (2026-12-07), so the full default benchmark took 91 min batched
against ≈ 95 min estimated one run at a time (README).
The batched layers beat ``torch.func.vmap`` over ``functional_call`` of the ordinary nets (same products, more
dispatch per op): 1.0–1.5× faster on this CPU; both stay in the bench (``ganlab.bench.batched``).

What batches: the plain updates (``ganlab.updates.d_step``/``g_step``) of the toy model, with any loss of
``ganlab.losses``, label smoothing, n_critic, R1/R2 and weight clipping, under Adam. ``UNBATCHED`` lists
what does not, and why; those train one run at a time with ``Trainer``/``remedies.build_trainer``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor

from .batched_optim import run_grad_norms, stacked_adam
from .config import GANConfig, resolve_device
from .losses import get_objective
from .nets import build_models
from .nets.batched import StackedToyDiscriminator, StackedToyGenerator
from .nets.toy import ToyGenerator
from .train import load_data
from .train_state import STATS, extend_history

PER_RUN = ("seed", "lr_g", "lr_d")  # config fields that may differ between the runs of one batch

# Config settings and remedies a batch cannot hold, and why: they train with the sequential Trainer.
UNBATCHED: dict[str, str] = {
    "model": "only the toy MLPs have a stacked form (ganlab.nets.batched); image nets fill a device on their own",
    "optimizer": "only Adam is stacked (SGD/RMSprop would be easy: element-wise too, but nothing uses them here)",
    "spectral_norm": "a power iteration per layer per call, with its own state; no stacked form",
    "label_flip": "flips are drawn from the run's generator inside the step; not implemented",
    "instance_noise": "noise is drawn from the run's generator inside the step; not implemented",
    "penalty": "gp/lp draw interpolates from the run's generator inside the step; r1/r2 are batched",
    "bf16": "CUDA autocast for image nets; the toy nets gain nothing from it",
    # Remedies (ganlab.remedies): each is written for a lone Trainer and (N, ...) batches.
    "pack": "PacGAN's D reshapes the batch into packs: a different D, not yet stacked",
    "minibatch_std": "a layer mixing the samples of a batch (so no fused real+fake pass); not yet stacked",
    "minibatch_discrimination": "a layer comparing the samples of a batch; not yet stacked",
    "feature_matching": "its own g_step on D's hidden features (t.discriminator internals); not yet stacked",
    "unrolled": "its own g_step differentiating through k copies of D's update; memory and code grow with k",
    "replay": "its own d_step with a buffer of past fakes sampled from the run's generator; not yet stacked",
    "historical_averaging": "a hook on the lone trainer's updates with running averages; not yet stacked",
}


def check_batchable(cfgs: Sequence[GANConfig]) -> None:
    """Raise ValueError naming the first reason ``cfgs`` cannot train as one batch (see ``UNBATCHED``)."""
    if not cfgs:
        raise ValueError("a batch needs at least one config (k >= 1)")
    first = cfgs[0]
    for cfg in cfgs[1:]:
        differ = [f.name for f in dataclasses.fields(GANConfig)
                  if f.name not in PER_RUN and getattr(cfg, f.name) != getattr(first, f.name)]
        if differ:
            raise ValueError(f"runs of one batch may differ only in {PER_RUN}; these differ: {differ}")
    if len({cfg.seed for cfg in cfgs}) != len(cfgs):
        raise ValueError(f"seeds {[cfg.seed for cfg in cfgs]} repeat: two runs of one batch would be the same run")
    from .remedies import parse  # late: the remedies module builds Trainers

    blocked = list(parse(first.extra.get("remedies")))  # every remedy is in UNBATCHED
    checks = [("model", first.model != "toy"), ("optimizer", first.optimizer != "adam"),
              ("spectral_norm", first.spectral_norm), ("label_flip", first.label_flip > 0),
              ("instance_noise", first.instance_noise > 0), ("penalty", first.penalty in ("gp", "lp")),
              ("bf16", first.bf16)] + [(name, True) for name in blocked]
    for name, bad in checks:
        if bad:
            raise ValueError(f"{name}: {UNBATCHED[name]}. Train these runs one at a time with ganlab.Trainer "
                             f"(ganlab.remedies.build_trainer for remedies)")


class BatchedTrainer:
    """k toy-GAN runs trained as one stacked model; run s matches ``Trainer(cfgs[s])`` (module docstring).

    ``cfgs``: one config per run, equal but for ``PER_RUN`` fields (``seed_configs`` makes them from seeds).
    ``data``: a toy distribution (``sample(n, generator=)``), default ``cfgs[0].dataset``. Statistics per step
    are kept on the device and copied to the host every ``check_every`` steps (``history``). A run whose loss
    becomes NaN does not stop the others: its history shows the NaN, nothing is restored.
    """

    def __init__(self, cfgs: Sequence[GANConfig], data: Any = None, *, check_every: int = 100) -> None:
        check_batchable(cfgs)
        self.cfgs = list(cfgs)
        self.cfg = cfg = self.cfgs[0]  # the shared recipe (its seed and learning rates are run 0's)
        self.k = len(self.cfgs)
        self.device = resolve_device(cfg.device)
        generators, discriminators = [], []
        for run in self.cfgs:
            torch.manual_seed(run.seed)  # as Trainer.__init__ / remedies.build_trainer do before building nets
            generator, discriminator = build_models(run)
            generators.append(generator)
            discriminators.append(discriminator)
        self.generator = StackedToyGenerator.stack(generators).to(self.device)
        self.discriminator = StackedToyDiscriminator.stack(discriminators).to(self.device)
        self.data = load_data(cfg.dataset, self.device) if data is None else data
        if not hasattr(self.data, "sample"):
            raise ValueError("a batch trains on toy data: pass a distribution with sample(n, generator=)")
        self.rngs = [torch.Generator(device=self.device) for _ in self.cfgs]
        for rng, run in zip(self.rngs, self.cfgs):
            rng.manual_seed(run.seed)
        self.fixed_noise = self.noise(64)  # (k, 64, latent): also keeps each stream where the Trainer's is
        self.opt_g = stacked_adam(self.generator.parameters(), [c.lr_g for c in self.cfgs], cfg.betas)
        self.opt_d = stacked_adam(self.discriminator.parameters(), [c.lr_d for c in self.cfgs], cfg.betas)
        objective = get_objective(cfg.loss)
        d_loss = (partial(objective.d_loss, real_target=cfg.real_label, fake_target=0.0)
                  if objective.uses_targets else objective.d_loss)
        self._d_losses = torch.vmap(d_loss)  # (k, N), (k, N) → (k,): the objective's loss per run
        self._g_losses = torch.vmap(objective.g_loss)  # (k, N) → (k,)
        self.check_every = check_every
        self.step_count = 0
        self._pending: list[Tensor] = []
        self._history: list[dict[str, list[float]]] = [{key: [] for key in STATS} for _ in self.cfgs]
        self.callbacks: dict[str, list[Callable[[BatchedTrainer], None]]] = {"on_step_end": []}

    # ------------------------------------------------------------------ inputs, each run from its own stream
    def noise(self, n: int) -> Tensor:
        """z ~ N(0, I) per run, (k, n, latent_dim); row s from run s's generator, as ``Trainer.noise``."""
        return torch.stack([torch.randn(n, self.cfg.latent_dim, device=self.device, generator=rng)
                            for rng in self.rngs])

    def real_batch(self) -> Tensor:
        """Fresh toy samples per run, (k, batch_size, d); row s from run s's generator, as ``Trainer.real_batch``."""
        b = self.cfg.batch_size
        return torch.stack([self.data.sample(b, generator=rng).to(self.device, torch.float32) for rng in self.rngs])

    def inputs(self) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """One step's inputs in ``Trainer.inputs``' order: n_critic (real, noise) pairs for D, then G's noise."""
        b = self.cfg.batch_size
        reals, zs = [], []
        for _ in range(self.cfg.n_critic):
            reals.append(self.real_batch())
            zs.append(self.noise(b))
        return reals, zs, self.noise(b)

    # ------------------------------------------------------------------ the updates, stacked
    def d_update(self, real: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``updates.d_step`` for every run: real (k, N, d), z (k, N, latent) → per-run (loss, D(real), D(fake),
        ‖∇D‖), each (k,)."""
        cfg, D = self.cfg, self.discriminator
        with torch.no_grad():
            fake = self.generator(z)
        n = real.shape[1]
        logits = D(torch.cat([real, fake], dim=1))  # one pass over both, as ganlab.fast.discriminate: (k, 2N)
        real_logits, fake_logits = logits[:, :n], logits[:, n:]
        loss = self._d_losses(real_logits, fake_logits)  # (k,)
        total = loss
        if cfg.penalty in ("r1", "r2") and cfg.penalty_weight != 0:
            total = loss + self._penalty(real if cfg.penalty == "r1" else fake)
        self.opt_d.zero_grad(set_to_none=True)
        total.sum().backward()  # runs are independent: run s's parameters get run s's gradient
        norm = run_grad_norms(D.parameters())
        self.opt_d.step()
        if cfg.clip is not None:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-cfg.clip, cfg.clip)
        with torch.no_grad():
            return loss.detach(), torch.sigmoid(real_logits).mean(1), torch.sigmoid(fake_logits).mean(1), norm

    def _penalty(self, x: Tensor) -> Tensor:
        """R1/R2 per run, (k,): γ/2 · E‖∇ₓ Dₛ(x)‖² at x (k, N, d), as ``penalties.r1_penalty``.

        ∇ₓ of the sum of all k·N logits is each logit's own input gradient: logit [s, n] reads x[s, n] only.
        """
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.discriminator(x).sum(), x, create_graph=True)  # (k, N, d)
        return 0.5 * self.cfg.penalty_weight * grad.pow(2).sum(dim=2).mean(dim=1)

    def g_update(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``updates.g_step`` for every run: z (k, N, latent) → per-run (loss, ‖∇G‖), each (k,). D is frozen."""
        D = self.discriminator
        D.requires_grad_(False)
        try:
            loss = self._g_losses(D(self.generator(z)))  # (k,)
            self.opt_g.zero_grad(set_to_none=True)
            loss.sum().backward()
        finally:
            D.requires_grad_(True)
        norm = run_grad_norms(self.generator.parameters())
        self.opt_g.step()
        return loss.detach(), norm

    def updates(self, reals: list[Tensor], zs: list[Tensor], z_g: Tensor) -> Tensor:
        """``Trainer.updates`` for every run; returns the step's STATS per run as (k, 6)."""
        for real, z in zip(reals, zs):
            d_loss, d_real, d_fake, d_norm = self.d_update(real, z)
        g_loss, g_norm = self.g_update(z_g)
        return torch.stack([d_loss, g_loss, d_real, d_fake, d_norm, g_norm], dim=1).float()

    # ------------------------------------------------------------------ the loop
    def step(self) -> None:
        """One step of every run: n_critic D updates, then one G update; then the ``on_step_end`` callbacks."""
        self._pending.append(self.updates(*self.inputs()))
        self.step_count += 1
        for callback in self.callbacks["on_step_end"]:
            callback(self)
        if self.step_count % self.check_every == 0:
            self.flush()

    def fit(self, steps: int) -> list[dict[str, list[float]]]:
        """Train every run for ``steps`` steps; returns ``history``."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps={steps!r} must be a whole number >= 0, e.g. fit(steps=2000)")
        for _ in range(steps):
            self.step()
        return self.history

    def add_callback(self, event: str, fn: Callable[[BatchedTrainer], None]) -> None:
        """Call ``fn(batch)`` after every step (event "on_step_end"), e.g. a learning-rate schedule."""
        if event not in self.callbacks:
            raise ValueError(f"event {event!r} is unknown; a batch has only 'on_step_end'")
        self.callbacks[event].append(fn)

    def flush(self) -> None:
        """Copy pending statistics to the host in one go."""
        if not self._pending:
            return
        stats = torch.stack(self._pending).cpu()  # (steps, k, len(STATS))
        self._pending.clear()
        for s, history in enumerate(self._history):
            extend_history(history, STATS, stats[:, s])

    @property
    def history(self) -> list[dict[str, list[float]]]:
        """Per run, per-step statistics as ``Trainer.history`` has them."""
        self.flush()
        return self._history

    # ------------------------------------------------------------------ using the result
    @torch.no_grad()
    def sample(self, n: int = 64) -> Tensor:
        """n samples per run, (k, n, d) on the CPU; run s's noise from its own stream, as ``Trainer.sample``."""
        return self.generator(self.noise(n)).float().cpu()

    def run_generator(self, s: int) -> ToyGenerator:
        """Run s's generator as an ordinary ``ToyGenerator`` (a copy, on the batch's device)."""
        return self.generator.unstack(s)


def seed_configs(cfg: GANConfig, seeds: Sequence[int], **per_run: Sequence[float]) -> list[GANConfig]:
    """One config per seed from ``cfg``; ``per_run`` gives a ``PER_RUN`` field a value per seed (an lr sweep)."""
    unknown = sorted(set(per_run) - set(PER_RUN))
    if unknown:
        raise ValueError(f"{unknown} cannot differ between the runs of a batch; only {PER_RUN[1:]} can")
    for name, values in per_run.items():
        if len(values) != len(seeds):
            raise ValueError(f"{name} has {len(values)} values for {len(seeds)} seeds; give one per seed")
    return [dataclasses.replace(cfg, seed=seed, **{name: values[i] for name, values in per_run.items()})
            for i, seed in enumerate(seeds)]


class LinearDecay:
    """``on_step_end``: every learning rate falls linearly to 0 over the last ``fraction`` of ``total`` steps.

    The mode-collapse benchmark's schedule, for either trainer (it reads ``step_count``
    and the ``param_groups`` of ``opt_g`` and ``opt_d``; a (k,) learning rate is scaled as a whole).
    """

    def __init__(self, trainer: Any, total: int, fraction: float) -> None:
        self.total, self.fraction = total, fraction
        self.start = {id(opt): [g["lr"] for g in opt.param_groups] for opt in (trainer.opt_g, trainer.opt_d)}

    def __call__(self, t: Any) -> None:
        if self.fraction <= 0:
            return
        scale = min(1.0, max(0.0, (self.total - t.step_count) / (self.fraction * self.total)))
        for opt in (t.opt_g, t.opt_d):
            for group, lr in zip(opt.param_groups, self.start[id(opt)]):
                group["lr"] = lr * scale


def train_batched(cfg: GANConfig, seeds: Sequence[int], steps: int, decay: float = 0.0, data: Any = None,
                  **per_run: Sequence[float]) -> BatchedTrainer:
    """Train ``len(seeds)`` runs of ``cfg`` for ``steps`` steps as one batch, the learning rates decayed linearly
    to 0 over the last ``decay`` fraction (0: constant); returns the trained ``BatchedTrainer``.

    ``per_run``: ``lr_g=[...]``/``lr_d=[...]``, one value per seed. Use the result with ``sample(n)``
    ((k, n, d): run s's samples, drawn as its lone Trainer's ``sample(n)`` would) or ``run_generator(s)``.
    """
    batch = BatchedTrainer(seed_configs(cfg, seeds, **per_run), data, check_every=max(1, steps))
    batch.add_callback("on_step_end", LinearDecay(batch, steps, decay))
    batch.fit(steps)
    return batch

