"""Reply windows and the send-kind choice (PRODUCT.md §2, §5; GRAPH_API.md §4.3, §5.4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.core.windows import choose_send_kind, window_for, window_for_conn
from socialdesk.errors import RefusedError, UsageError
from socialdesk.models import (
    PRIVATE_REPLY_WINDOW,
    Channel,
    Direction,
    Person,
    SendKind,
    Status,
    Thread,
    WindowKind,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _thread(channel: Channel = Channel.DM, last_in: datetime | None = T0) -> Thread:
    return Thread(
        number=7,
        id="t_1",
        page_id="p1",
        channel=channel,
        status=Status.OPEN,
        customer=Person("u1", "Ann Lee"),
        last_message_at=last_in or T0,
        awaiting_reply=True,
        request_at=last_in,
        last_inbound_at=last_in,
        snippet="hi",
    )


def test_dm_standard_window_inside_24h() -> None:
    """A DM is STANDARD until 24 h after the last inbound message."""
    w = window_for(_thread(), T0 + timedelta(hours=23, minutes=59), human_agent=False)
    assert w.kind is WindowKind.STANDARD
    assert w.closes_at == T0 + timedelta(hours=24)


def test_dm_closed_after_24h_without_human_agent() -> None:
    """Without messaging.human_agent a DM is CLOSED at 24 h, with closed_at."""
    w = window_for(_thread(), T0 + timedelta(hours=24), human_agent=False)
    assert w.kind is WindowKind.CLOSED
    assert w.closed_at == T0 + timedelta(hours=24)


def test_dm_human_agent_between_24h_and_7d() -> None:
    """With human_agent on, 24 h..7 d is the HUMAN_AGENT window; after 7 d it is CLOSED."""
    w = window_for(_thread(), T0 + timedelta(days=3), human_agent=True)
    assert w.kind is WindowKind.HUMAN_AGENT
    assert w.closes_at == T0 + timedelta(days=7)
    w = window_for(_thread(), T0 + timedelta(days=7), human_agent=True)
    assert w.kind is WindowKind.CLOSED
    assert w.closed_at == T0 + timedelta(days=7)


def test_dm_without_inbound_is_closed() -> None:
    """A conversation the customer never wrote in has no window."""
    assert window_for(_thread(last_in=None), T0, human_agent=True).kind is WindowKind.CLOSED


def test_comment_private_then_public() -> None:
    """A comment offers its private reply for 7 days while unused, else public replies only."""
    th = _thread(Channel.COMMENT)
    w = window_for(th, T0 + timedelta(days=6), human_agent=False)
    assert w.kind is WindowKind.PRIVATE_REPLY
    assert w.closes_at == T0 + timedelta(days=7)
    assert window_for(th, T0 + timedelta(days=8), False).kind is WindowKind.PUBLIC
    used = window_for(th, T0 + timedelta(hours=1), False, private_used=True)
    assert used.kind is WindowKind.PUBLIC and used.closes_at is None


def test_comment_anchor_override() -> None:
    """The comment's own time (from the database) wins over the thread's request time."""
    th = _thread(Channel.COMMENT, last_in=T0)
    w = window_for(th, T0, False, comment_at=T0 - timedelta(days=7, seconds=1))
    assert w.kind is WindowKind.PUBLIC


def test_choose_dm_kinds() -> None:
    """RESPONSE inside 24 h; HUMAN_AGENT only when enabled and human-written."""
    th = _thread()
    assert (
        choose_send_kind(th, T0, False, private=False, human_written=False) is SendKind.DM_RESPONSE
    )
    later = T0 + timedelta(days=2)
    assert (
        choose_send_kind(th, later, True, private=False, human_written=True)
        is SendKind.DM_HUMAN_AGENT
    )
    with pytest.raises(RefusedError, match="2026-03-03 12:00 UTC"):
        choose_send_kind(th, later, True, private=False, human_written=False)
    with pytest.raises(RefusedError, match="closed at 2026-03-03 12:00 UTC"):
        choose_send_kind(th, later, False, private=False, human_written=True)
    with pytest.raises(RefusedError, match="closed at 2026-03-09 12:00 UTC"):
        choose_send_kind(th, T0 + timedelta(days=8), True, private=False, human_written=True)


def test_choose_private_on_dm_is_usage_error() -> None:
    """--private on a DM is a usage error (exit 2), not a refusal."""
    with pytest.raises(UsageError):
        choose_send_kind(_thread(), T0, False, private=True, human_written=True)


def test_choose_comment_kinds() -> None:
    """Public always; private within 7 days and only once."""
    th = _thread(Channel.COMMENT)
    far = T0 + timedelta(days=30)
    assert choose_send_kind(th, far, False, private=False, human_written=False) is (
        SendKind.COMMENT_PUBLIC
    )
    assert choose_send_kind(th, T0, False, private=True, human_written=True) is (
        SendKind.COMMENT_PRIVATE
    )
    with pytest.raises(RefusedError, match="already used"):
        choose_send_kind(th, T0, False, private=True, human_written=True, private_used=True)
    with pytest.raises(RefusedError, match="closed at 2026-03-09"):
        choose_send_kind(th, far, False, private=True, human_written=True)


def test_choose_without_customer_message_says_why() -> None:
    """A DM the customer never wrote in is refused (6) saying so, not 'closed at never'."""
    with pytest.raises(RefusedError, match="no message from the customer") as exc:
        choose_send_kind(_thread(last_in=None), T0, True, private=False, human_written=True)
    assert "never" not in exc.value.message


def test_comment_without_connection_runs_from_the_newest_customer_comment() -> None:
    """Without the answered comment's time, the private window runs from the newest customer
    comment (last_inbound_at): a private reply answers that comment by default."""
    waiting = replace(
        _thread(Channel.COMMENT), request_at=T0, last_inbound_at=T0 + timedelta(days=2)
    )
    assert window_for(waiting, T0, False).closes_at == T0 + timedelta(days=9)
    answered = replace(waiting, request_at=None, awaiting_reply=False)
    assert window_for(answered, T0, False).closes_at == T0 + timedelta(days=9)


def test_comment_thread_without_customer_comment_is_public() -> None:
    """A comment thread with no customer comment (the page's own) has no private reply."""
    th = _thread(Channel.COMMENT, last_in=None)
    assert window_for(th, T0, False).kind is WindowKind.PUBLIC
    with pytest.raises(RefusedError, match="no comment from a customer"):
        choose_send_kind(th, T0, False, private=True, human_written=True)
    assert choose_send_kind(th, T0, False, private=False, human_written=True) is (
        SendKind.COMMENT_PUBLIC
    )


def test_window_for_conn_reads_the_newest_customer_comment_and_its_ledger() -> None:
    """window_for_conn anchors on the newest customer comment (what a private reply answers by
    default) and turns public once THAT comment's private reply is used; an older comment keeps
    its own allowance, and a refused row counts in the ledger."""
    from socialdesk.models import Message, Post
    from socialdesk.store import cache, threads
    from socialdesk.store.db import open_db, transaction
    from tests.support.builders import private_row

    conn = open_db(":memory:")
    now = T0 + timedelta(days=6, hours=12)
    cust = Person("u1", "Ann")
    top = Message("p_c1", "p_c1", Direction.IN, cust, "hello?", T0)
    again = Message(
        "p_c2", "p_c1", Direction.IN, cust, "hi?", now - timedelta(hours=1), parent_id="p_c1"
    )
    with transaction(conn):
        cache.upsert_posts(
            conn, "p1", [Post("p", "p1", T0, "sale", comments=(again, top))], now=now
        )
    th = threads.resolve_thread(conn, "1", now=now)
    w = window_for_conn(conn, th, now, False)
    assert (w.kind, w.closes_at) == (
        WindowKind.PRIVATE_REPLY,
        again.created_at + PRIVATE_REPLY_WINDOW,
    )
    older = window_for_conn(conn, th, now, False, comment_id="p_c1")
    assert (older.kind, older.closes_at) == (WindowKind.PRIVATE_REPLY, T0 + PRIVATE_REPLY_WINDOW)
    with transaction(conn):
        oid = private_row(conn, "p_c1", "p_c1", now=now)
    # The top-level comment's reply is used; the newest comment keeps its own.
    assert window_for_conn(conn, th, now, False).kind is WindowKind.PRIVATE_REPLY
    assert window_for_conn(conn, th, now, False, comment_id="p_c1").kind is WindowKind.PUBLIC
    with transaction(conn):
        other = private_row(
            conn, "p_c1", "p_c2", now=now, refused_by="(#10900) Activity already replied to"
        )
    assert window_for_conn(conn, th, now, False).kind is WindowKind.PUBLIC
    assert oid != other
