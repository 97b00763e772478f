"""k runs stacked into one model (ganlab.batched, ganlab.nets.batched, ganlab.batched_optim) are the k lone runs.

Tolerance of the 50-step comparisons: the stacked layers sum each product in another order than a lone
``addmm``, so float32 results differ by rounding, and training carries the differences forward. Measured on the
2-core CPU (torch 2.14, 64 seed-runs each of the plain and the best recipe at the sizes below, 50 steps with the
learning-rate decay): max |Δθ| ≤ 3e-7 over all parameters of every run. The tests allow atol = 3e-6, ten
times that, and no relative term (parameters are O(0.1–1)). The sizes are small on purpose: a preactivation
within rounding of 0 can take the other side of a ReLU/LeakyReLU kink in one of the two runs, and Adam turns
that gradient jump into a jump of ~lr·Δg/√v ≈ 1e-4 in the weights; with G 64/D 32, batch 64 this happened in
4 of 32 "best" runs (R1's input gradient changes slope at every kink), at the sizes below in none of 64.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ganlab import GANConfig, Trainer, toy
from ganlab.batched import BatchedTrainer, check_batchable, seed_configs, train_batched
from ganlab.batched_optim import RunAdam, run_grad_norms, stacked_adam
from ganlab.experiments.mode_collapse import LinearDecay, config
from ganlab.metrics import mode_coverage
from ganlab.nets.batched import StackedLinear, StackedToyDiscriminator, StackedToyGenerator
from ganlab.nets.toy import ToyDiscriminator, ToyGenerator
from ganlab.penalties import r1_penalty
from ganlab.train_state import make_optimizer

ATOL = 3e-6  # 10 × the largest drift measured over 50 steps (module docstring)
STEPS = 50


def small(method: str, **changes) -> GANConfig:
    """The mode-collapse recipe ``method`` on grid25, shrunk (G 16, D 8 wide for "best"; batch 16) for speed."""
    cfg = config("grid25", method, 0, "cpu")
    extra = {"layers": 3, **({"d_hidden_dim": 8} if method == "best" else {})}
    return dataclasses.replace(cfg, hidden_dim=16, batch_size=16, extra=extra, **changes)


def lone_run(cfg: GANConfig, steps: int = STEPS, decay: float = 0.5) -> Trainer:
    """The run the mode-collapse benchmark makes: a Trainer with its LinearDecay."""
    t = Trainer(cfg, progress=False)
    t.add_callback("on_step_end", LinearDecay(t, steps, decay))
    t.fit(steps=steps, progress=False)
    return t


def assert_same_nets(lone: torch.nn.Module, stacked: torch.nn.Module, atol: float = 0.0) -> None:
    for (name, a), b in zip(lone.state_dict().items(), stacked.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0.0, atol=atol, msg=lambda m, name=name: f"{name}: {m}")


# ---------------------------------------------------------------------- the stacked nets
def test_stacked_nets_compute_each_run_with_its_own_weights():
    torch.manual_seed(0)
    gens = [ToyGenerator(2, 16, 2, 3) for _ in range(3)]
    discs = [ToyDiscriminator(8, 2, 3) for _ in range(3)]
    G, D = StackedToyGenerator.stack(gens), StackedToyDiscriminator.stack(discs)
    z, x = torch.randn(3, 5, 2), torch.randn(3, 7, 2)
    assert G(z).shape == (3, 5, 2) and D(x).shape == (3, 7)
    for s in range(3):
        torch.testing.assert_close(G(z)[s], gens[s](z[s]), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(D(x)[s], discs[s](x[s]), rtol=1e-6, atol=1e-6)
        assert_same_nets(gens[s], G.unstack(s))  # exact round trip
        assert_same_nets(discs[s], D.unstack(s))
        assert type(G.unstack(s)) is ToyGenerator and type(D.unstack(s)) is ToyDiscriminator


def test_stacked_linear_starts_like_nn_linear_and_refuses_mixed_nets():
    layer = StackedLinear(4, 9, 3)
    assert layer.weight.shape == (4, 3, 9) and layer.bias.shape == (4, 1, 3)
    assert layer.weight.abs().max() <= 1 / 3 and layer.weight.std() > 0  # U(−1/√9, 1/√9)
    with pytest.raises(ValueError, match="share one architecture"):
        StackedToyGenerator.stack([ToyGenerator(2, 16), ToyGenerator(2, 32)])
    with pytest.raises(ValueError, match="ToyGenerator"):
        StackedToyGenerator.stack([ToyDiscriminator(16)])


def test_runs_are_independent_so_summed_losses_give_each_run_its_own_gradient():
    torch.manual_seed(1)
    discs = [ToyDiscriminator(8) for _ in range(2)]
    D = StackedToyDiscriminator.stack(discs)
    x = torch.randn(2, 6, 2)
    D(x).pow(2).mean(1).sum().backward()
    for s, disc in enumerate(discs):
        disc(x[s]).pow(2).mean().backward()
        torch.testing.assert_close(D.net.linears[0].weight.grad[s], disc.net[0].weight.grad, rtol=1e-5, atol=1e-6)
    norms = run_grad_norms(D.parameters())
    for s, disc in enumerate(discs):
        expected = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in disc.parameters()]))
        torch.testing.assert_close(norms[s], expected, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------- optimisers
def test_one_stacked_adam_is_exactly_k_separate_adams():
    # Adam is element-wise, so the fused kernel over (k, ...) does each run's update bit for bit.
    torch.manual_seed(2)
    runs = [[torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(1, 3))] for _ in range(4)]
    stacked = [torch.nn.Parameter(torch.stack([r[i].detach() for r in runs])) for i in range(2)]
    separate = [make_optimizer("adam", r, 1e-3, (0.5, 0.999)) for r in runs]
    together = make_optimizer("adam", stacked, 1e-3, (0.5, 0.999))
    for _ in range(5):
        grads = [torch.randn(4, 5, 3), torch.randn(4, 1, 3)]
        for s, (r, opt) in enumerate(zip(runs, separate)):
            for p, g in zip(r, grads):
                p.grad = g[s].clone()
            opt.step()
        for p, g in zip(stacked, grads):
            p.grad = g.clone()
        together.step()
    for i in range(2):
        assert torch.equal(stacked[i], torch.stack([r[i] for r in runs]))


def test_run_adam_gives_each_run_its_own_learning_rate():
    torch.manual_seed(3)
    lrs = [1e-3, 3e-4, 2e-3]
    runs = [torch.nn.Parameter(torch.randn(4, 2)) for _ in lrs]
    stacked = torch.nn.Parameter(torch.stack([p.detach() for p in runs]))
    separate = [torch.optim.Adam([p], lr=lr, betas=(0.5, 0.999)) for p, lr in zip(runs, lrs)]
    together = stacked_adam([stacked], lrs, (0.5, 0.999))
    assert isinstance(together, RunAdam)
    for step in range(6):
        g = torch.randn(3, 4, 2)
        for s, (p, opt) in enumerate(zip(runs, separate)):
            p.grad = g[s].clone()
            opt.step()
        stacked.grad = g.clone()
        together.step()
        if step == 2:  # a schedule scales the (k,) rate like a number
            for opt in separate:
                opt.param_groups[0]["lr"] *= 0.5
            together.param_groups[0]["lr"] = together.param_groups[0]["lr"] * 0.5
    torch.testing.assert_close(stacked.detach(), torch.stack([p.detach() for p in runs]), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- the runs are the lone runs
def test_start_matches_lone_trainers_exactly():
    cfg = small("best")
    batch = BatchedTrainer(seed_configs(cfg, [0, 5, 7]))
    stacked = batch.inputs()  # the first step's draws of every run
    for s, seed in enumerate([0, 5, 7]):
        t = Trainer(dataclasses.replace(cfg, seed=seed), progress=False)
        assert_same_nets(t.generator, batch.run_generator(s))
        assert_same_nets(t.discriminator, batch.discriminator.unstack(s))
        assert torch.equal(batch.fixed_noise[s], t.fixed_noise)
        reals, zs, z_g = t.inputs()  # the lone run's first draws, in the Trainer's order
        assert torch.equal(stacked[2][s], z_g)
        for i in range(cfg.n_critic):
            assert torch.equal(stacked[0][i][s], reals[i]) and torch.equal(stacked[1][i][s], zs[i])


def test_r1_per_run_is_r1_of_each_run():
    batch = BatchedTrainer(seed_configs(small("best"), [0, 1]))
    x = torch.randn(2, 16, 2)
    penalty = batch._penalty(x)
    for s in range(2):
        expected = r1_penalty(batch.discriminator.unstack(s), x[s], batch.cfg.penalty_weight)
        torch.testing.assert_close(penalty[s], expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("method", ["gan", "best"])  # best: R1 γ = 0.1, 2 D steps, G twice as wide as D
def test_fifty_steps_match_lone_trainers(method):
    cfg = small(method)
    seeds = [0, 1, 2, 3]
    batch = train_batched(cfg, seeds, STEPS, decay=0.5)
    samples = batch.sample(32)  # (k, 32, 2), each run's noise from its own stream
    for s, seed in enumerate(seeds):
        t = lone_run(dataclasses.replace(cfg, seed=seed))
        assert_same_nets(t.generator, batch.run_generator(s), ATOL)
        assert_same_nets(t.discriminator, batch.discriminator.unstack(s), ATOL)
        torch.testing.assert_close(samples[s], t.sample(32), rtol=0.0, atol=10 * ATOL)
        for key, values in t.history.items():
            torch.testing.assert_close(torch.tensor(batch.history[s][key]), torch.tensor(values), rtol=1e-4,
                                       atol=1e-5, msg=lambda m, key=key: f"{key}: {m}")
    assert batch.step_count == STEPS and batch.opt_g.param_groups[0]["lr"] == 0.0  # decayed to 0


def test_a_learning_rate_sweep_matches_lone_trainers():
    cfg = small("gan")
    lrs = [1e-3, 5e-4, 2e-3]
    batch = train_batched(cfg, [0, 1, 2], STEPS, decay=0.5, lr_g=lrs, lr_d=lrs)
    for s, lr in enumerate(lrs):
        t = lone_run(dataclasses.replace(cfg, seed=s, lr_g=lr, lr_d=lr))
        assert_same_nets(t.generator, batch.run_generator(s), ATOL)
        assert_same_nets(t.discriminator, batch.discriminator.unstack(s), ATOL)


def test_a_run_generator_is_an_ordinary_generator():
    batch = train_batched(small("gan"), [0, 1], 5)
    generator = batch.run_generator(1)
    with torch.no_grad():
        samples = generator(torch.randn(200, 2))
    grid = toy.get("grid25")
    score = mode_coverage(samples, grid.modes, grid.std)
    assert samples.shape == (200, 2) and 0 <= score["modes"] <= 25


# ---------------------------------------------------------------------- what does not batch
@pytest.mark.parametrize("changes, match", [
    ({"extra": {"layers": 3, "remedies": {"unrolled": {}}}}, "unrolled"),
    ({"extra": {"layers": 3, "remedies": "pack"}}, "pack"),
    ({"spectral_norm": True}, "spectral_norm"),
    ({"penalty": "gp"}, "penalty"),
    ({"label_flip": 0.1}, "label_flip"),
    ({"instance_noise": 0.1}, "instance_noise"),
    ({"optimizer": "sgd"}, "optimizer"),
])
def test_unbatchable_settings_are_refused_with_the_reason(changes, match):
    with pytest.raises(ValueError, match=match):
        check_batchable(seed_configs(dataclasses.replace(small("gan"), **changes), [0, 1]))


def test_runs_may_differ_only_in_seed_and_learning_rates():
    cfg = small("gan")
    with pytest.raises(ValueError, match="batch_size"):
        check_batchable([cfg, dataclasses.replace(cfg, seed=1, batch_size=32)])
    with pytest.raises(ValueError, match="repeat"):
        check_batchable([cfg, cfg])
    with pytest.raises(ValueError, match="n_critic"):
        seed_configs(cfg, [0, 1], n_critic=[1, 2])
    with pytest.raises(ValueError, match="one per seed"):
        seed_configs(cfg, [0, 1], lr_g=[1e-3])
