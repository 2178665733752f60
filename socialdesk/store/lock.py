"""The per-page sync lock: two syncs of the same page never interleave.

Called by ``core.sync`` (the inbox's background poll and a cron job may overlap). An exclusive
``fcntl.flock`` on ``paths.lock_file("sync-<page id>")``: the kernel drops it when the holder's
process dies, however it dies, so a killed sync never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from socialdesk.paths import Paths

POLL_S = 0.05
"""Pause between two attempts while waiting for the lock."""


@contextmanager
def sync_lock(
    paths: Paths,
    page_id: str,
    *,
    wait_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[bool]:
    """Hold the page's sync lock for the ``with`` block; yield ``False`` if it stayed taken.

    Tries without blocking, then every :data:`POLL_S` seconds until ``wait_s`` has passed. The
    body runs either way: it must check the value and skip the sync when it is ``False``.
    """
    path = paths.lock_file(f"sync-{page_id}")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = monotonic() + wait_s
        acquired = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                if monotonic() >= deadline:
                    break
                sleep(min(POLL_S, max(0.0, deadline - monotonic())))
        if acquired:
            # The holder's pid, for a human looking at a stuck sync.
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield acquired
        finally:
            if acquired:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
