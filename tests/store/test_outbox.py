"""Outbox rows: transitions guarded by state, recovery, the private-reply ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.errors import UsageError
from socialdesk.models import OutboxState, SendKind
from socialdesk.store import outbox as ob
from socialdesk.store.db import open_db, transaction
from tests.support.builders import private_row

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = open_db(":memory:")
    yield c
    c.close()


def _q(conn: sqlite3.Connection, kind: SendKind = SendKind.DM_RESPONSE, thread: str = "t1") -> int:
    with transaction(conn, durable=True):
        return ob.enqueue(
            conn,
            page_id="p1",
            thread_id=thread,
            kind=kind,
            text="hello",
            now=T0,
            origin="reply",
            comment_id=thread if kind is SendKind.COMMENT_PRIVATE else None,
        )


def test_happy_path_transitions(conn: sqlite3.Connection) -> None:
    """queued → sending (started_at) → sent (message id, finished_at)."""
    oid = _q(conn)
    assert ob.get(conn, oid).entry.state is OutboxState.QUEUED
    assert ob.mark_sending(conn, oid, now=T0 + timedelta(seconds=1))
    assert ob.mark_sent(conn, oid, "m_1", now=T0 + timedelta(seconds=2))
    e = ob.get(conn, oid).entry
    assert e.state is OutboxState.SENT
    assert e.message_id == "m_1"
    assert e.started_at == T0 + timedelta(seconds=1)
    assert e.finished_at == T0 + timedelta(seconds=2)


def test_transitions_refuse_wrong_source_state(conn: sqlite3.Connection) -> None:
    """A row can only leave the states a transition names (racing processes lose cleanly)."""
    oid = _q(conn)
    assert not ob.mark_sent(conn, oid, "m", now=T0)  # queued cannot jump to sent
    assert not ob.mark_unknown(conn, oid, "x", now=T0)
    assert ob.mark_sending(conn, oid, now=T0)
    assert not ob.mark_sending(conn, oid, now=T0)  # the second sender loses
    assert ob.mark_unknown(conn, oid, "timeout", now=T0)
    assert ob.mark_sent(conn, oid, "m_found", now=T0)  # reconciliation
    assert not ob.mark_failed(conn, oid, "late", now=T0)  # sent is final


def test_recover_interrupted(conn: sqlite3.Connection) -> None:
    """At start: sending → unknown, queued → failed; nothing else moves."""
    a, b, c = _q(conn), _q(conn), _q(conn)
    ob.mark_sending(conn, a, now=T0)
    ob.mark_sending(conn, c, now=T0)
    ob.mark_sent(conn, c, "m", now=T0)
    assert ob.recover_interrupted(conn, now=T0) == (1, 1)
    assert ob.get(conn, a).entry.state is OutboxState.UNKNOWN
    assert ob.get(conn, b).entry.state is OutboxState.FAILED
    assert ob.get(conn, b).entry.error == "interrupted before sending"
    assert ob.get(conn, c).entry.state is OutboxState.SENT
    assert ob.count_by_state(conn) == {"unknown": 1, "failed": 1, "sent": 1}


def test_private_reply_ledger(conn: sqlite3.Connection) -> None:
    """Per comment: a private reply in queued/sending/sent/unknown, or refused by the platform,
    blocks a second one; failed otherwise does not; another comment of the thread is free."""
    assert not ob.private_reply_used(conn, "c1")
    oid = private_row(conn, "c1", "c1_r1", now=T0)
    assert ob.private_reply_used(conn, "c1_r1") and not ob.private_reply_used(conn, "c1")
    ob.mark_failed(conn, oid, "timeout before sending", now=T0)
    assert not ob.private_reply_used(conn, "c1_r1")
    oid2 = _q(conn, SendKind.COMMENT_PRIVATE, "c1")
    ob.mark_sending(conn, oid2, now=T0)
    ob.mark_unknown(conn, oid2, "timeout", now=T0)
    assert ob.private_reply_used(conn, "c1")
    private_row(conn, "c1", "c1_r1", now=T0, refused_by="(#10900) Activity already replied to")
    assert ob.private_reply_used(conn, "c1_r1")
    _q(conn, SendKind.COMMENT_PUBLIC, "c2")
    assert not ob.private_reply_used(conn, "c2")
    with pytest.raises(ValueError):
        ob.enqueue(
            conn, page_id="p1", thread_id="c3", kind=SendKind.COMMENT_PRIVATE, text="x", now=T0
        )


def test_review_and_listing(conn: sqlite3.Connection) -> None:
    """Absent marks and resolutions show on records; filters select by state and thread."""
    a = _q(conn)
    b = _q(conn, thread="t2")
    ob.mark_sending(conn, a, now=T0)
    ob.mark_unknown(conn, a, "timeout", now=T0)
    ob.mark_absent(conn, a, now=T0 + timedelta(minutes=1))
    ob.set_resolution(conn, a, "dropped", now=T0 + timedelta(minutes=2))
    rec = ob.get(conn, a)
    assert rec.absent_at == T0 + timedelta(minutes=1)
    assert rec.resolution == "dropped"
    assert [r.entry.id for r in ob.list_records(conn, states=[OutboxState.UNKNOWN])] == [a]
    assert [r.entry.id for r in ob.list_records(conn, thread_id="t2")] == [b]
    assert [r.entry.id for r in ob.list_records(conn, limit=1)] == [b]
    with pytest.raises(UsageError):
        ob.get(conn, 999)


def test_durable_intent_survives_reopen(tmp_path: object) -> None:
    """A queued row committed durably is there after the connection is closed and reopened."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "db.sqlite"
    c = open_db(path)
    oid = _q(c)
    c.close()
    c2 = open_db(path)
    assert ob.get(c2, oid).entry.state is OutboxState.QUEUED
    c2.close()
