"""Sample-quality metrics on (N, d) feature arrays or tensors; multi-valued results are dicts.

    from ganlab import features, metrics
    clf = features.classifier("fashion_mnist")
    real, _ = features.extract(clf, real_images)
    fake, fake_probs = features.extract(clf, fake_images)
    metrics.fid(real, fake); metrics.kid(real, fake); metrics.inception_score(fake_probs)
    metrics.precision_recall(real, fake); metrics.density_coverage(real, fake)

``memorization`` compares generated samples' nearest-training-neighbour distances with held-out real
images' (FID and friends reward copying). ``auroc`` scores an anomaly detector's ranking. ``report`` gives
the others at once; ``corrupt`` damages real images in controlled ways (noise, blur, dropped classes,
duplicates, within-class collapse) to see each metric respond.

Bad input (wrong shape, NaN, mismatched widths, too few samples) raises a ValueError that says why.
"""

from .corruptions import CORRUPTIONS, corrupt, corruption_metrics, report
from .manifold import density_coverage, knn_radii, precision_recall
from .memorization import memorization, nearest_distances
from .modes import mode_coverage, mode_shares
from .moments import fid, frechet_distance, inception_score, kid, mmd2_unbiased, polynomial_kernel
from .ranking import auroc

__all__ = ["fid", "frechet_distance", "kid", "mmd2_unbiased", "polynomial_kernel", "inception_score",
           "precision_recall", "density_coverage", "knn_radii", "mode_coverage", "mode_shares", "report", "corrupt",
           "CORRUPTIONS", "corruption_metrics", "memorization", "nearest_distances", "auroc"]
