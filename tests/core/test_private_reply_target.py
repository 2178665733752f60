"""A private reply answers one customer comment (issue 8; GRAPH_API.md §5.4, §20.5, §21.11).

By default the thread's newest customer comment, or the one named (``ReplyRequest.comment``);
its 7 days and its once-only rule belong to that comment; the confirmation names its author; a
comment Graph shows answered elsewhere is refused before any call; 10900 is a refusal recorded
in the ledger. Against the in-process sandbox, which keeps the same rules per comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk.core import replying
from socialdesk.core.inbox import Inbox
from socialdesk.core.replying import ReplyRequest
from socialdesk.core.windows import window_for_conn
from socialdesk.errors import ExitCode, Reason
from socialdesk.models import OutboxState, SendKind, Thread, WindowKind
from socialdesk.store import outbox as store_outbox
from socialdesk.store.threads import get_thread
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _thread(world: World, top: str) -> Thread:
    th = get_thread(world.conn, top, now=world.now())
    assert th is not None
    return th


def _send(world: World, th: Thread, req: ReplyRequest) -> replying.ReplyOutcome:
    return replying.send(world.ctx, world.conn, world.page_cfg, th, req)


def _two_commenters(
    world: World, *, a_ago: timedelta = timedelta(hours=3)
) -> tuple[str, str, str, str]:
    """Ann's top-level comment, then Bob's reply under it: (ann, ann's comment, bob, bob's)."""
    ann, bob = world.sb.add_user("Ann Top"), world.sb.add_user("Bob Below")
    post = world.sb.add_post(world.page, "New stock!", at=world.now() - a_ago - timedelta(hours=1))
    top = world.sb.add_comment(post, ann, "is it in red?", at=world.now() - a_ago)
    below = world.sb.add_comment(
        post, bob, "and in blue?", at=world.now() - timedelta(hours=1), parent_id=top
    )
    world.sync()
    return ann, top, bob, below


def test_the_default_is_the_newest_customer_comment_and_another_can_be_named(
    world: World,
) -> None:
    """Bob replied in Ann's thread: the private reply goes to Bob, named in the preview and the
    outcome; Ann's comment keeps its own allowance and is answered by naming it; each comment
    once."""
    ann, top, bob, below = _two_commenters(world)
    th = _thread(world, top)
    pv = replying.preview(
        world.ctx,
        world.conn,
        world.page_cfg,
        th,
        ReplyRequest(text="x", private=True),
        now=world.now(),
    )
    assert pv.kind is SendKind.COMMENT_PRIVATE and pv.recipient.startswith("Bob Below, privately")
    first = _send(world, th, ReplyRequest(text="blue is in stock", private=True))
    assert first.state == "sent" and first.recipient.startswith("Bob Below")
    assert [d.comment_id for d in world.sb.deliveries(world.page, bob)] == [below]
    assert world.sb.deliveries(world.page, ann) == []
    assert [e.comment_id for e in first.entries] == [below]
    # Bob's is used; the thread's window (of its newest customer comment) is public now.
    th = _thread(world, top)
    assert window_for_conn(world.conn, th, world.now(), False).kind is WindowKind.PUBLIC
    ann_window = window_for_conn(world.conn, th, world.now(), False, comment_id=top)
    assert ann_window.kind is WindowKind.PRIVATE_REPLY
    second = _send(world, th, ReplyRequest(text="red too", private=True, comment=top))
    assert second.state == "sent" and second.recipient.startswith("Ann Top")
    assert [d.comment_id for d in world.sb.deliveries(world.page, ann)] == [top]
    for comment in (None, top):
        again = _send(world, th, ReplyRequest(text="again", private=True, comment=comment))
        assert again.state == "refused" and again.error is not None
        assert again.error.reason == Reason.PRIVATE_REPLY_USED
        assert again.error.exit_code == ExitCode.REFUSED
    assert len(world.sb.deliveries(world.page)) == 2


def test_seven_days_belong_to_the_answered_comment(world: World) -> None:
    """Ann's comment is 8 days old, Bob's reply an hour: Bob can be answered privately, Ann
    not (refused before any call, naming her comment's window)."""
    _ann, top, bob, below = _two_commenters(world, a_ago=timedelta(days=8))
    th = _thread(world, top)
    calls = world.client.calls
    old = _send(world, th, ReplyRequest(text="x", private=True, comment=top))
    assert old.state == "refused" and old.error is not None
    assert old.error.reason == Reason.PRIVATE_REPLY_CLOSED and "Ann Top" in old.error.message
    assert world.client.calls == calls and world.sb.deliveries(world.page) == []
    ok = _send(world, th, ReplyRequest(text="yes", private=True))
    assert ok.state == "sent"
    assert [d.comment_id for d in world.sb.deliveries(world.page, bob)] == [below]


def test_a_named_comment_must_be_a_customer_comment_of_the_thread(world: World) -> None:
    """Another thread's comment, an unknown id or the Page's own comment: usage errors, no
    call; a comment named for a public reply is refused too."""
    _ann, top, _bob, _below = _two_commenters(world)
    _user, elsewhere = world.comment("Other Thread")
    own = world.sb.add_comment(world.sb.state.comments[top].post_id, None, "Thanks!", parent_id=top)
    world.sync()
    th = _thread(world, top)
    calls = world.client.calls
    for comment in (elsewhere, "nope_1", own):
        out = _send(world, th, ReplyRequest(text="x", private=True, comment=comment))
        assert out.state == "refused" and out.error is not None
        assert out.error.reason == Reason.PRIVATE_REPLY_BAD_COMMENT
        assert out.error.exit_code == ExitCode.USAGE
    public = _send(world, th, ReplyRequest(text="x", comment=top))
    assert public.error is not None and public.error.reason == Reason.PRIVATE_REPLY_BAD_COMMENT
    assert world.client.calls == calls and world.sb.deliveries(world.page) == []


def test_a_customer_reply_under_the_pages_own_comment_awaits_and_can_be_answered(
    world: World,
) -> None:
    """The Page's own top-level comment with a customer's reply under it: the thread awaits a
    reply, is listed by default, and takes a public reply and a private one (to the customer,
    never the Page's comment: that would be 10903)."""
    cara = world.sb.add_user("Cara Reply")
    post = world.sb.add_post(world.page, "Giveaway!", at=world.now() - timedelta(hours=3))
    own = world.sb.add_comment(post, None, "Winners tomorrow!", at=world.now() - timedelta(hours=2))
    hers = world.sb.add_comment(
        post, cara, "did I win?", at=world.now() - timedelta(hours=1), parent_id=own
    )
    world.sync()
    th = _thread(world, own)
    assert th.awaiting_reply and th.customer.id == cara
    # The default listing (is:open is:awaiting) offers it.
    assert th.number in Inbox(world.ctx, world.conn, world.page_cfg).thread_numbers(None)
    assert window_for_conn(world.conn, th, world.now(), False).kind is WindowKind.PRIVATE_REPLY
    private = _send(world, th, ReplyRequest(text="check your messages", private=True))
    assert private.state == "sent", private.reason
    assert [d.comment_id for d in world.sb.deliveries(world.page, cara)] == [hers]
    public = _send(world, _thread(world, own), ReplyRequest(text="congrats!"))
    assert public.state == "sent" and public.kind is SendKind.COMMENT_PUBLIC


def test_a_comment_answered_privately_elsewhere_is_refused_before_any_call(world: World) -> None:
    """Meta's inbox answered it (Graph's private_reply_conversation, read by sync): exit 6
    before any call; the thread's window shows public."""
    _user, cid = world.comment("Meta Inbox")
    world.sb.private_reply_elsewhere(cid, "answered in Business Suite")
    world.sync()
    th = _thread(world, cid)
    assert window_for_conn(world.conn, th, world.now(), False).kind is WindowKind.PUBLIC
    calls = world.client.calls
    out = _send(world, th, ReplyRequest(text="x", private=True))
    assert out.state == "refused" and out.error is not None
    assert out.error.reason == Reason.PRIVATE_REPLY_ELSEWHERE
    assert out.error.exit_code == ExitCode.REFUSED
    assert world.client.calls == calls and world.sb.deliveries(world.page) == []
    assert store_outbox.list_records(world.conn, page_id=world.page) == []


def test_10900_is_a_refusal_recorded_in_the_ledger_never_unknown(world: World) -> None:
    """Answered elsewhere after the last sync: Graph answers (#10900); the row is failed and
    refused (exit 6), never unknown, and the comment's private reply counts as used, so the
    next attempt is refused before any call."""
    _user, cid = world.comment("Late Sync")
    world.sync()
    world.sb.private_reply_elsewhere(cid, "answered in Business Suite")
    th = _thread(world, cid)
    out = _send(world, th, ReplyRequest(text="x", private=True))
    assert out.state == "refused" and out.error is not None
    assert out.error.exit_code == ExitCode.REFUSED
    assert out.error.reason == "private_reply_used"
    (rec,) = store_outbox.list_records(world.conn, page_id=world.page)
    assert rec.entry.state is OutboxState.FAILED and rec.entry.refused
    assert rec.entry.comment_id == cid
    assert store_outbox.private_reply_used(world.conn, cid)
    th = _thread(world, cid)
    assert window_for_conn(world.conn, th, world.now(), False).kind is WindowKind.PUBLIC
    calls = world.client.calls
    again = _send(world, th, ReplyRequest(text="x", private=True))
    assert again.error is not None and again.error.reason == Reason.PRIVATE_REPLY_USED
    assert world.client.calls == calls and world.sb.deliveries(world.page) == []


class _Refuse10903(httpx.BaseTransport):
    """The sandbox, except that a private reply answers Graph's (#10903) refusal."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/messages"):
            body = request.read().decode()
            if "comment_id" in body:
                self.refused += 1
                return httpx.Response(
                    400,
                    json={
                        "error": {
                            "message": "(#10903) This user can't reply to this activity",
                            "type": "OAuthException",
                            "code": 10903,
                            "error_subcode": 1893049,
                            "fbtrace_id": "AbC",
                        }
                    },
                )
        return self.inner.handle_request(request)


def test_10903_is_a_refusal_recorded_in_the_ledger(world: World) -> None:
    """(#10903) "This user can't reply to this activity": exit 6, the row failed and refused
    (never unknown), and the comment's private reply is not offered again (no second call)."""
    from socialdesk.api.client import GraphClient

    user, cid = world.comment("Cannot Receive")
    world.sync()
    refuse = _Refuse10903(world.sb.transport())
    world.client.close()
    world.client = GraphClient(
        world.token, transport=refuse, pace=False, sleep=lambda s: None, max_attempts=2
    )
    world.ctx._clients[world.page] = world.client
    th = _thread(world, cid)
    out = _send(world, th, ReplyRequest(text="x", private=True))
    assert out.state == "refused" and out.error is not None
    assert out.error.exit_code == ExitCode.REFUSED and out.error.reason == "private_reply_refused"
    (rec,) = store_outbox.list_records(world.conn, page_id=world.page)
    assert rec.entry.state is OutboxState.FAILED and rec.entry.refused
    assert window_for_conn(world.conn, _thread(world, cid), world.now(), False).kind is (
        WindowKind.PUBLIC
    )
    again = _send(world, _thread(world, cid), ReplyRequest(text="x", private=True))
    assert again.error is not None and again.error.reason == Reason.PRIVATE_REPLY_USED
    assert refuse.refused == 1 and world.sb.deliveries(world.page, user) == []


def test_the_thread_detail_names_the_comment_the_private_reply_answers(world: World) -> None:
    """What `show` and the inbox say `p` answers is the comment the send picks: Bob's reply,
    not Ann's top-level comment."""
    _, top, _, below = _two_commenters(world)
    detail = Inbox(world.ctx, world.conn, world.page_cfg).thread(_thread(world, top))
    assert [m.id for m in detail.reply_targets] == [below]
