"""Tests for ganlab.applications.anomaly: the held-out split, the encoder, the scores and a short study."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig
from ganlab.applications.anomaly import (
    SCORES,
    Encoder,
    anogan_score,
    anomaly_study,
    discriminator_features,
    discriminator_score,
    encoder_score,
    holdout,
    knn_score,
    reconstruct,
    train_encoder,
)
from ganlab.data import ImageData
from ganlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator

CLASSES = tuple(f"c{i}" for i in range(10))


def labelled(n_per_class: int = 12, seed: int = 0) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(10).repeat(n_per_class)
    levels = -0.9 + 0.2 * labels.float()
    images = (levels[:, None, None, None] + 0.05 * torch.randn(len(labels), 1, 28, 28, generator=g)).clamp(-1, 1)
    return ImageData(images, labels, "levels", "train", CLASSES)


def test_holdout_removes_the_class_from_training_and_marks_it_in_the_test_labels():
    train, test = labelled(12), labelled(5, seed=1)
    normal, images, labels = holdout(train, test, 3)
    assert (normal.labels != 3).all() and len(normal) == 108
    assert torch.equal(images, test.images)
    assert torch.equal(labels, (test.labels == 3).long()) and labels.sum() == 5
    with pytest.raises(ValueError, match="class index"):
        holdout(train, test, 10)


def test_encoder_shape_and_discriminator_features_feed_the_logit():
    encoder = Encoder(latent_dim=6, width=4)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert encoder(x).shape == (5, 6)
    D = DCGANDiscriminator(width=4).eval()
    f = discriminator_features(D, x)
    assert f.shape == (5, 8 * 7 * 7)
    # the features are exactly what D's last layer turns into its logit
    assert_close(D.net[-1](f.view(5, 8, 7, 7)).flatten(), D(x))
    assert_close(discriminator_score(D, x), -D(x))


def test_encoder_score_is_pixel_plus_kappa_times_feature_mean_squares():
    x, rec = torch.zeros(2, 1, 2, 2), torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[2.0, 0.0], [0.0, 0.0]]]])
    fx, frec = torch.zeros(2, 3), torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    # pixels: 4/4 = 1 and 4/4 = 1; features: 9/3 = 3 and 0
    assert_close(encoder_score(x, rec, fx, frec, kappa=1.0), torch.tensor([4.0, 1.0]))
    assert_close(encoder_score(x, rec, fx, frec, kappa=0.5), torch.tensor([2.5, 1.0]))
    with pytest.raises(ValueError, match="match pairwise"):
        encoder_score(x, rec[:1], fx, frec)


def test_train_encoder_learns_to_invert_the_frozen_generator():
    torch.manual_seed(0)
    G, D = DCGANGenerator(latent_dim=4, width=4).eval(), DCGANDiscriminator(width=4).eval()
    with torch.no_grad():
        for p in (*G.parameters(), *D.parameters()):  # DCGAN's N(0, 0.02) start draws one grey image for every z
            if p.ndim == 4:
                p.mul_(25)
        images = G(torch.randn(128, 4))  # images G can draw exactly: a perfect encoder would score 0
    data = ImageData(images, torch.zeros(128, dtype=torch.long), "g", "train", ("g",))
    before = [p.clone() for p in (*G.parameters(), *D.parameters())]
    untrained = anogan_score(G, D, Encoder(4, 4), images)
    encoder = train_encoder(G, D, data, steps=150, batch_size=32, lr=3e-3, seed=0)
    trained = anogan_score(G, D, encoder, images)
    assert trained.mean() < 0.1 * untrained.mean(), (trained.mean(), untrained.mean())
    for a, b in zip(before, (*G.parameters(), *D.parameters())):  # G and D did not move and are trainable again
        assert torch.equal(a, b) and b.requires_grad
    assert reconstruct(G, encoder, images[:7]).shape == (7, 1, 28, 28)


def test_knn_score_matches_a_loop_over_every_pair():
    g = torch.Generator().manual_seed(0)
    reference, queries = torch.randn(30, 1, 3, 3, generator=g), torch.randn(11, 1, 3, 3, generator=g)
    want = torch.stack([torch.sort(torch.stack([(q - r).norm() for r in reference])).values[:4].mean()
                        for q in queries])
    assert_close(knn_score(reference, queries, k=4, batch_size=5), want)
    assert_close(knn_score(reference, reference[:3], k=1), torch.zeros(3), atol=1e-3, rtol=0)  # itself at 0
    with pytest.raises(ValueError, match="k=31"):
        knn_score(reference, queries, k=31)


def test_anomaly_study_gives_one_row_of_aurocs_per_class_and_seed():
    train, test = labelled(12), labelled(4, seed=1)
    cfg = GANConfig(model="dcgan", latent_dim=4, batch_size=16, device="cpu", extra={"width": 4})
    rows = anomaly_study(train, test, [0, 9], [0, 1], cfg, gan_steps=2, encoder_steps=2, n_reference=50, k=3)
    assert [(r["class"], r["seed"]) for r in rows] == [(0, 0), (0, 1), (9, 0), (9, 1)]
    for r in rows:
        assert all(0.0 <= r[name] <= 1.0 for name in SCORES[:3]) and SCORES[3] not in r
        assert r["labels"].sum() == 4
    # class 0 is the darkest level, 9 the brightest: both sit at the edge of the normal levels, and the pixel
    # kNN distance (no training involved) ranks them all above every normal image
    assert rows[0]["kNN pixels"] == 1.0 and rows[3]["kNN pixels"] == 1.0
