"""ganlab.widgets.metrics: the twin returns exactly the metrics it draws; the widget builds and redraws."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from ganlab import features, metrics
from ganlab.data import ImageData
from ganlab.widgets import metrics as views


@pytest.fixture
def setup(tiny_images):
    torch.manual_seed(0)
    model = features.ARCHITECTURES[features.DEFAULT_ARCH]().eval()
    labels = torch.arange(len(tiny_images)) % 10
    pool = ImageData(tiny_images, labels, "tiny", "train", tuple(str(i) for i in range(10)))
    real_feats, _ = features.extract(model, tiny_images[:200])
    return model, pool, real_feats


def test_show_corruption_returns_the_metrics_it_draws(setup):
    model, pool, real_feats = setup
    options = dict(kid_subsets=2, kid_subset_size=40)
    values = views.show_corruption("blur", 0.5, model, pool, real_feats, n=150, baseline=None, **options)
    expected, _ = metrics.corruption_metrics("blur", 0.5, model, pool, real_feats, n=150, **options)
    assert values == expected
    fig = plt.gcf()
    assert len(fig.axes) == 2 and "FID" in fig.axes[1].get_title()
    plt.close(fig)


def test_explorer_builds_and_redraws(setup):
    pytest.importorskip("ipywidgets")
    model, pool, real_feats = setup
    panel = views.corruption_explorer(model, pool, real_feats, n=140, kid_subsets=1, kid_subset_size=30)
    kind, strength = panel.children[0].children
    assert list(kind.options) == list(metrics.CORRUPTIONS) and strength.description == "strength"
    kind.value = "duplicates"  # a change redraws without error
    strength.value = 0.8
    plt.close("all")
