"""What ``state import`` needs besides the import itself: a dry run of it.

Called by ``core.state_transfer``, which decides what to import (the newer value per thread);
the file format and the writing stay ``store.state_io``'s.
"""

from __future__ import annotations

import io
import sqlite3

from socialdesk.store import state_io


class _DryRun(Exception):
    """Raised inside the import's transaction to roll it back."""


def rows_importable(conn: sqlite3.Connection, text: str) -> int:
    """How many rows importing ``text`` would write: the import is run, then rolled back, so
    every check it makes (and every error it names) is the real one."""
    count = 0
    try:
        conn.execute("SAVEPOINT socialdesk_dry_run")
        try:
            count = state_io.import_state(conn, io.StringIO(text))
            raise _DryRun
        finally:
            conn.execute("ROLLBACK TO socialdesk_dry_run")
            conn.execute("RELEASE socialdesk_dry_run")
    except _DryRun:
        pass
    return count
