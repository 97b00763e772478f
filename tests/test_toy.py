"""ganlab.toy: exact densities agree with closed forms and integrate to 1, and samples follow the densities."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import toy


def _rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_log_prob_matches_closed_form_in_float64() -> None:
    dist = toy.gaussian([0.5, -1.0], [2.0, 0.3])
    x = torch.randn(7, 2, generator=_rng(), dtype=torch.float64)
    expected = torch.distributions.Normal(torch.tensor([0.5, -1.0], dtype=torch.float64),
                                          torch.tensor([2.0, 0.3], dtype=torch.float64)).log_prob(x).sum(1)
    assert_close(dist.log_prob(x), expected, rtol=0, atol=1e-12)
    assert dist.log_prob(x).dtype == torch.float64


def test_one_dimensional_builders_take_numbers() -> None:
    assert toy.gaussian(0.0, 1.0).dim == 1
    assert toy.mixture([-2.0, 2.0], 0.5).dim == 1
    assert toy.uniform(0.0, 1.0).dim == 1
    assert_close(toy.gaussian(0.0, 1.0).log_prob(torch.zeros(1, 1)), torch.tensor([-0.5 * math.log(2 * math.pi)]))


def test_mixture_log_prob_is_weighted_sum_of_components() -> None:
    dist = toy.mixture([[-1.0], [2.0]], [0.5, 1.5], weights=[1.0, 3.0])  # weights are normalised
    x = torch.linspace(-4, 5, 11, dtype=torch.float64)[:, None]
    def normal(mean: float, std: float) -> torch.Tensor:
        return torch.exp(-0.5 * ((x[:, 0] - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))

    expected = 0.25 * normal(-1.0, 0.5) + 0.75 * normal(2.0, 1.5)
    assert_close(dist.prob(x), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", toy.names())
def test_every_registered_density_integrates_to_one(name: str) -> None:
    dist = toy.get(name)
    low, high = dist.bounds(8.0)
    if dist.dim == 1:
        x = torch.linspace(float(low[0]), float(high[0]), 20001, dtype=torch.float64)
        mass = torch.trapezoid(dist.prob(x[:, None]), x)
    else:
        # The trapezoid rule is spectrally accurate on Gaussians once the spacing is below the std.
        n = int(2 * float((high - low).max()) / float(dist.stds.min()))
        xs = torch.linspace(float(low[0]), float(high[0]), n, dtype=torch.float64)
        ys = torch.linspace(float(low[1]), float(high[1]), n, dtype=torch.float64)
        gx, gy = torch.meshgrid(xs, ys, indexing="ij")
        p = dist.prob(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)).reshape(n, n)
        mass = torch.trapezoid(torch.trapezoid(p, ys, dim=1), xs)
    assert_close(mass, torch.tensor(1.0, dtype=torch.float64), rtol=0, atol=1e-6)


def test_histogram_of_samples_matches_density() -> None:
    dist = toy.mixture([-2.0, 1.0], [0.5, 1.0], weights=[0.3, 0.7])
    n = 200_000
    x = dist.sample(n, generator=_rng(1), dtype=torch.float64)[:, 0]
    edges = torch.linspace(-4.0, 4.0, 41, dtype=torch.float64)
    counts = torch.histc(x, bins=40, min=-4.0, max=4.0)
    # Exact bin probabilities from the normal CDF.
    cdf = (0.3 * torch.special.ndtr((edges + 2.0) / 0.5) + 0.7 * torch.special.ndtr(edges - 1.0))
    expected = n * cdf.diff()
    z = (counts - expected) / (expected * (1 - expected / n)).sqrt()
    assert z.abs().max() < 5.0, f"a bin is {z.abs().max():.1f} binomial stds from its expected count"
    # And no gross bias overall: the chi-square statistic is near its mean (40 bins).
    assert 15 < float(z.pow(2).sum()) < 80


def test_ring8_and_grid25_are_the_benchmarks() -> None:
    ring8, grid25 = toy.ring8(), toy.grid25()
    assert ring8.modes.shape == (8, 2) and ring8.std == 0.01
    assert_close(ring8.modes[2], torch.tensor([0.0, 1.0], dtype=torch.float64), rtol=0, atol=1e-12)
    assert_close(ring8.modes.norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert grid25.modes.shape == (25, 2) and grid25.std == 0.05
    assert set(grid25.modes[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert set(grid25.modes[:, 1].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_ring8_samples_spread_evenly_over_modes_at_the_right_width() -> None:
    dist = toy.ring8()
    x = dist.sample(40_000, generator=_rng(2), dtype=torch.float64)
    nearest = torch.cdist(x, dist.modes).argmin(1)
    counts = torch.bincount(nearest, minlength=8).double()
    assert_close(counts / 40_000, torch.full((8,), 1 / 8, dtype=torch.float64), rtol=0, atol=0.01)
    sq_dist = (x - dist.modes[nearest]).pow(2).sum(1)  # E‖x − μ‖² = 2σ² in 2-D
    assert_close(sq_dist.mean(), torch.tensor(2 * 0.01**2, dtype=torch.float64), rtol=0.03, atol=0)


def test_uniform_density_and_samples() -> None:
    dist = toy.uniform([0.0, -1.0], [2.0, 1.0])
    x = torch.tensor([[1.0, 0.0], [2.5, 0.0], [0.0, -1.0]])
    assert_close(dist.log_prob(x), torch.tensor([-math.log(4.0), -math.inf, -math.log(4.0)]))
    assert_close(dist.log_prob(x.double()), torch.tensor([-math.log(4.0), -math.inf, -math.log(4.0)],
                                                         dtype=torch.float64), rtol=0, atol=1e-15)
    samples = dist.sample(10_000, generator=_rng(3))
    assert (samples[:, 0] >= 0).all() and (samples[:, 0] <= 2).all()
    assert_close(samples.mean(0), torch.tensor([1.0, 0.0]), rtol=0, atol=0.03)


def test_sampling_is_reproducible_and_respects_dtype() -> None:
    dist = toy.get("two_moons")
    a = dist.sample(16, generator=_rng(5), dtype=torch.float64)
    b = dist.sample(16, generator=_rng(5), dtype=torch.float64)
    assert a.shape == (16, 2) and a.dtype == torch.float64
    assert_close(a, b, rtol=0, atol=0)
    assert dist.sample(4).dtype == torch.float32


def test_sample_rejects_a_device_other_than_the_generators() -> None:
    with pytest.raises(ValueError, match="generator is on cpu"):
        toy.ring8().sample(4, generator=_rng(), device="meta")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_sample_draws_on_the_generators_device() -> None:
    rng = torch.Generator(device="cuda").manual_seed(0)
    x = toy.grid25().sample(8, generator=rng)
    assert x.device.type == "cuda"
    assert toy.grid25().log_prob(x).device.type == "cuda"


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(ValueError, match="stds must be > 0"):
        toy.gaussian(0.0, -1.0)
    with pytest.raises(ValueError, match="weights must be 2"):
        toy.mixture([0.0, 1.0], 1.0, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="low < high"):
        toy.uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="do not fit"):
        toy.mixture([[0.0, 0.0], [1.0, 1.0]], [[1.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        toy.ring8().log_prob(torch.zeros(5))
    with pytest.raises(ValueError, match="integer >= 1"):
        toy.ring8().sample(0)
    with pytest.raises(ValueError, match="unknown; use one of"):
        toy.get("ring9")
    with pytest.raises(ValueError, match="different stds"):
        _ = toy.mixture([0.0, 1.0], [1.0, 2.0]).std


def test_trainer_trains_on_a_toy_set_by_name() -> None:
    from ganlab import GANConfig, Trainer

    cfg = GANConfig(model="toy", dataset="ring8", image_shape=(2,), latent_dim=2, hidden_dim=16, batch_size=32,
                    device="cpu")
    trainer = Trainer(cfg, progress=False)
    trainer.fit(steps=3)
    assert len(trainer.history["d_loss"]) == 3
    assert trainer.sample(5).shape == (5, 2)
