"""How much class information a representation holds: 1-nearest-neighbour and linear-probe accuracy.

Both take features already computed (raw pixels flattened, an encoder's codes, a classifier's features):
train features (N, d) with labels (N,), test features (M, d) with labels (M,). Neither trains the
representation; they only read it. A number means little alone: compare it with the same probe on a
baseline representation (raw pixels, a randomly initialised encoder) on the same split.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_split(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor) -> None:
    for name, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if x.ndim != 2:
            raise ValueError(f"{name} features must be (N, d); got shape {tuple(x.shape)} (flatten images with "
                             f"x.flatten(1))")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(f"{name} labels must be (N,) with one label per row of features: "
                             f"{tuple(x.shape)} features but {tuple(y.shape)} labels")
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} features hold NaN or inf values; check the encoder that produced them")
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"train features have {train_x.shape[1]} dimensions but test features {test_x.shape[1]}")
    if train_x.shape[0] == 0 or test_x.shape[0] == 0:
        raise ValueError("the train and test sets must each hold at least one example")


@torch.no_grad()
def knn_accuracy(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, k: int = 1,
                 batch_size: int = 1000) -> float:
    """Fraction of test points whose k nearest train points (Euclidean) vote their label (ties: smallest label).

    train_x (N, d), train_y (N,), test_x (M, d), test_y (M,) → accuracy in [0, 1].
    """
    _check_split(train_x, train_y, test_x, test_y)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= train_x.shape[0]:
        raise ValueError(f"k={k!r} must be a whole number from 1 to the number of train points ({train_x.shape[0]})")
    train_x, test_x = train_x.float(), test_x.float()
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    correct = 0
    for i in range(0, test_x.shape[0], batch_size):
        dist = torch.cdist(test_x[i:i + batch_size], train_x)  # (b, N)
        idx = dist.topk(k, dim=1, largest=False).indices  # (b, k)
        votes = torch.nn.functional.one_hot(train_y[idx], n_classes).sum(dim=1)  # (b, classes)
        correct += int((votes.argmax(dim=1) == test_y[i:i + batch_size]).sum())
    return correct / test_x.shape[0]


def linear_probe_accuracy(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, steps: int = 100,
                          weight_decay: float = 1e-3) -> float:
    """Test accuracy of multinomial logistic regression fitted on standardised train features.

    Features are standardised with the train mean and standard deviation; the weights start at zero and are
    fitted by full-batch L-BFGS (``steps`` iterations) on cross-entropy + ``weight_decay``·‖W‖², so the result is
    deterministic. train_x (N, d), train_y (N,), test_x (M, d), test_y (M,) → accuracy in [0, 1].
    """
    _check_split(train_x, train_y, test_x, test_y)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be a whole number >= 1, e.g. steps=100")
    train_x, test_x = train_x.float(), test_x.float()
    mean, std = train_x.mean(dim=0), train_x.std(dim=0).clamp_min(1e-6)  # constant pixels stay 0, not NaN
    xs, xt = (train_x - mean) / std, (test_x - mean) / std
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    weight = torch.zeros(xs.shape[1], n_classes, requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ weight + bias, train_y) + weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((xt @ weight + bias).argmax(dim=1) == test_y).float().mean())


__all__ = ["knn_accuracy", "linear_probe_accuracy"]
