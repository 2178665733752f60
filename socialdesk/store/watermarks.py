"""Sync watermarks (how far each edge of a page has been read) and the ``sync_log``.

Called by ``core.sync``: a watermark is advanced with :func:`set_watermark` inside the same
transaction as the rows of the page of results that justify it, so a crash never leaves a
watermark ahead of the data. Cursors are never stored. ``doctor`` reads :func:`last_syncs`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from socialdesk.models import utc


@dataclass(frozen=True)
class Watermark:
    """How far one edge (optionally one key of it, e.g. a post) has been read."""

    page_id: str
    edge: str
    key: str
    at: datetime | None
    """A time watermark (e.g. the newest ``updated_time`` stored)."""
    id: str | None
    """An id watermark (e.g. the newest conversation id stored)."""
    updated_at: datetime


@dataclass(frozen=True)
class SyncRun:
    """The latest recorded sync of one edge, plus when it last succeeded."""

    edge: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    calls: int
    error: str | None
    last_ok_at: datetime | None
    """``finished_at`` of the latest successful sync of this edge (``None``: never)."""


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def get_watermark(
    conn: sqlite3.Connection, page_id: str, edge: str, key: str = ""
) -> Watermark | None:
    """The stored watermark, or ``None`` before the first sync of that edge."""
    row = conn.execute(
        "SELECT value_at, value_id, updated_at FROM watermarks"
        " WHERE page_id = ? AND edge = ? AND key = ?",
        (page_id, edge, key),
    ).fetchone()
    if row is None:
        return None
    return Watermark(
        page_id=page_id,
        edge=edge,
        key=key,
        at=utc(row[0]) if row[0] is not None else None,
        id=row[1],
        updated_at=utc(row[2]),
    )


def set_watermark(
    conn: sqlite3.Connection,
    page_id: str,
    edge: str,
    *,
    key: str = "",
    at: datetime | None = None,
    id: str | None = None,
    now: datetime,
) -> None:
    """Store a watermark (replacing the previous one). No commit: part of the caller's page."""
    conn.execute(
        "INSERT INTO watermarks (page_id, edge, key, value_at, value_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (page_id, edge, key) DO UPDATE SET"
        " value_at = excluded.value_at, value_id = excluded.value_id,"
        " updated_at = excluded.updated_at",
        (page_id, edge, key, _ts(at) if at is not None else None, id, _ts(now)),
    )


def clear_watermarks(conn: sqlite3.Connection, page_id: str, edge: str | None = None) -> int:
    """Forget the watermarks of a page (one edge, or all); return how many were removed."""
    if edge is None:
        cur = conn.execute("DELETE FROM watermarks WHERE page_id = ?", (page_id,))
    else:
        cur = conn.execute("DELETE FROM watermarks WHERE page_id = ? AND edge = ?", (page_id, edge))
    return cur.rowcount


def record_sync(
    conn: sqlite3.Connection,
    page_id: str,
    edge: str,
    *,
    started_at: datetime,
    finished_at: datetime,
    ok: bool,
    calls: int,
    error: str | None = None,
) -> None:
    """Append one finished sync of one edge to ``sync_log`` (the error must be redacted)."""
    conn.execute(
        "INSERT INTO sync_log (page_id, edge, started_at, finished_at, ok, calls, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (page_id, edge, _ts(started_at), _ts(finished_at), int(ok), calls, error),
    )


def last_syncs(conn: sqlite3.Connection, page_id: str) -> dict[str, SyncRun]:
    """Per edge: the latest recorded sync and the time of the latest successful one."""
    rows = conn.execute(
        """
        SELECT l.edge, l.started_at, l.finished_at, l.ok, l.calls, l.error,
               (SELECT MAX(finished_at) FROM sync_log k
                WHERE k.page_id = l.page_id AND k.edge = l.edge AND k.ok = 1) AS last_ok
        FROM sync_log l
        WHERE l.page_id = ? AND l.id = (
            SELECT id FROM sync_log x WHERE x.page_id = l.page_id AND x.edge = l.edge
            ORDER BY finished_at DESC, id DESC LIMIT 1)
        ORDER BY l.edge
        """,
        (page_id,),
    ).fetchall()
    return {
        r[0]: SyncRun(
            edge=r[0],
            started_at=utc(r[1]),
            finished_at=utc(r[2]),
            ok=bool(r[3]),
            calls=r[4],
            error=r[5],
            last_ok_at=utc(r[6]) if r[6] is not None else None,
        )
        for r in rows
    }
