import math

import pytest
import torch

from ganlab.exercises_families import check


def right_step(model, x_t, t, noise, schedule):
    beta, alpha, alpha_bar = (float(v[t]) for v in (schedule.betas, schedule.alphas, schedule.alpha_bars))
    eps = model(x_t, torch.full((len(x_t),), t))
    mean = (x_t - beta / math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha)
    return mean + math.sqrt(beta) * noise if t > 0 else mean


def noisy_at_zero(model, x_t, t, noise, schedule):
    beta, alpha, alpha_bar = (float(v[t]) for v in (schedule.betas, schedule.alphas, schedule.alpha_bars))
    eps = model(x_t, torch.full((len(x_t),), t))
    return (x_t - beta / math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha) + math.sqrt(beta) * noise


def alpha_bar_for_beta(model, x_t, t, noise, schedule):
    alpha_bar = float(schedule.alpha_bars[t])
    eps = model(x_t, torch.full((len(x_t),), t))
    return (x_t - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(float(schedule.alphas[t]))


def test_ddpm_step_checker(capsys):
    assert check("families.ddpm_step", right_step)
    assert not check("families.ddpm_step", noisy_at_zero)
    assert "t = 0" in capsys.readouterr().out.split("\n")[1]
    assert not check("families.ddpm_step", alpha_bar_for_beta)
    assert not check("families.ddpm_step", lambda *args: None)
    assert not check("families.ddpm_step", lambda model, x, t, noise, s: x[:, :1])
    assert not check("families.ddpm_step", None)


def test_kl_checker(capsys):
    assert check("families.kl_to_standard", lambda mu, v: 0.5 * (mu**2 + v - math.log(v) - 1))
    assert not check("families.kl_to_standard", lambda mu, s: 0.5 * (mu**2 + s**2 - 2 * math.log(s) - 1))
    assert "standard deviation" in capsys.readouterr().out
    assert not check("families.kl_to_standard", lambda mu, v: 0.5 * (mu**2 + v - math.log(v)))


def test_unknown_name():
    with pytest.raises(ValueError, match="no exercise named"):
        check("families.nope", None)
