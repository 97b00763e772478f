"""Self-checks for notebook 01's hand-written training loop: the losses, ``d_step``, ``g_step`` and the loop.

Each checker runs the learner's function and ``ganlab``'s version on the same inputs from the same state
and compares the results (losses against ``ganlab.losses``; parameters after an update against a
``Trainer`` step on a small toy GAN) to float tolerance. A wrong answer gets a reason: the usual
mistakes (a saturating G loss, swapped labels, a missing ``zero_grad``, fakes not detached for D or
detached for G, inputs drawn in another order) are recognised by what they do to the result.

The signatures the notebook asks for (logits are (N,), ``real``/``z`` are (N, ...)/(N, latent)):
  d_loss(real_logits, fake_logits, real_target) -> scalar
  g_loss(fake_logits) -> scalar
  d_step(generator, discriminator, opt_d, real, z, real_target) -> D's loss (scalar)
  g_step(generator, discriminator, opt_g, z) -> G's loss (scalar)
  train(generator, discriminator, opt_g, opt_d, real_batch, noise, steps, d_step, g_step, real_target)
      -> list of (d_loss, g_loss) floats, one pair per step; ``real_batch()`` gives (B, ...), ``noise(n)`` (n, latent)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import GANConfig
from .exercises import run_check
from .losses import bce_d_loss, non_saturating_g_loss, saturating_g_loss
from .train import Trainer

Verdict = tuple[bool, str]
TOL = {"rtol": 1e-4, "atol": 1e-5}  # fused (Trainer) vs plain Adam and one vs two D passes differ by ~1e-7


# ---------------------------------------------------------------------- the reference solutions
def d_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float = 0.9) -> Tensor:
    """BCE(D(x), real_target) + BCE(D(G(z)), 0) on logits (N,): the mean over each batch, summed."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def g_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating G loss −E[log D(G(z))] = E[softplus(−logit)] on logits (N,)."""
    return F.softplus(-fake_logits).mean()


def d_step(generator: nn.Module, discriminator: nn.Module, opt_d: torch.optim.Optimizer, real: Tensor,
           z: Tensor, real_target: float = 0.9) -> Tensor:
    """One D update on real (N, ...) and fakes G(z) made without a graph to G; returns the loss."""
    with torch.no_grad():
        fake = generator(z)  # G is a constant here: D's loss must not reach G's parameters
    loss = d_loss(discriminator(real), discriminator(fake), real_target)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.detach()


def g_step(generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer, z: Tensor) -> Tensor:
    """One G update through D's logits on G(z) (N, latent) -> loss; only G's optimizer steps."""
    loss = g_loss(discriminator(generator(z)))
    opt_g.zero_grad()
    loss.backward()  # also fills D's .grad; harmless, d_step zeroes it before D's next update
    opt_g.step()
    return loss.detach()


def train(generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
          opt_d: torch.optim.Optimizer, real_batch: Callable[[], Tensor], noise: Callable[[int], Tensor],
          steps: int, d_step: Callable[..., Tensor] = d_step, g_step: Callable[..., Tensor] = g_step,
          real_target: float = 0.9) -> list[tuple[float, float]]:
    """Algorithm 1 with k = 1: per step a real batch, noise for D, D's update, fresh noise, G's update."""
    losses = []
    for _ in range(steps):
        real = real_batch()
        loss_d = d_step(generator, discriminator, opt_d, real, noise(len(real)), real_target)
        loss_g = g_step(generator, discriminator, opt_g, noise(len(real)))
        losses.append((loss_d.item(), loss_g.item()))
    return losses


REFERENCE: dict[str, Callable[..., Any]] = {"01.d_loss": d_loss, "01.g_loss": g_loss, "01.d_step": d_step,
                                            "01.g_step": g_step, "01.train": train}


# ---------------------------------------------------------------------- the toy GAN the checks run on
def toy_trainer(seed: int = 0, real_label: float = 0.9) -> Trainer:
    """A small CPU ``Trainer`` on the 8-Gaussian ring: 2-D noise, width 32, batch 64, no dropout or BatchNorm."""
    cfg = GANConfig(model="toy", dataset="ring8", image_shape=(2,), latent_dim=2, hidden_dim=32,
                    real_label=real_label, seed=seed, device="cpu")
    return Trainer(cfg, progress=False, cuda_graph=False)


def plain_adam(module: nn.Module, cfg: GANConfig) -> torch.optim.Optimizer:
    """The optimizer a learner would write: ``torch.optim.Adam`` with the config's learning rate and betas."""
    return torch.optim.Adam(module.parameters(), lr=cfg.lr_d, betas=cfg.betas)


def _params(module: nn.Module) -> list[Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(a: list[Tensor], b: list[Tensor]) -> bool:
    return all(torch.allclose(x, y, **TOL) for x, y in zip(a, b))


def _moved(before: list[Tensor], module: nn.Module) -> bool:
    return not all(torch.equal(x, p) for x, p in zip(before, module.parameters()))


def _call(answer: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    try:
        return answer(*args), None
    except Exception as error:  # a learner's half-written function: report it, don't crash the notebook
        return None, f"your function raised {type(error).__name__}: {error}"


# ---------------------------------------------------------------------- the checkers
def check_d_loss(answer: Callable[..., Tensor]) -> Verdict:
    """The learner's D loss against ``bce_d_loss`` on random logits, with and without smoothing."""
    gen = torch.Generator().manual_seed(1)
    real, fake = 3 * torch.randn(16, generator=gen), 3 * torch.randn(16, generator=gen)
    for target in (0.9, 1.0):
        got, error = _call(answer, real, fake, target)
        if error or got is None:
            return False, error or "your function returned None; it should return the loss as a scalar tensor"
        want = bce_d_loss(real, fake, target)
        if torch.allclose(torch.as_tensor(got, dtype=want.dtype), want, **TOL):
            continue
        if torch.allclose(torch.as_tensor(got, dtype=want.dtype), bce_d_loss(fake, real, target), **TOL):
            return False, "real and fake are swapped: D should push real logits up (target real_target) and fakes down"
        if torch.allclose(torch.as_tensor(got, dtype=want.dtype), bce_d_loss(real, fake), **TOL):
            return False, f"with real_target={target} you used target 1 for real: pass real_target to the real term"
        return False, (f"with real_target={target} you returned {float(got):.5f}, expected {want.item():.5f}: "
                       "BCE-with-logits of real logits against real_target plus fake logits against 0, each a mean")
    return True, "D's loss is BCE on logits: softplus(−ℓ_real)-type terms, finite at any logit"


def check_g_loss(answer: Callable[[Tensor], Tensor]) -> Verdict:
    """The learner's G loss against ``non_saturating_g_loss``; recognises the saturating one."""
    fake = torch.linspace(-8, 4, 13)
    got, error = _call(answer, fake)
    if error or got is None:
        return False, error or "your function returned None; it should return the loss as a scalar tensor"
    got = torch.as_tensor(got, dtype=fake.dtype)
    if torch.allclose(got, non_saturating_g_loss(fake), **TOL):
        return True, "non-saturating: G's gradient per logit is −(1 − D(G(z))), largest where D rejects the fake"
    if torch.allclose(got, -saturating_g_loss(fake), **TOL):
        return False, ("that is −log(1 − D(G(z))) = softplus(logit), D's fake term: minimising it makes G *lower* "
                       "D(G(z)). G wants −log D(G(z)) = softplus(−logit)")
    if torch.allclose(got, saturating_g_loss(fake), **TOL):
        return False, ("that is the saturating (minimax) loss log(1 − D(G(z))): its gradient −D(G(z)) vanishes when D "
                       "rejects the fakes. Use −log D(G(z)) = softplus(−logit)")
    return False, (f"you returned {got.item():.5f}, expected {non_saturating_g_loss(fake).item():.5f}: "
                   "the mean of −log D(G(z)) written on logits, softplus(−logit)")


def check_d_step(answer: Callable[..., Tensor], steps: int = 3) -> Verdict:
    """The learner's d_step against ``Trainer``'s from the same state on the same batches, ``steps`` times."""
    t = toy_trainer(seed=3)
    generator, discriminator = copy.deepcopy(t.generator), copy.deepcopy(t.discriminator)
    opt_d = plain_adam(discriminator, t.cfg)
    g_before = _params(generator)
    for i in range(steps):
        real, z = t.real_batch(), t.noise(t.cfg.batch_size)
        for p in discriminator.parameters():  # stale gradients, as a previous g_step leaves them
            p.grad = torch.ones_like(p)
        for p in generator.parameters():
            p.grad = None
        t.d_step(t, real, z)
        got, error = _call(answer, generator, discriminator, opt_d, real.clone(), z.clone(), t.cfg.real_label)
        if error or got is None:
            return False, error or "your function returned None; it should return D's loss"
        if any(p.grad is not None and p.grad.abs().sum() > 0 for p in generator.parameters()):
            return False, ("D's loss reached G's parameters: make the fakes under torch.no_grad() (or .detach() them) "
                           "so D's update does not build a graph through G")
        if _moved(g_before, generator):
            return False, "G's parameters changed in d_step: only opt_d may step here"
        if not _same(_params(discriminator), _params(t.discriminator)):
            if i == 0 and not _moved(_params(t.discriminator), discriminator):
                return False, "D's parameters did not move: call loss.backward() and opt_d.step()"
            return False, (f"after update {i + 1} D's parameters differ from Trainer's: zero D's stale gradients "
                           "(opt_d.zero_grad()) before backward, and use your d_loss with real_target")
    return True, f"{steps} D updates match Trainer.d_step to float tolerance"


def check_g_step(answer: Callable[..., Tensor], steps: int = 3) -> Verdict:
    """The learner's g_step against ``Trainer``'s from the same state on the same noise, ``steps`` times."""
    t = toy_trainer(seed=4)
    generator, discriminator = copy.deepcopy(t.generator), copy.deepcopy(t.discriminator)
    opt_g = plain_adam(generator, t.cfg)
    d_before = _params(discriminator)
    for i in range(steps):
        z = t.noise(t.cfg.batch_size)
        for p in generator.parameters():  # stale gradients: only a zero_grad makes them harmless
            p.grad = torch.ones_like(p)
        before = _params(generator)
        t.g_step(t, z)
        got, error = _call(answer, generator, discriminator, opt_g, z.clone())
        if error or got is None:
            return False, error or "your function returned None; it should return G's loss"
        if _moved(d_before, discriminator):
            return False, "D's parameters changed in g_step: only opt_g may step here"
        if not _moved(before, generator):
            return False, "G's parameters did not move: call backward on the loss and opt_g.step()"
        if not _same(_params(generator), _params(t.generator)):
            return False, (f"after update {i + 1} G's parameters differ from Trainer's. Usual causes: the fakes "
                           "detached from G (no gradient reaches G), a saturating loss, or no opt_g.zero_grad() "
                           "before backward (stale gradients added in)")
    return True, f"{steps} G updates match Trainer.g_step to float tolerance"


def check_train(answer: Callable[..., Any], steps: int = 20) -> Verdict:
    """The learner's loop (with the reference steps) against ``Trainer.fit(steps)`` from the same seed."""
    reference, learner = toy_trainer(seed=5), toy_trainer(seed=5)
    reference.fit(steps=steps)
    got, error = _call(answer, learner.generator, learner.discriminator, learner.opt_g, learner.opt_d,
                       learner.real_batch, learner.noise, steps, d_step, g_step, learner.cfg.real_label)
    if error or got is None:
        return False, error or "your function returned None; it should return the list of (d_loss, g_loss) pairs"
    if len(got) != steps:
        return False, f"return one (d_loss, g_loss) pair per step: a list of {steps}, not {got!r:.60}"
    for name in ("generator", "discriminator"):
        if not _same(_params(getattr(learner, name)), _params(getattr(reference, name))):
            return False, (f"after {steps} steps the {name}'s parameters differ from Trainer's. Per step: one real "
                           "batch, then noise for D and D's update, then fresh noise for G and G's update, in that "
                           "order (the random draws must come in Trainer's order)")
    losses = torch.tensor(got, dtype=torch.float32)
    want = torch.tensor(reference.history["d_loss"]), torch.tensor(reference.history["g_loss"])
    if not (torch.allclose(losses[:, 0], want[0], **TOL) and torch.allclose(losses[:, 1], want[1], **TOL)):
        return False, "the parameters match but the recorded losses do not: record d_step's and g_step's returns"
    return True, f"{steps} steps of your loop match Trainer.fit: same parameters, same losses"


CHECKS: dict[str, Callable[[Callable[..., Any]], Verdict]] = {
    "01.d_loss": check_d_loss, "01.g_loss": check_g_loss, "01.d_step": check_d_step, "01.g_step": check_g_step,
    "01.train": check_train,
}


def check(name: str, answer: Any) -> bool:
    """Check a loop exercise; prints ✓ or ✗ with the reason (… for an unanswered stub). Returns whether it is right."""
    return run_check(CHECKS, name, answer)


def yours_or_reference(name: str, answer: Any) -> Callable[..., Any]:
    """The learner's function if ``check(name, answer)`` passes, else the reference solution (and says so)."""
    if check(name, answer):
        return answer
    print(f"   using ganlab's reference {name.split('.')[1]} until yours passes")
    return REFERENCE[name]
