"""The per-page sync lock: two syncs of the same page never interleave.

Called by ``core.sync`` (the inbox's background poll and a cron job may overlap), and by
``core.outbox`` for the senders' guard at the end of this module. An exclusive
``fcntl.flock`` on ``paths.lock_file("sync-<page id>")``: the kernel drops it when the holder's
process dies, however it dies, so a killed sync never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from socialdesk.paths import Paths, make_private_dir

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
    make_private_dir(path.parent)
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


# ---- the outbox senders' guard ----------------------------------------------------------------
#
# Rows left in `sending` (or `queued`) are orphans only when the process that wrote them is dead;
# a live sender's row must not be turned `unknown` under its feet. Every process that sends holds
# a *shared* flock on the database's outbox lock file for as long as it lives; recovery of
# interrupted rows needs the lock *exclusively*, which it gets only when no other sender is alive.
# The kernel drops a killed process's lock, so a crash never blocks recovery.

_sender_fds: dict[str, int] = {}


def _db_file(conn: sqlite3.Connection) -> str | None:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return str(row[2]) or None
    return None


def join_senders(conn: sqlite3.Connection) -> bool:
    """Hold this process's shared place among the database's senders (idempotent).

    Returns ``True`` when this process is the only live sender right now, i.e. rows left
    ``sending``/``queued`` by others belong to dead processes and may be recovered. An in-memory
    database has a single process by construction (``True``).
    """
    db = _db_file(conn)
    if db is None:
        return True
    fd = _sender_fds.get(db)
    if fd is None:
        lock_path = f"{db}-senders.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        _sender_fds[db] = fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        alone = True
    except BlockingIOError:
        alone = False
    # Back to shared (also re-taken after a failed upgrade, which may have dropped it): other
    # senders may join while this one works.
    fcntl.flock(fd, fcntl.LOCK_SH)
    return alone


def leave_senders(conn: sqlite3.Connection) -> None:
    """Give up this process's place among the senders (long-lived processes between sends)."""
    db = _db_file(conn)
    fd = _sender_fds.pop(db, None) if db is not None else None
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
