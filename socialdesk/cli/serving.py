"""Serve-until-stopped plumbing shared by ``sandbox serve`` and ``demo``.

Both keep a loopback server running until Ctrl-C or SIGTERM. Both signals are turned into a
:class:`threading.Event` so the server loop can shut down cleanly (temporary files removed, the
port released) instead of dying mid-request. :func:`interrupts_as_keyboard` is the bulk
commands' variant: both signals interrupt the work, and the command reports what it did so far
before it exits 130 or 143.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Interrupts", "interrupts_as_keyboard", "stop_on_sigterm"]


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """An event that SIGTERM and SIGINT set while the block runs; the previous handlers are put
    back after.

    SIGINT sets the event too instead of raising ``KeyboardInterrupt`` wherever the main thread
    happens to be (a ``KeyboardInterrupt`` inside the server's shutdown left it hanging). Signal
    handlers can only be installed from the main thread: elsewhere (tests that run the command
    in a worker thread) the event is still returned, set only by the caller.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            # None means the previous handler was not set from Python: the default it is.
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


class Interrupts:
    """Which signal interrupted a block run under :func:`interrupts_as_keyboard` (or none)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + (self.signum or signal.SIGINT)


@contextmanager
def interrupts_as_keyboard() -> Iterator[Interrupts]:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` inside the block, remembering which came.

    A bulk command catches it where it can still report what it did so far, then exits with
    :attr:`Interrupts.exit_code`. Outside the main thread nothing is installed.
    """
    seen = Interrupts()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        seen.signum = signum
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
