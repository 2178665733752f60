"""Outbox rows and their transitions (PRODUCT.md §5; research/PERF_RELIABILITY.md §7).

Called by ``socialdesk.core.outbox`` (send, recover, reconcile, resolve), ``core.ack`` (what a
thread already got) and ``core.windows`` (the private-reply ledger). This module holds the
outbox alone: pages are in ``store.pages``, this database's identity and keys in
``store.meta``, thread lookups in ``store.threads`` and tag times in ``store.triage``. No
function here commits: callers wrap them in ``store.db.transaction(conn, durable=True)`` so that
the intent is on disk before the HTTP call and the outcome right after it.

States: ``queued → sending → sent | failed | unknown``; ``unknown → sent | failed`` by
reconciliation or the operator. Every transition names the state it leaves, so two processes
racing on one row cannot both move it (the loser sees ``False``).

The side table ``outbox_review`` (migration ``m002_outbox_side_tables``) holds, per outbox
row, when read-back last proved the message absent, and the operator's resolution
(``resent:ID`` / ``dropped``). Migration ``m004`` made a send's effects columns:
``done_on_sent`` (mark the thread done once confirmed) and ``refused`` (a platform rule refused
it). Migration ``m008`` added ``comment_id``: the comment a private reply answers (the private-reply
ledger is per comment, :func:`private_reply_used`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk.errors import UsageError
from socialdesk.models import OutboxEntry, OutboxState, SendKind, epoch, utc

ACTIVE_STATES: tuple[OutboxState, ...] = (
    OutboxState.QUEUED,
    OutboxState.SENDING,
    OutboxState.SENT,
    OutboxState.UNKNOWN,
)
"""States in which a row may have reached (or may still reach) the customer."""


@dataclass(frozen=True)
class OutboxRecord:
    """An outbox row with what only the outbox itself tracks about it."""

    entry: OutboxEntry
    batch: str | None = None
    absent_at: datetime | None = None
    """When reading the thread back last showed the message absent (an ``unknown`` row)."""
    resolution: str | None = None
    """``resent:ID`` or ``dropped`` once the operator resolved the row."""


def _entry(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        id=int(row["id"]),
        page_id=row["page_id"],
        thread_id=row["thread_id"],
        kind=SendKind(row["kind"]),
        text=row["text"],
        state=OutboxState(row["state"]),
        created_at=utc(row["created_at"]),
        origin=row["origin"],
        started_at=utc(row["started_at"]) if row["started_at"] is not None else None,
        finished_at=utc(row["finished_at"]) if row["finished_at"] is not None else None,
        message_id=row["message_id"],
        error=row["error"],
        refused=bool(row["refused"]),
        done_on_sent=bool(row["done_on_sent"]),
        comment_id=row["comment_id"],
    )


def _record(row: sqlite3.Row) -> OutboxRecord:
    return OutboxRecord(
        entry=_entry(row),
        batch=row["batch"],
        absent_at=utc(row["absent_at"]) if row["absent_at"] is not None else None,
        resolution=row["resolution"],
    )


_SELECT = (
    "SELECT o.*, r.absent_at, r.resolution FROM outbox o "
    "LEFT JOIN outbox_review r ON r.outbox_id = o.id"
)


def enqueue(
    conn: sqlite3.Connection,
    *,
    page_id: str,
    thread_id: str,
    kind: SendKind,
    text: str,
    now: datetime,
    origin: str = "reply",
    batch: str | None = None,
    done_on_sent: bool = False,
    comment_id: str | None = None,
) -> int:
    """Record the intent to send ``text`` (state ``queued``); returns the row id.

    ``done_on_sent``: the thread is marked done when the send is confirmed. ``comment_id``: the
    comment a private reply answers (required for that kind).
    """
    if kind is SendKind.COMMENT_PRIVATE and not comment_id:
        raise ValueError("a private reply row needs the comment it answers")
    cur = conn.execute(
        "INSERT INTO outbox (page_id, thread_id, kind, text, state, origin, batch, created_at,"
        " done_on_sent, comment_id) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
        (
            page_id,
            thread_id,
            str(kind),
            text,
            origin,
            batch,
            epoch(now),
            int(done_on_sent),
            comment_id if kind is SendKind.COMMENT_PRIVATE else None,
        ),
    )
    assert cur.lastrowid is not None
    return int(cur.lastrowid)


def _move(
    conn: sqlite3.Connection,
    outbox_id: int,
    from_states: Iterable[OutboxState],
    sets: str,
    params: Sequence[object],
) -> bool:
    states = [str(s) for s in from_states]
    marks = ",".join("?" for _ in states)
    cur = conn.execute(
        f"UPDATE outbox SET {sets} WHERE id = ? AND state IN ({marks})",
        (*params, outbox_id, *states),
    )
    return cur.rowcount == 1


def mark_sending(conn: sqlite3.Connection, outbox_id: int, *, now: datetime) -> bool:
    """``queued → sending`` with ``started_at``; ``False`` if the row is no longer queued."""
    return _move(
        conn, outbox_id, [OutboxState.QUEUED], "state = 'sending', started_at = ?", [epoch(now)]
    )


def mark_sent(conn: sqlite3.Connection, outbox_id: int, message_id: str, *, now: datetime) -> bool:
    """``sending|unknown → sent`` with the API's message id."""
    return _move(
        conn,
        outbox_id,
        [OutboxState.SENDING, OutboxState.UNKNOWN],
        "state = 'sent', message_id = ?, finished_at = ?, error = NULL",
        [message_id, epoch(now)],
    )


def mark_failed(
    conn: sqlite3.Connection,
    outbox_id: int,
    reason: str,
    *,
    now: datetime,
    refused: bool = False,
) -> bool:
    """``queued|sending|unknown → failed``: the API refused it, or it certainly never left.

    ``refused``: a platform rule refused it (retrying the same send cannot help).
    """
    return _move(
        conn,
        outbox_id,
        [OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN],
        "state = 'failed', error = ?, finished_at = ?, refused = ?",
        [reason, epoch(now), int(refused)],
    )


def mark_not_sent(conn: sqlite3.Connection, outbox_id: int, reason: str, *, now: datetime) -> bool:
    """``queued → failed``: its request was never made (the run stopped before it)."""
    return _move(
        conn,
        outbox_id,
        [OutboxState.QUEUED],
        "state = 'failed', error = ?, finished_at = ?",
        [reason, epoch(now)],
    )


def mark_unknown(conn: sqlite3.Connection, outbox_id: int, reason: str, *, now: datetime) -> bool:
    """``sending → unknown``: the outcome is ambiguous; never resent automatically."""
    return _move(
        conn,
        outbox_id,
        [OutboxState.SENDING],
        "state = 'unknown', error = ?, finished_at = ?",
        [reason, epoch(now)],
    )


def recover_interrupted(
    conn: sqlite3.Connection, *, now: datetime, page_id: str | None = None
) -> tuple[int, int]:
    """At the start of an acting command: ``sending → unknown``, stale ``queued → failed``.

    A ``queued`` row never had its request made, so it is certainly not delivered. Returns
    (rows made unknown, rows made failed).
    """
    where, params = ("", []) if page_id is None else (" AND page_id = ?", [page_id])
    cur = conn.execute(
        "UPDATE outbox SET state = 'unknown', error = 'interrupted while sending',"
        f" finished_at = ? WHERE state = 'sending'{where}",
        (epoch(now), *params),
    )
    unknown = cur.rowcount
    cur = conn.execute(
        "UPDATE outbox SET state = 'failed', error = 'interrupted before sending',"
        f" finished_at = ? WHERE state = 'queued'{where}",
        (epoch(now), *params),
    )
    return unknown, cur.rowcount


def get(conn: sqlite3.Connection, outbox_id: int) -> OutboxRecord:
    """One row by id; :class:`UsageError` if there is none."""
    row = conn.execute(f"{_SELECT} WHERE o.id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise UsageError(f"no outbox entry {outbox_id}", hint="see `socialdesk outbox`")
    return _record(row)


def list_records(
    conn: sqlite3.Connection,
    *,
    page_id: str | None = None,
    states: Sequence[OutboxState] | None = None,
    thread_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[OutboxRecord]:
    """Rows matching the filters, oldest first (``limit`` keeps the newest)."""
    clauses: list[str] = []
    params: list[object] = []
    if page_id is not None:
        clauses.append("o.page_id = ?")
        params.append(page_id)
    if states is not None:
        clauses.append(f"o.state IN ({','.join('?' for _ in states)})")
        params.extend(str(s) for s in states)
    if thread_id is not None:
        clauses.append("o.thread_id = ?")
        params.append(thread_id)
    if since is not None:
        clauses.append("o.created_at >= ?")
        params.append(epoch(since))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"{_SELECT}{where} ORDER BY o.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    return [_record(r) for r in reversed(rows)]


_ACTIVE_SQL = ", ".join(f"'{state.value}'" for state in ACTIVE_STATES)


def ledger_condition(alias: str = "") -> str:
    """The SQL condition on an outbox row (``alias``: its table prefix, e.g. ``"o."``) that makes
    it use up a comment's one private reply: every row that may have reached (or may still
    reach) the customer, and every one the platform refused (10900 "Activity already replied
    to", 10903, 100/2018292, the closed window: final for that comment, GRAPH_API.md §21.6).
    ``store.query.CLOSES_SQL`` applies the same condition."""
    a = alias
    return (
        f"{a}kind = '{SendKind.COMMENT_PRIVATE.value}' AND ({a}state IN ({_ACTIVE_SQL})"
        f" OR ({a}state = 'failed' AND {a}refused = 1))"
    )


LEDGER_SQL = ledger_condition()
""":func:`ledger_condition` on an unaliased outbox row."""


def private_reply_used(conn: sqlite3.Connection, comment_id: str) -> bool:
    """The ledger (per comment): this comment's private reply is used, in flight or refused."""
    row = conn.execute(
        f"SELECT 1 FROM outbox WHERE comment_id = ? AND {LEDGER_SQL} LIMIT 1", (comment_id,)
    ).fetchone()
    return row is not None


def sent_message_ids(conn: sqlite3.Connection, thread_id: str) -> set[str]:
    """Message ids already claimed by ``sent`` rows of this thread (reconciliation skips them)."""
    rows = conn.execute(
        "SELECT message_id FROM outbox WHERE thread_id = ? AND message_id IS NOT NULL",
        (thread_id,),
    )
    return {str(r[0]) for r in rows}


def private_reply_message_ids(conn: sqlite3.Connection, page_id: str, customer_id: str) -> set[str]:
    """Message ids claimed by private replies to this customer's comments.

    A private reply lands in the Messenger conversation of the comment's author, so reading that
    conversation back must skip these ids as well as those of the conversation's own rows.
    """
    rows = conn.execute(
        "SELECT o.message_id FROM outbox o JOIN messages m ON m.id = o.comment_id"
        " WHERE o.page_id = ? AND o.kind = ? AND m.author_id = ?"
        " AND o.message_id IS NOT NULL",
        (page_id, str(SendKind.COMMENT_PRIVATE), customer_id),
    )
    return {str(r[0]) for r in rows}


def mark_absent(conn: sqlite3.Connection, outbox_id: int, *, now: datetime) -> None:
    """Record that reading the thread back showed this ``unknown`` row's message absent."""
    conn.execute(
        "INSERT INTO outbox_review (outbox_id, absent_at) VALUES (?, ?)"
        " ON CONFLICT (outbox_id) DO UPDATE SET absent_at = excluded.absent_at",
        (outbox_id, epoch(now)),
    )


def set_resolution(
    conn: sqlite3.Connection, outbox_id: int, resolution: str, *, now: datetime
) -> None:
    """Record the operator's (or ack's) resolution of an ``unknown`` row."""
    conn.execute(
        "INSERT INTO outbox_review (outbox_id, resolution, resolved_at) VALUES (?, ?, ?)"
        " ON CONFLICT (outbox_id) DO UPDATE SET resolution = excluded.resolution,"
        " resolved_at = excluded.resolved_at",
        (outbox_id, resolution, epoch(now)),
    )


def claim_resolution(
    conn: sqlite3.Connection, outbox_id: int, resolution: str, *, now: datetime
) -> bool:
    """Resolve a row only if nobody has yet; ``False`` when it already carries a resolution.

    The compare-and-set that makes a resend (or any one-shot decision on a row) happen once,
    whatever number of processes try it at the same moment.
    """
    conn.execute(
        "INSERT INTO outbox_review (outbox_id) VALUES (?) ON CONFLICT (outbox_id) DO NOTHING",
        (outbox_id,),
    )
    cur = conn.execute(
        "UPDATE outbox_review SET resolution = ?, resolved_at = ?"
        " WHERE outbox_id = ? AND resolution IS NULL",
        (resolution, epoch(now), outbox_id),
    )
    return cur.rowcount == 1


def count_by_state(conn: sqlite3.Connection, *, page_id: str | None = None) -> dict[str, int]:
    """How many rows are in each state (doctor, tests, benchmarks)."""
    where, params = ("", []) if page_id is None else (" WHERE page_id = ?", [page_id])
    rows = conn.execute(f"SELECT state, COUNT(*) FROM outbox{where} GROUP BY state", params)
    return {str(r[0]): int(r[1]) for r in rows}
