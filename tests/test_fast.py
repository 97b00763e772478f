"""The fast path: fused Adam, the eager/CUDA-graph decision, and (on CUDA) graph steps equal eager steps."""

import contextlib
import dataclasses
from types import SimpleNamespace

import pytest
import torch

from ganlab import GANConfig, Trainer
from ganlab import train as train_module
from ganlab.fast import (
    adam_options,
    autocast,
    discriminate,
    eager_reason,
    per_sample,
    to_channels_last,
)
from ganlab.graph import CudaGraphs, Stepper, _capturable, _Setup
from ganlab.nets import apply_spectral_norm, build_models
from ganlab.remedies import REMEDIES, build_trainer
from ganlab.train import make_optimizer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="CUDA graphs need a CUDA GPU; this machine has none")


def small_cfg(**kw):
    base = dict(device="cpu", hidden_dim=8, latent_dim=8, batch_size=16, seed=1)
    return GANConfig(**{**base, **kw})


def fake_cuda_trainer(**cfg_changes):
    """What eager_reason looks at, as if on CUDA: the decision logic is testable without a GPU."""
    params = [torch.nn.Parameter(torch.zeros(3))]
    return SimpleNamespace(cfg=small_cfg(**cfg_changes), device=torch.device("cuda"),
                           d_step=train_module.d_step, g_step=train_module.g_step,
                           opt_d=torch.optim.Adam(params, fused=True), opt_g=torch.optim.Adam(params, fused=True))


def test_adam_is_fused_on_cpu_and_plain_where_it_cannot_be():
    assert adam_options([torch.zeros(2, requires_grad=True)]) == {"fused": True}
    assert adam_options([]) == {}
    assert adam_options([torch.zeros(2, dtype=torch.long)]) == {}
    opt = make_optimizer("adam", [torch.nn.Parameter(torch.zeros(2))], 1e-3, (0.5, 0.999))
    assert opt.param_groups[0]["fused"] is True
    assert not make_optimizer("rmsprop", [torch.nn.Parameter(torch.zeros(2))], 1e-3, (0.5, 0.9)).defaults.get("fused")


def test_fused_adam_takes_the_same_steps_as_the_default_one():
    torch.manual_seed(0)
    start, grads = torch.randn(50), [torch.randn(50) for _ in range(5)]
    params = {}
    for fused in (False, True):
        p = torch.nn.Parameter(start.clone())
        opt = torch.optim.Adam([p], lr=1e-2, betas=(0.5, 0.999), fused=fused)
        for g in grads:
            p.grad = g.clone()
            opt.step()
        params[fused] = p.detach()
    torch.testing.assert_close(params[True], params[False], rtol=1e-6, atol=1e-7)


def test_one_pass_over_real_and_fake_gives_the_two_pass_logits_and_gradients():
    _, D = build_models(small_cfg(extra={"dropout": 0.0}))
    assert per_sample(D)
    real, fake = torch.randn(16, 1, 28, 28), torch.randn(24, 1, 28, 28)  # M ≠ N, as with replayed fakes
    grads = []
    for both in (discriminate(D, real, fake), (D(real), D(fake))):
        assert both[0].shape == (16,) and both[1].shape == (24,)
        D.zero_grad()
        (both[0].sum() - 2 * both[1].mean()).backward()
        grads.append([p.grad.clone() for p in D.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(discriminate(D, real, fake)[1], D(fake), rtol=1e-5, atol=1e-6)


def test_batch_coupled_discriminators_keep_two_passes():
    _, dcgan_d = build_models(small_cfg(model="dcgan", extra={"width": 4}))  # BatchNorm mixes the batch
    _, sn_d = build_models(small_cfg())
    apply_spectral_norm(sn_d)  # one power iteration per call
    _, hooked = build_models(small_cfg())
    hooked.net[1].register_forward_hook(lambda m, i, o: None)
    _, toy_d = build_models(small_cfg(model="toy", dataset="ring8", image_shape=(2,)))
    assert [per_sample(d) for d in (dcgan_d, sn_d, hooked, toy_d)] == [False, False, False, True]
    calls = []
    dcgan_d.register_forward_pre_hook(lambda m, i: calls.append(i[0].shape[0]))
    discriminate(dcgan_d, torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    assert calls == [4, 4]


def test_cpu_trainer_reports_eager_and_trains(tiny_images):
    trainer = Trainer(small_cfg(), data=tiny_images, progress=False, check_every=3)
    assert trainer.fast_path == "eager: cpu has no CUDA graphs"
    trainer.fit(steps=4)
    assert trainer.step_count == 4 and len(trainer.history["d_loss"]) == 4


def test_channels_last_takes_the_eager_steps_and_checkpoints_load_either_way(tiny_images, tmp_path):
    cfg = dataclasses.replace(small_cfg(model="dcgan"), extra={"width": 8})
    plain = Trainer(cfg, data=tiny_images, progress=False)
    fast = Trainer(cfg, data=tiny_images, progress=False, channels_last=True)
    weight = next(p for p in fast.discriminator.parameters() if p.dim() == 4 and p.shape[1] > 1)
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    assert fast.fast_path.endswith(", channels-last") and not plain.fast_path.endswith("channels-last")
    plain.fit(steps=3)
    fast.fit(steps=3)
    # Another summation order only: after three steps of Adam (whose first steps move each weight by about lr,
    # whatever the gradient's size) the weights agree far inside one step's move (lr = 2e-4).
    for a, b in ((plain.generator, fast.generator), (plain.discriminator, fast.discriminator)):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            torch.testing.assert_close(q, p, rtol=0, atol=2e-5, msg=name)
    assert max(abs(x - y) for x, y in zip(plain.history["d_loss"], fast.history["d_loss"])) < 1e-4
    # A checkpoint of either layout continues in the other.
    path = plain.save(tmp_path / "plain.pt")
    resumed = Trainer.load(path, data=tiny_images, progress=False, channels_last=True)
    assert resumed.channels_last and resumed.step_count == 3
    resumed.fit(steps=1)
    assert not to_channels_last(torch.nn.Linear(2, 3))  # no 4-D weight: nothing to change


def test_step_is_updates_on_inputs(tiny_images):
    # Trainer.step = updates(*inputs()): the same draws in the same order give the same parameters.
    cfg = small_cfg(n_critic=2, extra={"dropout": 0.0})  # dropout would draw from torch's shared global RNG
    a = Trainer(cfg, data=tiny_images, progress=False)
    b = Trainer(cfg, data=tiny_images, progress=False)
    for _ in range(3):
        a.step()
        b.updates(*b.inputs())
    for p, q in zip(a.generator.parameters(), b.generator.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    reals, zs, z_g = a.inputs()
    assert len(reals) == len(zs) == 2 and reals[0].shape == (16, 1, 28, 28) and z_g.shape == (16, 8)


@pytest.mark.parametrize("changes, allowed, expected", [
    ({}, True, None),
    ({}, False, "switched off"),
    ({"instance_noise": 0.1}, True, "instance_noise"),
    ({"label_flip": 0.05}, True, "label_flip"),
    ({"penalty": "gp", "loss": "wasserstein"}, True, "penalty='gp'"),
    ({"penalty": "r1"}, True, None),  # no random draws inside: tried, and reported if the capture fails
])
def test_eager_reasons(changes, allowed, expected):
    reason = eager_reason(fake_cuda_trainer(**changes), allowed)
    assert reason is None if expected is None else expected in reason


def test_custom_steps_and_unfused_optimizers_stay_eager():
    t = fake_cuda_trainer()
    t.d_step = lambda trainer, real, z: None
    assert "custom d_step" in eager_reason(t)
    t = fake_cuda_trainer()
    t.opt_g = torch.optim.RMSprop([torch.nn.Parameter(torch.zeros(2))])
    assert "RMSprop" in eager_reason(t)


def test_setup_changes_are_noticed(tiny_images):
    trainer = Trainer(small_cfg(), data=tiny_images, progress=False)
    before = _Setup(trainer)
    assert before.holds(trainer)
    trainer.update(real_label=1.0)  # a slider move: the value baked into a captured graph would be stale
    assert not before.holds(trainer)
    trainer.fit(steps=1)  # optimizer state now exists
    after_update = _Setup(trainer)
    trainer.load_state_dict(trainer.state_dict())  # fresh optimizer state tensors
    assert not after_update.holds(trainer)
    live = _Setup(trainer)
    trainer.opt_d.param_groups[0]["lr"] = 1e-3  # learning rates are read live by the graph
    assert live.holds(trainer)


def test_capturable_flag_is_set_only_inside_the_context():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], fused=True)
    with pytest.raises(RuntimeError), _capturable(opt):
        assert opt.param_groups[0]["capturable"] is True
        raise RuntimeError("capture failed")
    assert opt.param_groups[0]["capturable"] is False


def test_bf16_is_off_the_gpu(tiny_images):
    trainer = Trainer(small_cfg(bf16=True), data=tiny_images, progress=False)
    with autocast(trainer):
        assert not torch.is_autocast_enabled("cpu")
    trainer.step()
    assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())
    with pytest.raises(ValueError, match="bf16"):
        small_cfg(bf16="yes")


def test_stepper_runs_eager_on_cpu_without_a_graph(tiny_images):
    trainer = Trainer(small_cfg(), data=tiny_images, progress=False)
    stepper = Stepper()
    stats = stepper(trainer)
    assert stats.shape == (6,) and stepper.graph_step is None


# ---------------------------------------------------------------------- graph plumbing, on the CPU
class FakeGraph:
    """Replays like a CUDA graph: Python values (the config, every param-group entry) are frozen at
    capture, tensors are read at replay, and the static output is refilled in place."""

    def __init__(self, body, out, trainer):
        self.body, self.out, self.trainer = body, out, trainer
        self.cfg = trainer.cfg
        self.groups = [(g, dict(g)) for opt in (trainer.opt_d, trainer.opt_g) for g in opt.param_groups]

    def replay(self):
        t = self.trainer
        now_cfg, now_groups = t.cfg, [dict(g) for g, _ in self.groups]
        t.cfg = self.cfg
        for group, frozen in self.groups:
            group.update(frozen)
        try:
            self.out.copy_(self.body())
        finally:
            t.cfg = now_cfg
            for (group, _), values in zip(self.groups, now_groups):
                group.update(values)


class CpuGraphs(CudaGraphs):
    """CUDA-graph semantics on the CPU: capture records without running, replay runs, outputs are static."""

    device_types = ("cpu",)

    def __init__(self, fail=False, sync=None):
        self.fail, self.sync, self.captures = fail, sync, 0
        self.trainer = None  # set by stand_in_pair: the fake graph reads its config and optimizers

    def new_stream(self, device):
        return None

    @contextlib.contextmanager
    def on_side_stream(self, stream, device):
        yield

    def hand_over(self, tensor, device):
        pass

    @contextlib.contextmanager
    def watch_syncs(self, device):
        found = []
        yield found
        if self.sync:
            found.append(self.sync)

    def capture(self, body, stream, device):
        if self.fail:
            raise RuntimeError("operation not permitted when stream is capturing\nmore detail")
        self.captures += 1
        out = torch.full((6,), float("nan"))
        return FakeGraph(body, out, self.trainer), out

    def synchronize(self, device):
        pass


def stand_in_pair(tiny_images, backend, **kw):
    cfg = small_cfg(extra={"dropout": 0.0}, **kw)  # dropout would draw from torch's shared global RNG
    graphed = Trainer(cfg, data=tiny_images, progress=False, check_every=4)
    graphed._stepper = Stepper(backend=backend)
    backend.trainer = graphed
    eager = Trainer(dataclasses.replace(cfg), data=tiny_images, progress=False, check_every=4)  # own config
    return graphed, eager


def assert_same_state(a, b, rtol=1e-4, atol=1e-5):
    for p, q in zip([*a.generator.parameters(), *a.discriminator.parameters()],
                    [*b.generator.parameters(), *b.discriminator.parameters()]):
        torch.testing.assert_close(p, q, rtol=rtol, atol=atol)
    for k in a.history:
        torch.testing.assert_close(torch.tensor(a.history[k]), torch.tensor(b.history[k]), rtol=rtol, atol=atol)


@pytest.mark.parametrize("kw", [{}, {"n_critic": 2}])
def test_graph_plumbing_gives_the_eager_steps(tiny_images, kw):
    # Warm-up, capture into static buffers, input copies before each replay, stats cloned after it:
    # with a stand-in that keeps CUDA-graph semantics, the run must equal the eager one exactly.
    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend, **kw)
    assert graphed.fast_path == "cuda-graph"
    graphed.fit(steps=9)
    eager.fit(steps=9)
    assert backend.captures == 1
    assert_same_state(graphed, eager, rtol=0, atol=0)


def test_the_stand_in_freezes_python_values_as_a_graph_does(tiny_images):
    # The stand-in is only a test of the plumbing if a value baked into the graph really stays baked:
    # a learning rate set as a plain float during capture must be ignored by later replays.
    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend)
    graphed._stepper.graph_step = None
    for t in (graphed, eager):
        t.fit(steps=5)
    step = graphed._stepper.graph_step
    step.lrs = []  # as before the fix: nothing refills a live learning rate, and the groups hold floats
    for group, _ in step.graph.groups:
        group["lr"] = 0.0
    for _, frozen in step.graph.groups:
        frozen["lr"] = 2e-4
    for t in (graphed, eager):
        for opt in (t.opt_d, t.opt_g):
            opt.param_groups[0]["lr"] = 0.0
        t.fit(steps=2)
    with pytest.raises(AssertionError):
        assert_same_state(graphed, eager, rtol=0, atol=0)


def test_a_learning_rate_schedule_reaches_every_replayed_step(tiny_images):
    from ganlab.experiments.mode_collapse import LinearDecay

    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend)
    for t in (graphed, eager):
        t.add_callback("on_step_end", LinearDecay(t, total=12, fraction=0.75))
        t.fit(steps=12)
    assert backend.captures == 1  # the rate is read live: no new capture for each new rate
    assert graphed.opt_g.param_groups[0]["lr"] == 0.0 and isinstance(graphed.opt_g.param_groups[0]["lr"], float)
    assert_same_state(graphed, eager, rtol=0, atol=0)


@pytest.mark.parametrize("change, recaptures", [
    (lambda t: t.update(lr_d=1e-3, lr_g=5e-4), 1),  # the dashboard's rate sliders (cfg changed: captured again)
    (lambda t: t.update(real_label=1.0), 1),  # a knob baked into the loss
    (lambda t: t.update(betas=(0.0, 0.9)), 1),
    (lambda t: t.opt_d.param_groups[0].__setitem__("betas", (0.3, 0.99)), 1),  # a callback editing Adam
    (lambda t: t.opt_g.param_groups[0].__setitem__("lr", 1e-3), 0),  # a schedule: read live, no capture
    (lambda t: setattr(t.cfg, "real_label", 0.8), 1),  # a config field set directly
    (lambda t: t.load_state_dict(t.state_dict()), 1),  # new optimizer state tensors (divergence restore)
    (lambda t: t.drop_graph(), 1),
], ids=["update-lr", "update-real-label", "update-betas", "callback-betas", "schedule-lr", "cfg-set-directly",
        "restore", "drop-graph"])
def test_each_change_between_steps_takes_effect_at_the_next_step(tiny_images, change, recaptures):
    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend)
    for t in (graphed, eager):
        t.fit(steps=5)
        change(t)
        t.fit(steps=6)
    assert backend.captures == 1 + recaptures
    assert_same_state(graphed, eager, rtol=0, atol=0)


def test_module_changes_are_part_of_the_setup(tiny_images):
    trainer = Trainer(small_cfg(), data=tiny_images, progress=False)
    checks = []

    def changed(change):
        setup = _Setup(trainer)
        assert setup.holds(trainer)
        change()
        checks.append(not setup.holds(trainer))

    leaky = next(m for m in trainer.discriminator.modules() if isinstance(m, torch.nn.LeakyReLU))
    first = next(trainer.generator.parameters())
    changed(lambda: setattr(leaky, "negative_slope", 0.1))  # a plain attribute read in forward
    changed(lambda: setattr(first, "data", first.data.clone()))  # same Parameter, new memory
    changed(lambda: first.requires_grad_(False))
    changed(lambda: trainer.discriminator.register_forward_hook(lambda m, i, o: None))
    changed(lambda: trainer.discriminator.net.__setitem__(1, torch.nn.ReLU()))  # a layer swapped
    assert checks == [True] * 5


def test_in_place_changes_reach_the_replay_without_a_new_capture(tiny_images):
    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend)
    for t in (graphed, eager):
        t.fit(steps=5)
        with torch.no_grad():
            for p in t.discriminator.parameters():
                p.mul_(0.5)
        t.fit(steps=4)
    assert backend.captures == 1
    assert_same_state(graphed, eager, rtol=0, atol=0)


def test_a_failed_capture_runs_the_step_eagerly_and_says_why(tiny_images):
    graphed, eager = stand_in_pair(tiny_images, CpuGraphs(fail=True))
    graphed.fit(steps=7)
    eager.fit(steps=7)
    assert graphed.fast_path == ("eager: CUDA-graph capture failed "
                                 "(RuntimeError: operation not permitted when stream is capturing)")
    assert graphed._stepper.graph_step is None
    assert_same_state(graphed, eager, rtol=0, atol=0)  # the failed step ran on its own inputs


def test_a_host_sync_in_warm_up_keeps_the_step_eager_without_losing_it(tiny_images):
    backend = CpuGraphs(sync="called a synchronizing CUDA operation")
    graphed, eager = stand_in_pair(tiny_images, backend)
    graphed.fit(steps=7)
    eager.fit(steps=7)
    assert backend.captures == 0
    assert graphed.fast_path.startswith("eager: the step synchronises with the host (called a synchronizing")
    assert_same_state(graphed, eager, rtol=0, atol=0)  # the watched warm-up step counted once


# ---------------------------------------------------------------------- CUDA only
def cuda_pair(data, dropout=0.0, schedule=0, **kw):
    """The same run with and without the CUDA graph; ``schedule`` > 0 attaches a linear rate decay."""
    from ganlab.experiments.mode_collapse import LinearDecay

    base = dict(device="cuda", hidden_dim=8, latent_dim=8, batch_size=16, seed=1)
    if "model" not in kw or kw["model"] == "mlp":
        base["extra"] = {"dropout": dropout}  # no dropout: both runs draw the same numbers
    cfg = GANConfig(**{**base, **kw})
    graphed = Trainer(cfg, data=data, progress=False, check_every=4)
    eager = Trainer(dataclasses.replace(cfg), data=data, progress=False, check_every=4, cuda_graph=False)
    if schedule:
        for t in (graphed, eager):
            t.add_callback("on_step_end", LinearDecay(t, total=schedule, fraction=0.5))
    return graphed, eager


TOY = dict(model="toy", dataset="ring8", image_shape=(2,), latent_dim=2, hidden_dim=16, batch_size=32)


@needs_cuda
@pytest.mark.parametrize("kw", [{}, {"n_critic": 2}, {"clip": 0.05, "loss": "wasserstein"},
                                {"penalty": "r1", "penalty_weight": 0.1}, {"penalty": "r2", "penalty_weight": 1.0},
                                {"real_label": 1.0}, {"real_label": 0.9, "n_critic": 2, "loss": "hinge"},
                                {**TOY, "penalty": "r1", "penalty_weight": 0.1, "n_critic": 2}],
                         ids=["plain", "n_critic2", "wgan-clip", "r1", "r2", "no-smoothing", "hinge-smoothing",
                              "toy-best-like"])
def test_cuda_graph_steps_equal_eager_steps_under_a_schedule(tiny_images, kw):
    data = None if kw.get("model") == "toy" else tiny_images
    graphed, eager = cuda_pair(data, schedule=30, **kw)
    assert graphed.fast_path == "cuda-graph" and eager.fast_path.startswith("eager: CUDA graphs switched off")
    graphed.fit(steps=30)  # warm-up steps, one capture, then replays while the rates fall to 0
    eager.fit(steps=30)
    assert graphed._stepper.graph_step.graph is not None
    assert graphed.opt_d.param_groups[0]["lr"] == eager.opt_d.param_groups[0]["lr"] == 0.0
    assert_same_state(graphed, eager)


@needs_cuda
def test_live_update_recaptures_with_the_new_learning_rate(tiny_images):
    graphed, eager = cuda_pair(tiny_images)
    for t in (graphed, eager):
        t.fit(steps=6)
        t.update(lr_d=1e-3, lr_g=5e-4)
        t.fit(steps=6)
        t.update(real_label=1.0)
        t.fit(steps=6)
    assert graphed.fast_path == "cuda-graph"
    assert_same_state(graphed, eager)


@needs_cuda
@pytest.mark.parametrize("remedy", sorted(REMEDIES))
def test_capturable_remedies_equal_their_eager_runs(remedy):
    from ganlab.experiments.mode_collapse import LinearDecay

    cfg = GANConfig(device="cuda", **TOY, seed=3, extra={"dropout": 0.0})
    graphed = build_trainer(cfg, remedy, progress=False, check_every=5)
    if graphed.fast_path != "cuda-graph":
        pytest.skip(f"{remedy} runs eagerly: {graphed.fast_path}")
    eager = build_trainer(dataclasses.replace(cfg), remedy, progress=False, check_every=5, cuda_graph=False)
    for t in (graphed, eager):
        t.add_callback("on_step_end", LinearDecay(t, total=30, fraction=0.5))
        t.fit(steps=30)
    assert graphed._stepper.graph_step is not None and graphed._stepper.graph_step.graph is not None
    assert_same_state(graphed, eager)


@needs_cuda
def test_unsupported_options_fall_back_to_eager(tiny_images):
    trainer = Trainer(small_cfg(device="cuda", instance_noise=0.1), data=tiny_images, progress=False)
    assert trainer.fast_path.startswith("eager: instance_noise")
    trainer.fit(steps=6)
    assert trainer._stepper.graph_step is None


@needs_cuda
def test_a_host_sync_in_the_step_is_seen_before_any_capture(tiny_images):
    trainer = Trainer(small_cfg(device="cuda"), data=tiny_images, progress=False)
    plain = trainer.updates

    def syncing_updates(*args):  # a host sync, which no capture allows
        stats = plain(*args)
        stats.sum().item()
        return stats

    trainer.updates = syncing_updates
    trainer.fit(steps=8)
    assert trainer.step_count == 8 and len(trainer.history["d_loss"]) == 8
    assert trainer.fast_path.startswith("eager: the step synchronises with the host")


@needs_cuda
def test_a_failed_capture_leaves_dropout_and_the_run_working(tiny_images):
    # A sync that happens only while capturing gets past the warm-up watch and invalidates the capture;
    # torch leaves its CUDA generator in capture mode then, and the next eager dropout would raise.
    trainer = Trainer(small_cfg(device="cuda", extra={"dropout": 0.3}), data=tiny_images, progress=False)
    plain = trainer.updates

    def sync_when_capturing(*args):
        stats = plain(*args)
        if torch.cuda.is_current_stream_capturing():
            stats.sum().item()
        return stats

    trainer.updates = sync_when_capturing
    trainer.fit(steps=10)
    assert trainer.step_count == 10 and len(trainer.history["d_loss"]) == 10
    assert trainer.fast_path.startswith("eager: CUDA-graph capture failed")
    torch.nn.functional.dropout(torch.ones(8, device="cuda"), 0.5)  # the generator works outside the trainer too
    assert torch.cuda.current_stream() == torch.cuda.default_stream()


@needs_cuda
def test_bf16_dcgan_steps_keep_float32_weights(tiny_images):
    cfg = dataclasses.replace(small_cfg(device="cuda", model="dcgan", bf16=True), extra={"width": 8})
    trainer = Trainer(cfg, data=tiny_images, progress=False)
    trainer.fit(steps=6)
    assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())
    assert all(torch.isfinite(torch.tensor(v)).all() for v in trainer.history.values())
