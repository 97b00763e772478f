import pytest
import torch

from ganlab.probes import knn_accuracy, linear_probe_accuracy


def blobs(n, d=5, shift=12.0, seed=0):
    """Two well separated Gaussian blobs (labels 0 and 1), n points each."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, d, generator=g)
    y = torch.arange(2 * n) % 2
    x[:, 0] += shift * y
    return x, y


def test_separable_toy_is_classified_perfectly():
    (xs, ys), (xt, yt) = blobs(50), blobs(30, seed=1)
    assert knn_accuracy(xs, ys, xt, yt) == 1.0
    assert linear_probe_accuracy(xs, ys, xt, yt) == 1.0


def test_shuffled_labels_drop_to_chance():
    (xs, ys), (xt, yt) = blobs(200), blobs(200, seed=1)
    shuffled = ys[torch.randperm(len(ys), generator=torch.Generator().manual_seed(2))]
    assert 0.35 < knn_accuracy(xs, shuffled, xt, yt) < 0.65
    assert 0.35 < linear_probe_accuracy(xs, shuffled, xt, yt) < 0.65


def test_one_nn_is_the_nearest_point_label_and_k_votes():
    train = torch.tensor([[0.0], [1.0], [1.1], [1.2]])
    labels = torch.tensor([0, 1, 1, 1])
    test = torch.tensor([[0.4]])  # nearest is 0 (label 0); the three nearest vote 1
    assert knn_accuracy(train, labels, test, torch.tensor([0])) == 1.0
    assert knn_accuracy(train, labels, test, torch.tensor([1]), k=3) == 1.0
    # batching gives the same answer
    x, y = blobs(40)
    assert knn_accuracy(x, y, x + 0.5, y, batch_size=7) == knn_accuracy(x, y, x + 0.5, y)


def test_linear_probe_sees_what_one_nn_misses():
    # Class set by the sign of one coordinate among many large noisy ones: a linear rule is exact, while
    # nearest neighbours are dominated by the noise coordinates.
    g = torch.Generator().manual_seed(0)
    def make(n):
        x = torch.randn(n, 20, generator=g) * 5
        x[:, 0] = torch.randn(n, generator=g)
        return x, (x[:, 0] > 0).long()
    (xs, ys), (xt, yt) = make(400), make(400)
    assert linear_probe_accuracy(xs, ys, xt, yt) > 0.9
    assert knn_accuracy(xs, ys, xt, yt) < 0.75


def test_errors():
    x, y = blobs(5)
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        knn_accuracy(x[:, None], y, x, y)
    with pytest.raises(ValueError, match="one label per row"):
        knn_accuracy(x, y[:3], x, y)
    with pytest.raises(ValueError, match="dimensions"):
        linear_probe_accuracy(x, y, x[:, :2], y)
    with pytest.raises(ValueError, match="NaN"):
        knn_accuracy(x, y, torch.full_like(x, float("nan")), y)
    with pytest.raises(ValueError, match="k="):
        knn_accuracy(x, y, x, y, k=11)
    with pytest.raises(ValueError, match="steps"):
        linear_probe_accuracy(x, y, x, y, steps=0)
