"""Self-checks for notebook 12 (BiGAN/ALI, inversion, latent walks).

  "12.joint_d_loss"   code: d_loss(discriminator, generator, encoder, x, z) -> scalar, BiGAN's D loss on logits
                      (real pairs (x, E(x)) labelled 1, fake pairs (G(z), z) labelled 0, no smoothing), with G
                      and E held constant (no gradient may reach them);
  "12.slerp"          code: slerp(a, b, t) -> (T, d) for two codes of equal norm (d,) and positions t (T,);
  "12.midpoint_norm"  a number: E‖(z + z')/2‖² / E‖z‖² for independent z, z' ~ N(0, I_d).
Each checker compares the answer with ``ganlab``'s version on random inputs and names the usual mistakes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .exercises import run_check
from .inference import lerp, slerp
from .nets.bigan import Encoder, JointDiscriminator
from .nets.dcgan import DCGANGenerator

Verdict = tuple[bool, str]


def reference_d_loss(discriminator: Any, generator: Any, encoder: Any, x: Tensor, z: Tensor) -> Tensor:
    """−E[log D(x, E(x))] − E[log(1 − D(G(z), z))] on logits, with E(x) and G(z) computed without a graph."""
    with torch.no_grad():
        code, fake = encoder(x), generator(z)
    return F.softplus(-discriminator(x, code)).mean() + F.softplus(discriminator(fake, z)).mean()


def _joint_d_loss(answer: Callable[..., Tensor]) -> Verdict:
    torch.manual_seed(0)
    latent = 4
    G, E = DCGANGenerator(latent, 4).eval(), Encoder(latent, 4).eval()
    D = JointDiscriminator(latent, 4, hidden=8, dropout=0.0)
    with torch.no_grad():  # larger weights than the init, so the logits are far from 0 and mistakes show
        for p in D.parameters():
            p.mul_(20.0)
    x, z = torch.rand(6, 1, 28, 28) * 2 - 1, torch.randn(6, latent)
    got = answer(D, G, E, x, z)
    if got is None:
        return False, "your function returned None; return D's loss as a scalar tensor"
    if not isinstance(got, Tensor) or got.numel() != 1:
        return False, f"return the loss as a scalar tensor, got {type(got).__name__}"
    want = reference_d_loss(D, G, E, x, z).detach()
    if torch.allclose(got.detach(), want, rtol=1e-4, atol=1e-5):
        if not got.requires_grad:
            return False, "the value is right, but the loss has no graph back to D's parameters"
        got.backward()
        leaked = [name for name, net in (("G", G), ("E", E)) if any(p.grad is not None for p in net.parameters())]
        if leaked:
            return False, (f"the value is right, but the gradient reaches {' and '.join(leaked)}: D's update must "
                           "treat G(z) and E(x) as constants (torch.no_grad() or .detach())")
        return True, f"D's loss on the joint pairs is {float(want):.4f}, as ganlab's"
    with torch.no_grad():
        code, fake = E(x), G(z)
        mistakes = {
            "the real pair must be (x, E(x)), not (x, z): z belongs to the fake pair":
                F.softplus(-D(x, z)).mean() + F.softplus(D(fake, z)).mean(),
            "the fake pair must be (G(z), z), not (G(z), E(x)): G's image goes with the code it came from":
                F.softplus(-D(x, code)).mean() + F.softplus(D(fake, code)).mean(),
            "the labels are swapped: real pairs are labelled 1 (softplus(−logit)), fake pairs 0 (softplus(logit))":
                F.softplus(D(x, code)).mean() + F.softplus(-D(fake, z)).mean(),
            "this looks like log(sigmoid) without the minus sign; use softplus(−logit) for −log D":
                -F.softplus(-D(x, code)).mean() - F.softplus(D(fake, z)).mean(),
        }
    for why, value in mistakes.items():
        if torch.allclose(got.detach(), value, rtol=1e-4, atol=1e-5):
            return False, why
    return False, (f"got {float(got.detach()):.4f}, want {float(want):.4f} "
                   "(BCE on logits: softplus(−D(x, E(x))) + softplus(D(G(z), z)))")


def _slerp(answer: Callable[[Tensor, Tensor, Tensor], Tensor]) -> Verdict:
    g = torch.Generator().manual_seed(1)
    t = torch.linspace(0, 1, 7)
    for d in (2, 16):
        a = torch.randn(d, generator=g)
        b = torch.randn(d, generator=g)
        b = b * a.norm() / b.norm()  # equal norms, as the exercise promises
        got = answer(a, b, t)
        if got is None:
            return False, "your function returned None; return the path as a (len(t), d) tensor"
        if not isinstance(got, Tensor) or got.shape != (len(t), d):
            return False, f"return a ({len(t)}, {d}) tensor for t of length {len(t)} and codes of length {d}"
        want = slerp(a, b, t)
        if torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            continue
        if torch.allclose(got, lerp(a, b, t), rtol=1e-4, atol=1e-5):
            return False, "that is the straight line (lerp): its norm dips in the middle; turn along the arc instead"
        straight = lerp(a, b, t)
        rescaled = straight / straight.norm(dim=1, keepdim=True) * a.norm()
        if torch.allclose(got, rescaled, rtol=1e-4, atol=1e-5):
            return False, ("the norm is right (the straight line pushed back out to the sphere), but it moves at an "
                           "uneven speed: use sin((1−t)Ω)/sin Ω and sin(tΩ)/sin Ω with Ω the angle between a and b")
        if not torch.allclose(got[[0, -1]], torch.stack([a, b]), rtol=1e-4, atol=1e-5):
            return False, "the path must start at a (t = 0) and end at b (t = 1)"
        gap = float((got - want).abs().max())
        return False, f"in {d} dimensions the path differs from ganlab.inference.slerp by up to {gap:.3g}"
    return True, "the path keeps the norm and turns at a constant rate, as ganlab.inference.slerp"


def _midpoint_norm(answer: Any) -> Verdict:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False, f"answer with a number, got {answer!r}"
    if math.isclose(value, 0.5, rel_tol=1e-3):
        return True, ("E‖(z + z')/2‖² = (d + d)/4 = d/2 against E‖z‖² = d: the midpoint sits at 1/√2 ≈ 0.71 of the "
                      "typical norm, in a shell where the prior has almost no mass when d is large")
    if math.isclose(value, 1 / math.sqrt(2), rel_tol=1e-3):
        return False, "that is the ratio of norms; the question asks for the squared norms"
    if math.isclose(value, 0.25, rel_tol=1e-3):
        return False, "the cross term E⟨z, z'⟩ is 0, but each of the two squared norms still adds d: (d + d)/4"
    return False, f"{value} is not it: expand ‖z + z'‖² = ‖z‖² + 2⟨z, z'⟩ + ‖z'‖² and take expectations"


EXERCISES: dict[str, Callable[[Any], Verdict]] = {
    "12.joint_d_loss": _joint_d_loss,
    "12.slerp": _slerp,
    "12.midpoint_norm": _midpoint_norm,
}


def check(name: str, answer: Any) -> bool:
    """Check an answer to one of notebook 12's exercises; prints ✓ or ✗ with the reason."""
    return run_check(EXERCISES, name, answer)


__all__ = ["EXERCISES", "check", "reference_d_loss"]
