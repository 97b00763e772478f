"""train_state: the helpers every trainer's flush shares."""

from __future__ import annotations

import torch

from ganlab.train_state import drain, extend_history


def test_drain_copies_pending_stats_once_and_finds_the_first_non_finite_entry():
    pending = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, float("nan")]), torch.tensor([float("inf"), 0.0])]
    stats, first, bad = drain(pending, step_count=12)
    assert pending == [] and first == 10 and bad == (1, 1)
    torch.testing.assert_close(stats[0], torch.tensor([1.0, 2.0]))
    stats, first, bad = drain([torch.tensor([0.5, 0.25])], step_count=13)
    assert bad is None and first == 13
    history = {"a": [9.0], "b": []}
    extend_history(history, ("a", "b"), stats)
    assert history == {"a": [9.0, 0.5], "b": [0.25]}
