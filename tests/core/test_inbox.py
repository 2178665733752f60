"""core.inbox: listings with totals, counts in one scan, the virtual list, views, seen-state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.core import triage
from socialdesk.core.inbox import BUILTIN_VIEWS, Inbox, ViewSpec
from socialdesk.errors import UsageError
from socialdesk.models import Status
from socialdesk.store.query import QueryError
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _inbox(world: World) -> Inbox:
    return Inbox(world.ctx, world.conn, world.page_cfg)


def _populated(world: World) -> list[str]:
    users = [world.dm(f"Cust{i} Inbox", ago=timedelta(minutes=10 + i)) for i in range(5)]
    world.comment("Com Inbox")
    world.sync()
    return users


def test_a_cut_listing_knows_its_total(world: World) -> None:
    """threads(limit=2) of 6 matches: 2 rows, total 6, truncated; a listing that fits is not."""
    _populated(world)
    inbox = _inbox(world)
    cut = inbox.threads("", limit=2)
    assert (len(cut.rows), cut.total, cut.truncated) == (2, 6, True)
    full = inbox.threads("", limit=50)
    assert (len(full.rows), full.total, full.truncated) == (6, 6, False)
    assert len(inbox.threads("", limit=None).rows) == 6
    assert inbox.count("is:dm") == 5


def test_counts_of_several_views_in_one_statement(world: World) -> None:
    """counts() agrees with count() per view, in one statement; a broken view gives None."""
    users = _populated(world)
    th = world.thread_of(users[0])
    triage.set_status(world.conn, [th], Status.DONE, now=world.now())
    inbox = _inbox(world)
    views = [*BUILTIN_VIEWS, ViewSpec("view:bad", "bad", "is:nothing", "saved")]
    statements: list[str] = []
    world.conn.set_trace_callback(statements.append)
    counts = inbox.counts(views)
    world.conn.set_trace_callback(None)
    assert counts == {
        "awaiting": 5,
        "open": 5,
        "snoozed": 0,
        "done": 1,
        "all": 6,
        "view:bad": None,
    }
    assert sum("SUM(CASE WHEN" in s for s in statements) == 1
    assert all(counts[v.key] == inbox.count(v.query) for v in BUILTIN_VIEWS)


def test_thread_numbers_and_rows_by_number_keep_the_order(world: World) -> None:
    """thread_numbers is the listing's order over every match; rows_by_number keeps any order
    it is given and leaves unknown numbers out."""
    _populated(world)
    inbox = _inbox(world)
    numbers = inbox.thread_numbers("", sort="newest")
    assert numbers == [r.thread.number for r in inbox.threads("", sort="newest").rows]
    picked = [numbers[3], numbers[0], 99999, numbers[1]]
    assert [r.thread.number for r in inbox.rows_by_number(picked)] == [
        numbers[3],
        numbers[0],
        numbers[1],
    ]


def test_views_hold_builtins_tags_and_saved_queries(world: World) -> None:
    """views(): the built-in views, one per tag in use (with tags() counts), then [views]."""
    users = _populated(world)
    for user in users[:2]:
        triage.tag(world.conn, [world.thread_of(user)], add=["vip"], now=world.now())
    world.ctx.config = dataclasses.replace(world.ctx.config, views={"urgent": "is:dm older:5m"})
    inbox = _inbox(world)
    keys = [v.key for v in inbox.views()]
    assert keys == ["awaiting", "open", "snoozed", "done", "all", "tag:vip", "view:urgent"]
    assert inbox.tags() == [("vip", 2)]
    assert inbox.count("view:urgent") == 5
    assert {r.thread.customer.id for r in inbox.threads("view:urgent tag:vip").rows} == set(
        users[:2]
    )
    with pytest.raises(UsageError, match="unknown view"):
        inbox.view("nope")
    with pytest.raises(QueryError) as err:
        inbox.check_query("is:dm (tag:vip")
    assert (err.value.start, err.value.end) == (6, 7)


def test_mark_seen_clears_unread_until_the_customer_writes(world: World) -> None:
    """An awaiting thread is unread until marked seen; a new customer message makes it unread."""
    (user, *_) = _populated(world)
    inbox = _inbox(world)
    th = world.thread_of(user)
    assert th.unread
    inbox.mark_seen(th)
    (row,) = inbox.rows_by_number([th.number])
    assert not row.unread and not row.thread.unread
    world.sb.add_message(world.page, user, "hello again?")
    world.sync()
    assert world.thread_of(user).unread


def test_thread_detail_of_a_comment(world: World) -> None:
    """thread(): the post, the comment a private reply answers, others of the customer."""
    user, cid = world.comment("Carl Detail")
    world.sb.add_message(world.page, user, "also a DM")
    world.sync()
    inbox = _inbox(world)
    detail = inbox.thread(cid)
    assert detail.post is not None and detail.post.message == "New stock!"
    assert [m.id for m in detail.reply_targets] == [cid]
    assert [r.thread.channel.value for r in detail.others] == ["dm"]
    assert detail.has_older is False and detail.pending_sends == []
