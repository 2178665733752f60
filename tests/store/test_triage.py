"""Triage: status transitions, tags, notes, snoozes, and their triage_log entries."""

from __future__ import annotations

import sqlite3

import pytest

from socialdesk.errors import UsageError
from socialdesk.models import Status
from socialdesk.store import threads, triage
from socialdesk.store.db import transaction
from tests.support.builders import T0, at, conv, db, load, msg


@pytest.fixture
def conn() -> sqlite3.Connection:
    """One open DM thread t1."""
    c = db()
    load(c, [conv("t1", [msg("m1", 1, "in", "hello")])])
    return c


def log(conn: sqlite3.Connection) -> list[tuple[str, str | None, int]]:
    return [tuple(r) for r in conn.execute("SELECT action, detail, at FROM triage_log ORDER BY id")]


def ts(minutes: float) -> int:
    return int(at(minutes).timestamp())


def test_done_reopen_snooze_are_logged(conn: sqlite3.Connection) -> None:
    """done sets done_at; reopen and snooze change status; each change is logged once."""
    assert triage.set_status(conn, "t1", Status.DONE, now=at(10))
    assert not triage.set_status(conn, "t1", "done", now=at(11))  # no change, no log
    row = conn.execute("SELECT status, done_at, status_at FROM thread_state").fetchone()
    assert tuple(row) == ("done", ts(10), ts(10))
    assert triage.set_status(conn, "t1", Status.OPEN, now=at(20))
    assert triage.set_status(conn, "t1", Status.SNOOZED, now=at(30), snoozed_until=at(90))
    assert log(conn) == [
        ("done", None, ts(10)),
        ("reopen", None, ts(20)),
        ("snooze", str(ts(90)), ts(30)),
    ]
    assert threads.resolve_thread(conn, "#1", now=at(31)).snoozed_until == at(90)


def test_snooze_needs_a_future_time(conn: sqlite3.Connection) -> None:
    """Snoozing without a time, or to the past, is a usage error and changes nothing."""
    with pytest.raises(UsageError):
        triage.set_status(conn, "t1", Status.SNOOZED, now=at(10))
    with pytest.raises(UsageError):
        triage.set_status(conn, "t1", Status.SNOOZED, now=at(10), snoozed_until=at(5))
    with pytest.raises(UsageError):
        triage.set_status(conn, "t1", Status.DONE, now=at(10), snoozed_until=at(50))
    assert log(conn) == []


def test_unknown_thread(conn: sqlite3.Connection) -> None:
    """Triage on an unknown thread id is a usage error."""
    with pytest.raises(UsageError, match="no thread"):
        triage.set_status(conn, "nope", Status.DONE, now=T0)


def test_wake_snoozed(conn: sqlite3.Connection) -> None:
    """An expired snooze returns to open (logged); one still running stays snoozed."""
    load(conn, [conv("t2", [msg("m2", 2)])])
    triage.set_status(conn, "t1", Status.SNOOZED, now=at(10), snoozed_until=at(60))
    triage.set_status(conn, "t2", Status.SNOOZED, now=at(10), snoozed_until=at(120))
    assert triage.wake_snoozed(conn, at(60)) == ["t1"]
    states = dict(conn.execute("SELECT thread_id, status FROM thread_state").fetchall())
    assert states == {"t1": "open", "t2": "snoozed"}
    assert log(conn)[-1] == ("reopen", "snooze ended", ts(60))
    assert triage.wake_snoozed(conn, at(61)) == []


def test_tags_normalised_and_logged(conn: sqlite3.Connection) -> None:
    """Tags are lower-cased and deduplicated; adding/removing reports and logs real changes."""
    assert triage.add_tags(conn, "t1", ["VIP", "vip", " Refund "], now=at(1)) == ["vip", "refund"]
    assert triage.add_tags(conn, "t1", ["vip"], now=at(2)) == []
    assert threads.resolve_thread(conn, "#1", now=T0).tags == ("refund", "vip")
    assert triage.remove_tags(conn, "t1", ["REFUND", "absent"], now=at(3)) == ["refund"]
    assert log(conn) == [
        ("tag", "vip", ts(1)),
        ("tag", "refund", ts(1)),
        ("untag", "refund", ts(3)),
    ]


@pytest.mark.parametrize(
    "bad", ["", "  ", "two words", "tab\there", "bell\x07", "x" * 65, 'q"', "a,b", "\u202e"]
)
def test_invalid_tags_refused(conn: sqlite3.Connection, bad: str) -> None:
    """Empty tags, spaces, control/format characters, quotes, commas and long tags are refused."""
    with pytest.raises(UsageError, match="invalid tag"):
        triage.add_tags(conn, "t1", ["ok", bad], now=T0)
    assert threads.resolve_thread(conn, "#1", now=T0).tags == ()  # nothing half-applied


def test_note(conn: sqlite3.Connection) -> None:
    """A note is set, left alone when unchanged, cleared by None; each change is logged."""
    assert triage.set_note(conn, "t1", "  call back  ", now=at(1))
    assert not triage.set_note(conn, "t1", "call back", now=at(2))
    assert threads.resolve_thread(conn, "#1", now=T0).note == "call back"
    assert triage.set_note(conn, "t1", None, now=at(3))
    assert threads.resolve_thread(conn, "#1", now=T0).note is None
    assert [a for a, _, _ in log(conn)] == ["note", "note"]


def test_triage_joins_the_callers_transaction(conn: sqlite3.Connection) -> None:
    """Inside a caller's transaction, a rollback undoes the triage change too."""
    with pytest.raises(RuntimeError), transaction(conn):
        triage.set_status(conn, "t1", Status.DONE, now=T0)
        raise RuntimeError
    assert conn.execute("SELECT status FROM thread_state").fetchone()[0] == "open"
    assert log(conn) == []
