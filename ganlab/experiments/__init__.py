"""Reproducible experiments behind the course's tables, each runnable as ``python -m ganlab.experiments.<name>``.

``mode_collapse``  the 2-D ring and grid benchmark of the mode-collapse papers, plain GAN against each remedy.
"""
