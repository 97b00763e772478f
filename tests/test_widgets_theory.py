"""ganlab.widgets.theory: the plain-function twins draw and return the exact C(G); the widgets build."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ganlab import theory, toy
from ganlab.widgets import theory as views


def test_show_optimal_discriminator_returns_the_criterion() -> None:
    p_data = toy.mixture([-1.5, 1.5], 0.6)
    value = views.show_optimal_discriminator(p_data, 0.3, 1.1)
    assert value == theory.criterion(p_data, toy.gaussian(0.3, 1.1))
    fig = plt.gcf()
    assert len(fig.axes) == 2 and "V(D*, G)" in fig.axes[0].get_title()  # densities + D* on a twin axis
    plt.close(fig)


def test_criterion_curve_has_its_minimum_at_the_data() -> None:
    p_data = toy.gaussian(0.5, 1.0)
    thetas = np.linspace(-2.0, 3.0, 21)  # contains 0.5
    curve = views.criterion_curve(p_data, lambda t: toy.gaussian(t, 1.0), thetas)
    assert thetas[curve.argmin()] == pytest.approx(0.5)
    assert curve.min() == pytest.approx(-math.log(4), abs=1e-10)
    value = views.show_criterion(p_data, lambda t: toy.gaussian(t, 1.0), thetas, 1.5, curve)
    assert value == pytest.approx(curve[14], abs=1e-12)
    plt.close("all")


def test_widgets_build_with_their_sliders() -> None:
    pytest.importorskip("ipywidgets")
    panel = views.optimal_discriminator_explorer(toy.mixture([-1.5, 1.5], 0.6))
    sliders = panel.children[0].children
    assert [s.description for s in sliders] == ["G mean", "G spread"]
    sliders[0].value = 1.0  # a slider move redraws without error
    panel = views.criterion_explorer(toy.gaussian(0.0, 1.0), lambda t: toy.gaussian(t, 1.0), np.linspace(-2, 2, 9))
    assert panel.children[0].children[0].description == "θ"
    plt.close("all")


def test_one_dimensional_views_reject_two_dimensional_data() -> None:
    with pytest.raises(ValueError, match="1-D"):
        views.show_optimal_discriminator(toy.ring8(), 0.0, 1.0)
