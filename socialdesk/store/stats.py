"""The SQL that feeds the response statistics: requests with their first response, inbound
counts, done events, the idle backlog, the Meta badge requests and the last sync time.

Called by :mod:`socialdesk.core.stats`, which turns these rows into figures (the definitions
live there). Every function is read-only and returns plain tuples, so the heavy lifting (the
window functions over the period's messages) stays in SQLite and Python only sees one row per
request.

Message order inside a thread is ``(created_at, direction)``: messages of the same second are
ordered inbound before outbound, as ``store.cache`` does for ``awaiting_reply`` (a reply cannot
precede what it answers).
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class RequestRow(NamedTuple):
    """A request of the period, or the reply-wait carried into the period (``request_at=None``)."""

    channel: str
    request_at: int | None
    """Unix seconds of the request; ``None`` for a thread already awaiting reply at the period's
    start (its request is older than the period)."""
    response_at: int | None
    """The first outbound message after it (``None``: unanswered at ``now``)."""


class PeriodRows(NamedTuple):
    """What one scan of the period's messages yields."""

    requests: list[RequestRow]
    inbound: list[tuple[str, int, int]]
    """``(channel, bucket_start, count)`` of inbound messages."""


# One scan of one channel's messages in the period, thread by thread: the IN list is walked in
# thread order and each thread's messages come from the (thread_id, created_at) index in time
# order. LAG gives each message's predecessor; for a thread's first message in the period one
# indexed look-up finds the one before. Messages of the same second and direction are
# interchangeable here (only the direction of the predecessor matters), so no id tie-break is
# needed. Only requests and each thread's first row survive (materialized, so the look-up runs
# once), and each gets its first response by one indexed look-up, up to `now`. The same
# materialized scan feeds the inbound counts, so the messages are read once.
_PERIOD_SQL = """
WITH win AS MATERIALIZED (
    SELECT m.thread_id, m.direction, m.created_at,
           LAG(m.direction) OVER w AS lag_dir,
           ROW_NUMBER() OVER w AS rn
    FROM messages m
    WHERE m.thread_id IN (SELECT id FROM threads WHERE page_id = :page AND channel = :channel
                          AND last_message_at >= :lo)
      AND m.created_at >= :lo AND m.created_at < :hi AND m.created_at <= :now
    WINDOW w AS (PARTITION BY m.thread_id ORDER BY m.created_at, m.direction)
),
cand AS MATERIALIZED (
    SELECT thread_id, direction, created_at, rn,
           CASE WHEN rn > 1 THEN lag_dir ELSE (
               SELECT p.direction FROM messages p
               WHERE p.thread_id = win.thread_id AND p.created_at < :lo
               ORDER BY p.created_at DESC, p.direction DESC LIMIT 1
           ) END AS prev_dir
    FROM win
    WHERE rn = 1 OR (direction = 'in' AND lag_dir = 'out')
)
SELECT 'r',
       CASE WHEN direction = 'in' AND (prev_dir IS NULL OR prev_dir = 'out')
            THEN created_at END,
       CASE WHEN direction = 'out' THEN created_at ELSE (
           SELECT o.created_at FROM messages o
           WHERE o.thread_id = cand.thread_id AND o.direction = 'out'
             AND o.created_at >= cand.created_at AND o.created_at <= :now
           ORDER BY o.created_at LIMIT 1) END
FROM cand
WHERE (direction = 'in' AND (prev_dir IS NULL OR prev_dir = 'out'))
   OR (rn = 1 AND prev_dir = 'in')
UNION ALL
SELECT 'i', (created_at / :bucket) * :bucket, COUNT(*)
FROM win WHERE direction = 'in'
GROUP BY created_at / :bucket
"""

_ACTIVE_CHANNELS_SQL = """
SELECT DISTINCT channel FROM threads WHERE page_id = :page AND last_message_at >= :lo
"""


def period_rows(
    conn: sqlite3.Connection,
    page_id: str,
    *,
    lo: int,
    hi: int,
    now: int,
    bucket: int,
    channel: str | None = None,
) -> PeriodRows:
    """Requests made in ``[lo, hi)`` with their first response (up to ``now``), one row per
    thread already awaiting reply at ``lo`` with messages in the period, and the inbound counts
    in ``bucket``-second buckets (the caller picks a size that divides every day boundary).

    Messages created after ``now`` are ignored. Threads are found through the derived
    ``threads.last_message_at`` that ``store.cache`` keeps in step with ``messages``.
    """
    if channel is None:
        rows = conn.execute(_ACTIVE_CHANNELS_SQL, {"page": page_id, "lo": lo})
        channels = sorted(r[0] for r in rows)
    else:
        channels = [channel]
    requests: list[RequestRow] = []
    inbound: list[tuple[str, int, int]] = []
    for ch in channels:
        params = {"page": page_id, "lo": lo, "hi": hi, "now": now, "bucket": bucket, "channel": ch}
        for kind, a, b in conn.execute(_PERIOD_SQL, params):
            if kind == "r":
                requests.append(RequestRow(ch, a, b))
            else:
                inbound.append((ch, a, b))
    return PeriodRows(requests, inbound)


_DONE_SQL = """
SELECT t.channel, l.thread_id, l.at
FROM triage_log l JOIN threads t ON t.id = l.thread_id
WHERE l.page_id = :page AND l.action = 'done' AND l.undone_at IS NULL
  AND l.at >= :lo AND l.at < :hi AND l.at <= :now
  AND (:channel IS NULL OR t.channel = :channel)
"""


def done_events(
    conn: sqlite3.Connection,
    page_id: str,
    *,
    lo: int,
    hi: int,
    now: int,
    channel: str | None = None,
) -> list[tuple[str, str, int]]:
    """``(channel, thread_id, at)`` of every ``done`` triage action in ``[lo, hi)`` that was not
    undone."""
    params = {"page": page_id, "lo": lo, "hi": hi, "now": now, "channel": channel}
    return [(r[0], r[1], r[2]) for r in conn.execute(_DONE_SQL, params)]


# Threads with no message in [lo, hi) that await reply at `lo` wait through the whole period.
# Those quiet since before `lo` are read from the derived columns that store.cache keeps in step
# with `messages`; those that woke up after `hi` need their last message before `lo`.
_QUIET_BACKLOG_SQL = """
SELECT channel, COUNT(*) FROM threads
WHERE page_id = :page AND awaiting_reply = 1 AND request_at < :lo AND last_message_at < :lo
  AND (:channel IS NULL OR channel = :channel)
GROUP BY channel
"""

_WOKEN_BACKLOG_SQL = """
SELECT t.channel, COUNT(*) FROM threads t
WHERE t.page_id = :page AND t.last_message_at >= :hi
  AND (:channel IS NULL OR t.channel = :channel)
  AND NOT EXISTS (SELECT 1 FROM messages m
                  WHERE m.thread_id = t.id AND m.created_at >= :lo AND m.created_at < :hi)
  AND (SELECT p.direction FROM messages p WHERE p.thread_id = t.id AND p.created_at < :lo
       ORDER BY p.created_at DESC, p.direction DESC LIMIT 1) = 'in'
GROUP BY t.channel
"""


def quiet_backlog(
    conn: sqlite3.Connection,
    page_id: str,
    *,
    lo: int,
    hi: int,
    now: int,
    channel: str | None = None,
) -> dict[str, int]:
    """Threads awaiting reply through all of ``[lo, hi)`` without any message in it, per
    channel (the threads with messages in it are covered by :func:`period_rows`)."""
    params = {"page": page_id, "lo": lo, "hi": hi, "channel": channel}
    out: dict[str, int] = {r[0]: r[1] for r in conn.execute(_QUIET_BACKLOG_SQL, params)}
    if hi <= now:
        for ch, n in conn.execute(_WOKEN_BACKLOG_SQL, params):
            out[ch] = out.get(ch, 0) + n
    return out


_BADGE_SQL = """
WITH win AS (
    SELECT m.thread_id, m.direction, m.created_at,
           LAG(m.created_at) OVER w AS lag_at,
           ROW_NUMBER() OVER w AS rn
    FROM messages m
    WHERE m.thread_id IN (SELECT id FROM threads WHERE page_id = :page AND channel = 'dm'
                          AND last_message_at >= :lo)
      AND m.created_at >= :lo AND m.created_at <= :now
    WINDOW w AS (PARTITION BY m.thread_id ORDER BY m.created_at, m.direction)
),
req AS (
    SELECT thread_id, created_at,
           CASE WHEN rn > 1 THEN lag_at ELSE (
               SELECT MAX(p.created_at) FROM messages p
               WHERE p.thread_id = win.thread_id AND p.created_at < :lo
           ) END AS prev_at
    FROM win WHERE direction = 'in'
)
SELECT req.created_at,
       (SELECT o.created_at FROM messages o
        WHERE o.thread_id = req.thread_id AND o.direction = 'out'
          AND o.created_at >= req.created_at AND o.created_at <= :now
        ORDER BY o.created_at LIMIT 1) AS response_at
FROM req
WHERE req.prev_at IS NULL OR req.created_at - req.prev_at >= :silence
"""


def badge_rows(
    conn: sqlite3.Connection, page_id: str, *, lo: int, now: int, silence: int = 86400
) -> list[tuple[int, int | None]]:
    """``(request_at, response_at)`` of Meta-style DM requests in ``[lo, now]``: an inbound
    message that is the thread's first ever or follows ``silence`` seconds without any message;
    the response is the first outbound message at or after it (``None``: unanswered)."""
    params = {"page": page_id, "lo": lo, "now": now, "silence": silence}
    return [(r[0], r[1]) for r in conn.execute(_BADGE_SQL, params)]


def last_sync_at(conn: sqlite3.Connection, page_id: str) -> int | None:
    """When the page's data was last complete: the oldest of each edge's newest successful sync
    (``sync_log``); without any sync log, the newest watermark update; ``None`` if never."""
    row = conn.execute(
        "SELECT MIN(last) FROM (SELECT MAX(finished_at) AS last FROM sync_log"
        " WHERE page_id = ? AND ok = 1 GROUP BY edge)",
        (page_id,),
    ).fetchone()
    if row is not None and row[0] is not None:
        return int(row[0])
    row = conn.execute("SELECT MAX(updated_at) FROM watermarks WHERE page_id = ?", (page_id,))
    value = row.fetchone()
    return int(value[0]) if value is not None and value[0] is not None else None
