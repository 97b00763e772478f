"""ganlab.freeze: a frozen player is left exactly unchanged while the other one learns."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig, Trainer
from ganlab.freeze import frozen, train_only, training_mode, unfrozen


def toy_trainer(**fields: object) -> Trainer:
    cfg = GANConfig(dataset="ring8", model="toy", image_shape=(2,), latent_dim=2, hidden_dim=16, batch_size=32,
                    device="cpu", **fields)
    return Trainer(cfg, progress=False, cuda_graph=False)


def snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def assert_same(net: torch.nn.Module, saved: dict[str, torch.Tensor]) -> None:
    for k, v in net.state_dict().items():
        assert_close(v, saved[k], rtol=0, atol=0)


def assert_moved(net: torch.nn.Module, saved: dict[str, torch.Tensor]) -> None:
    assert any(not torch.equal(v, saved[k]) for k, v in net.state_dict().items())


@pytest.mark.parametrize("mode, learns, held", [("D", "discriminator", "generator"),
                                                ("G", "generator", "discriminator")])
def test_only_one_player_learns(mode: str, learns: str, held: str) -> None:
    t = toy_trainer()
    t.fit(steps=3)  # optimizer state exists for both players
    opt_held = t.opt_g if held == "generator" else t.opt_d
    moments = {i: {k: v.clone() for k, v in s.items()} for i, s in enumerate(opt_held.state.values())}
    before_learns, before_held = snapshot(getattr(t, learns)), snapshot(getattr(t, held))
    train_only(t, mode)
    assert training_mode(t) == mode
    t.fit(steps=5)
    assert_same(getattr(t, held), before_held)
    assert_moved(getattr(t, learns), before_learns)
    for i, state in enumerate(opt_held.state.values()):  # Adam's moments of the frozen player did not move
        for k, v in state.items():
            assert_close(v, moments[i][k], rtol=0, atol=0)
    assert len(t.history["g_grad_norm"]) == 8 and t.history["g_grad_norm"][-1] > 0  # still measured and logged


def test_frozen_d_is_not_even_clipped() -> None:
    """Weight clipping acts on D after its step; with D frozen it must not clamp D's weights either."""
    t = toy_trainer(loss="wasserstein", clip=0.5)
    with torch.no_grad():
        t.discriminator.net[0].weight.fill_(2.0)  # outside the clip range: a real D step would clamp it
    before = snapshot(t.discriminator)
    train_only(t, "G")
    t.fit(steps=2)
    assert_same(t.discriminator, before)
    train_only(t, "both")
    t.fit(steps=1)
    assert float(t.discriminator.net[0].weight.detach().abs().max()) <= 0.5


def test_back_to_both_is_the_plain_game() -> None:
    t = toy_trainer()
    plain_d, plain_g = t.d_step, t.g_step
    train_only(t, "D")
    train_only(t, "G")  # switching between modes never stacks wrappers
    assert unfrozen(t.d_step) is plain_d and unfrozen(unfrozen(t.d_step)) is plain_d
    train_only(t, "both")
    assert (t.d_step, t.g_step) == (plain_d, plain_g) and training_mode(t) == "both"
    t.fit(steps=4)
    twin = toy_trainer()
    twin.fit(steps=4)
    for a, b in zip(t.generator.parameters(), twin.generator.parameters()):
        assert_close(a, b)


def test_bad_modes_are_named() -> None:
    t = toy_trainer()
    with pytest.raises(ValueError, match="train mode 'D only' is unknown"):
        train_only(t, "D only")
    with pytest.raises(ValueError, match="player='X' is unknown"):
        frozen(t.d_step, "X")
