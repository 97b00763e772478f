"""Pytest setup shared by the unit tests and the notebook run (``make notebooks``).

nbval starts one Jupyter kernel per notebook. Under pytest-xdist two kernels can start at the same moment;
jupyter_client picks each kernel's TCP ports before the kernel binds them, so two starts can race for a
port and one kernel dies at once ("Kernel died before replying to kernel_info"). That failure says nothing
about the notebook, so a kernel that dies while starting is started again, up to ``KERNEL_START_ATTEMPTS``
times, with a short pause; a kernel that dies later, while running cells, still fails the notebook.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any

KERNEL_START_ATTEMPTS = 3
KERNEL_RETRY_PAUSE_S = 1.0


def retry_kernel_start(start: Callable[..., Any], attempts: int = KERNEL_START_ATTEMPTS,
                       pause_s: float = KERNEL_RETRY_PAUSE_S) -> Callable[..., Any]:
    """``start`` (nbval's ``start_new_kernel``) wrapped to try again when the kernel dies while starting."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")

    @functools.wraps(start)
    def start_with_retries(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, attempts):
            try:
                return start(*args, **kwargs)
            except RuntimeError as err:  # "Kernel died before replying to kernel_info" and friends
                print(f"\nkernel start failed ({err}); trying again ({attempt + 1}/{attempts})",
                      file=sys.stderr, flush=True)
                time.sleep(pause_s * attempt)
        try:
            return start(*args, **kwargs)
        except RuntimeError as err:
            raise RuntimeError(f"the Jupyter kernel failed to start {attempts} times; last error: {err}. "
                               "Check that `python -m ipykernel` runs in this environment.") from err

    start_with_retries.retries_kernel_start = True  # type: ignore[attr-defined]
    return start_with_retries


def pytest_configure(config: Any) -> None:
    try:
        import nbval.kernel
    except ImportError:  # nbval is a dev extra; without it there are no notebook tests to protect
        return
    if not getattr(nbval.kernel.start_new_kernel, "retries_kernel_start", False):
        nbval.kernel.start_new_kernel = retry_kernel_start(nbval.kernel.start_new_kernel)
