"""ganlab.penalties: every regulariser against closed forms on critics whose input gradient is known."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganlab.nets import apply_spectral_norm
from ganlab.penalties import (
    PENALTIES,
    gradient_penalty,
    input_gradients,
    interpolates,
    lipschitz_penalty,
    penalty_term,
    r1_penalty,
    r2_penalty,
    weight_clip,
)


def linear_critic(norm: float, dim: int = 5, bias: float = 0.3) -> tuple[nn.Linear, torch.Tensor]:
    """f(x) = w·x + b with ‖w‖ = norm: its input gradient is w at every point."""
    layer = nn.Linear(dim, 1).double()
    w = torch.arange(1.0, dim + 1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(norm * w / w.norm())
        layer.bias.fill_(bias)
    return layer, layer.weight.detach().clone()


def as_critic(layer: nn.Module):
    return lambda x: layer(x.flatten(1)).squeeze(1)  # (N, ...) → (N,)


def half_square(x: torch.Tensor) -> torch.Tensor:
    """f(x) = ½‖x‖², whose gradient at x is x itself: (N, d) → (N,)."""
    return 0.5 * x.flatten(1).pow(2).sum(dim=1)


def batches(n: int = 16, dim: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, dim, generator=g, dtype=torch.float64),
            2.0 + torch.randn(n, dim, generator=g, dtype=torch.float64))


def scalar(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("norm", [0.25, 1.0, 3.0])
def test_gradient_penalty_of_a_linear_critic(norm: float) -> None:
    layer, _ = linear_critic(norm)
    real, fake = batches()
    assert_close(gradient_penalty(as_critic(layer), real, fake, weight=10.0), scalar(10.0 * (norm - 1) ** 2))


def test_gradient_penalty_differentiates_to_the_closed_form() -> None:
    # d/dw λ(‖w‖ − 1)² = 2λ(‖w‖ − 1) w/‖w‖: double backprop through the input gradient must give it.
    layer, w = linear_critic(3.0)
    real, fake = batches()
    gradient_penalty(as_critic(layer), real, fake, weight=10.0).backward()
    assert_close(layer.weight.grad, 2 * 10.0 * (3.0 - 1.0) * w / 3.0)
    assert layer.bias.grad is None  # the slope does not depend on b


def test_gradient_penalty_is_two_sided_and_lipschitz_penalty_one_sided() -> None:
    real, fake = batches()
    flat, _ = linear_critic(0.5)
    steep, _ = linear_critic(2.0)
    assert_close(gradient_penalty(as_critic(flat), real, fake, 4.0), scalar(4.0 * 0.25))
    assert_close(lipschitz_penalty(as_critic(flat), real, fake, 4.0), scalar(0.0))
    assert_close(lipschitz_penalty(as_critic(linear_critic(1.0)[0]), real, fake, 4.0), scalar(0.0))
    assert_close(lipschitz_penalty(as_critic(steep), real, fake, 4.0), scalar(4.0 * 1.0))


def test_gradient_penalty_on_image_shaped_batches() -> None:
    layer, _ = linear_critic(2.0, dim=2 * 3 * 3)
    g = torch.Generator().manual_seed(1)
    real, fake = (torch.randn(4, 2, 3, 3, generator=g, dtype=torch.float64) for _ in range(2))
    assert_close(gradient_penalty(as_critic(layer), real, fake, 10.0), scalar(10.0))


def test_gradient_penalty_samples_the_interpolates() -> None:
    # With real = fake every interpolate is the point itself, so for f = ½‖x‖² (∇f = x) the penalty
    # is λ·mean((‖x‖ − 1)²) whatever ε is drawn.
    real, _ = batches()
    expected = 10.0 * (real.norm(dim=1) - 1).pow(2).mean()
    assert_close(gradient_penalty(half_square, real, real.clone(), 10.0), expected)
    assert_close(lipschitz_penalty(half_square, real, real.clone(), 10.0),
                 10.0 * torch.relu(real.norm(dim=1) - 1).pow(2).mean())


def test_interpolates_lie_on_the_segments_with_one_epsilon_per_sample() -> None:
    real, fake = batches(n=64)
    x_hat = interpolates(real, fake, torch.Generator().manual_seed(0))
    eps = (x_hat - fake) / (real - fake)  # (N, d): the same ε across a sample's features
    assert_close(eps, eps[:, :1].expand_as(eps))
    assert ((eps >= 0) & (eps <= 1)).all()
    assert eps[:, 0].std() > 0.1  # drawn per sample, not once per batch
    again = interpolates(real, fake, torch.Generator().manual_seed(0))
    assert_close(x_hat, again)  # reproducible from the generator


@pytest.mark.parametrize("norm", [0.5, 2.0])
def test_r1_and_r2_of_a_linear_critic(norm: float) -> None:
    layer, _ = linear_critic(norm)
    real, fake = batches()
    assert_close(r1_penalty(as_critic(layer), real, gamma=10.0), scalar(10.0 / 2 * norm**2))
    assert_close(r2_penalty(as_critic(layer), fake, gamma=10.0), scalar(10.0 / 2 * norm**2))


def test_r1_uses_real_points_and_r2_fake_points() -> None:
    real, fake = batches()
    assert_close(r1_penalty(half_square, real, 2.0), real.pow(2).sum(dim=1).mean())
    assert_close(r2_penalty(half_square, fake, 2.0), fake.pow(2).sum(dim=1).mean())
    assert_close(penalty_term("r1", half_square, real, fake, 2.0), real.pow(2).sum(dim=1).mean())
    assert_close(penalty_term("r2", half_square, real, fake, 2.0), fake.pow(2).sum(dim=1).mean())


def test_penalty_term_dispatches_by_name() -> None:
    layer, _ = linear_critic(2.0)
    real, fake = batches()
    critic = as_critic(layer)
    assert_close(penalty_term("gp", critic, real, fake, 10.0), scalar(10.0))
    assert_close(penalty_term("lp", critic, real, fake, 10.0), scalar(10.0))
    assert penalty_term("none", critic, real, fake, 10.0) is None
    assert penalty_term("gp", critic, real, fake, 0.0) is None
    assert set(PENALTIES) == {"gp", "lp", "r1", "r2"}


def test_input_gradients_work_under_no_grad() -> None:
    layer, w = linear_critic(2.0)
    real, _ = batches(n=3)
    with torch.no_grad():
        grads = input_gradients(as_critic(layer), real)
    assert_close(grads, w.expand(3, -1))


def test_clipping_leaves_every_parameter_in_the_box() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(10.0)
    inside = critic[2].bias.detach().clone().clamp(-0.05, 0.05)
    weight_clip(critic, 0.05)
    for p in critic.parameters():
        assert p.abs().max() <= 0.05
    # The values outside were moved to the bound, not rescaled: most weights now sit at exactly ±c.
    at_bound = (critic[0].weight.abs() == 0.05).float().mean()
    assert at_bound > 0.9
    assert_close(critic[2].bias.detach(), inside)


def test_clipping_keeps_parameters_already_inside() -> None:
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.001, -0.002, 0.0], [0.003, 0.004, -0.005]]))
        layer.bias.zero_()
    before = layer.weight.detach().clone()
    weight_clip(layer, 0.01)
    assert_close(layer.weight.detach(), before)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_spectrally_normalised_layer_has_norm_one(kind: str) -> None:
    torch.manual_seed(0)
    layer = nn.Linear(30, 20) if kind == "linear" else nn.Conv2d(3, 8, 3)
    with torch.no_grad():
        layer.weight.mul_(7.0)  # start far from norm 1
    model = apply_spectral_norm(nn.Sequential(layer))
    model.train()
    x = torch.randn(2, 30) if kind == "linear" else torch.randn(2, 3, 8, 8)
    for _ in range(200):  # one power-iteration step per training forward
        model(x)
    weight = model[0].weight.detach().flatten(1)  # conv kernels as (out, in·k·k) matrices
    assert_close(torch.linalg.matrix_norm(weight, ord=2), torch.tensor(1.0), atol=1e-4, rtol=0)
    raw = model[0].parametrizations.weight.original.detach().flatten(1)
    assert torch.linalg.matrix_norm(raw, ord=2) > 3.0  # the stored weight itself was not shrunk


@pytest.mark.parametrize("fn", [gradient_penalty, lipschitz_penalty])
def test_bad_inputs_to_interpolating_penalties(fn) -> None:
    layer, _ = linear_critic(1.0)
    real, fake = batches()
    with pytest.raises(ValueError, match="same shape"):
        fn(as_critic(layer), real, fake[:4])
    with pytest.raises(ValueError, match="weight"):
        fn(as_critic(layer), real, fake, -1.0)
    with pytest.raises(ValueError, match="weight"):
        fn(as_critic(layer), real, fake, math.nan)
    with pytest.raises(ValueError, match="one logit per sample"):
        fn(lambda x: layer(x).mean(), real, fake)


def test_bad_inputs_to_r1_clip_and_names() -> None:
    layer, _ = linear_critic(1.0)
    real, fake = batches()
    with pytest.raises(ValueError, match="gamma"):
        r1_penalty(as_critic(layer), real, gamma=-10.0)
    with pytest.raises(ValueError, match="gamma"):
        r2_penalty(as_critic(layer), fake, gamma=math.inf)
    for c in (0.0, -0.01, math.nan, math.inf):
        with pytest.raises(ValueError, match="clip bound"):
            weight_clip(layer, c)
    with pytest.raises(ValueError, match="unknown.*gp"):
        penalty_term("wgan", as_critic(layer), real, fake, 10.0)
