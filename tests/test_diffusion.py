import math

import pytest
import torch

from ganlab.diffusion import (
    DiffusionConfig,
    DiffusionTrainer,
    Schedule,
    ddim_sample,
    ddim_step,
    ddim_timesteps,
    ddpm_sample,
    ddpm_step,
    epsilon_loss,
    in_chunks,
    linear_schedule,
    q_mean_var,
    q_sample,
    q_step,
)
from ganlab.nets.denoisers import ImageDenoiser, ToyDenoiser


class Linear(torch.nn.Module):
    """ε_θ(x, t) = a·x + b·t: simple enough to do every sampler step by hand."""

    def __init__(self, a: float = 0.3, b: float = 0.01) -> None:
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x, t):
        return self.a * x + self.b * t.to(x.dtype).view(-1, *[1] * (x.dim() - 1))


def test_schedule_by_hand():
    s = Schedule(torch.tensor([0.1, 0.2, 0.5]))
    torch.testing.assert_close(s.alpha_bars, torch.tensor([0.9, 0.72, 0.36], dtype=torch.float64))
    lin = linear_schedule(5, 0.1, 0.5)
    torch.testing.assert_close(lin.betas, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=torch.float64))


def test_closed_form_mean_and_variance_equal_iterating_the_one_step_process():
    s = linear_schedule(200)
    x0 = torch.tensor([[1.5, -0.7]], dtype=torch.float64)
    mean, var = x0.clone(), torch.zeros(1, 1, dtype=torch.float64)
    for t in range(200):  # x_t = √α_t x_{t−1} + √β_t ε: the mean scales by √α_t, the variance by α_t plus β_t
        mean = s.alphas[t].sqrt() * mean
        var = s.alphas[t] * var + s.betas[t]
        closed_mean, closed_var = q_mean_var(x0, torch.tensor([t]), s)
        torch.testing.assert_close(closed_mean, mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(closed_var, var, rtol=1e-12, atol=1e-12)


def test_closed_form_samples_match_iterated_samples_by_moments():
    g = torch.Generator().manual_seed(0)
    s = linear_schedule(50, 1e-3, 0.1)
    n, t_end = 200_000, 30
    x0 = torch.full((n, 1), 2.0, dtype=torch.float64)
    x = x0
    for t in range(t_end + 1):
        x = q_step(x, torch.full((n,), t), torch.randn(n, 1, generator=g, dtype=torch.float64), s)
    direct = q_sample(x0, torch.full((n,), t_end), torch.randn(n, 1, generator=g, dtype=torch.float64), s)
    mean, var = q_mean_var(x0[:1], torch.tensor([t_end]), s)
    se_mean = math.sqrt(float(var) / n)
    se_var = float(var) * math.sqrt(2 / n)
    for sample in (x, direct):
        assert abs(float(sample.mean()) - float(mean)) < 4 * se_mean
        assert abs(float(sample.var()) - float(var)) < 4 * se_var
    assert float(var) > 0.5  # far from the start: a wrong exponent would be many standard errors off


def test_epsilon_loss_by_hand():
    s = linear_schedule(10, 0.1, 0.5)
    model = Linear(0.5, 0.1)
    x0 = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    noise = torch.tensor([[0.3, -0.4]], dtype=torch.float64)
    t = torch.tensor([3])
    ab = float(s.alpha_bars[3])
    x_t = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * noise
    want = ((noise - (0.5 * x_t + 0.3)) ** 2).mean(1)
    torch.testing.assert_close(epsilon_loss(model, x0, t, noise, s), want)


def test_one_ddpm_step_by_hand_and_the_last_step_adds_no_noise():
    s = linear_schedule(10, 0.1, 0.5)
    model = Linear()
    x = torch.tensor([[0.4, -1.2]], dtype=torch.float64)
    z = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    t = 6
    beta, ab = float(s.betas[t]), float(s.alpha_bars[t])
    eps = 0.3 * x + 0.01 * t
    want = (x - beta / math.sqrt(1 - ab) * eps) / math.sqrt(1 - beta) + math.sqrt(beta) * z
    torch.testing.assert_close(ddpm_step(model, x, t, z, s), want)
    eps0 = 0.3 * x
    want0 = (x - 0.1 / math.sqrt(0.1) * eps0) / math.sqrt(0.9)
    torch.testing.assert_close(ddpm_step(model, x, 0, z, s), want0)


def test_ddim_with_all_steps_is_the_deterministic_formula():
    s = linear_schedule(8, 0.05, 0.3)
    model = Linear()
    x_start = torch.tensor([[0.7, -0.2], [1.5, 0.1]], dtype=torch.float64)
    x = x_start.clone()
    ab = s.alpha_bars.tolist() + [1.0]  # ab[-1] = 1: the step to the data
    for t in range(7, -1, -1):
        eps = 0.3 * x + 0.01 * t
        x0_hat = (x - math.sqrt(1 - ab[t]) * eps) / math.sqrt(ab[t])
        x = math.sqrt(ab[t - 1]) * x0_hat + math.sqrt(1 - ab[t - 1]) * eps
    torch.testing.assert_close(ddim_sample(model, x_start, s, 8), x)
    assert ddim_timesteps(8, 8) == list(range(7, -1, -1))
    # clip: x̂0 clamped to [-c, c] before the jump
    x_t = torch.tensor([[3.0, -3.0]], dtype=torch.float64)
    eps = 0.3 * x_t + 0.01 * 7
    x0_hat = ((x_t - math.sqrt(1 - ab[7]) * eps) / math.sqrt(ab[7])).clamp(-1, 1)
    want = math.sqrt(ab[3]) * x0_hat + math.sqrt(1 - ab[3]) * eps
    torch.testing.assert_close(ddim_step(model, x_t, 7, 3, s, clip=1.0), want)
    assert float(((x_t - math.sqrt(1 - ab[7]) * eps) / math.sqrt(ab[7])).abs().max()) > 1  # the clamp is active
    assert ddim_timesteps(1000, 4) == [999, 666, 333, 0]


def test_ddpm_sample_is_its_steps_in_order():
    s = linear_schedule(5, 0.1, 0.3)
    model = Linear()
    x_start = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    got = ddpm_sample(model, x_start, s, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    x = x_start
    for t in range(4, -1, -1):
        z = torch.randn(x.shape, dtype=x.dtype, generator=g) if t > 0 else torch.zeros_like(x)
        x = ddpm_step(model, x, t, z, s)
    torch.testing.assert_close(got, x)


def test_in_chunks_gives_each_row_what_one_call_gives():
    calls = []

    def model(x, t):
        calls.append(len(x))
        return Linear()(x, t)

    x, t = torch.randn(10, 1, 3, 3, dtype=torch.float64), torch.arange(10)
    torch.testing.assert_close(in_chunks(model, 4)(x, t), Linear()(x, t), rtol=0, atol=0)
    assert calls == [4, 4, 2]
    calls.clear()
    in_chunks(model, 10)(x, t)
    assert calls == [10]  # a batch that fits is one call
    with pytest.raises(ValueError, match="positive integer"):
        in_chunks(model, 0)


@pytest.mark.parametrize("ddim_steps", [None, 4])
def test_image_samples_do_not_depend_on_the_chunk_size(monkeypatch, ddim_steps):
    # 70 images in chunks of 64 and 64 + 6 against one call of 70: the noise is drawn for all 70 either way.
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    cfg = DiffusionConfig(dataset="tensor", steps=12, hidden_dim=32, batch_size=8, device="cpu")
    trainer = DiffusionTrainer(cfg, data=images)
    trainer.fit(steps=3)
    samples = {}
    for chunk in (64, 1000):
        monkeypatch.setattr("ganlab.diffusion.IMAGE_CHUNK", chunk)
        samples[chunk] = trainer.sample(70, ddim_steps=ddim_steps, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(samples[64], samples[1000], rtol=0, atol=1e-5)
    assert samples[64].std() > 0.1  # not a trivially constant output


def test_denoiser_shapes():
    assert ToyDenoiser(2, 16, 10)(torch.randn(4, 2), torch.tensor([0, 3, 9, 5])).shape == (4, 2)
    assert ImageDenoiser(1, 8, 10)(torch.randn(3, 1, 28, 28), torch.tensor([0, 4, 9])).shape == (3, 1, 28, 28)


def test_a_few_training_steps_reduce_the_loss_on_the_ring():
    cfg = DiffusionConfig(dataset="ring8", data_shape=(2,), steps=100, beta_end=0.1, hidden_dim=64, batch_size=256,
                          lr=3e-3, device="cpu")
    t = DiffusionTrainer(cfg, check_every=10)
    history = t.fit(steps=80)["loss"]
    assert sum(history[-20:]) / 20 < 0.8 * sum(history[:10]) / 10, history
    assert t.sample(5).shape == (5, 2) and t.sample(5, ddim_steps=3).shape == (5, 2)


def test_images_train_and_checkpoint_round_trip(tmp_path):
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    cfg = DiffusionConfig(dataset="tensor", steps=20, hidden_dim=32, batch_size=8, device="cpu")
    t = DiffusionTrainer(cfg, data=images)
    t.fit(steps=2)
    path = t.save(tmp_path / "ddpm.pt")
    t.fit(steps=2)
    u = DiffusionTrainer(cfg, data=images)
    u.load(path)
    u.fit(steps=2)
    for a, b in zip(t.model.parameters(), u.model.parameters()):
        torch.testing.assert_close(a, b)


def test_bad_input():
    s = linear_schedule(10)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Schedule(torch.tensor([0.1, 1.0]))
    with pytest.raises(ValueError, match="0 … 9"):
        q_sample(torch.zeros(2, 2), torch.tensor([0, 10]), torch.zeros(2, 2), s)
    with pytest.raises(ValueError, match="one step index per sample"):
        q_sample(torch.zeros(2, 2), torch.tensor([1]), torch.zeros(2, 2), s)
    with pytest.raises(ValueError, match="t_prev"):
        ddim_step(Linear(), torch.zeros(1, 2), 3, 5, s)
    with pytest.raises(ValueError, match="from 1 to T"):
        ddim_timesteps(10, 11)
    with pytest.raises(ValueError, match="beta_start"):
        DiffusionConfig(beta_start=0.5, beta_end=0.1)
