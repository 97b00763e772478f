"""The dashboard's background loop: one thread at most, stoppable between steps, errors reported.

The kernel stays free while training runs because the loop lives on a daemon thread; widget values set
from that thread are sent to the browser by ipykernel's I/O thread (the pattern the ipywidgets guide on
asynchronous widgets uses for progress bars). Output-widget context managers are *not* used from the
thread: their capture is process-wide and would swallow output of other cells.

One loop per kernel: re-running the cell that builds a dashboard would otherwise leave the old one
training, unseen, on its thread. A module-level weak reference names the runner that owns training;
``claim`` (called when a dashboard is built and when one starts) stops and joins the previous owner's
loop, which then shows why it stopped.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

_owner: weakref.ref[Runner] | None = None  # the runner allowed to train in this kernel; weak: no leak
_owner_lock = threading.Lock()


def claim(runner: Runner, reason: str = "stopped: another dashboard took over training (one trains at a time)"
          ) -> Runner | None:
    """Make ``runner`` the one loop owner of this kernel; the previous owner's loop (if any) is asked to stop
    with ``reason`` and joined. Returns the previous owner, or None."""
    global _owner
    with _owner_lock:
        previous = _owner() if _owner is not None else None
        _owner = weakref.ref(runner)
    if previous is None or previous is runner:
        return None
    if previous.running:
        previous.stop_reason = reason
        previous.pause()
    return previous


def owner() -> Runner | None:
    """The runner that owns training in this kernel (None when none is alive)."""
    return _owner() if _owner is not None else None


class Runner:
    """Calls ``body()`` over and over on a background thread until ``pause()`` (or ``body`` returns False).

    ``start()`` never starts a second thread while one runs, and claims the kernel's one loop (``claim``):
    another runner's loop stops first. ``pause()`` asks the loop to stop and waits for it, so it returns
    once the step in progress has finished. Anything raised in ``body`` (a KeyboardInterrupt included)
    ends the loop and is handed to ``on_error`` (the dashboard shows it); ``on_exit`` runs whenever the
    loop ends. ``stop_reason`` says why another owner stopped this loop ("" otherwise).
    """

    def __init__(self, body: Callable[[threading.Event], bool], on_error: Callable[[BaseException], None],
                 on_exit: Callable[[], None] | None = None) -> None:
        self.body, self.on_error, self.on_exit = body, on_error, on_exit
        self.stop_requested = threading.Event()
        self.stop_reason = ""
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.loops_started = 0  # how many threads were ever started (tests check a second Start adds none)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start the loop; False (and nothing happens) when it is already running."""
        with self._start_lock:
            if self.running:
                return False
            claim(self)  # another dashboard's loop is stopped and joined first
            self.stop_requested.clear()
            self.stop_reason = ""
            self._thread = threading.Thread(target=self._loop, name="ganlab-dashboard", daemon=True)
            self.loops_started += 1
            self._thread.start()
            return True

    def pause(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop after the current step and wait (up to ``timeout`` s) until it has."""
        self.stop_requested.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self.stop_requested.is_set():
                if not self.body(self.stop_requested):
                    break
        except BaseException as err:  # noqa: B036 -- nothing above this thread would show it: the dashboard does
            self.on_error(err)
        finally:
            if self.on_exit is not None:
                self.on_exit()
