"""The loop exercises of notebook 01: the reference solutions pass, the usual mistakes fail with their reason."""

import torch
import torch.nn.functional as F

from ganlab import exercises_loop as L
from ganlab.losses import bce_d_loss, non_saturating_g_loss


def test_reference_solutions_pass() -> None:
    for name, solution in L.REFERENCE.items():
        ok, why = L.CHECKS[name](solution)
        assert ok, f"{name}: {why}"


def test_reference_losses_equal_package_losses() -> None:
    real, fake = torch.randn(32), torch.randn(32)
    torch.testing.assert_close(L.d_loss(real, fake, 0.9), bce_d_loss(real, fake, 0.9))
    torch.testing.assert_close(L.g_loss(fake), non_saturating_g_loss(fake))


def test_wrong_losses_fail_with_reason() -> None:
    ok, why = L.check_d_loss(lambda r, f, t: L.d_loss(f, r, t))
    assert not ok and "swapped" in why
    ok, why = L.check_d_loss(lambda r, f, t: L.d_loss(r, f, 1.0))
    assert not ok and "real_target" in why
    ok, why = L.check_d_loss(lambda r, f, t: -torch.log(torch.sigmoid(r)).mean())
    assert not ok and "expected" in why
    ok, why = L.check_g_loss(lambda f: -F.softplus(f).mean())
    assert not ok and "saturating" in why
    ok, why = L.check_g_loss(lambda f: F.softplus(f).mean())
    assert not ok and "lower" in why
    ok, why = L.check_g_loss(lambda f: F.softplus(-f).sum())
    assert not ok and "expected" in why


def _d_step_without_zero_grad(G, D, opt_d, real, z, real_target):
    with torch.no_grad():
        fake = G(z)
    loss = L.d_loss(D(real), D(fake), real_target)
    loss.backward()
    opt_d.step()
    return loss.detach()


def _d_step_not_detached(G, D, opt_d, real, z, real_target):
    loss = L.d_loss(D(real), D(G(z)), real_target)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.detach()


def _g_step(loss_fn, detach=False, zero_grad=True):
    def step(G, D, opt_g, z):
        fake = G(z)
        loss = loss_fn(D(fake.detach() if detach else fake))
        if zero_grad:
            opt_g.zero_grad()
        if loss.requires_grad:
            loss.backward()
        opt_g.step()
        return loss.detach()
    return step


def test_wrong_steps_fail_with_reason() -> None:
    ok, why = L.check_d_step(_d_step_without_zero_grad)
    assert not ok and "zero_grad" in why
    ok, why = L.check_d_step(_d_step_not_detached)
    assert not ok and "no_grad" in why
    ok, why = L.check_d_step(lambda G, D, opt, real, z, t: None)
    assert not ok and "None" in why
    ok, why = L.check_g_step(_g_step(lambda f: -F.softplus(f).mean()))
    assert not ok and "saturating" in why
    ok, why = L.check_g_step(_g_step(L.g_loss, zero_grad=False))
    assert not ok and "zero_grad" in why
    ok, why = L.check_g_step(_g_step(L.g_loss, detach=True))
    assert not ok and "did not move" in why
    ok, why = L.check_g_step(_g_step(L.g_loss))
    assert ok, why


def _train_wrong_order(G, D, opt_g, opt_d, real_batch, noise, steps, d_step, g_step, real_target):
    losses = []
    for _ in range(steps):
        z, real = noise(64), real_batch()  # noise drawn before the real batch
        loss_d = d_step(G, D, opt_d, real, z, real_target)
        loss_g = g_step(G, D, opt_g, noise(64))
        losses.append((loss_d.item(), loss_g.item()))
    return losses


def _train_g_first(G, D, opt_g, opt_d, real_batch, noise, steps, d_step, g_step, real_target):
    losses = []
    for _ in range(steps):
        real = real_batch()
        z_d, z_g = noise(64), noise(64)
        loss_g = g_step(G, D, opt_g, z_g)
        loss_d = d_step(G, D, opt_d, real, z_d, real_target)
        losses.append((loss_d.item(), loss_g.item()))
    return losses


def test_wrong_loops_fail_with_reason() -> None:
    for wrong in (_train_wrong_order, _train_g_first):
        ok, why = L.check_train(wrong)
        assert not ok and "order" in why
    ok, why = L.check_train(lambda *args: [(0.0, 0.0)] * 3)
    assert not ok and "one (d_loss, g_loss) pair per step" in why


def test_check_and_fallback(capsys) -> None:
    assert L.check("01.g_loss", L.g_loss)
    assert not L.check("01.g_loss", lambda f: None)
    assert "not answered" in capsys.readouterr().out
    assert L.yours_or_reference("01.g_loss", None) is L.g_loss
    try:
        L.check("01.nope", L.g_loss)
    except ValueError as error:
        assert "01.d_loss" in str(error)
    else:
        raise AssertionError("an unknown exercise name must raise")
