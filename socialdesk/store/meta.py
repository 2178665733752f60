"""Facts about this database itself: its random identity and its secret keys.

Called by ``core.ack_plan`` (a plan file carries ``db_id`` and is signed with ``plan_key``, so a
plan made against another database, or edited by hand, is refused) and ``core.context`` (the
key of the token fingerprints in ``token_pages``). Kept in ``outbox_meta`` (migration m002;
the name is historical) and never exported by ``state export``.
"""

from __future__ import annotations

import secrets
import sqlite3


def _value(conn: sqlite3.Connection, key: str, make: str) -> str:
    """The value of ``key``, created as ``make`` on first use (a racing writer may win: fine)."""
    row = conn.execute("SELECT value FROM outbox_meta WHERE key = ?", (key,)).fetchone()
    if row is not None:
        return str(row[0])
    conn.execute("INSERT OR IGNORE INTO outbox_meta (key, value) VALUES (?, ?)", (key, make))
    row = conn.execute("SELECT value FROM outbox_meta WHERE key = ?", (key,)).fetchone()
    return str(row[0])


def db_id(conn: sqlite3.Connection) -> str:
    """This database's random identity (created on first use)."""
    return _value(conn, "db_id", secrets.token_hex(16))


def plan_key(conn: sqlite3.Connection) -> bytes:
    """This database's secret key for signing ack plans (created on first use)."""
    return bytes.fromhex(_value(conn, "plan_key", secrets.token_hex(32)))


def token_key(conn: sqlite3.Connection) -> bytes:
    """This database's secret key for token fingerprints (created on first use)."""
    return bytes.fromhex(_value(conn, "token_key", secrets.token_hex(32)))
