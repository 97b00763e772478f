"""Reproducible experiments behind the course's tables, each runnable as ``python -m ganlab.experiments.<name>``.

``mode_collapse``  the 2-D ring and grid benchmark of the mode-collapse papers, plain GAN against each remedy.
``mode_hopping``   notebook 05's multi-seed toy runs (a GAN hopping round the ring, G against a frozen D), batched.
"""
