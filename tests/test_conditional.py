"""Tests for ganlab.nets.conditional, ganlab.conditional (losses, trainer, measures) and its widget twins."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.conditional import (
    SCHEMES,
    ConditionalTrainer,
    auxiliary_class_loss,
    categorical_code_nll,
    class_fidelity,
    class_loss,
    code_entropy,
    code_sweep,
    continuous_code_nll,
    evaluate_classes,
    get_scheme,
    info_loss,
    infogan_bound,
    infogan_codes,
    mean_pairwise_distance,
    mutual_information_bound,
    normalized_mutual_information,
    per_class,
    per_class_precision_recall,
    purity,
    truncation_curve,
)
from ganlab.data import ImageData
from ganlab.nets.conditional import (
    ACGANDiscriminator,
    CBNGenerator,
    ConcatDiscriminator,
    EmbeddingGenerator,
    InfoGANDiscriminator,
    InfoGANGenerator,
    ProjectionDiscriminator,
    info_code,
    truncated_noise,
)
from ganlab.nets.layers import ConditionalBatchNorm2d

K, W, LATENT = 4, 4, 6  # tiny sizes: 4 classes, width 4, 6 latent dimensions


def _labels(n: int = 8) -> torch.Tensor:
    return torch.arange(n) % K


# ---------------------------------------------------------------------- nets: shapes and label routing
@pytest.mark.parametrize("make", [lambda: EmbeddingGenerator(LATENT, K, W), lambda: CBNGenerator(LATENT, K, W)])
def test_generators_shape_and_label_routing(make):
    torch.manual_seed(0)
    G = make().eval()
    z = torch.randn(8, LATENT)
    out = G(z, _labels())
    assert out.shape == (8, 1, 28, 28) and out.abs().max() <= 1
    assert_close(G(z, _labels()), out)  # same z and label in eval mode: the same image
    change = (G(z, (_labels() + 1) % K) - out).abs().amax(dim=(1, 2, 3))
    assert (change > 1e-3 * out.abs().amax(dim=(1, 2, 3))).all()  # every image changed with its label


@pytest.mark.parametrize("make", [lambda: ConcatDiscriminator(K, W), lambda: ProjectionDiscriminator(K, W)])
def test_label_taking_discriminators_shape_and_routing(make):
    torch.manual_seed(0)
    D = make().eval()
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    logits = D(x, _labels())
    assert logits.shape == (8,)
    assert_close(D(x, _labels()), logits)
    assert ((D(x, (_labels() + 1) % K) - logits).abs() > 1e-6).all()


def test_acgan_and_infogan_discriminator_heads():
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    logits, class_logits = ACGANDiscriminator(K, W)(x)
    assert logits.shape == (5,) and class_logits.shape == (5, K)
    logits, code_logits, code_means = InfoGANDiscriminator(K, 3, W)(x)
    assert logits.shape == (5,) and code_logits.shape == (5, K) and code_means.shape == (5, 3)


def test_projection_is_the_unconditional_logit_plus_an_inner_product():
    torch.manual_seed(0)
    D = ProjectionDiscriminator(K, W).eval()
    x, y = torch.rand(3, 1, 28, 28), torch.tensor([0, 2, 3])
    h = D.body(x)
    assert_close(D(x, y), D.head(h).flatten() + (D.embed.weight[y] * h.flatten(1)).sum(1))
    with torch.no_grad():
        D.embed.weight.zero_()  # no class embedding: every label gives the unconditional logit
    assert_close(D(x, y), D(x, torch.zeros_like(y)))


def test_infogan_generator_reads_the_code():
    torch.manual_seed(0)
    G = InfoGANGenerator(LATENT, K, 2, W).eval()
    z, cont = torch.randn(4, LATENT), torch.zeros(4, 2)
    code = info_code(torch.tensor([0, 1, 2, 3]), cont, K)
    assert_close(code[:, :K], torch.eye(K))
    out = G(z, code)
    assert out.shape == (4, 1, 28, 28)
    assert (G(z, info_code(torch.tensor([1, 2, 3, 0]), cont, K)) - out).abs().amax() > 1e-4


def test_conditional_batchnorm_applies_the_class_gain_and_bias():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm2d(3, K)
    with torch.no_grad():
        norm.gain.copy_(torch.arange(1.0, 1.0 + 3 * K).view(K, 3))
        norm.bias.copy_(-torch.arange(3.0 * K).view(K, 3))
    x, y = torch.randn(6, 3, 5, 5), torch.tensor([0, 1, 2, 3, 1, 0])
    plain = F.batch_norm(x, None, None, training=True)
    assert_close(norm(x, y), norm.gain[y][:, :, None, None] * plain + norm.bias[y][:, :, None, None])


# ---------------------------------------------------------------------- truncation
@pytest.mark.parametrize("threshold", [0.1, 0.5, 2.0])
def test_truncated_noise_stays_within_the_threshold(threshold):
    z = truncated_noise(400, 16, threshold, torch.Generator().manual_seed(0))
    assert z.shape == (400, 16) and z.abs().max() <= threshold
    # resampling keeps N(0, 1) restricted to [−t, t]: its variance is 1 − 2tφ(t)/(2Φ(t) − 1)
    phi, cdf = math.exp(-threshold**2 / 2) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(threshold / math.sqrt(2)))
    variance = 1 - 2 * threshold * phi / (2 * cdf - 1)
    assert_close(z.var().item(), variance, rtol=0.05, atol=0.0)


def test_truncated_noise_rejects_a_non_positive_threshold():
    with pytest.raises(ValueError, match="threshold"):
        truncated_noise(4, 2, 0.0)


# ---------------------------------------------------------------------- losses on hand-made logits
def test_class_losses_match_hand_computed_values():
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])  # softmax rows (¾, ¼) and (½, ½)
    labels = torch.tensor([0, 1])
    expected = (-math.log(0.75) - math.log(0.5)) / 2
    assert_close(class_loss(logits, labels), torch.tensor(expected))
    assert_close(auxiliary_class_loss(logits, logits, labels, labels), torch.tensor(2 * expected))
    flipped = labels.flip(0)  # the fakes' term: (−log ¼ − log ½)/2
    fake_term = (-math.log(0.25) - math.log(0.5)) / 2
    assert_close(auxiliary_class_loss(logits, logits, labels, flipped, fake_weight=0.5),
                 torch.tensor(expected + 0.5 * fake_term))
    assert_close(auxiliary_class_loss(logits, logits, labels, flipped, fake_weight=0.0), torch.tensor(expected))
    assert_close(categorical_code_nll(logits, labels), torch.tensor(expected))


def test_continuous_code_nll_is_a_unit_gaussian_nll():
    means, codes = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, -1.0]])
    expected = 0.5 * (0.25 + 4.0) + math.log(2 * math.pi)  # ½Σ(c − μ)² + 2·½log 2π
    assert_close(continuous_code_nll(means, codes), torch.tensor(expected))
    assert_close(info_loss(torch.zeros(1, 2), means, torch.tensor([0]), codes, cont_weight=0.5),
                 torch.tensor(math.log(2) + 0.5 * expected))


def test_mutual_information_bound_reaches_the_code_entropy_for_a_perfect_q():
    cat = torch.tensor([0, 1, 2, 3])
    sure = 50.0 * F.one_hot(cat, 4).float()  # Q names every categorical code for sure
    cont = torch.zeros(4, 0)
    assert_close(mutual_information_bound(sure, cont, cat, cont), torch.tensor(math.log(4)))
    assert_close(mutual_information_bound(torch.zeros(4, 4), cont, cat, cont), torch.tensor(0.0))  # Q guesses
    assert_close(code_entropy(10, 2), math.log(10) + 2 * math.log(2))


# ---------------------------------------------------------------------- measures
def test_class_fidelity_per_class_and_overall():
    requested = torch.tensor([0, 0, 1, 1, 1, 2])
    predicted = torch.tensor([0, 1, 1, 1, 0, 0])
    per, overall = class_fidelity(predicted, requested, 4)
    assert_close(per[:3], torch.tensor([0.5, 2 / 3, 0.0]))
    assert math.isnan(per[3]) and overall == pytest.approx(3 / 6)


def test_mean_pairwise_distance_closed_form_and_per_class():
    square = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # 4 sides of 1, 2 diagonals of √2
    assert mean_pairwise_distance(square) == pytest.approx((4 + 2 * math.sqrt(2)) / 6)
    assert mean_pairwise_distance(torch.ones(5, 3)) == 0.0
    values = torch.cat([square, 2 * square])
    assert_close(per_class(values, torch.tensor([0] * 4 + [1] * 4), 2),
                 torch.tensor([1.0, 2.0]) * (4 + 2 * math.sqrt(2)) / 6)


def test_per_class_precision_recall_sees_a_collapsed_class():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(60, 2, generator=g)
    labels = torch.arange(60) % 2
    same = per_class_precision_recall(real, labels, real, labels, 2)
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    collapsed = real.clone()
    collapsed[labels == 1] = real[1]  # class 1: every fake is the same real point
    out = per_class_precision_recall(real, labels, collapsed, labels, 2)
    assert out["precision_per_class"][1] == 1.0 and out["recall_per_class"][0] == 1.0
    assert out["recall_per_class"][1] < 0.3


def test_purity_and_nmi_closed_forms():
    truth = torch.tensor([0, 0, 1, 1, 2, 2])
    relabelled = torch.tensor([2, 2, 0, 0, 1, 1])
    assert purity(relabelled, truth) == 1.0
    assert normalized_mutual_information(relabelled, truth) == pytest.approx(1.0)
    one_cluster = torch.zeros(6, dtype=torch.long)
    assert purity(one_cluster, truth) == pytest.approx(1 / 3)
    assert normalized_mutual_information(one_cluster, truth) == 0.0
    independent = torch.tensor([0, 1, 0, 1, 0, 1])  # each class split evenly over two clusters
    assert normalized_mutual_information(independent, truth) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------- the trainer
@pytest.fixture
def labelled() -> ImageData:
    """64 images of K classes, each class a different grey level."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % K
    images = (labels.float() / K - 0.4)[:, None, None, None] + 0.05 * torch.randn(64, 1, 28, 28, generator=g)
    return ImageData(images.clamp(-1, 1), labels, "tiny", "train", tuple(f"c{k}" for k in range(K)))


def _trainer(scheme: str, data: ImageData, **changes) -> ConditionalTrainer:
    cfg = GANConfig(model="dcgan", latent_dim=LATENT, batch_size=16, device="cpu",
                    extra={"scheme": scheme, "width": W, **changes.pop("extra", {})}, **changes)
    return ConditionalTrainer(cfg, data, progress=False)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_trains_one_step_and_samples(scheme, labelled):
    t = _trainer(scheme, labelled)
    before = [p.detach().clone() for p in t.generator.parameters()]
    t.fit(steps=2)
    assert len(t.history["d_loss"]) == 2 and all(math.isfinite(v) for v in t.history["g_loss"])
    assert any((a != b).any() for a, b in zip(before, t.generator.parameters()))
    assert t.sample(6).shape == (6, 1, 28, 28)


@pytest.mark.parametrize("fake_class_weight", [1.0, 0.0])
def test_acgan_fake_class_weight_decides_whether_d_learns_what_g_meant(labelled, fake_class_weight):
    t = _trainer("acgan", labelled, extra={"fake_class_weight": fake_class_weight})
    images, labels = t.real_batch()
    fake = t.generator(t.noise(16), labels).detach()
    d_loss = get_scheme("acgan").d_loss
    asked, other = d_loss(t, images, labels, fake, labels)[0], d_loss(t, images, labels, fake, (labels + 1) % K)[0]
    # The labels G was asked for enter D's loss only through the fake class term.
    assert (asked != other) == (fake_class_weight > 0)


def test_real_batch_keeps_images_and_labels_together(labelled):
    t = _trainer("acgan", labelled)
    for _ in range(6):  # crosses an epoch boundary (64 images, batches of 16)
        images, labels = t.real_batch()
        level = images.mean(dim=(1, 2, 3))
        assert_close(level, labels.float() / K - 0.4, atol=0.02, rtol=0)


def test_sample_routes_labels_and_is_repeatable(labelled):
    t = _trainer("projection", labelled)
    t.fit(steps=1)
    z = t.noise(K)
    same = t.sample(K, z, torch.arange(K))
    assert_close(t.sample(K, z, torch.arange(K)), same)
    change = (t.sample(K, z, 1) - same).abs().amax(dim=(1, 2, 3))
    assert (change > 1e-3 * same.abs().amax(dim=(1, 2, 3)))[[0, 2, 3]].all()  # label 1 was already 1


def test_infogan_never_reads_the_labels(labelled):
    shuffled = ImageData(labelled.images, labelled.labels.flip(0), "tiny", "train", labelled.classes)
    runs = [_trainer("infogan", data) for data in (labelled, shuffled)]
    for t in runs:
        t.fit(steps=3)
    assert_close(runs[0].history["d_loss"], runs[1].history["d_loss"])


def test_checkpoint_round_trip(labelled, tmp_path):
    t = _trainer("acgan", labelled, extra={"class_weight": 0.5})
    t.fit(steps=2)
    path = t.save(tmp_path / "acgan.pt")
    back = ConditionalTrainer.load(path, labelled, progress=False)
    assert back.scheme.name == "acgan" and back.step_count == 2
    z = t.noise(4)
    assert_close(back.sample(4, z.clone()), t.sample(4, z.clone()))


def test_bad_configurations_are_refused(labelled):
    with pytest.raises(ValueError, match="scheme"):
        _trainer("nope", labelled)
    with pytest.raises(ValueError, match="generator"):
        _trainer("concat", labelled, extra={"generator": "nope"})
    with pytest.raises(ValueError, match="penalty"):
        _trainer("acgan", labelled, penalty="gp")
    with pytest.raises(ValueError, match="labelled images"):
        ConditionalTrainer(GANConfig(model="dcgan", device="cpu", extra={"scheme": "acgan"}),
                           torch.zeros(8, 1, 28, 28))
    assert get_scheme("acgan").name == "acgan"


class _GreyLevelClassifier(torch.nn.Module):
    """A stand-in classifier: the class is the nearest of K grey levels; features are the mean level."""

    def __init__(self) -> None:
        super().__init__()
        self.levels = torch.nn.Parameter(torch.arange(K) / K - 0.4, requires_grad=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2, 3))[:, None]

    def probs(self, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(-100 * (self.features(x) - self.levels).abs(), dim=1)


def test_evaluation_helpers_run_on_a_trained_model(labelled):
    t = _trainer("acgan", labelled)
    t.fit(steps=2)
    real = (labelled.images.mean(dim=(1, 2, 3))[:, None], labelled.labels)
    result = evaluate_classes(t, _GreyLevelClassifier(), n_per_class=5, real=real)
    assert 0 <= result["fidelity"] <= 1 and result["fidelity_per_class"].shape == (K,)
    assert result["recall_per_class"].shape == (K,) and 0 <= result["precision"] <= 1
    curve = truncation_curve(t, _GreyLevelClassifier(), [0.5, 2.0], n_per_class=5)
    assert len(curve["fidelity"]) == 2
    info = _trainer("infogan", labelled)
    bound = infogan_bound(info, n=64)
    assert bound["categorical"] <= math.log(K) and bound["continuous"] <= 2 * math.log(2)
    assert bound["total"] == pytest.approx(bound["categorical"] + bound["continuous"])
    assert bound["continuous_r2"] <= 1
    codes = infogan_codes(info, labelled.images)
    assert codes.shape == (64,) and codes.max() < K
    assert code_sweep(info, 1, torch.linspace(-1, 1, 3), n_rows=2).shape == (6, 1, 28, 28)


def test_truncation_curve_reports_precision_and_recall_when_given_real_features(labelled):
    t = _trainer("projection", labelled)
    t.fit(steps=2)
    clf, real = _GreyLevelClassifier(), (labelled.images.mean(dim=(1, 2, 3))[:, None], labelled.labels)
    curve = truncation_curve(t, clf, [0.5, math.inf], n_per_class=5, seed=3, real=real)
    for i, threshold in enumerate((0.5, math.inf)):  # each point is evaluate_classes at that threshold
        row = evaluate_classes(t, clf, 5, threshold, seed=3, real=real)
        for key in ("fidelity", "diversity", "precision", "recall"):
            assert_close(curve[key][i], row[key], rtol=1e-12, atol=1e-12)
    assert curve["diversity"][0] < curve["diversity"][1]  # ψ = 0.5 squeezes z, so the samples spread less
    assert "precision" not in truncation_curve(t, clf, [1.0], n_per_class=5)  # no real features, no P/R


# ---------------------------------------------------------------------- widget twins and widgets
def test_widget_twins_draw_the_requested_grids(labelled):
    import matplotlib.pyplot as plt

    from ganlab.widgets import conditional as views

    t = _trainer("acgan", labelled)
    images = views.show_class(t, 2, psi=0.5, n=8)
    assert_close(images, t.sample(8, views._noise(t, 8, 0, 0.5), 2))
    assert views.show_interpolation(t, 0, 1, steps=3, labels=[0, 3]).shape == (6, 1, 28, 28)
    info = _trainer("infogan", labelled)
    assert views.show_codes(info, 1, [0.5, -0.5], n=4).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="continuous codes"):
        views.show_codes(info, 1, [0.5], n=4)
    for panel in (views.class_explorer(t, n=4), views.interpolation_explorer(t, steps=3),
                  views.code_explorer(info, n=4)):
        assert len(panel.children) == 2  # controls above the redrawn grid
    plt.close("all")
