"""Self-checks for notebook 13's exercises (GANs at work): ``check(name, answer)`` says right or wrong, and why.

Same habits as ``ganlab.exercises``: an unanswered exercise (``None``, or a stub function that returns ``None``)
prints "not answered yet" instead of failing, so the notebook runs under nbval with the exercises left open.

- ``"applications.anomaly_score"``: ``score(images, reconstructions, image_features, reconstruction_features,
  kappa)`` → (N,), checked against ``ganlab.applications.anomaly.encoder_score`` (f-AnoGAN's score).
- ``"applications.auroc"``: ``auroc(scores, labels)`` → float, the share of (anomaly, normal) pairs ranked the
  right way with ties counted one half, checked against ``ganlab.metrics.auroc`` on data full of ties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .exercises import run_check


def _score_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]]:
    g = torch.Generator().manual_seed(13)
    cases = []
    for n, shape, d, kappa in ((4, (1, 28, 28), 16, 1.0), (3, (1, 5, 7), 4, 0.25), (5, (2, 3, 3), 9, 2.0)):
        cases.append((torch.randn(n, *shape, generator=g), torch.randn(n, *shape, generator=g),
                      torch.randn(n, d, generator=g), 3 * torch.randn(n, d, generator=g), kappa))
    return cases


def _anomaly_score(answer: Callable[..., Any]) -> tuple[bool, str]:
    from .applications.anomaly import encoder_score

    for x, rec, fx, frec, kappa in _score_cases():
        want = encoder_score(x, rec, fx, frec, kappa)
        got = answer(x, rec, fx, frec, kappa)
        where = f"for {x.shape[0]} images of shape {tuple(x.shape[1:])}, {fx.shape[1]} features and κ={kappa}"
        if got is None:
            return False, "your function returned None; it should return one score per image, a tensor (N,)"
        got = torch.as_tensor(got, dtype=want.dtype)
        if got.shape != want.shape:
            return False, (f"{where} you returned shape {tuple(got.shape)}, expected {tuple(want.shape)}: one score "
                           f"per image, so average over pixels and features but not over the batch")
        if torch.allclose(got, want, rtol=1e-5, atol=1e-6):
            continue
        pixels = (x - rec).pow(2).flatten(1).mean(1)
        feats = (fx - frec).pow(2).mean(1)
        hints = [(pixels + feats, "κ must weight the feature term"),
                 ((x - rec).pow(2).flatten(1).sum(1) + kappa * (fx - frec).pow(2).sum(1),
                  "use means over pixels and features, not sums (the two terms would be on scales set by the image "
                  "and feature sizes)"),
                 ((x - rec).abs().flatten(1).mean(1) + kappa * (fx - frec).abs().mean(1),
                  "square the residuals (mean squared error), not their absolute values"),
                 (pixels, "add the feature term: the discriminator's features see what pixels miss")]
        hint = next((h for candidate, h in hints if torch.allclose(got, candidate, rtol=1e-5, atol=1e-6)),
                    "score = mean over pixels of (x − G(E(x)))² + κ · mean over features of (f(x) − f(G(E(x))))²")
        return False, f"{where} your scores differ from f-AnoGAN's by up to {(got - want).abs().max():.3g}: {hint}"
    return True, ("residual + κ · feature residual: an image G cannot draw is reconstructed badly, and D's features "
                  "magnify the difference where pixels alone would blur it")


def _auroc_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(7)
    cases = [(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])),
             (torch.tensor([1.0, 1.0, 1.0, 1.0]), torch.tensor([0, 1, 0, 1]))]
    for n in (12, 40):
        labels = torch.randint(0, 2, (n,), generator=g)
        labels[0], labels[1] = 0, 1
        cases.append((torch.randint(0, 4, (n,), generator=g).float(), labels))  # four values: many ties
    return cases


def _auroc(answer: Callable[..., Any]) -> tuple[bool, str]:
    from .metrics.ranking import auroc

    for scores, labels in _auroc_cases():
        want = auroc(scores, labels)
        got = answer(scores, labels)
        if got is None:
            return False, "your function returned None; it should return the AUROC, one number in [0, 1]"
        got = float(got)
        if abs(got - want) < 1e-9:
            continue
        pos, neg = scores[labels == 1], scores[labels == 0]
        greater = (pos[:, None] > neg[None, :]).double().mean().item()
        at_least = (pos[:, None] >= neg[None, :]).double().mean().item()
        hint = ("a tie must count one half, not zero" if abs(got - greater) < 1e-9 else
                "a tie must count one half, not a whole win" if abs(got - at_least) < 1e-9 else
                "higher scores mean anomaly: you ranked the wrong way round" if abs(got - (1 - want)) < 1e-9 else
                "compare every anomaly's score with every normal point's and average: win 1, tie ½, loss 0")
        return False, f"for scores {scores.tolist()[:6]}… and labels {labels.tolist()[:6]}… you returned {got}, " \
                      f"expected {want:.6f}: {hint}"
    return True, ("AUROC = P(a random anomaly outscores a random normal point), ties ½: the Mann–Whitney statistic, "
                  "which ganlab computes from ranks in O(N log N) instead of all N₊·N₋ pairs")


EXERCISES: dict[str, Callable[[Any], tuple[bool, str]]] = {
    "applications.anomaly_score": _anomaly_score,
    "applications.auroc": _auroc,
}


def check(name: str, answer: Any) -> bool:
    """Check an exercise answer; prints ✓ or ✗ with the reason. Returns whether it is right."""
    return run_check(EXERCISES, name, answer)


__all__ = ["EXERCISES", "check"]
