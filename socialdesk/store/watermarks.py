"""Sync watermarks (how far each edge of a page has been read) and the ``sync_log``.

Called by ``core.sync``: a watermark is advanced with :func:`set_watermark` inside the same
transaction as the rows of the page of results that justify it, so a crash never leaves a
watermark ahead of the data. Cursors are never stored. Each edge's run is logged with its own
outcome (:func:`record_sync`: the cause, fix, exit code, skipped items and usage headers of a
failure), so ``doctor`` and the inbox header read one state per edge (:func:`edge_states`) and
the watch policy reads how many Messenger calls the last 24 h cost (:func:`calls_since`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk.models import EdgeState, RateUsage, utc

EDGES = ("conversations", "feed", "reels")
"""The edges one sync reads, in order: each succeeds or fails on its own."""
PROBLEMS_KEPT = 10
"""Skipped-item descriptions stored per run (the count is always exact)."""


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
    hint: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    skipped_items: int = 0
    problems: tuple[str, ...] = ()
    usage: RateUsage | None = None


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


def clear_watermark(conn: sqlite3.Connection, page_id: str, edge: str, key: str = "") -> None:
    """Forget one watermark (no commit: part of the caller's transaction)."""
    conn.execute(
        "DELETE FROM watermarks WHERE page_id = ? AND edge = ? AND key = ?", (page_id, edge, key)
    )


def clear_watermarks(conn: sqlite3.Connection, page_id: str, edge: str | None = None) -> int:
    """Forget the watermarks of a page (one edge, or all); return how many were removed."""
    if edge is None:
        cur = conn.execute("DELETE FROM watermarks WHERE page_id = ?", (page_id,))
    else:
        cur = conn.execute("DELETE FROM watermarks WHERE page_id = ? AND edge = ?", (page_id, edge))
    return cur.rowcount


def usage_json(usage: RateUsage | None) -> str | None:
    """The ``sync_log.usage`` JSON of a usage snapshot."""
    if usage is None:
        return None
    return json.dumps(
        {
            "call_count": usage.call_count,
            "total_time": usage.total_time,
            "total_cputime": usage.total_cputime,
            "regain_access_minutes": usage.regain_access_minutes,
            "by_type": dict(usage.by_type),
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def _usage(raw: str | None) -> RateUsage | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None

    def num(key: str) -> int:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    types = data.get("by_type")
    by_type = (
        tuple(sorted((k, v) for k, v in types.items() if isinstance(v, int)))
        if isinstance(types, dict)
        else ()
    )
    return RateUsage(
        call_count=num("call_count"),
        total_time=num("total_time"),
        total_cputime=num("total_cputime"),
        regain_access_minutes=num("regain_access_minutes"),
        by_type=by_type,
    )


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
    hint: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
    problems: Sequence[str] = (),
    usage: RateUsage | None = None,
) -> None:
    """Append one finished sync of one edge to ``sync_log`` (error and hint must be redacted).

    ``problems`` describes the items skipped as unreadable (the first few are kept).
    """
    conn.execute(
        "INSERT INTO sync_log (page_id, edge, started_at, finished_at, ok, calls, error, hint,"
        " reason, exit_code, skipped_items, problems, usage)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            page_id,
            edge,
            _ts(started_at),
            _ts(finished_at),
            int(ok),
            calls,
            error,
            hint,
            reason,
            exit_code,
            len(problems),
            json.dumps(list(problems[:PROBLEMS_KEPT])) if problems else None,
            usage_json(usage),
        ),
    )


def _problems(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        data = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(p) for p in data) if isinstance(data, list) else ()


def last_syncs(conn: sqlite3.Connection, page_id: str) -> dict[str, SyncRun]:
    """Per edge: the latest recorded sync and the time of the latest successful one."""
    rows = conn.execute(
        """
        SELECT l.edge, l.started_at, l.finished_at, l.ok, l.calls, l.error,
               (SELECT MAX(finished_at) FROM sync_log k
                WHERE k.page_id = l.page_id AND k.edge = l.edge AND k.ok = 1) AS last_ok,
               l.hint, l.reason, l.exit_code, l.skipped_items, l.problems, l.usage
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
            hint=r[7],
            reason=r[8],
            exit_code=r[9],
            skipped_items=r[10] or 0,
            problems=_problems(r[11]),
            usage=_usage(r[12]),
        )
        for r in rows
    }


def edge_states(conn: sqlite3.Connection, page_id: str) -> list[EdgeState]:
    """One state per edge of the Page (``EDGES`` order, then any other logged edge).

    An edge that never ran has ``ok=None``; a failing one says since when (the first failure
    after its latest success) and carries the stored cause, fix and exit code.
    """
    runs = last_syncs(conn, page_id)
    out: list[EdgeState] = []
    for edge in [*EDGES, *sorted(set(runs) - set(EDGES))]:
        run = runs.get(edge)
        if run is None:
            out.append(EdgeState(edge, None, None, None, None))
            continue
        failing_since = None
        if not run.ok:
            row = conn.execute(
                "SELECT MIN(finished_at) FROM sync_log WHERE page_id = ? AND edge = ?"
                " AND ok = 0 AND finished_at > COALESCE(?, -1)",
                (page_id, edge, _ts(run.last_ok_at) if run.last_ok_at else None),
            ).fetchone()
            failing_since = utc(row[0]) if row and row[0] is not None else run.finished_at
        out.append(
            EdgeState(
                edge=edge,
                last_run_at=run.finished_at,
                ok=run.ok,
                last_ok_at=run.last_ok_at,
                failing_since=failing_since,
                error=run.error,
                hint=run.hint,
                reason=run.reason,
                exit_code=run.exit_code,
                calls=run.calls,
                skipped_items=run.skipped_items,
            )
        )
    return out


def recent_runs(
    conn: sqlite3.Connection, page_id: str, edge: str, since: datetime
) -> list[tuple[datetime, int]]:
    """(finished at, calls) of one edge's runs that finished after ``since``, oldest first."""
    rows = conn.execute(
        "SELECT finished_at, calls FROM sync_log WHERE page_id = ? AND edge = ?"
        " AND finished_at > ? ORDER BY finished_at, id",
        (page_id, edge, _ts(since)),
    )
    return [(utc(r[0]), int(r[1])) for r in rows]


def latest_usage(conn: sqlite3.Connection, page_id: str) -> tuple[datetime, RateUsage] | None:
    """The newest usage headers logged for the Page, with when (``None``: none logged)."""
    row = conn.execute(
        "SELECT finished_at, usage FROM sync_log WHERE page_id = ? AND usage IS NOT NULL"
        " ORDER BY finished_at DESC, id DESC LIMIT 1",
        (page_id,),
    ).fetchone()
    if row is None:
        return None
    usage = _usage(row[1])
    return (utc(row[0]), usage) if usage is not None else None
