"""The notebook run's guard against a Jupyter kernel that dies while starting (the root conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("root_conftest", Path(__file__).parents[1] / "conftest.py")
root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root_conftest)


def flaky_start(failures: int):
    calls = []

    def start(*args, **kwargs):
        calls.append((args, kwargs))
        if len(calls) <= failures:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "km", "kc"

    return start, calls


def test_a_kernel_that_dies_at_start_is_started_again(capsys):
    start, calls = flaky_start(failures=2)
    wrapped = root_conftest.retry_kernel_start(start, attempts=3, pause_s=0.0)
    assert wrapped(kernel_name="python", cwd="/tmp") == ("km", "kc")
    assert len(calls) == 3
    assert all(kw == {"kernel_name": "python", "cwd": "/tmp"} for _, kw in calls)  # same arguments every time
    assert "trying again (3/3)" in capsys.readouterr().err


def test_a_kernel_that_never_starts_fails_with_the_last_error():
    start, calls = flaky_start(failures=5)
    wrapped = root_conftest.retry_kernel_start(start, attempts=3, pause_s=0.0)
    with pytest.raises(RuntimeError, match=r"failed to start 3 times; last error: Kernel died"):
        wrapped()
    assert len(calls) == 3


def test_other_errors_are_not_retried():
    calls = []

    def start():
        calls.append(1)
        raise KeyError("no such kernel")

    with pytest.raises(KeyError):
        root_conftest.retry_kernel_start(start, pause_s=0.0)()
    assert len(calls) == 1


def test_attempts_must_be_positive():
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        root_conftest.retry_kernel_start(lambda: None, attempts=0)


def test_nbval_is_patched_once_in_this_session():
    nbval_kernel = pytest.importorskip("nbval.kernel")
    assert getattr(nbval_kernel.start_new_kernel, "retries_kernel_start", False)
    root_conftest.pytest_configure(None)  # configuring again must not wrap the wrapper
    assert not getattr(nbval_kernel.start_new_kernel.__wrapped__, "retries_kernel_start", False)
