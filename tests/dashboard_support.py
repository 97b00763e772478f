"""Helpers shared by the headless dashboard tests (the ``dash`` fixture itself is in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], limit: float = 90.0) -> None:
    """Poll until ``condition()`` holds; a deadline, not a timing assertion."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the dashboard did not get there in time"
        time.sleep(0.02)
