"""The dashboard's background loop: one thread at most, stoppable between steps, errors reported.

The kernel stays free while training runs because the loop lives on a daemon thread; widget values set
from that thread are sent to the browser by ipykernel's I/O thread (the pattern the ipywidgets guide on
asynchronous widgets uses for progress bars). Output-widget context managers are *not* used from the
thread: their capture is process-wide and would swallow output of other cells.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Runner:
    """Calls ``body()`` over and over on a background thread until ``pause()`` (or ``body`` returns False).

    ``start()`` never starts a second thread while one runs. ``pause()`` asks the loop to stop and waits
    for it, so it returns once the step in progress has finished. An exception in ``body`` ends the loop
    and is handed to ``on_error`` (the dashboard shows it); ``on_exit`` runs whenever the loop ends.
    """

    def __init__(self, body: Callable[[threading.Event], bool], on_error: Callable[[BaseException], None],
                 on_exit: Callable[[], None] | None = None) -> None:
        self.body, self.on_error, self.on_exit = body, on_error, on_exit
        self.stop_requested = threading.Event()
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
            self.stop_requested.clear()
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
        except Exception as err:  # shown in the dashboard instead of dying silently on a thread
            self.on_error(err)
        finally:
            if self.on_exit is not None:
                self.on_exit()
