"""The toy nets of ``ganlab.nets.toy`` for k independent runs at once: a leading run axis on every tensor.

Run s of a stacked net computes exactly what the s-th of the k ``ToyGenerator``/``ToyDiscriminator`` it was
stacked from computes (up to the order of float sums inside a matrix product):

    StackedLinear:           x (k, N, in)  → baddbmm(bias, x, Wᵀ) → (k, N, out),  W (k, out, in), bias (k, 1, out)
    StackedToyGenerator:     z (k, N, latent) → [StackedLinear, ReLU] × layers → (k, N, d)
    StackedToyDiscriminator: x (k, N, d) → [StackedLinear, LeakyReLU 0.2] × layers → (k, N) logits

The runs share no parameter and no arithmetic: output [s] depends on input [s] and the parameters [s] alone,
so the gradient of a sum of per-run losses with respect to parameters [s] is the gradient of run s's loss.
``stack`` builds one from k ordinary nets (their weights copied in, so the seeded initialisation of each run
is the one a lone ``Trainer`` makes), and ``unstack(s)`` gives run s back as an ordinary net.

Why ``baddbmm`` rather than ``torch.func.vmap`` over the ordinary net: measured on a 2-core CPU (see
``ganlab.batched``), the explicit batched layers run the same k matrix products with less dispatch per op.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .toy import ToyDiscriminator, ToyGenerator


class StackedLinear(nn.Module):
    """k independent ``nn.Linear(d_in, d_out)``: weight (k, d_out, d_in), bias (k, 1, d_out), in the layout of
    ``nn.Linear`` per run so that stacking and unstacking are plain copies."""

    def __init__(self, k: int, d_in: int, d_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(k, d_out, d_in))
        self.bias = nn.Parameter(torch.empty(k, 1, d_out))
        # nn.Linear's default: U(−1/√d_in, 1/√d_in) for weight and bias. Runs built by ``stack`` overwrite it
        # with the weights their own seeded nets were given.
        bound = 1 / math.sqrt(d_in)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight.transpose(1, 2))  # (k, N, d_in) → (k, N, d_out)

    @torch.no_grad()
    def load_runs(self, layers: Sequence[nn.Linear]) -> None:
        """Copy the weights of k ordinary layers in, run s from ``layers[s]``."""
        self.weight.copy_(torch.stack([layer.weight for layer in layers]))
        self.bias.copy_(torch.stack([layer.bias for layer in layers])[:, None, :])

    @torch.no_grad()
    def unstack(self, s: int) -> nn.Linear:
        """Run s as an ordinary ``nn.Linear`` (a copy)."""
        layer = nn.Linear(self.weight.shape[2], self.weight.shape[1], device=self.weight.device)
        layer.weight.copy_(self.weight[s])
        layer.bias.copy_(self.bias[s, 0])
        return layer


class _StackedMLP(nn.Module):
    """[StackedLinear, activation] × layers, StackedLinear: the stacked form of ``nets.toy._mlp``."""

    def __init__(self, k: int, d_in: int, hidden: int, layers: int, d_out: int, act: nn.Module) -> None:
        super().__init__()
        widths = [d_in] + [hidden] * layers + [d_out]
        self.linears = nn.ModuleList(StackedLinear(k, a, b) for a, b in zip(widths, widths[1:]))
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        for linear in self.linears[:-1]:
            x = self.act(linear(x))  # in place: the product is not needed again, and a fresh (k, N, width)
        return self.linears[-1](x)  # buffer per layer costs more than the activation itself


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def _shape(net: nn.Module) -> tuple[int, int, int, int]:
    """(d_in, hidden, layers, d_out) of a toy net."""
    linears = _linears(net)
    return linears[0].in_features, linears[0].out_features, len(linears) - 1, linears[-1].out_features


def _check_same(nets: Sequence[nn.Module], kind: type[nn.Module]) -> None:
    if not nets:
        raise ValueError("stack needs at least one net (k >= 1)")
    if any(type(n) is not kind for n in nets):
        raise ValueError(f"stack takes {kind.__name__}s only, got {sorted({type(n).__name__ for n in nets})}; "
                         f"other nets train one run at a time (ganlab.Trainer)")
    if len({_shape(n) for n in nets}) != 1:
        raise ValueError(f"the nets differ in shape {sorted({_shape(n) for n in nets})}; runs stacked together "
                         f"must share one architecture")


class StackedToyGenerator(nn.Module):
    """k ``ToyGenerator``s: z (k, N, latent_dim) → samples (k, N, d)."""

    def __init__(self, k: int, latent_dim: int = 2, hidden_dim: int = 128, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__()
        self.k, self.latent_dim = k, latent_dim
        self.net = _StackedMLP(k, latent_dim, hidden_dim, layers, data_dim, nn.ReLU(inplace=True))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)

    @classmethod
    def stack(cls, generators: Sequence[ToyGenerator]) -> StackedToyGenerator:
        """One stacked net whose run s has ``generators[s]``'s weights."""
        _check_same(generators, ToyGenerator)
        d_in, hidden, layers, d_out = _shape(generators[0])
        stacked = cls(len(generators), d_in, hidden, d_out, layers).to(generators[0].net[0].weight.device)
        for layer, runs in zip(stacked.net.linears, zip(*map(_linears, generators))):
            layer.load_runs(runs)
        return stacked

    def unstack(self, s: int) -> ToyGenerator:
        """Run s as an ordinary ``ToyGenerator`` (a copy): ``sample``, ``mode_coverage``, plots take it as is."""
        first = self.net.linears[0]
        generator = ToyGenerator(self.latent_dim, first.weight.shape[1], self.net.linears[-1].weight.shape[1],
                                 len(self.net.linears) - 1).to(first.weight.device)
        for layer, stacked in zip(_linears(generator), self.net.linears):
            layer.load_state_dict(stacked.unstack(s).state_dict())
        return generator


class StackedToyDiscriminator(nn.Module):
    """k ``ToyDiscriminator``s: x (k, N, d) → logits (k, N)."""

    def __init__(self, k: int, hidden_dim: int = 128, data_dim: int = 2, layers: int = 3) -> None:
        super().__init__()
        self.k = k
        self.net = _StackedMLP(k, data_dim, hidden_dim, layers, 1, nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)

    @classmethod
    def stack(cls, discriminators: Sequence[ToyDiscriminator]) -> StackedToyDiscriminator:
        """One stacked net whose run s has ``discriminators[s]``'s weights."""
        _check_same(discriminators, ToyDiscriminator)
        d_in, hidden, layers, _ = _shape(discriminators[0])
        stacked = cls(len(discriminators), hidden, d_in, layers).to(discriminators[0].net[0].weight.device)
        for layer, runs in zip(stacked.net.linears, zip(*map(_linears, discriminators))):
            layer.load_runs(runs)
        return stacked

    def unstack(self, s: int) -> ToyDiscriminator:
        """Run s as an ordinary ``ToyDiscriminator`` (a copy)."""
        first = self.net.linears[0]
        discriminator = ToyDiscriminator(first.weight.shape[1], first.weight.shape[2],
                                         len(self.net.linears) - 1).to(first.weight.device)
        for layer, stacked in zip(_linears(discriminator), self.net.linears):
            layer.load_state_dict(stacked.unstack(s).state_dict())
        return discriminator

