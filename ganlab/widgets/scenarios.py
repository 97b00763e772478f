"""Lecture scenarios for the training dashboard: named presets of data, loss, rates, steps and seed, each with
one line telling the audience what to watch.

Plain Python (no widgets): ``settings(name)`` gives the dashboard control values a scenario sets, and
``run(name)`` trains it headless (what tests/test_scenarios.py checks each promise on). In the dashboard, the
scenario menu loads one; Start then trains until the scenario's ``steps`` and pauses.

    from ganlab.widgets.scenarios import SCENARIOS, run
    trainer = run("saturating loss stalls")          # the scenario's steps and seed
    trainer = run("saturating loss stalls", loss="non_saturating")  # its contrast: change one control
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dashboard_controls import PRESETS, settings_config

# The control values every scenario starts from: the dashboard's defaults on the 8-Gaussian ring.
BASE: dict[str, Any] = dict(dataset="ring8", loss="non_saturating", lr_d=PRESETS["toy"]["lr_d"],
                            lr_g=PRESETS["toy"]["lr_g"], optimizer="adam", n_critic=1,
                            batch_size=PRESETS["toy"]["batch_size"], instance_noise=0.0, regulariser="none",
                            reg_weight=1.0, remedy="none")


@dataclass(frozen=True)
class Scenario:
    """A preset: ``changes`` to ``BASE``, how many ``steps`` to show, the ``seed``, and what to ``watch``.

    ``contrast``: the one change that shows the same run without the effect (the scenario's control group).
    """

    name: str
    watch: str
    changes: dict[str, Any]
    steps: int
    seed: int = 0
    contrast: dict[str, Any] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("saturating loss stalls",
                 "D(fake) sinks towards 0 and ‖∇G‖ shrinks: the minimax loss gives G almost no gradient once D "
                 "wins. Switch the loss to non_saturating and the arrows come back.",
                 dict(loss="minimax", lr_d=1e-2, lr_g=1e-4, n_critic=5), 300, contrast=dict(loss="non_saturating")),
        Scenario("D far ahead",
                 "Five fast D steps per slow G step: D(real) stays near 1 and D(fake) near 0, and D's landscape "
                 "is a sharp wall that the fakes barely cross.",
                 dict(lr_d=1e-2, lr_g=1e-4, n_critic=5), 300, contrast=dict(lr_d=2e-3, lr_g=1e-3, n_critic=1)),
        Scenario("mode hopping",
                 "G learns 5× faster than D: the fakes gather on one or two modes, D learns to reject them, and "
                 "the red cloud jumps to other modes instead of spreading over the ring.",
                 dict(lr_d=1e-3, lr_g=5e-3), 800, contrast=dict(lr_d=2e-3, lr_g=1e-3)),
        Scenario("WGAN: weight clipping",
                 "A critic clipped to ±0.01 is nearly flat: its slope between real and fake stays far below 1, "
                 "so G's arrows are tiny. Compare the gradient-penalty scenario.",
                 dict(loss="wasserstein", regulariser="weight clipping", reg_weight=0.01, n_critic=5,
                      optimizer="rmsprop", lr_d=1e-3, lr_g=1e-3), 150,
                 contrast=dict(regulariser="gradient penalty", reg_weight=1.0, optimizer="adam")),
        Scenario("WGAN: gradient penalty",
                 "The penalty holds the critic's slope near 1 between real and fake: the critic map is a smooth "
                 "ramp and the arrows keep a steady length.",
                 dict(loss="wasserstein", regulariser="gradient penalty", reg_weight=1.0, n_critic=5,
                      lr_d=1e-3, lr_g=1e-3), 150,
                 contrast=dict(regulariser="weight clipping", reg_weight=0.01, optimizer="rmsprop")),
        Scenario("R1 damps the oscillation",
                 "With R1 (γ = 1) D's gradient on the real points is penalised: D(real) and the losses settle "
                 "instead of swinging. Set the regulariser to none to see the swings return.",
                 dict(regulariser="R1", reg_weight=1.0), 600, contrast=dict(regulariser="none")),
        Scenario("two-timescale rates",
                 "D learns 4× faster than G (TTUR): the divergence chart drops within a few hundred steps. Set "
                 "lr D to 1e-4 (D 10× slower than G) and the fakes stay lost in the middle.",
                 dict(lr_d=4e-3, lr_g=1e-3), 300, contrast=dict(lr_d=1e-4)),
        Scenario("conditioning works",
                 "Each colour is a class of two opposite modes, and G(z, y) is told the class: every class's fakes "
                 "settle on its own two modes. Pick one class under 'show class' to see its samples beside its "
                 "real modes.",
                 dict(dataset="ring8_classes"), 400, contrast=dict(dataset="ring8")),
    )
}


def get(name: str) -> Scenario:
    """A scenario by name, with an error listing the names that exist."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"scenario {name!r} is unknown; use one of {list(SCENARIOS)}") from None


def settings(name: str, **changes: Any) -> dict[str, Any]:
    """The dashboard control values of scenario ``name`` (then ``changes`` on top, e.g. its ``contrast``)."""
    unknown = set(changes) - set(BASE)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not dashboard controls; use some of {list(BASE)}")
    return {**BASE, **get(name).changes, **changes}


def run(name: str, steps: int | None = None, seed: int | None = None, device: str = "cpu", **changes: Any) -> Any:
    """Train scenario ``name`` headless for ``steps`` (default its own) from ``seed`` (default its own); the Trainer."""
    from .dashboard_classes import build_run

    scenario = get(name)
    cfg = settings_config(settings(name, **changes), scenario.seed if seed is None else seed, device)
    trainer = build_run(cfg, progress=False, cuda_graph=False)
    trainer.fit(steps=scenario.steps if steps is None else steps)
    return trainer
