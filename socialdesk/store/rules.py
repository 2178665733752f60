"""All SQL of the rules (issue 14): live-since, the ledger, the run log, pauses, caps.

Called by ``socialdesk.core.rules`` (run, replay, test, log, pause) and ``core.health`` (a
pause and its reason), ``core.inbox`` (which rule acted on a thread) and ``core.stats``
(``auto_answered``). Tables come from migration ``m007_rules`` (``store/schema.py``).

No function here commits, and none reads the wall clock: callers pass ``now`` and wrap writes
in ``store.db.transaction``. The ledger's guarantee lives in the schema: the partial unique
index ``rule_ledger`` allows one ``fired`` row per (page, rule, once key), so of two processes
recording the same fire, the second's insert fails inside its own queueing transaction
(:func:`record_fire` returns ``False``) and nothing of it is written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk.models import OutboxState, epoch
from socialdesk.store.query import AUTOMATED_ORIGINS, CompiledQuery, human_out_sql

_ACTIVE = tuple(
    str(s) for s in (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.SENT, OutboxState.UNKNOWN)
)
_AUTO_MARKS = ",".join("?" for _ in AUTOMATED_ORIGINS)


# ---- live since -------------------------------------------------------------------------------


def live_since(
    conn: sqlite3.Connection, page_id: str, rule: str, digest: str, state: str, *, now: datetime
) -> int:
    """When this version (digest) of the rule started acting in ``state``; records ``now`` the
    first time a version or state is seen (an edited or newly enabled rule starts afresh)."""
    row = conn.execute(
        "SELECT digest, state, since FROM rule_versions WHERE page_id = ? AND rule = ?",
        (page_id, rule),
    ).fetchone()
    if row is not None and row["digest"] == digest and row["state"] == state:
        return int(row["since"])
    conn.execute(
        "INSERT INTO rule_versions (page_id, rule, digest, state, since) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (page_id, rule) DO UPDATE SET digest = excluded.digest,"
        " state = excluded.state, since = excluded.since",
        (page_id, rule, digest, state, epoch(now)),
    )
    return epoch(now)


def known_since(conn: sqlite3.Connection, page_id: str, rule: str, digest: str) -> int | None:
    """The recorded since of this exact version (read-only), or ``None``."""
    row = conn.execute(
        "SELECT since FROM rule_versions WHERE page_id = ? AND rule = ? AND digest = ?",
        (page_id, rule, digest),
    ).fetchone()
    return int(row[0]) if row is not None else None


# ---- candidates -------------------------------------------------------------------------------


def watermark(conn: sqlite3.Connection, page_id: str) -> int | None:
    """The highest ``messages.rowid`` a run of this page considered (``None``: never ran)."""
    row = conn.execute("SELECT watermark FROM rules_state WHERE page_id = ?", (page_id,)).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else None


def max_rowid(conn: sqlite3.Connection) -> int:
    """The newest message's rowid (0 for an empty store)."""
    row = conn.execute("SELECT max(rowid) FROM messages").fetchone()
    return int(row[0] or 0)


def set_watermark(conn: sqlite3.Connection, page_id: str, value: int) -> None:
    """Advance (never lower: two overlapping runs may finish in either order)."""
    conn.execute(
        "INSERT INTO rules_state (page_id, watermark) VALUES (?, ?) ON CONFLICT (page_id)"
        " DO UPDATE SET watermark = max(COALESCE(rules_state.watermark, 0), excluded.watermark)",
        (page_id, value),
    )


def new_inbound_threads(conn: sqlite3.Connection, page_id: str, after: int, upto: int) -> list[str]:
    """Threads of the page with a customer message stored in ``(after, upto]`` (rowids)."""
    rows = conn.execute(
        "SELECT DISTINCT thread_id FROM messages WHERE rowid > ? AND rowid <= ?"
        " AND page_id = ? AND direction = 'in'",
        (after, upto, page_id),
    )
    return [str(r[0]) for r in rows]


def inbound_threads_between(
    conn: sqlite3.Connection, page_id: str, start: int, end: int
) -> list[tuple[str, int]]:
    """(thread id, message time) of every customer message created in ``[start, end)`` (replay)."""
    rows = conn.execute(
        "SELECT thread_id, created_at FROM messages WHERE page_id = ? AND direction = 'in'"
        " AND created_at >= ? AND created_at < ? ORDER BY created_at",
        (page_id, start, end),
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def matching(
    conn: sqlite3.Connection, compiled: CompiledQuery, thread_ids: Sequence[str], page_id: str
) -> set[str]:
    """Which of ``thread_ids`` (of ``page_id``) the compiled query selects."""
    if not thread_ids:
        return set()
    params = dict(compiled.params)
    params["rl_ids"] = json.dumps(list(thread_ids))
    params["rl_page"] = page_id
    rows = conn.execute(
        "SELECT t.id FROM threads t JOIN thread_state s ON s.thread_id = t.id"
        " WHERE t.id IN (SELECT value FROM json_each(:rl_ids)) AND t.page_id = :rl_page"
        f" AND ({compiled.where})",
        params,
    )
    return {str(r[0]) for r in rows}


def add_pending(
    conn: sqlite3.Connection, page_id: str, rule: str, thread_id: str, *, expires_at: int
) -> None:
    """Offer this match to later runs until ``expires_at`` (a limit that may lift held it)."""
    conn.execute(
        "INSERT INTO rule_pending (page_id, rule, thread_id, expires_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (page_id, rule, thread_id) DO UPDATE SET expires_at = excluded.expires_at",
        (page_id, rule, thread_id, expires_at),
    )


def pending_threads(
    conn: sqlite3.Connection, page_id: str, *, now: datetime, take: bool = False
) -> list[str]:
    """Threads with a live deferred match; with ``take`` the rows are removed (expired ones
    too), and a run that defers again re-adds them."""
    rows = conn.execute(
        "SELECT DISTINCT thread_id FROM rule_pending WHERE page_id = ? AND expires_at > ?",
        (page_id, epoch(now)),
    ).fetchall()
    if take:
        conn.execute("DELETE FROM rule_pending WHERE page_id = ?", (page_id,))
    return [str(r[0]) for r in rows]


def pending_count(conn: sqlite3.Connection, page_id: str) -> int:
    """How many matches wait for a later run."""
    row = conn.execute("SELECT COUNT(*) FROM rule_pending WHERE page_id = ?", (page_id,)).fetchone()
    return int(row[0])


# ---- a thread's request -----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """The customer's current request in a thread: inbound messages since the last human reply."""

    anchor_id: str
    """The request's first customer message (the ``once = "request"`` key)."""
    anchor_at: int
    last_in_at: int
    last_human_out_at: int | None


def current_request(
    conn: sqlite3.Connection, thread_id: str, *, upto: int | None = None
) -> Request | None:
    """The thread's current request (as of ``upto`` when given: replay), or ``None`` when the
    newest customer message has been answered by a person."""
    cap = " AND m.created_at <= :upto" if upto is not None else ""
    params: dict[str, object] = {"tid": thread_id, "upto": upto}
    row = conn.execute(
        "SELECT max(m.created_at) FROM messages m WHERE m.thread_id = :tid"
        f" AND {human_out_sql('m')}{cap}",
        params,
    ).fetchone()
    last_human = int(row[0]) if row is not None and row[0] is not None else None
    params["after"] = -1 if last_human is None else last_human
    rows = conn.execute(
        "SELECT m.id, m.created_at FROM messages m WHERE m.thread_id = :tid"
        f" AND m.direction = 'in' AND m.created_at > :after{cap}"
        " ORDER BY m.created_at, m.rowid",
        params,
    ).fetchall()
    if not rows:
        return None
    return Request(str(rows[0][0]), int(rows[0][1]), int(rows[-1][1]), last_human)


# ---- the ledger ---------------------------------------------------------------------------------


def ledger_taken(
    conn: sqlite3.Connection, page_id: str, rule: str, once_key: str, *, outcome: str = "fired"
) -> bool:
    """Whether this (rule, once key) already has an event with ``outcome``."""
    row = conn.execute(
        "SELECT 1 FROM rule_events WHERE page_id = ? AND rule = ? AND once_key = ?"
        " AND outcome = ? LIMIT 1",
        (page_id, rule, once_key, outcome),
    ).fetchone()
    return row is not None


def last_fire_for_customer(
    conn: sqlite3.Connection, page_id: str, rule: str, customer_key: str, *, outcome: str = "fired"
) -> int | None:
    """When the rule last fired (or, shadow: would have) for this customer."""
    row = conn.execute(
        "SELECT max(at) FROM rule_events WHERE page_id = ? AND rule = ? AND customer_key = ?"
        " AND outcome = ?",
        (page_id, rule, customer_key, outcome),
    ).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else None


@dataclass(frozen=True)
class Event:
    """One row of the rules' log."""

    id: int
    run_id: int | None
    page_id: str
    rule: str
    thread_id: str
    customer_key: str
    anchor_id: str | None
    once_key: str
    outcome: str
    reason: str | None
    actions: str
    outbox_id: int | None
    at: int


def record_event(
    conn: sqlite3.Connection,
    *,
    run_id: int | None,
    page_id: str,
    rule: str,
    thread_id: str,
    customer_key: str,
    anchor_id: str | None,
    once_key: str,
    outcome: str,
    reason: str | None = None,
    actions: str = "",
    outbox_id: int | None = None,
    now: datetime,
) -> int:
    """Append one event; a second ``fired`` row for one (page, rule, once key) raises
    ``sqlite3.IntegrityError`` (see :func:`record_fire`)."""
    cur = conn.execute(
        "INSERT INTO rule_events (run_id, page_id, rule, thread_id, customer_key, anchor_id,"
        " once_key, outcome, reason, actions, outbox_id, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            page_id,
            rule,
            thread_id,
            customer_key,
            anchor_id,
            once_key,
            outcome,
            reason,
            actions,
            outbox_id,
            epoch(now),
        ),
    )
    assert cur.lastrowid is not None
    return int(cur.lastrowid)


def record_fire(conn: sqlite3.Connection, **fields: object) -> int | None:
    """:func:`record_event` with outcome ``fired``; ``None`` when the slot is already taken.

    Runs in a SAVEPOINT so a refused insert leaves the caller's transaction usable.
    """
    conn.execute("SAVEPOINT rule_fire")
    try:
        event_id = record_event(conn, outcome="fired", **fields)  # type: ignore[arg-type]
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO rule_fire")
        conn.execute("RELEASE rule_fire")
        return None
    conn.execute("RELEASE rule_fire")
    return event_id


def set_event_outbox(conn: sqlite3.Connection, event_id: int, outbox_id: int) -> None:
    """Link a fired event to the outbox row it queued (same transaction)."""
    conn.execute("UPDATE rule_events SET outbox_id = ? WHERE id = ?", (outbox_id, event_id))


def _event(row: sqlite3.Row) -> Event:
    return Event(
        id=int(row["id"]),
        run_id=row["run_id"],
        page_id=row["page_id"],
        rule=row["rule"],
        thread_id=row["thread_id"],
        customer_key=row["customer_key"],
        anchor_id=row["anchor_id"],
        once_key=row["once_key"],
        outcome=row["outcome"],
        reason=row["reason"],
        actions=row["actions"],
        outbox_id=row["outbox_id"],
        at=int(row["at"]),
    )


def events(
    conn: sqlite3.Connection,
    page_id: str,
    *,
    rule: str | None = None,
    thread_id: str | None = None,
    since: datetime | None = None,
    run_id: int | None = None,
    outcomes: Sequence[str] | None = None,
    limit: int | None = 100,
) -> list[Event]:
    """The log, newest first."""
    clauses = ["page_id = ?"]
    params: list[object] = [page_id]
    if rule is not None:
        clauses.append("rule = ?")
        params.append(rule)
    if thread_id is not None:
        clauses.append("thread_id = ?")
        params.append(thread_id)
    if since is not None:
        clauses.append("at >= ?")
        params.append(epoch(since))
    if run_id is not None:
        clauses.append("run_id = ?")
        params.append(run_id)
    if outcomes:
        clauses.append(f"outcome IN ({','.join('?' for _ in outcomes)})")
        params.extend(outcomes)
    sql = f"SELECT * FROM rule_events WHERE {' AND '.join(clauses)} ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event(r) for r in conn.execute(sql, params)]


def fired_rules(conn: sqlite3.Connection, thread_id: str) -> list[tuple[str, int]]:
    """(rule, when it last acted) for every rule that acted on this thread, newest first."""
    rows = conn.execute(
        "SELECT rule, max(at) FROM rule_events WHERE thread_id = ? AND outcome = 'fired'"
        " GROUP BY rule ORDER BY max(at) DESC",
        (thread_id,),
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def counts_by_rule(
    conn: sqlite3.Connection, page_id: str, *, since: datetime
) -> dict[tuple[str, str], int]:
    """(rule, outcome) → events since ``since`` (``rules list``)."""
    rows = conn.execute(
        "SELECT rule, outcome, COUNT(*) FROM rule_events WHERE page_id = ? AND at >= ?"
        " GROUP BY rule, outcome",
        (page_id, epoch(since)),
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


# ---- caps and the human -----------------------------------------------------------------------


def auto_sends_since(conn: sqlite3.Connection, thread_id: str, *, since: datetime) -> int:
    """Automated (origin ``rule``) outbox rows of this thread that may have reached it."""
    marks = ",".join("?" for _ in _ACTIVE)
    row = conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE thread_id = ? AND origin = 'rule'"
        f" AND created_at >= ? AND state IN ({marks})",
        (thread_id, epoch(since), *_ACTIVE),
    ).fetchone()
    return int(row[0])


def last_human_reply_at(conn: sqlite3.Connection, page_id: str, *, since: datetime) -> int | None:
    """The newest human reply on the page at or after ``since``: an outbound message no
    automated outbox row claims, or an outbox row of a person (origin ``reply``) not failed."""
    s = epoch(since)
    row = conn.execute(
        "SELECT max(m.created_at) FROM messages m WHERE m.page_id = ? AND m.created_at >= ?"
        f" AND {human_out_sql('m')}",
        (page_id, s),
    ).fetchone()
    a = int(row[0]) if row is not None and row[0] is not None else None
    row = conn.execute(
        "SELECT max(created_at) FROM outbox WHERE page_id = ? AND origin = 'reply'"
        " AND created_at >= ? AND state <> 'failed'",
        (page_id, s),
    ).fetchone()
    b = int(row[0]) if row is not None and row[0] is not None else None
    found = [x for x in (a, b) if x is not None]
    return max(found) if found else None


def outbox_unknown_on_thread(conn: sqlite3.Connection, thread_id: str) -> bool:
    """Whether an earlier send to this thread has an unknown outcome (never act over it)."""
    row = conn.execute(
        "SELECT 1 FROM outbox WHERE thread_id = ? AND state IN ('unknown', 'sending') LIMIT 1",
        (thread_id,),
    ).fetchone()
    return row is not None


# ---- runs ---------------------------------------------------------------------------------------


def start_run(conn: sqlite3.Connection, page_id: str, trigger: str, *, now: datetime) -> int:
    """A new run row; its id."""
    cur = conn.execute(
        "INSERT INTO rule_runs (page_id, trigger, started_at) VALUES (?, ?, ?)",
        (page_id, trigger, epoch(now)),
    )
    assert cur.lastrowid is not None
    return int(cur.lastrowid)


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    now: datetime,
    candidates: int,
    fired: int,
    sent: int,
    would: int,
    skipped: int,
    failed: int,
    stopped: str | None,
) -> None:
    """Close a run row with its counts."""
    conn.execute(
        "UPDATE rule_runs SET finished_at = ?, candidates = ?, fired = ?, sent = ?, would = ?,"
        " skipped = ?, failed = ?, stopped = ? WHERE id = ?",
        (epoch(now), candidates, fired, sent, would, skipped, failed, stopped, run_id),
    )


@dataclass(frozen=True)
class RunRow:
    """A recorded run."""

    id: int
    trigger: str
    started_at: int
    finished_at: int | None
    candidates: int
    fired: int
    sent: int
    would: int
    skipped: int
    failed: int
    stopped: str | None


def last_run(conn: sqlite3.Connection, page_id: str) -> RunRow | None:
    """The newest run of the page."""
    row = conn.execute(
        "SELECT * FROM rule_runs WHERE page_id = ? ORDER BY id DESC LIMIT 1", (page_id,)
    ).fetchone()
    if row is None:
        return None
    return RunRow(
        id=int(row["id"]),
        trigger=row["trigger"],
        started_at=int(row["started_at"]),
        finished_at=row["finished_at"],
        candidates=int(row["candidates"]),
        fired=int(row["fired"]),
        sent=int(row["sent"]),
        would=int(row["would"]),
        skipped=int(row["skipped"]),
        failed=int(row["failed"]),
        stopped=row["stopped"],
    )


# ---- pause ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """The database kill switch of a page."""

    paused_at: int
    by: str
    """``operator`` (``rules pause``) or ``trip`` (an automatic pause)."""
    reason: str
    until: int | None


def pause_state(conn: sqlite3.Connection, page_id: str) -> Pause | None:
    """The page's pause, or ``None``."""
    row = conn.execute(
        "SELECT paused_at, paused_by, pause_reason, paused_until FROM rules_state"
        " WHERE page_id = ? AND paused_at IS NOT NULL",
        (page_id,),
    ).fetchone()
    if row is None:
        return None
    return Pause(int(row[0]), str(row[1]), str(row[2] or ""), row[3])


def set_pause(
    conn: sqlite3.Connection,
    page_id: str,
    *,
    by: str,
    reason: str,
    now: datetime,
    until: int | None = None,
) -> bool:
    """Pause the page's rules; an existing pause is kept (the first reason is the useful one).
    ``True`` when this call paused them."""
    conn.execute(
        "INSERT INTO rules_state (page_id) VALUES (?) ON CONFLICT (page_id) DO NOTHING",
        (page_id,),
    )
    cur = conn.execute(
        "UPDATE rules_state SET paused_at = ?, paused_by = ?, pause_reason = ?, paused_until = ?"
        " WHERE page_id = ? AND paused_at IS NULL",
        (epoch(now), by, reason, until, page_id),
    )
    return cur.rowcount == 1


def clear_pause(conn: sqlite3.Connection, page_id: str) -> Pause | None:
    """Resume; the pause that was lifted (``None`` if there was none)."""
    before = pause_state(conn, page_id)
    conn.execute(
        "UPDATE rules_state SET paused_at = NULL, paused_by = NULL, pause_reason = NULL,"
        " paused_until = NULL WHERE page_id = ?",
        (page_id,),
    )
    return before


# ---- stats ------------------------------------------------------------------------------------


def auto_answered_requests(
    conn: sqlite3.Connection, page_id: str, *, lo: int, hi: int, channel: str | None = None
) -> list[tuple[str, int]]:
    """(channel, request time) of every request made in ``[lo, hi)`` whose first answer was
    automated: the first outbound message after it is claimed by an outbox row of an automated
    origin (``rule``, ``ack``). Requests as ``core.stats`` defines them (the first inbound
    message after an outbound one, or the thread's first)."""
    where = " AND t.channel = ?" if channel is not None else ""
    params: list[object] = [*AUTOMATED_ORIGINS, page_id]
    if channel is not None:
        params.append(channel)
    rows = conn.execute(
        "SELECT t.channel, m.created_at,"
        "  (SELECT min(p.created_at) FROM messages p WHERE p.thread_id = m.thread_id"
        "   AND p.direction = 'in' AND p.created_at <= m.created_at"
        "   AND p.created_at > COALESCE((SELECT max(q.created_at) FROM messages q"
        "       WHERE q.thread_id = m.thread_id AND q.direction = 'out'"
        "       AND q.created_at < m.created_at), -1)) AS request_at"
        " FROM messages m JOIN outbox o ON o.message_id = m.id"
        " JOIN threads t ON t.id = m.thread_id"
        f" WHERE o.origin IN ({_AUTO_MARKS}) AND m.direction = 'out' AND m.page_id = ?{where}",
        params,
    )
    return [(str(r[0]), int(r[2])) for r in rows if r[2] is not None and lo <= int(r[2]) < hi]


# ---- replay -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayMessage:
    """A message as the replay needs it."""

    id: str
    at: int
    inbound: bool
    human_out: bool


def _ids_json(ids: Sequence[str]) -> str:
    return json.dumps(list(ids))


def replay_messages(
    conn: sqlite3.Connection, thread_ids: Sequence[str], *, since: int
) -> dict[str, list[ReplayMessage]]:
    """Each thread's messages created at or after ``since``, oldest first, with whether each
    is the customer's or a person's reply."""
    rows = conn.execute(
        "SELECT m.thread_id, m.id, m.created_at, m.direction,"
        f" CASE WHEN {human_out_sql('m')} THEN 1 ELSE 0 END AS human"
        " FROM messages m WHERE m.thread_id IN (SELECT value FROM json_each(?))"
        " AND m.created_at >= ? ORDER BY m.thread_id, m.created_at, m.rowid",
        (_ids_json(thread_ids), since),
    )
    out: dict[str, list[ReplayMessage]] = {}
    for r in rows:
        out.setdefault(str(r[0]), []).append(
            ReplayMessage(str(r[1]), int(r[2]), r[3] == "in", bool(r[4]))
        )
    return out


def said_message_ids(conn: sqlite3.Connection, thread_ids: Sequence[str], value: str) -> set[str]:
    """Customer messages of these threads whose text holds ``value`` as ``said:`` matches it."""
    from socialdesk.store.query import _TOKEN_CHAR, _fts_string

    if _TOKEN_CHAR.search(value):
        rows = conn.execute(
            "SELECT m.id FROM messages m WHERE m.thread_id IN (SELECT value FROM json_each(?))"
            " AND m.direction = 'in' AND m.rowid IN"
            " (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)",
            (_ids_json(thread_ids), f"text : {_fts_string(value)}"),
        )
    else:
        rows = conn.execute(
            "SELECT m.id FROM messages m WHERE m.thread_id IN (SELECT value FROM json_each(?))"
            " AND m.direction = 'in' AND instr(m.text, ?) > 0",
            (_ids_json(thread_ids), value),
        )
    return {str(r[0]) for r in rows}


def thread_facts(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """thread id → (channel, customer id)."""
    rows = conn.execute(
        "SELECT id, channel, customer_id FROM threads WHERE id IN (SELECT value FROM json_each(?))",
        (_ids_json(thread_ids),),
    )
    return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}


def human_reply_times(conn: sqlite3.Connection, page_id: str, start: int, end: int) -> list[int]:
    """Times of the page's human replies in ``[start, end)``."""
    rows = conn.execute(
        "SELECT m.created_at FROM messages m WHERE m.page_id = ? AND m.created_at >= ?"
        f" AND m.created_at < ? AND {human_out_sql('m')}",
        (page_id, start, end),
    )
    return [int(r[0]) for r in rows]


def numbers_for(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> dict[str, int]:
    """thread id → its local number."""
    rows = conn.execute(
        "SELECT thread_id, number FROM thread_numbers"
        " WHERE thread_id IN (SELECT value FROM json_each(?))",
        (_ids_json(list(dict.fromkeys(thread_ids))),),
    )
    return {str(r[0]): int(r[1]) for r in rows}
