"""Conditional GANs: train a generator that makes the class you ask for (notebook 08).

    from ganlab import GANConfig
    from ganlab.conditional import ConditionalTrainer
    trainer = ConditionalTrainer(GANConfig(model="dcgan", extra={"scheme": "projection", "width": 32}))
    trainer.fit(epochs=5)
    sneakers = trainer.sample(16, conditions=7)

``losses``: the AC-GAN and InfoGAN losses on logits; ``train``: the schemes and ``ConditionalTrainer``;
``measures``: class fidelity, diversity within a class, purity and NMI of InfoGAN's code;
``toy``: labelled 2-D mixtures (modes carry classes) for the dashboard's class-conditional toy.
The networks live in ``ganlab.nets.conditional``.
"""

from .losses import (
    auxiliary_class_loss,
    categorical_code_nll,
    class_loss,
    code_entropy,
    continuous_code_nll,
    info_loss,
    mutual_information_bound,
)
from .measures import (
    class_fidelity,
    class_samples,
    code_sweep,
    evaluate_classes,
    infogan_bound,
    infogan_codes,
    mean_pairwise_distance,
    normalized_mutual_information,
    per_class,
    per_class_precision_recall,
    purity,
    truncation_curve,
)
from .toy import LABELLED_TOYS, LabelledMixture, class_confusion, class_hits, labelled_toy, toy_config
from .train import SCHEMES, ConditionalTrainer, Scheme, conditional_d_step, conditional_g_step, get_scheme

__all__ = ["ConditionalTrainer", "Scheme", "SCHEMES", "get_scheme", "conditional_d_step", "conditional_g_step",
           "class_loss", "auxiliary_class_loss", "categorical_code_nll", "continuous_code_nll", "info_loss",
           "code_entropy", "mutual_information_bound", "class_fidelity", "mean_pairwise_distance", "per_class",
           "purity", "normalized_mutual_information", "class_samples", "evaluate_classes", "truncation_curve",
           "infogan_codes", "infogan_bound", "code_sweep", "per_class_precision_recall",
           "LabelledMixture", "LABELLED_TOYS", "labelled_toy", "toy_config", "class_confusion", "class_hits"]
