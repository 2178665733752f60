"""Apply the ordered migrations of ``schema.py``; record them in ``schema_migrations``.

Called by :func:`socialdesk.store.db.open_db`. Each migration runs in one transaction, so a crash
mid-migration leaves the database at the previous version.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from socialdesk.errors import StoreError
from socialdesk.store.schema import MIGRATIONS


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already applied, in order."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )
    return [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]


def pending(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations not applied yet."""
    done = set(applied(conn))
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(conn: sqlite3.Connection, *, now: datetime | None = None) -> list[str]:
    """Apply every pending migration; return their names.

    ``applied_at`` records ``now`` (the caller's clock; the store never reads the wall clock);
    without one it records 0, meaning "not recorded". Nothing reads it but people.
    """
    done = set(applied(conn))
    known = {name for name, _ in MIGRATIONS}
    unknown = done - known
    if unknown:
        raise StoreError(
            f"the database was written by a newer socialdesk (migration {sorted(unknown)[0]})",
            hint="upgrade socialdesk",
        )
    ran: list[str] = []
    for name, script in MIGRATIONS:
        if name in done:
            continue
        # executescript() commits implicitly, so wrap the statements ourselves.
        statements = (
            "BEGIN IMMEDIATE;\n"
            + script
            + (
                f"\nINSERT INTO schema_migrations (name, applied_at) VALUES ('{name}', "
                f"{int(now.timestamp()) if now is not None else 0});\nCOMMIT;"
            )
        )
        try:
            conn.executescript(statements)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"migration {name} failed: {exc}") from exc
        ran.append(name)
    return ran
