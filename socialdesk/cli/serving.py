"""Serve-until-stopped plumbing shared by ``sandbox serve`` and ``demo``.

Both keep a loopback server running until Ctrl-C (KeyboardInterrupt) or SIGTERM. SIGTERM is
turned into a :class:`threading.Event` so the server loop can shut down cleanly (temporary
files removed, the port released) instead of dying mid-request.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["stop_on_sigterm"]


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """An event that SIGTERM sets while the block runs; the previous handler is put back after.

    Signal handlers can only be installed from the main thread: elsewhere (tests that run the
    command in a worker thread) the event is still returned, set only by the caller.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    installed = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_signal) if installed else None
    try:
        yield stop
    finally:
        if installed:
            # None means the previous handler was not set from Python: the default it is.
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
