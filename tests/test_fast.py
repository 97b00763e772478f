"""The fast path: fused Adam, the eager/CUDA-graph decision, and (on CUDA) graph steps equal eager steps."""

import contextlib
import dataclasses
from types import SimpleNamespace

import pytest
import torch

from ganlab import GANConfig, Trainer
from ganlab import train as train_module
from ganlab.fast import (
    CudaGraphs,
    Stepper,
    _capturable,
    _Setup,
    adam_options,
    autocast,
    discriminate,
    eager_reason,
    per_sample,
)
from ganlab.nets import apply_spectral_norm, build_models
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
    before = _Setup.of(trainer)
    assert before.same(_Setup.of(trainer))
    trainer.update(lr_d=1e-3)  # a slider move: the lr baked into a captured graph would be stale
    assert not before.same(_Setup.of(trainer))
    after_update = _Setup.of(trainer)
    trainer.load_state_dict(trainer.state_dict())  # fresh optimizer state tensors
    assert not after_update.same(_Setup.of(trainer))


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
    def __init__(self, body, out):
        self.body, self.out = body, out

    def replay(self):  # like a CUDA graph: rerun the recorded work, refill the static output in place
        self.out.copy_(self.body())


class CpuGraphs(CudaGraphs):
    """CUDA-graph semantics on the CPU: capture records without running, replay runs, outputs are static."""

    device_types = ("cpu",)

    def __init__(self, fail=False):
        self.fail, self.captures = fail, 0

    def new_stream(self, device):
        return None

    @contextlib.contextmanager
    def on_side_stream(self, stream, device):
        yield

    def hand_over(self, tensor, device):
        pass

    def capture(self, body, stream):
        if self.fail:
            raise RuntimeError("operation not permitted when stream is capturing\nmore detail")
        self.captures += 1
        out = torch.full((6,), float("nan"))
        return FakeGraph(body, out), out

    def synchronize(self, device):
        pass


def stand_in_pair(tiny_images, backend, **kw):
    cfg = small_cfg(extra={"dropout": 0.0}, **kw)  # dropout would draw from torch's shared global RNG
    graphed = Trainer(cfg, data=tiny_images, progress=False, check_every=4)
    graphed._stepper = Stepper(backend=backend)
    eager = Trainer(cfg, data=tiny_images, progress=False, check_every=4)
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


def test_a_changed_setup_is_captured_again(tiny_images):
    backend = CpuGraphs()
    graphed, eager = stand_in_pair(tiny_images, backend)
    for t in (graphed, eager):
        t.fit(steps=5)
        t.update(lr_d=1e-3, real_label=1.0)  # values baked into the old graph
        t.fit(steps=5)
        t.load_state_dict(t.state_dict())  # new optimizer state tensors
        t.fit(steps=5)
    assert backend.captures == 3
    assert_same_state(graphed, eager, rtol=0, atol=0)


def test_a_failed_capture_runs_the_step_eagerly_and_says_why(tiny_images):
    graphed, eager = stand_in_pair(tiny_images, CpuGraphs(fail=True))
    graphed.fit(steps=7)
    eager.fit(steps=7)
    assert graphed.fast_path == ("eager: CUDA-graph capture failed "
                                 "(RuntimeError: operation not permitted when stream is capturing)")
    assert graphed._stepper.graph_step is None
    assert_same_state(graphed, eager, rtol=0, atol=0)  # the failed step ran on its own inputs


# ---------------------------------------------------------------------- CUDA only
def cuda_pair(tiny_images, **kw):
    cfg = small_cfg(device="cuda", extra={"dropout": 0.0}, **kw)  # no dropout: both runs draw the same numbers
    graphed = Trainer(cfg, data=tiny_images, progress=False, check_every=4)
    eager = Trainer(cfg, data=tiny_images, progress=False, check_every=4, cuda_graph=False)
    return graphed, eager


@needs_cuda
@pytest.mark.parametrize("kw", [{}, {"n_critic": 2}, {"clip": 0.05, "loss": "wasserstein"}])
def test_cuda_graph_steps_equal_eager_steps(tiny_images, kw):
    graphed, eager = cuda_pair(tiny_images, **kw)
    assert graphed.fast_path == "cuda-graph" and eager.fast_path.startswith("eager: CUDA graphs switched off")
    graphed.fit(steps=10)  # 3 eager warm-up steps, one capture, then replays
    eager.fit(steps=10)
    assert graphed._stepper.graph_step.graph is not None
    assert_same_state(graphed, eager)


@needs_cuda
def test_live_update_recaptures_with_the_new_learning_rate(tiny_images):
    graphed, eager = cuda_pair(tiny_images)
    for t in (graphed, eager):
        t.fit(steps=6)
        t.update(lr_d=1e-3, lr_g=5e-4)
        t.fit(steps=6)
    assert graphed.fast_path == "cuda-graph"
    assert_same_state(graphed, eager)


@needs_cuda
def test_unsupported_options_fall_back_to_eager(tiny_images):
    trainer = Trainer(small_cfg(device="cuda", instance_noise=0.1), data=tiny_images, progress=False)
    assert trainer.fast_path.startswith("eager: instance_noise")
    trainer.fit(steps=6)
    assert trainer._stepper.graph_step is None


@needs_cuda
def test_a_failed_capture_falls_back_and_says_why(tiny_images):
    trainer = Trainer(small_cfg(device="cuda"), data=tiny_images, progress=False)
    plain = trainer.updates

    def syncing_updates(*args):  # a host sync, which no capture allows
        stats = plain(*args)
        stats.sum().item()
        return stats

    trainer.updates = syncing_updates
    trainer.fit(steps=6)
    assert trainer.step_count == 6 and len(trainer.history["d_loss"]) == 6
    assert trainer.fast_path.startswith("eager: CUDA-graph capture failed")


@needs_cuda
def test_bf16_dcgan_steps_keep_float32_weights(tiny_images):
    cfg = dataclasses.replace(small_cfg(device="cuda", model="dcgan", bf16=True), extra={"width": 8})
    trainer = Trainer(cfg, data=tiny_images, progress=False)
    trainer.fit(steps=6)
    assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())
    assert all(torch.isfinite(torch.tensor(v)).all() for v in trainer.history.values())
