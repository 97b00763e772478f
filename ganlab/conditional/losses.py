"""The conditional losses, one pure function each, on logits. The adversarial part comes from ``ganlab.losses``.

AC-GAN (Odena et al. 2017) adds a class log-likelihood L_C to the source log-likelihood L_S:
    L_S = E[log P(S=real | x_real)] + E[log P(S=fake | x_fake)],
    L_C = E[log P(C=c | x_real)]  + E[log P(C=c | x_fake)];
D maximises L_S + L_C and G maximises L_C − L_S. As losses to minimise, −L_C is a sum of two cross-entropies.

InfoGAN (Chen et al. 2016) maximises a variational lower bound on the mutual information between the
code c and the sample G(z, c):
    I(c; G(z, c)) ≥ L_I = E[log Q(c | x)] + H(c),
where Q is a head on D's body. The loss is the negative log-likelihood −E[log Q(c | x)]; H(c) is a constant.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def class_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """−E[log P(C = y | x)]: cross-entropy of class logits (N, K) against labels (N,) int64."""
    return F.cross_entropy(class_logits, labels)


def auxiliary_class_loss(real_class_logits: Tensor, fake_class_logits: Tensor, real_labels: Tensor,
                         fake_labels: Tensor, fake_weight: float = 1.0) -> Tensor:
    """AC-GAN discriminator's −L_C: the class cross-entropy on real images plus ``fake_weight`` × that on fakes.

    Odena et al. (2017) score fakes by the class they were asked for (``fake_weight=1``), so D also learns
    what G meant. That term lets D's classifier agree with whatever G draws for a class, which rewards easy,
    low-diversity fakes; ``fake_weight=0`` keeps D's classifier honest (trained on real images only).
    """
    real = class_loss(real_class_logits, real_labels)
    return real if fake_weight == 0 else real + fake_weight * class_loss(fake_class_logits, fake_labels)


def categorical_code_nll(code_logits: Tensor, codes: Tensor) -> Tensor:
    """−E[log Q(c_cat | x)] for a categorical code: code logits (N, n_cat), codes (N,) int64."""
    return F.cross_entropy(code_logits, codes)


def continuous_code_nll(code_means: Tensor, codes: Tensor) -> Tensor:
    """−E[log Q(c_cont | x)] with Q a unit-variance Gaussian per code: means and codes (N, n_cont).

    Summed over the codes, averaged over the batch; equals ½‖c − μ‖² + n_cont·½·log 2π per sample.
    """
    return (0.5 * (codes - code_means).pow(2) + HALF_LOG_2PI).sum(dim=1).mean()


def info_loss(code_logits: Tensor, code_means: Tensor, cat_codes: Tensor, cont_codes: Tensor,
              cont_weight: float = 1.0) -> Tensor:
    """InfoGAN's extra loss −E[log Q(c | x)] for one categorical and several continuous codes.

    ``cont_weight`` scales the continuous part (Chen et al. weight continuous codes less than discrete ones).
    """
    return categorical_code_nll(code_logits, cat_codes) + cont_weight * continuous_code_nll(code_means, cont_codes)


def code_entropy(n_cat: int, n_cont: int, cont_range: float = 2.0) -> float:
    """H(c) of a uniform categorical code over n_cat values and n_cont codes uniform on an interval.

    A uniform density on an interval of length L has differential entropy log L (log 2 on [−1, 1]).
    """
    return math.log(n_cat) + n_cont * math.log(cont_range)


def mutual_information_bound(code_logits: Tensor, code_means: Tensor, cat_codes: Tensor,
                             cont_codes: Tensor) -> Tensor:
    """L_I = H(c) − (−E[log Q(c | x)]), the variational lower bound on I(c; G(z, c)) in nats.

    It reaches log n_cat from the categorical code when Q names the code of every sample for sure.
    """
    n_cat, n_cont = code_logits.shape[1], code_means.shape[1]
    return code_entropy(n_cat, n_cont) - info_loss(code_logits, code_means, cat_codes, cont_codes)
