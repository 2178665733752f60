"""core.replying: the reply flow the CLI and the inbox share, against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.core import replying
from socialdesk.core.inbox import Inbox
from socialdesk.core.replying import ReplyRequest
from socialdesk.errors import Reason
from socialdesk.models import Direction, OutboxState, SendKind, Status, WindowKind
from socialdesk.store import pages
from socialdesk.store.db import transaction
from socialdesk.store.threads import get_messages
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _send(world: World, user: str, req: ReplyRequest) -> replying.ReplyOutcome:
    return replying.send(world.ctx, world.conn, world.page_cfg, world.thread_of(user), req)


def test_a_sent_reply_is_in_the_thread_at_once_and_read_back_once(world: World) -> None:
    """After a send, with no sync: the thread holds the reply (pending read-back) and is no
    longer awaiting; the next sync confirms the same message, with no second row."""
    user = world.dm("Ann Echo")
    world.sync()
    inbox = Inbox(world.ctx, world.conn, world.page_cfg)
    assert [r.thread.customer.id for r in inbox.threads(None).rows] == [user]
    out = _send(world, user, ReplyRequest(text="On its way!"))
    assert out.state == "sent" and out.error is None
    (entry,) = out.entries
    detail = inbox.thread(world.thread_of(user))
    last = detail.messages[-1]
    assert (last.id, last.direction, last.text) == (entry.message_id, Direction.OUT, "On its way!")
    assert detail.echoed == {entry.message_id} and not detail.thread.awaiting_reply
    assert inbox.threads(None).rows == []  # not offered as awaiting any more
    world.sync()
    after = inbox.thread(world.thread_of(user))
    assert [m.id for m in after.messages].count(entry.message_id or "") == 1
    assert after.echoed == frozenset() and not after.thread.awaiting_reply


def test_done_is_applied_once_confirmed_and_reported(world: World) -> None:
    """done=True: the outcome's thread is done; a split reply is done after its last part."""
    user = world.dm("Dan Done")
    world.sync()
    out = _send(world, user, ReplyRequest(text="word " * 500, split=True, done=True))
    assert out.state == "sent" and len(out.entries) == 2
    assert out.thread is not None and out.thread.status is Status.DONE
    assert [e.done_on_sent for e in out.entries] == [False, True]


def test_template_fills_the_pages_display_name(world: World) -> None:
    """A template's {page} is the Page's name on Facebook, {first_name} the customer's."""
    import dataclasses

    world.ctx.config = dataclasses.replace(
        world.ctx.config, templates={"hi": ("Hi {first_name}, {page} here.",)}
    )
    with transaction(world.conn):
        pages.set_page_display_name(world.conn, world.page, "Corner Shop", now=world.now())
    user = world.dm("Tina Template")
    world.sync()
    req = ReplyRequest(template="hi")
    th = world.thread_of(user)
    assert replying.reply_text(world.ctx, world.conn, world.page_cfg, th, req) == (
        "Hi Tina, Corner Shop here."
    )
    assert _send(world, user, req).state == "sent"
    assert [d.text for d in world.sb.deliveries(world.page, user)] == ["Hi Tina, Corner Shop here."]


def test_preview_says_what_would_happen_without_a_call(world: World) -> None:
    """preview: parts, kind, window, length and the refusal, with no request to the API."""
    user = world.dm("Pia Preview")
    old = world.dm("Olga Old", ago=timedelta(hours=30))
    world.sync()
    world.sb.reset_counters()
    th = world.thread_of(user)
    pv = replying.preview(
        world.ctx, world.conn, world.page_cfg, th, ReplyRequest(text="hello"), now=world.now()
    )
    assert (pv.parts, pv.kind, pv.length, pv.limit) == (["hello"], SendKind.DM_RESPONSE, 5, 2000)
    assert pv.window.kind is WindowKind.STANDARD and pv.refusal is None
    assert pv.recipient == "Pia Preview"
    long = replying.preview(
        world.ctx, world.conn, world.page_cfg, th, ReplyRequest(text="x" * 2001), now=world.now()
    )
    assert long.refusal is not None and long.refusal.reason == Reason.TEXT_TOO_LONG
    closed = replying.preview(
        world.ctx,
        world.conn,
        world.page_cfg,
        world.thread_of(old),
        ReplyRequest(text="sorry"),
        now=world.now(),
    )
    assert closed.refusal is not None and closed.refusal.reason == Reason.WINDOW_CLOSED
    assert world.sb.calls == 0


def test_private_reply_once_then_refused(world: World) -> None:
    """A comment's private reply goes once; the second is refused (reason, nothing sent); a
    private reply to a DM is refused before anything is queued."""
    user, cid = world.comment("Paula Private")
    dm_user = world.dm("Dora Dm")
    world.sync()
    first = _send(world, user, ReplyRequest(text="sent you the price", private=True))
    assert first.state == "sent" and first.kind is SendKind.COMMENT_PRIVATE
    assert [d.comment_id for d in world.sb.deliveries(world.page, user)] == [cid]
    again = _send(world, user, ReplyRequest(text="again", private=True))
    assert again.state == "refused" and again.error is not None
    assert again.error.reason == Reason.PRIVATE_REPLY_USED and "flag" not in (again.next_step or "")
    assert len(world.sb.deliveries(world.page, user)) == 1
    on_dm = _send(world, dm_user, ReplyRequest(text="x", private=True))
    assert on_dm.state == "refused" and on_dm.error is not None
    assert on_dm.error.reason == Reason.PRIVATE_ON_DM
    assert world.sb.deliveries(world.page, dm_user) == []


def test_a_public_comment_reply_is_echoed_in_the_comment_thread(world: World) -> None:
    """A public reply lands under the comment at once (parent: the comment) and reads back once."""
    user, cid = world.comment("Cora Comment")
    world.sync()
    out = _send(world, user, ReplyRequest(text="It's 20 EUR"))
    (entry,) = out.entries
    th = world.thread_of(user)
    mine = [m for m in get_messages(world.conn, th.id) if m.id == entry.message_id]
    assert len(mine) == 1 and mine[0].parent_id == cid and not th.awaiting_reply
    world.sync()
    assert [m.id for m in get_messages(world.conn, th.id)].count(entry.message_id or "") == 1


def test_the_missing_human_agent_permission_is_named(tmp_path: Path) -> None:
    """human_agent on, but the app lacks the feature: the failure names the Human Agent
    permission and its fix (App Review, or turn the setting off), not a new login."""
    world = World(tmp_path, human_agent=True)
    try:
        user = world.dm("Nia Nofeature", ago=timedelta(hours=30))
        world.sync()
        out = _send(world, user, ReplyRequest(text="Sorry for the wait"))
        assert out.state == "failed" and out.error is not None
        assert out.error.reason == Reason.HUMAN_AGENT_PERMISSION
        assert "Human Agent" in out.error.message and "login" not in (out.error.hint or "")
        assert "messaging.human_agent" in (out.error.hint or "")
        (row,) = world.conn.execute("SELECT state FROM outbox").fetchall()
        assert row[0] == OutboxState.FAILED.value
    finally:
        world.close()


def test_composed_text_keeps_hash_lines_and_drops_the_scissors_part(world: World) -> None:
    """parse_composed: everything above the scissors line, # lines included; the quote below
    is dropped; a file without the scissors line is refused."""
    user = world.dm("Ed Editor")
    world.sync()
    th = world.thread_of(user)
    blank = replying.compose_file(world.conn, th)
    assert blank.startswith("\n" + replying.SCISSORS + "\n") and "#   hello?" in blank
    written = "#1043 ships Monday\n# from the warehouse\n\n" + blank
    assert replying.parse_composed(written) == "#1043 ships Monday\n# from the warehouse"
    draft = replying.compose_file(world.conn, th, draft="kept draft")
    assert replying.parse_composed(draft) == "kept draft"
    from socialdesk.errors import UsageError

    with pytest.raises(UsageError, match="scissors"):
        replying.parse_composed("my text\n# Ed wrote:\n#   hello?\n")
    with pytest.raises(UsageError, match="empty"):
        replying.parse_composed(blank)
