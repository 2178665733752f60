"""Acting on Instagram threads through the outbox: DM windows, the 1,000-byte cap before
queueing, public replies via ``/replies``, the one private reply, ``hide``, and read-back
reconciliation within the 20-message horizon (an ambiguous send is never sent twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk.config import Config, PageConfig
from socialdesk.core import outbox, replying, triage
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.errors import Reason
from socialdesk.models import Channel, OutboxState, SendKind, Thread
from socialdesk.store import outbox as store_outbox
from socialdesk.store import threads as store_threads

from .conftest import IgWorld, make_ig_world


class Acting:
    """An Instagram world with an application context over the same sandbox."""

    def __init__(self, w: IgWorld, transport: httpx.BaseTransport | None = None) -> None:
        self.w = w
        self.page = PageConfig(name="acme", id=w.page_id)
        self.client = w.client(transport)
        ctx = AppContext(
            w.paths, Config().with_page(self.page), FixedClock(w.sb.now()), transport=None
        )
        ctx._clients[w.page_id] = self.client
        self.ctx = ctx

    def thread(self, channel: Channel, who: str | None = None) -> Thread:
        found = store_threads.list_threads(
            self.w.conn, f"is:{channel.value}", page_id=self.w.page_id, now=self.w.sb.now(),
            limit=None,
        )  # fmt: skip
        for th in found:
            if who is None or th.customer.username == who:
                return th
        raise AssertionError(f"no {channel} thread of {who}")

    def reply(self, th: Thread, text: str, **kw: object) -> replying.ReplyOutcome:
        req = replying.ReplyRequest(text=text, **kw)  # type: ignore[arg-type]
        return replying.send(self.ctx, self.w.conn, self.page, th, req)


@pytest.fixture
def act(tmp_path: Path) -> Iterator[Acting]:
    w = make_ig_world(tmp_path)
    w.sync()
    a = Acting(w)
    yield a
    a.client.close()
    w.conn.close()


def test_dm_reply_goes_through_the_outbox_and_reads_back(act: Acting) -> None:
    th = act.thread(Channel.IG_DM, "jane.doe")
    out = act.reply(th, "Tak, mamy rozmiar M 🧶")
    assert out.state == "sent"
    assert out.kind is SendKind.DM_RESPONSE
    (delivery,) = act.w.sb.deliveries(act.w.page_id, act.w.jane)
    assert delivery.text == "Tak, mamy rozmiar M 🧶"
    act.w.sync()
    msgs = store_threads.get_messages(act.w.conn, th.id)
    assert msgs[-1].id == out.entries[0].message_id
    assert msgs[-1].direction.value == "out"
    assert sum(1 for m in msgs if m.text == "Tak, mamy rozmiar M 🧶") == 1


def test_1000_bytes_is_refused_before_queueing(act: Acting) -> None:
    th = act.thread(Channel.IG_DM, "jane.doe")
    text = "ż" * 501  # 501 characters, 1,002 bytes
    out = act.reply(th, text)
    assert out.state == "refused"
    assert out.error is not None and out.error.reason == Reason.TEXT_TOO_LONG
    assert "bytes" in (out.reason or "")
    assert store_outbox.list_records(act.w.conn, page_id=act.w.page_id) == []
    assert act.w.sb.deliveries(act.w.page_id) == []
    split = act.reply(th, text, split=True)
    assert split.state == "sent"
    assert [len(d.text.encode()) <= 1000 for d in act.w.sb.deliveries(act.w.page_id)] == [
        True,
        True,
    ]


def test_closed_window_is_refused_and_nothing_sent(act: Acting) -> None:
    act.w.sb.advance(25 * 3600)
    act.ctx = AppContext(act.w.paths, act.ctx.config, FixedClock(act.w.sb.now()), transport=None)
    act.ctx._clients[act.w.page_id] = act.client
    th = act.thread(Channel.IG_DM, "kuba_knits")
    out = act.reply(th, "Hello!")
    assert out.state == "refused"
    assert out.error is not None and out.error.reason == Reason.WINDOW_CLOSED
    assert act.w.sb.deliveries(act.w.page_id) == []


def test_public_reply_goes_to_replies_of_the_top_level_comment(act: Acting) -> None:
    th = act.thread(Channel.IG_COMMENT, "jane.doe")
    act.w.sb.reset_counters()
    out = act.reply(th, "Dziękujemy!")
    assert out.state == "sent" and out.kind is SendKind.COMMENT_PUBLIC
    assert act.w.sb.calls_by_edge == {"POST ig replies": 1}
    new_id = out.entries[0].message_id
    assert new_id is not None
    new = act.w.sb.ig_comment(new_id)
    assert new.parent_id == th.id


def test_private_reply_once(act: Acting) -> None:
    th = act.thread(Channel.IG_COMMENT, "jane.doe")
    first = act.reply(th, "Sent you the details", private=True)
    assert first.state == "sent" and first.kind is SendKind.COMMENT_PRIVATE
    th = act.thread(Channel.IG_COMMENT, "jane.doe")
    second = act.reply(th, "And again", private=True)
    assert second.state == "refused"
    assert second.error is not None and second.error.reason == Reason.PRIVATE_REPLY_USED
    assert len(act.w.sb.deliveries(act.w.page_id)) == 1


def test_hide_uses_hide_and_blocks_public_replies(act: Acting) -> None:
    th = act.thread(Channel.IG_COMMENT, "jane.doe")
    res = triage.set_hidden(act.w.conn, act.client, th, True, now=act.w.sb.now())
    assert res.outcomes[0].thread.is_hidden
    assert act.w.sb.ig_comment(th.id).hidden
    hidden = act.thread(Channel.IG_COMMENT, "jane.doe")
    out = act.reply(hidden, "hi")
    assert out.state == "refused"
    assert out.error is not None and out.error.reason == Reason.IG_REPLY_TO_HIDDEN
    triage.set_hidden(act.w.conn, act.client, hidden, False, now=act.w.sb.now())
    assert not act.w.sb.ig_comment(th.id).hidden


class TimeoutAfterSend(httpx.BaseTransport):
    """Lets the request reach the sandbox, then loses the answer (the send really happened)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.armed = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.armed and request.method == "POST" and request.url.path.endswith("/messages"):
            self.armed = False
            raise httpx.ReadTimeout("lost", request=request)
        return response


def _ambiguous(tmp_path: Path) -> tuple[Acting, Thread, int]:
    w = make_ig_world(tmp_path)
    w.sync()
    transport = TimeoutAfterSend(w.sb.transport())
    a = Acting(w, transport)
    th = a.thread(Channel.IG_DM, "jane.doe")
    out = a.reply(th, "Your order ships today")
    assert out.state == "unknown"
    (rec,) = store_outbox.list_records(w.conn, page_id=w.page_id)
    assert rec.entry.state is OutboxState.UNKNOWN
    return a, th, rec.entry.id


def test_ambiguous_send_is_found_by_the_read_back(tmp_path: Path) -> None:
    a, _th, oid = _ambiguous(tmp_path)
    report = outbox.reconcile(a.w.conn, a.client, a.w.page_id, now=a.w.sb.now(), settle_s=0)
    assert report.found == 1
    assert store_outbox.get(a.w.conn, oid).entry.state is OutboxState.SENT
    assert len(a.w.sb.deliveries(a.w.page_id)) == 1


def test_ambiguous_send_beyond_the_20_message_horizon_stays_unknown(tmp_path: Path) -> None:
    a, _th, oid = _ambiguous(tmp_path)
    for i in range(25):
        a.w.sb.add_message(
            a.w.page_id, a.w.jane, f"more {i}", at=a.w.sb.now() + timedelta(seconds=1 + i)
        )
    a.w.sb.advance(3600)
    report = outbox.reconcile(a.w.conn, a.client, a.w.page_id, now=a.w.sb.now(), settle_s=0)
    assert report.found == 0 and report.absent == 0 and report.pending == 1
    rec = store_outbox.get(a.w.conn, oid)
    assert rec.entry.state is OutboxState.UNKNOWN
    assert not outbox.can_resend(rec) or rec.absent_at is None
    assert len(a.w.sb.deliveries(a.w.page_id)) == 1
