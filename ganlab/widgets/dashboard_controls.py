"""The dashboard's controls: which knobs exist, what config each sets, and the widgets themselves.

The mapping from control values to ``GANConfig`` fields is plain Python (``REGULARISERS``, ``PRESETS``,
``settings_config``) so it is testable without widgets. Every widget gets a stable CSS class
(``ganlab-<name>``) that the browser end-to-end test finds it by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..conditional.toy import LABELLED_TOYS, toy_config
from ..config import GANConfig
from ..losses import LOSSES
from ..remedies import REMEDIES


@dataclass(frozen=True)
class Regulariser:
    """A choice of the regulariser menu: the config fields it sets for a weight w, and w's default."""

    label: str
    fields: Callable[[float], dict[str, Any]]
    default_weight: float | None  # None: the weight slider is disabled
    weight_name: str = ""


_OFF: dict[str, Any] = {"penalty": "none", "clip": None, "spectral_norm": False}
REGULARISERS: dict[str, Regulariser] = {
    r.label: r
    for r in (
        Regulariser("none", lambda w: dict(_OFF), None),
        Regulariser("R1", lambda w: {**_OFF, "penalty": "r1", "penalty_weight": w}, 1.0, "γ"),
        Regulariser("R2", lambda w: {**_OFF, "penalty": "r2", "penalty_weight": w}, 1.0, "γ"),
        Regulariser("gradient penalty", lambda w: {**_OFF, "penalty": "gp", "penalty_weight": w}, 1.0, "λ"),
        Regulariser("Lipschitz penalty", lambda w: {**_OFF, "penalty": "lp", "penalty_weight": w}, 1.0, "λ"),
        Regulariser("spectral norm", lambda w: {**_OFF, "spectral_norm": True}, None),
        Regulariser("weight clipping", lambda w: {**_OFF, "clip": w}, 0.1, "c"),
    )
}

# Per kind of data: the nets and the knob values a run starts from. The toy recipe is a 2-D latent (so
# the noise grid can be drawn), small MLPs, no label smoothing (so D's map reads as a probability).
PRESETS: dict[str, dict[str, Any]] = {
    "toy": dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=64, real_label=1.0,
                lr_g=1e-3, lr_d=2e-3, batch_size=128),  # D a little faster (TTUR): the ring forms in ~300 steps
    "image": dict(model="mlp", image_shape=(1, 28, 28), latent_dim=64, hidden_dim=128, real_label=0.9,
                  lr_g=2e-4, lr_d=2e-4, batch_size=64),
}
# The mode-collapse remedies of notebook 05 (``ganlab.remedies``), each with its default options; a change
# rebuilds the run, since most of them change D's layers or the step functions.
REMEDY_CHOICES = ("none", *REMEDIES)
IMAGE_SETS = ("fashion_mnist",)
OPTIMIZERS = (("Adam", "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop"))
BATCH_SIZES = (32, 64, 128, 256, 512)
NO_SCENARIO = "(none)"
TRAIN_MODES = (("both", "both"), ("D only", "D"), ("G only", "G"))  # label, ganlab.freeze mode
CONDITIONAL_SCHEME = "concat"  # the labelled toys' scheme: the label concatenated to G's and D's inputs


def datasets() -> list[str]:
    """The dashboard's data menu: every 2-D toy set, the labelled (class-conditional) toys, then the image sets."""
    from .. import toy

    return [name for name in toy.names() if toy.get(name).dim == 2] + list(LABELLED_TOYS) + list(IMAGE_SETS)


def preset(dataset: str) -> dict[str, Any]:
    return PRESETS["image" if dataset in IMAGE_SETS else "toy"]


def regulariser_fields(label: str, weight: float) -> dict[str, Any]:
    """Config fields for a regulariser menu choice, e.g. ("R1", 1.0) → penalty="r1", penalty_weight=1.0."""
    if label not in REGULARISERS:
        raise ValueError(f"regulariser {label!r} is unknown; use one of {list(REGULARISERS)}")
    return REGULARISERS[label].fields(weight)


def settings_config(settings: dict[str, Any], seed: int = 0, device: str = "auto") -> GANConfig:
    """The GANConfig a run with these control values starts from (nets from the dataset's preset)."""
    nets = {k: v for k, v in preset(settings["dataset"]).items() if k in ("model", "image_shape", "latent_dim",
                                                                         "hidden_dim", "real_label")}
    fields = dict(loss=settings["loss"], lr_d=settings["lr_d"], lr_g=settings["lr_g"],
                  optimizer=settings["optimizer"], n_critic=settings["n_critic"],
                  batch_size=settings["batch_size"], instance_noise=settings["instance_noise"])
    fields.update(regulariser_fields(settings["regulariser"], settings["reg_weight"]))
    remedy = settings.get("remedy", "none")
    if remedy not in REMEDY_CHOICES:
        raise ValueError(f"remedy {remedy!r} is unknown; use one of {list(REMEDY_CHOICES)}")
    extra = {"remedies": {} if remedy == "none" else {remedy: {}}}
    if settings["dataset"] in LABELLED_TOYS:  # the class-conditional toy: ganlab.conditional at toy size
        if remedy != "none":
            raise ValueError(f"the mode remedy {remedy!r} rebuilds an unconditional D: set the mode remedy to none "
                             f"for the class-conditional toy {settings['dataset']!r}")
        if fields["penalty"] != "none":
            raise ValueError(f"the regulariser {settings['regulariser']!r} calls D(x) without a label: on the "
                             f"class-conditional toy use none, spectral norm or weight clipping")
        return toy_config(settings["dataset"], CONDITIONAL_SCHEME, seed=seed, device=device, **nets, **fields)
    return GANConfig(dataset=settings["dataset"], seed=seed, device=device, extra=extra, **nets, **fields)


def build_controls(dataset: str) -> dict[str, Any]:
    """All widgets by name; the name is also the CSS class suffix (``ganlab-lr-d`` for ``lr_d``)."""
    import ipywidgets as W

    from .scenarios import SCENARIOS

    p = preset(dataset)
    # Sized for a 1280×800 screen with JupyterLab's file browser open (~850 px of notebook width): a 280 px
    # knob column, and a picture that takes the rest and shrinks with the window.
    style, wide = {"description_width": "105px"}, W.Layout(width="280px")
    log_lr = dict(base=10, min=-5, max=-1, step=0.1, readout_format=".1e", style=style, layout=wide,
                  continuous_update=False)
    c: dict[str, Any] = dict(
        dataset=W.Dropdown(options=datasets(), value=dataset, description="data", style=style, layout=wide),
        class_view=W.Dropdown(options=[("all classes", -1)], value=-1, description="show class", disabled=True,
                              style=style, layout=wide),  # ClassTools fills it for labelled data
        loss=W.Dropdown(options=list(LOSSES), value="non_saturating", description="loss", style=style, layout=wide),
        lr_d=W.FloatLogSlider(value=p["lr_d"], description="lr D", **log_lr),
        lr_g=W.FloatLogSlider(value=p["lr_g"], description="lr G", **log_lr),
        optimizer=W.Dropdown(options=OPTIMIZERS, value="adam", description="optimizer", style=style, layout=wide),
        n_critic=W.IntSlider(value=1, min=1, max=10, description="D steps / G step", style=style, layout=wide,
                             continuous_update=False),
        batch_size=W.Dropdown(options=BATCH_SIZES, value=p["batch_size"], description="batch size", style=style,
                              layout=wide),
        regulariser=W.Dropdown(options=list(REGULARISERS), value="none", description="regulariser", style=style,
                               layout=wide),
        reg_weight=W.FloatLogSlider(value=1.0, base=10, min=-3, max=2, step=0.1, description="weight",
                                    disabled=True, style=style, layout=wide, continuous_update=False),
        remedy=W.Dropdown(options=REMEDY_CHOICES, value="none", description="mode remedy", style=style,
                          layout=wide),
        instance_noise=W.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.01, description="input noise σ",
                                     style=style, layout=wide, continuous_update=False),
        steps_per_redraw=W.IntSlider(value=20, min=1, max=200, description="steps / redraw", style=style,
                                     layout=wide),
        slow_motion=W.Checkbox(value=False, description="slow-motion Step (D and G frames)", indent=False),
        # The drawing, recording and projector rows stay within the 280 px knob column (wider ones shrink the picture).
        draw=W.ToggleButton(value=False, description="Draw data", icon="pencil", layout=W.Layout(width="136px"),
                            tooltip="drag on D's panel (left) to add points; the run restarts on them"),
        clear_drawing=W.Button(description="Clear drawing", icon="eraser", layout=W.Layout(width="136px")),
        record=W.ToggleButton(value=False, description="Rec", icon="circle", layout=W.Layout(width="80px"),
                              tooltip="keep every redraw; press again to save an animated GIF here"),
        projector=W.Checkbox(value=False, description="projector size", indent=False,
                             layout=W.Layout(width="180px")),
        scenario=W.Dropdown(options=[NO_SCENARIO, *SCENARIOS], value=NO_SCENARIO, description="scenario",
                            style=style, layout=W.Layout(width="330px")),
        watch=W.HTML(value="", layout=W.Layout(flex="1 1 0%", min_width="0")),
        start=W.Button(description="Start", icon="play", button_style="success"),
        pause=W.Button(description="Pause", icon="pause", disabled=True),
        step=W.Button(description="Step", icon="step-forward"),
        reset=W.Button(description="Reset", icon="refresh", button_style="warning"),
        train=W.ToggleButtons(options=TRAIN_MODES, value="both", style={"button_width": "70px"},
                              layout=W.Layout(flex="0 0 auto", min_width="226px"),  # never wraps to a column
                              tooltips=["D and G learn", "only D learns: G is frozen", "only G learns: D is frozen"]),
        step_count=W.Label(value="step 0", layout=W.Layout(min_width="90px")),
        status=W.Label(value="ready"),
        plot=W.Image(format="png", layout=W.Layout(width="100%", max_width="860px", height="auto")),
        diagnostics=W.HTML(value=""),
        error=W.HTML(value=""),
    )
    for name, widget in c.items():
        widget.add_class("ganlab-" + name.replace("_", "-"))
    return c


def layout(c: dict[str, Any]) -> Any:
    """The scenario menu and its watch line, then buttons and counters, then knobs on the left, the picture and the
    diagnostics on the right."""
    import ipywidgets as W

    lecture = W.HBox([c["scenario"], c["watch"]])
    buttons = W.HBox([c["start"], c["pause"], c["step"], c["reset"], c["train"], c["step_count"], c["status"]])
    knobs = W.VBox([c[k] for k in ("dataset", "class_view", "loss", "lr_d", "lr_g", "optimizer", "n_critic",
                                   "batch_size", "regulariser", "reg_weight", "remedy", "instance_noise",
                                   "steps_per_redraw", "slow_motion")] + [W.HBox([c["draw"], c["clear_drawing"]]),
                                                      W.HBox([c["record"], c["projector"]])])
    view = W.VBox([c["plot"], c["diagnostics"], c["error"]], layout=W.Layout(flex="1 1 0%", min_width="0"))
    root = W.VBox([lecture, buttons, W.HBox([knobs, view])])
    root.add_class("ganlab-dashboard")
    return root
