"""Apply the ordered migrations of ``schema.py``; record them in ``schema_migrations``.

Called by :func:`socialdesk.store.db.open_db`. Many processes may open a fresh database at once
(twenty cron jobs, a shell loop, the inbox and a sync): migrations are serialized by SQLite's
own write lock. :func:`migrate` takes it (``BEGIN IMMEDIATE``) *before* reading which migrations
are applied, so the second process waits, then finds them applied and does nothing; all pending
migrations, their ``schema_migrations`` rows and ``PRAGMA user_version`` commit together or not
at all, so a crash mid-migration leaves the database at the previous version.

``user_version`` holds the number of migrations applied. A database whose ``user_version`` or
``schema_migrations`` is ahead of this version's migrations was written by a newer socialdesk
and is refused (reason ``newer_schema``), never modified.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime

from socialdesk.errors import StoreError
from socialdesk.store.schema import MIGRATIONS

_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
)


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    return row is not None


def _read_applied(conn: sqlite3.Connection) -> list[str]:
    if not _has_table(conn):
        return []
    return [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already applied, in order (reads only)."""
    return _read_applied(conn)


def pending(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations not applied yet."""
    done = set(applied(conn))
    return [name for name, _ in MIGRATIONS if name not in done]


def _check_not_newer(conn: sqlite3.Connection, done: list[str]) -> None:
    known = [name for name, _ in MIGRATIONS]
    unknown = [name for name in done if name not in known]
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if unknown or version > len(known):
        ahead = f"migration {unknown[0]}" if unknown else f"schema version {version}"
        raise StoreError(
            f"the database was written by a newer socialdesk ({ahead}; this version knows "
            f"{len(known)} migrations)",
            hint="upgrade socialdesk; the database was not changed",
            reason="newer_schema",
        )


def statements(script: str) -> Iterator[str]:
    """The SQL statements of ``script``, one at a time (triggers' ``BEGIN … END`` kept whole).

    ``executescript`` would commit the surrounding transaction, so migrations run statement by
    statement inside the one ``BEGIN IMMEDIATE`` that also holds the check of what is applied.
    """
    start = 0
    buffer = ""
    while True:
        end = script.find(";", start)
        if end < 0:
            break
        buffer += script[start : end + 1]
        start = end + 1
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer.strip()
            buffer = ""
    rest = (buffer + script[start:]).strip()
    if rest and not all(line.strip().startswith("--") for line in rest.splitlines() if line):
        yield rest


def migrate(conn: sqlite3.Connection, *, now: datetime | None = None) -> list[str]:
    """Apply every pending migration; return their names (empty when another process did).

    ``applied_at`` records ``now`` (the caller's clock; the store never reads the wall clock);
    without one it records 0, meaning "not recorded". Nothing reads it but people.
    """
    done = _read_applied(conn)
    _check_not_newer(conn, done)
    if len(done) == len(MIGRATIONS):
        return []  # the common case: nothing to do, and no write lock taken
    stamp = int(now.timestamp()) if now is not None else 0
    ran: list[str] = []
    name = "schema_migrations"
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Under the write lock: what is applied now is the truth (another process may have
        # migrated while we waited for the lock).
        conn.execute(_TABLE_SQL)
        done = _read_applied(conn)
        _check_not_newer(conn, done)
        for name, script in MIGRATIONS:
            if name in done:
                continue
            for statement in statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, stamp)
            )
            ran.append(name)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            # The original error matters (SQLite may already have rolled back).
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, StoreError):
            from socialdesk.store.db import is_environmental

            if is_environmental(exc):
                raise  # disk full, read-only, corrupt…: open_db names the file and the fix
            raise StoreError(f"migration {name} failed: {exc}", reason="migration_failed") from exc
        raise
    return ran
