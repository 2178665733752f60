"""The outbox against the sandbox: rules before the call, outcomes, recovery, reconciliation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.api.errors import PolicyRefused, TokenInvalid
from socialdesk.core import outbox as core
from socialdesk.errors import RefusedError, UsageError
from socialdesk.models import Channel, OutboxState, SendKind, Thread
from socialdesk.store import outbox as store
from socialdesk.store.db import transaction
from socialdesk.store.threads import list_threads
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _rows(conn: sqlite3.Connection) -> list[store.OutboxRecord]:
    return store.list_records(conn)


def test_dm_reply_sent_and_delivered(world: World) -> None:
    """A reply inside 24 h is sent as RESPONSE, recorded sent with the API's id, delivered once."""
    user = world.dm("Ann Lee")
    world.sync()
    (rec,) = world.send(world.thread_of(user), "Thanks Ann!")
    assert rec.entry.state is OutboxState.SENT
    assert rec.entry.kind is SendKind.DM_RESPONSE
    (d,) = world.sb.deliveries(world.page, user)
    assert d.message_id == rec.entry.message_id
    assert d.messaging_type == "RESPONSE"
    assert d.text == "Thanks Ann!"


def test_human_agent_between_24h_and_7d(world: World) -> None:
    """With human_agent on, a 2-day-old DM gets MESSAGE_TAG + HUMAN_AGENT; off, it is refused."""
    world.sb.set_human_agent(world.page, True)
    user = world.dm("Bo", ago=timedelta(days=2))
    world.sync()
    th = world.thread_of(user)
    with pytest.raises(RefusedError, match="closed at"):
        world.send(th, "Sorry for the wait")
    assert _rows(world.conn) == []  # nothing queued
    (rec,) = world.send(th, "Sorry for the wait", human_agent=True)
    assert rec.entry.kind is SendKind.DM_HUMAN_AGENT
    (d,) = world.sb.deliveries(world.page, user)
    assert (d.messaging_type, d.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_closed_window_refused_before_any_call(world: World) -> None:
    """After 7 days nothing is queued and no request is made; the error says when it closed."""
    user = world.dm("Cy", ago=timedelta(days=8))
    world.sync()
    th = world.thread_of(user)
    calls = world.sb.calls
    with pytest.raises(RefusedError) as exc:
        world.send(th, "hello", human_agent=True)
    assert "closed at" in exc.value.message
    assert world.sb.calls == calls
    assert _rows(world.conn) == []


def test_api_refusal_recorded_failed(world: World) -> None:
    """A send the local rules allow but the API refuses (blocked user, 551) is failed + reason."""
    user = world.dm("Dee", blocked=True)
    world.sync()
    with pytest.raises(PolicyRefused):
        world.send(world.thread_of(user), "hi")
    (rec,) = _rows(world.conn)
    assert rec.entry.state is OutboxState.FAILED
    assert rec.entry.error and "available" in rec.entry.error
    assert world.sb.deliveries(world.page, user) == []


def test_invalid_token_nothing_marked_sent(world: World) -> None:
    """A rejected token while sending: failed (not sent), nothing delivered, AuthError (exit 3)."""
    user = world.dm("Eve")
    world.sync()
    world.sb.invalidate_token(world.token)
    with pytest.raises(TokenInvalid) as exc:
        world.send(world.thread_of(user), "hi")
    assert int(exc.value.exit_code) == 3
    (rec,) = _rows(world.conn)
    assert rec.entry.state is OutboxState.FAILED
    assert world.sb.deliveries(world.page) == []


def test_timeout_is_unknown_then_reconciled_as_sent(world: World) -> None:
    """A timeout after the request was processed → unknown; read-back finds it → sent, no resend."""
    user = world.dm("Fay")
    world.sync()
    th = world.thread_of(user)
    world.sb.faults = "rate=1.0,kinds=timeout"
    with pytest.raises(core.SendUnknown):
        world.send(th, "Got it, thanks!")
    world.sb.faults = None
    (rec,) = _rows(world.conn)
    assert rec.entry.state is OutboxState.UNKNOWN
    rep = core.reconcile(world.conn, world.client, world.page, now=world.clock.now())
    assert rep.found == 1
    rec = store.get(world.conn, rec.entry.id)
    assert rec.entry.state is OutboxState.SENT
    (d,) = world.sb.deliveries(world.page, user)
    assert rec.entry.message_id == d.message_id


def test_5xx_is_unknown_and_absent_after_settle(world: World) -> None:
    """A 500 (nothing processed) → unknown; read-back calls it absent only after settling."""
    user = world.dm("Gus")
    world.sync()
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(world.thread_of(user), "hello Gus")
    world.sb.faults = None
    rep = core.reconcile(world.conn, world.client, world.page, now=world.clock.now(), settle_s=60)
    assert (rep.found, rep.absent, rep.pending) == (0, 0, 1)
    later = world.clock.now() + timedelta(seconds=61)
    rep = core.reconcile(world.conn, world.client, world.page, now=later, settle_s=60)
    assert rep.absent == 1
    (rec,) = _rows(world.conn)
    assert rec.entry.state is OutboxState.UNKNOWN and rec.absent_at is not None
    assert world.sb.deliveries(world.page) == []


def test_resend_only_when_absent(world: World) -> None:
    """resend refuses an unknown row not proven absent; after proof it sends a new row once."""
    user = world.dm("Hal")
    world.sync()
    th = world.thread_of(user)
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(th, "hello Hal")
    world.sb.faults = None
    (rec,) = _rows(world.conn)
    with pytest.raises(UsageError, match="may have arrived"):
        core.resend(
            world.conn, world.client, th, rec.entry.id, clock=world.clock, human_agent=False
        )
    core.reconcile(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    new = core.resend(
        world.conn, world.client, th, rec.entry.id, clock=world.clock, human_agent=False
    )
    assert new.state is OutboxState.SENT
    old = store.get(world.conn, rec.entry.id)
    assert old.entry.state is OutboxState.FAILED
    assert old.resolution == f"resent:{new.id}"
    assert len(world.sb.deliveries(world.page, user)) == 1
    with pytest.raises(UsageError, match="already resolved"):
        core.resend(
            world.conn, world.client, th, rec.entry.id, clock=world.clock, human_agent=False
        )


def test_recover_sending_then_reconcile(world: World) -> None:
    """A row left `sending` by a crash after the request → unknown at start → found → sent."""
    user = world.dm("Ida")
    world.sync()
    th = world.thread_of(user)
    prepared = core.queue(world.conn, th, ["Hi Ida"], now=world.clock.now(), human_agent=False)
    (oid,) = prepared.ids
    with transaction(world.conn, durable=True):
        store.mark_sending(world.conn, oid, now=world.clock.now())
    # The request left and was processed; then the process died before recording the outcome.
    from socialdesk.api import graph

    graph.send_message(world.client, world.page, text="Hi Ida", recipient_id=user)
    rep = core.startup(world.conn, world.client, world.page, now=world.clock.now())
    assert (rep.recovered, rep.found) == (1, 1)
    assert store.get(world.conn, oid).entry.state is OutboxState.SENT
    assert store.count_by_state(world.conn) == {"sent": 1}


def test_reconcile_ignores_older_same_text(world: World) -> None:
    """An identical Page message from before the send began does not count as this send."""
    user = world.dm("Jo", ago=timedelta(minutes=30))
    world.sb.add_message(
        world.page, user, "Thanks!", at=world.now() - timedelta(minutes=20), from_page=True
    )
    world.sb.add_message(world.page, user, "one more q", at=world.now() - timedelta(minutes=10))
    world.sync()
    th = world.thread_of(user)
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(th, "Thanks!")
    world.sb.faults = None
    rep = core.reconcile(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    assert (rep.found, rep.absent) == (0, 1)


def test_comment_public_and_private_ledger(world: World) -> None:
    """A comment gets public replies freely, and one private reply; the second is refused (6)."""
    user, cid = world.comment("Kim")
    world.sync()
    th = world.thread_of(user)
    assert th.channel is Channel.COMMENT
    (pub,) = world.send(th, "Check your inbox")
    assert pub.entry.kind is SendKind.COMMENT_PUBLIC and pub.entry.state is OutboxState.SENT
    (priv,) = world.send(th, "Here is the price: 10 EUR", private=True)
    assert priv.entry.kind is SendKind.COMMENT_PRIVATE and priv.entry.state is OutboxState.SENT
    (d,) = world.sb.deliveries(world.page, user)
    assert d.comment_id == cid
    with pytest.raises(RefusedError, match="already used") as exc:
        world.send(th, "again", private=True)
    assert int(exc.value.exit_code) == 6
    assert len(world.sb.deliveries(world.page, user)) == 1


def test_private_reply_window_closes_after_7_days(world: World) -> None:
    """A private reply to an 8-day-old comment is refused locally; a public reply still works."""
    user, _ = world.comment("Lu", ago=timedelta(days=8))
    world.sync()
    th = world.thread_of(user)
    with pytest.raises(RefusedError, match="private-reply window"):
        world.send(th, "psst", private=True)
    (pub,) = world.send(th, "Thanks for the comment")
    assert pub.entry.state is OutboxState.SENT


def test_split_parts_each_through_outbox(world: World) -> None:
    """A split text becomes several outbox rows, each sent and delivered in order."""
    from socialdesk.core.textcheck import prepare

    user = world.dm("Max")
    world.sync()
    th = world.thread_of(user)
    parts = prepare("word " * 900, split=True)
    assert len(parts) == 3
    prepared = core.queue(world.conn, th, parts, now=world.clock.now(), human_agent=False)
    core.send_prepared(world.conn, world.client, prepared, clock=world.clock)
    assert [d.text for d in world.sb.deliveries(world.page, user)] == parts
    assert store.count_by_state(world.conn) == {"sent": 3}


def test_throttled_send_is_failed(world: World) -> None:
    """Throttling answered synchronously proves rejection: failed with the reason, not unknown."""
    from socialdesk.api.errors import Throttled

    user = world.dm("Ned")
    world.sync()
    world.sb.faults = "rate=1.0,kinds=613"
    with pytest.raises(Throttled):
        world.send(world.thread_of(user), "hi")
    world.sb.faults = None
    (rec,) = _rows(world.conn)
    assert rec.entry.state is OutboxState.FAILED


def _customer_with_comment_and_dm(world: World, name: str) -> tuple[Thread, Thread]:
    """One customer with a cached comment thread and a cached Messenger conversation."""
    user = world.dm(name, "is it in stock?", ago=timedelta(minutes=30))
    post = world.sb.add_post(world.page, "New stock!", at=world.now() - timedelta(hours=3))
    world.sb.add_comment(post, user, "price?", at=world.now() - timedelta(hours=1))
    world.sync()
    threads = list_threads(world.conn, "", page_id=world.page, now=world.now(), limit=None)
    mine = [th for th in threads if th.customer.id == user]
    comment = next(th for th in mine if th.channel is Channel.COMMENT)
    dm = next(th for th in mine if th.channel is Channel.DM)
    return comment, dm


def test_unknown_private_reply_not_confirmed_by_a_dm_reply(world: World) -> None:
    """A DM reply's message (same text, same conversation) never confirms an unknown private one."""
    comment, dm = _customer_with_comment_and_dm(world, "Ola")
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(comment, "It is 10 EUR", private=True)
    world.sb.faults = None
    (sent,) = world.send(dm, "It is 10 EUR")
    assert sent.entry.state is OutboxState.SENT and sent.entry.message_id
    rep = core.reconcile(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    assert (rep.found, rep.absent) == (0, 1)
    states = {r.entry.kind: r.entry.state for r in _rows(world.conn)}
    assert states[SendKind.COMMENT_PRIVATE] is OutboxState.UNKNOWN


def test_unknown_dm_reply_not_confirmed_by_a_private_reply(world: World) -> None:
    """A private reply's message in the conversation never confirms an unknown DM reply."""
    comment, dm = _customer_with_comment_and_dm(world, "Per")
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(dm, "It is 10 EUR")
    world.sb.faults = None
    (sent,) = world.send(comment, "It is 10 EUR", private=True)
    assert sent.entry.state is OutboxState.SENT and sent.entry.message_id
    rep = core.reconcile(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    assert (rep.found, rep.absent) == (0, 1)
