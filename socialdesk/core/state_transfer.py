"""Moving operator state between machines: ``state export`` and ``state import``.

Called by the ``state`` commands. The file format and the row-by-row import are
``store.state_io``'s; this module is what a front end calls.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime

from socialdesk.store import state_io

__all__ = ["export_text", "import_text"]


def export_text(conn: sqlite3.Connection, *, now: datetime) -> tuple[str, int]:
    """The operator state as JSON lines, and how many rows it holds."""
    buffer = io.StringIO()
    count = state_io.export_state(conn, buffer, now=now)
    return buffer.getvalue(), count


def import_text(conn: sqlite3.Connection, text: str) -> int:
    """Import JSON lines written by :func:`export_text`; how many rows were written."""
    return state_io.import_state(conn, io.StringIO(text))
