"""The bench's batched row: k toy-GAN runs of one recipe, one after another vs stacked (``ganlab.batched``).

Three ways to train the same k runs, each ``step`` advancing all k runs by one training step:
  - ``sequential``: k lone ``Trainer``s, stepped in turn (what ``experiments.mode_collapse`` does today);
  - ``batched``: one ``BatchedTrainer``, every layer one ``baddbmm`` over the run axis (``nets.batched``);
  - ``batched_vmap``: the same ``BatchedTrainer`` with its nets replaced by ``VmapStack``s: the ordinary toy
    nets run under ``torch.func.vmap`` over ``functional_call`` with parameters from ``stack_module_state``.
    Kept here, not in the engine, because it was measured slower on the CPU; it is the alternative to try
    again on a GPU.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state

K = 10  # runs per batch in the bench row


def config(device: torch.device) -> Any:
    """The recipe of the row: ``experiments.mode_collapse``'s plain GAN on grid25 (toy MLPs of 128, batch 256)."""
    from ..experiments.mode_collapse import config as recipe

    return recipe("grid25", "gan", 0, str(device))


class VmapStack(nn.Module):
    """k copies of one ordinary net as a stacked net: x (k, N, ...) → net_s(x[s]) stacked, via ``vmap``.

    The parameters are ``stack_module_state``'s (k, ...) tensors, registered as this module's parameters
    so optimizers and ``requires_grad_`` see them as they see a ``nets.batched`` net's.
    """

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        params, buffers = stack_module_state(nets)
        self.names = list(params)
        for i, name in enumerate(self.names):
            self.register_parameter(f"p{i}", nn.Parameter(params[name].detach().clone()))
        self.buffers_ = buffers
        self.base = (copy.deepcopy(nets[0]).to("meta"),)  # a tuple: not a submodule, so .to() leaves it on meta

    def _one(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(self.base[0], (params, self.buffers_), (x,))

    def forward(self, x: Tensor) -> Tensor:
        params = {name: getattr(self, f"p{i}") for i, name in enumerate(self.names)}
        return torch.vmap(self._one)(params, x)


def vmap_batch(cfgs: list[Any]) -> Any:
    """A ``BatchedTrainer`` for ``cfgs`` whose nets are ``VmapStack``s of the runs' seeded nets."""
    from ..batched import BatchedTrainer
    from ..batched_optim import stacked_adam
    from ..nets import build_models

    batch = BatchedTrainer(cfgs)
    nets = []
    for cfg in cfgs:
        torch.manual_seed(cfg.seed)
        nets.append(build_models(cfg))
    batch.generator = VmapStack([g for g, _ in nets]).to(batch.device)
    batch.discriminator = VmapStack([d for _, d in nets]).to(batch.device)
    batch.opt_g = stacked_adam(batch.generator.parameters(), [c.lr_g for c in cfgs], cfgs[0].betas)
    batch.opt_d = stacked_adam(batch.discriminator.parameters(), [c.lr_d for c in cfgs], cfgs[0].betas)
    return batch


def builders(cfg: Any, k: int = K) -> list[Any]:
    """Builders of the three ``Method``s of ``ganlab.bench`` for k runs of ``cfg`` (seeds 0..k-1)."""
    from . import Method, _device_sync

    def sequential() -> Method:
        from ..train import Trainer

        trainers = [Trainer(c, progress=False) for c in configs]

        def step() -> None:
            for t in trainers:
                t.step()

        return Method("sequential", step, _device_sync(trainers[0].device),
                      lambda: f"{k} lone Trainers in turn, {trainers[0].fast_path}",
                      lambda: [t.flush() for t in trainers] and None)

    def stacked(name: str, build: Any, describe: str) -> Method:
        batch = build(configs)
        return Method(name, batch.step, _device_sync(batch.device), lambda: describe, batch.flush)

    from ..batched import BatchedTrainer, seed_configs

    configs = seed_configs(cfg, range(k))
    return [sequential,
            partial(stacked, "batched", BatchedTrainer, f"{k} runs stacked, baddbmm layers"),
            partial(stacked, "batched_vmap", vmap_batch, f"{k} runs stacked, vmap(functional_call)")]
