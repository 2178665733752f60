"""What the store can tell about its own health: SQLite's integrity check.

Called by ``core.health`` (``doctor``).
"""

from __future__ import annotations

import sqlite3


def integrity_problems(conn: sqlite3.Connection, *, limit: int = 5) -> list[str]:
    """``PRAGMA integrity_check``'s findings (at most ``limit``); an empty list when it is ok."""
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if rows == ["ok"] else rows
