"""Operator triage state: status (open / done / snoozed), tags, note, and the ``triage_log``.

Called by core services (CLI ``tag``/``done``/``reopen``/``snooze``/``note``, the inbox, ``ack
--done``). Each function is atomic on its own and joins the caller's transaction when there is
one. Every change is logged in ``triage_log`` (``done``, ``reopen``, ``snooze``, ``tag``,
``untag``, ``note``; ``auto_reopen`` comes from ``store.cache``) with its time, for stats ("done
that day") and undo. Calls that change nothing log nothing. Undo (:func:`snapshot`,
:func:`restore`) puts a state back and marks the undone action's log rows ``undone_at``, so an
undone ``done`` is not counted. The seen-state (:func:`mark_seen`) is not logged.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk.errors import Reason, UsageError
from socialdesk.models import Status, epoch, utc
from socialdesk.store.db import atomic

TAG_MAX = 64
NOTE_MAX = 10_000


def normalize_tag(tag: str) -> str:
    """A tag as stored: stripped, lower case; :class:`UsageError` when it is not a valid tag.

    Valid tags are 1-64 characters without spaces, control or format characters, quotes or
    commas (so that ``tag:NAME`` queries and CSV exports can carry them unquoted).
    """
    t = tag.strip().lower()
    bad = next(
        (c for c in t if c.isspace() or unicodedata.category(c).startswith("C") or c in "\"',"),
        None,
    )
    if not t or len(t) > TAG_MAX or bad is not None:
        shown = tag if tag.isprintable() else repr(tag)
        raise UsageError(
            f"invalid tag '{shown}'",
            hint=f"a tag is 1-{TAG_MAX} characters without spaces, quotes, commas or control "
            "characters (e.g. vip, refund, follow-up)",
            reason=Reason.TAG_INVALID,
        )
    return t


def _state(conn: sqlite3.Connection, thread_id: str) -> sqlite3.Row:
    row = conn.execute(
        "SELECT thread_id, page_id, status, snoozed_until FROM thread_state WHERE thread_id = ?",
        (thread_id,),
    ).fetchone()
    if row is None:
        raise UsageError(
            f"no thread {thread_id!r}",
            hint="run `socialdesk list` to see thread numbers",
            reason=Reason.THREAD_UNKNOWN,
        )
    return row  # type: ignore[no-any-return]


def _log(
    conn: sqlite3.Connection,
    thread_id: str,
    page_id: str,
    action: str,
    detail: str | None,
    at: int,
) -> None:
    conn.execute(
        "INSERT INTO triage_log (thread_id, page_id, action, detail, at) VALUES (?, ?, ?, ?, ?)",
        (thread_id, page_id, action, detail, at),
    )


def set_status(
    conn: sqlite3.Connection,
    thread_id: str,
    status: Status | str,
    *,
    now: datetime,
    snoozed_until: datetime | None = None,
) -> bool:
    """Set a thread's status; return whether anything changed.

    ``done`` records ``done_at``; ``snoozed`` needs ``snoozed_until`` in the future; ``open``
    (reopen) clears the snooze. Logged as ``done``, ``snooze`` or ``reopen``.
    """
    new = Status(status)
    now_s = epoch(now)
    until_s: int | None = None
    if new is Status.SNOOZED:
        if snoozed_until is None:
            raise UsageError(
                "snoozing needs a time", hint="give a time, e.g. 2h", reason=Reason.SNOOZE_TIME
            )
        until_s = epoch(snoozed_until)
        if until_s <= now_s:
            raise UsageError(
                "the snooze time is in the past",
                hint="give a future time, e.g. 2h",
                reason=Reason.SNOOZE_TIME,
            )
    elif snoozed_until is not None:
        raise UsageError("only a snoozed thread has a snooze time")
    with atomic(conn):
        row = _state(conn, thread_id)
        if row["status"] == new.value and row["snoozed_until"] == until_s:
            return False
        conn.execute(
            "UPDATE thread_state SET status = ?, snoozed_until = ?, status_at = ?, updated_at = ?,"
            " done_at = CASE WHEN ? = 'done' THEN ? ELSE done_at END WHERE thread_id = ?",
            (new.value, until_s, now_s, now_s, new.value, now_s, thread_id),
        )
        action = {Status.DONE: "done", Status.SNOOZED: "snooze", Status.OPEN: "reopen"}[new]
        _log(conn, thread_id, row["page_id"], action, str(until_s) if until_s else None, now_s)
    return True


def add_tags(
    conn: sqlite3.Connection, thread_id: str, tags: Iterable[str], *, now: datetime
) -> list[str]:
    """Add tags (normalised); return those that were not already there."""
    wanted = list(dict.fromkeys(normalize_tag(t) for t in tags))
    now_s = epoch(now)
    added: list[str] = []
    with atomic(conn):
        page_id = _state(conn, thread_id)["page_id"]
        for tag in wanted:
            cur = conn.execute(
                "INSERT OR IGNORE INTO thread_tags (thread_id, page_id, tag, created_at)"
                " VALUES (?, ?, ?, ?)",
                (thread_id, page_id, tag, now_s),
            )
            if cur.rowcount:
                added.append(tag)
                _log(conn, thread_id, page_id, "tag", tag, now_s)
        if added:
            conn.execute(
                "UPDATE thread_state SET updated_at = ? WHERE thread_id = ?", (now_s, thread_id)
            )
    return added


def remove_tags(
    conn: sqlite3.Connection, thread_id: str, tags: Iterable[str], *, now: datetime
) -> list[str]:
    """Remove tags (normalised); return those that were there."""
    wanted = list(dict.fromkeys(normalize_tag(t) for t in tags))
    now_s = epoch(now)
    removed: list[str] = []
    with atomic(conn):
        page_id = _state(conn, thread_id)["page_id"]
        for tag in wanted:
            cur = conn.execute(
                "DELETE FROM thread_tags WHERE thread_id = ? AND tag = ?", (thread_id, tag)
            )
            if cur.rowcount:
                removed.append(tag)
                _log(conn, thread_id, page_id, "untag", tag, now_s)
        if removed:
            conn.execute(
                "UPDATE thread_state SET updated_at = ? WHERE thread_id = ?", (now_s, thread_id)
            )
    return removed


def set_note(conn: sqlite3.Connection, thread_id: str, note: str | None, *, now: datetime) -> bool:
    """Set (or with ``None`` / blank text, clear) the thread's note; return whether it changed."""
    text = note.strip() if note is not None else ""
    if len(text) > NOTE_MAX:
        raise UsageError(f"the note is longer than {NOTE_MAX} characters")
    value = text or None
    now_s = epoch(now)
    with atomic(conn):
        page_id = _state(conn, thread_id)["page_id"]
        cur = conn.execute(
            "UPDATE thread_state SET note = ?, updated_at = ?"
            " WHERE thread_id = ? AND note IS NOT ?",
            (value, now_s, thread_id, value),
        )
        if not cur.rowcount:
            return False
        _log(conn, thread_id, page_id, "note", "cleared" if value is None else "set", now_s)
    return True


def wake_snoozed(conn: sqlite3.Connection, now: datetime) -> list[str]:
    """Reopen every thread whose snooze has run out; return their ids (logged as ``reopen``)."""
    now_s = epoch(now)
    with atomic(conn):
        rows = conn.execute(
            "SELECT thread_id, page_id FROM thread_state"
            " WHERE status = 'snoozed' AND snoozed_until IS NOT NULL AND snoozed_until <= ?",
            (now_s,),
        ).fetchall()
        for thread_id, page_id in rows:
            conn.execute(
                "UPDATE thread_state SET status = 'open', snoozed_until = NULL, status_at = ?,"
                " updated_at = ? WHERE thread_id = ?",
                (now_s, now_s, thread_id),
            )
            _log(conn, thread_id, page_id, "reopen", "snooze ended", now_s)
    return [r[0] for r in rows]


def tag_added_at(conn: sqlite3.Connection, thread_id: str, tag: str) -> datetime | None:
    """When ``tag`` was put on the thread, if it is on it (ack: acked since the last inbound?)."""
    row = conn.execute(
        "SELECT created_at FROM thread_tags WHERE thread_id = ? AND tag = ?", (thread_id, tag)
    ).fetchone()
    return utc(int(row[0])) if row is not None else None


def mark_seen(conn: sqlite3.Connection, thread_id: str, at: datetime) -> bool:
    """Record that the operator saw the thread as of ``at`` (the inbox's unread marker).

    Only moves forward, and is not a triage action: nothing is logged.
    """
    at_s = epoch(at)
    cur = conn.execute(
        "UPDATE thread_state SET seen_at = ? WHERE thread_id = ?"
        " AND (seen_at IS NULL OR seen_at < ?)",
        (at_s, thread_id, at_s),
    )
    return cur.rowcount == 1


@dataclass(frozen=True)
class TriageState:
    """A thread's operator state at one moment: what undoing an action puts back."""

    thread_id: str
    status: str
    snoozed_until: int | None
    done_at: int | None
    status_at: int | None
    note: str | None
    tags: tuple[tuple[str, int], ...]
    """``(tag, created_at)`` pairs, so a restored tag keeps its original time."""
    updated_at: int | None = None
    """When the operator state last changed (``state import`` keeps the newer one)."""


def snapshot(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> list[TriageState]:
    """The operator state of these threads now (unknown ids are left out)."""
    out: list[TriageState] = []
    for tid in thread_ids:
        row = conn.execute(
            "SELECT status, snoozed_until, done_at, status_at, note, updated_at FROM thread_state"
            " WHERE thread_id = ?",
            (tid,),
        ).fetchone()
        if row is None:
            continue
        tags = conn.execute(
            "SELECT tag, created_at FROM thread_tags WHERE thread_id = ? ORDER BY tag", (tid,)
        ).fetchall()
        out.append(
            TriageState(
                tid,
                str(row[0]),
                row[1],
                row[2],
                row[3],
                row[4],
                tuple((str(t), int(at)) for t, at in tags),
                row[5],
            )
        )
    return out


def log_position(conn: sqlite3.Connection) -> int:
    """The id of the newest ``triage_log`` row (the rows an action writes come after it)."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM triage_log").fetchone()[0])


UNDOABLE_ACTIONS = ("done", "reopen", "snooze", "tag", "untag", "note")
"""The logged actions an undo cancels (``auto_reopen`` comes from sync and stays)."""


def logged_since(
    conn: sqlite3.Connection, position: int, thread_ids: Sequence[str]
) -> tuple[int, ...]:
    """Ids of the undoable log rows written for these threads after ``position``."""
    acts = ",".join("?" * len(UNDOABLE_ACTIONS))
    rows = conn.execute(
        "SELECT id FROM triage_log WHERE id > ? AND thread_id IN"
        f" (SELECT value FROM json_each(?)) AND action IN ({acts}) ORDER BY id",
        (position, json.dumps(list(thread_ids)), *UNDOABLE_ACTIONS),
    )
    return tuple(int(r[0]) for r in rows)


def restore(
    conn: sqlite3.Connection,
    states: Sequence[TriageState],
    undone_log: Sequence[int],
    *,
    now: datetime,
) -> None:
    """Put back the given states and mark the log rows of the undone action as undone.

    An undone row keeps its place in the history but no longer counts (stats' ``done``).
    """
    now_s = epoch(now)
    with atomic(conn):
        for st in states:
            conn.execute(
                "UPDATE thread_state SET status = ?, snoozed_until = ?, done_at = ?,"
                " status_at = ?, note = ?, updated_at = ? WHERE thread_id = ?",
                (st.status, st.snoozed_until, st.done_at, st.status_at, st.note, now_s,
                 st.thread_id),
            )  # fmt: skip
            conn.execute("DELETE FROM thread_tags WHERE thread_id = ?", (st.thread_id,))
            conn.executemany(
                "INSERT INTO thread_tags (thread_id, page_id, tag, created_at)"
                " SELECT ?, page_id, ?, ? FROM thread_state WHERE thread_id = ?",
                [(st.thread_id, tag, at, st.thread_id) for tag, at in st.tags],
            )
        conn.execute(
            "UPDATE triage_log SET undone_at = ? WHERE undone_at IS NULL"
            " AND id IN (SELECT value FROM json_each(?))",
            (now_s, json.dumps(list(undone_log))),
        )
