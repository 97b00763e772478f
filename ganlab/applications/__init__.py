"""What a trained GAN is used for (notebook 13): few-shot data augmentation and anomaly detection.

``augment``: k real images per class, a small classifier trained on them with and without classic augmentation
(flips, shifts) or samples from a conditional GAN trained on the same k images, and the paired gain with a
t confidence interval over data draws.
``anomaly``: one class held out as the anomaly; the discriminator's score, the f-AnoGAN encoder score and
k-nearest-neighbour baselines, compared by AUROC (``ganlab.metrics.auroc``).
"""
