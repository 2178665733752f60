"""Outbox acceptance checks (issue 4): durable intent before the call, every ambiguous outcome
kept ``unknown`` and never resent, and absence only proven by a read-back that covers the send."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk.api.client import GraphClient
from socialdesk.core import outbox as core
from socialdesk.models import OutboxState
from socialdesk.store import outbox as store
from tests.support.outbox_world import World


class HookedTransport(httpx.BaseTransport):
    """The sandbox transport with a hook run on every POST before (``before``) and after it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.before: Callable[[httpx.Request], None] | None = None
        self.after: Callable[[httpx.Request, httpx.Response], httpx.Response] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and self.before is not None:
            self.before(request)
        response = self.inner.handle_request(request)
        if request.method == "POST" and self.after is not None:
            response.read()
            return self.after(request, response)
        return response


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


@pytest.fixture
def hooked(tmp_path: Path) -> Iterator[tuple[World, HookedTransport]]:
    w = World(tmp_path)
    transport = HookedTransport(w.sb.transport())
    w.client.close()
    w.client = GraphClient(
        w.token, transport=transport, pace=False, sleep=lambda s: None, max_attempts=2
    )
    yield w, transport
    w.close()


def test_intent_committed_durably_before_the_http_call(
    hooked: tuple[World, HookedTransport], tmp_path: Path
) -> None:
    """When the send request leaves, another connection already sees the row `sending` (FULL)."""
    world, transport = hooked
    user = world.dm("Dora Durable")
    world.sync()
    seen: list[tuple[str, int | None]] = []

    def before(_req: httpx.Request) -> None:
        other = sqlite3.connect(world.paths.db_file)
        try:
            seen.extend(other.execute("SELECT state, started_at FROM outbox").fetchall())
        finally:
            other.close()

    transport.before = before
    trace: list[str] = []
    world.conn.set_trace_callback(trace.append)
    (rec,) = world.send(world.thread_of(user), "Hi Dora")
    world.conn.set_trace_callback(None)
    assert rec.entry.state is OutboxState.SENT
    assert len(seen) == 1 and seen[0][0] == "sending" and seen[0][1] is not None
    # Both commits before the call (queue, then sending) ran with synchronous = FULL.
    statements = [s.strip().upper() for s in trace]
    commits = [i for i, s in enumerate(statements) if s == "COMMIT"]
    assert len(commits) >= 2
    for c in commits[:2]:
        last_sync = max(i for i in range(c) if statements[i].startswith("PRAGMA SYNCHRONOUS"))
        assert statements[last_sync] == "PRAGMA SYNCHRONOUS = FULL"


def _lose_response(exc: type[httpx.TransportError]) -> Callable[..., httpx.Response]:
    def after(req: httpx.Request, _resp: httpx.Response) -> httpx.Response:
        raise exc("connection reset by peer", request=req)

    return after


def _invalid_reply(req: httpx.Request, _resp: httpx.Response) -> httpx.Response:
    # 200 OK but no message id: the request was processed, the answer is unusable.
    return httpx.Response(200, json={"recipient_id": "x"}, request=req)


def _graph_error(status: int, code: int) -> Callable[..., httpx.Response]:
    def after(req: httpx.Request, _resp: httpx.Response) -> httpx.Response:
        body = {"error": {"message": "An unexpected error", "code": code, "is_transient": True}}
        return httpx.Response(status, json=body, request=req)

    return after


def _html_502(req: httpx.Request, _resp: httpx.Response) -> httpx.Response:
    return httpx.Response(502, text="<html>Bad Gateway</html>", request=req)


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(_lose_response(httpx.ReadError), id="reset-after-processing"),
        pytest.param(_lose_response(httpx.RemoteProtocolError), id="protocol-error"),
        pytest.param(_lose_response(httpx.ReadTimeout), id="timeout"),
        pytest.param(_invalid_reply, id="invalid-reply"),
        pytest.param(_html_502, id="gateway-502"),
        pytest.param(_graph_error(500, 2), id="code-2"),
        pytest.param(_graph_error(500, 1200), id="code-1200-temporary-send-failure"),
        pytest.param(_graph_error(500, 1), id="code-1-unknown-error"),
    ],
)
def test_ambiguous_outcomes_unknown_then_found_not_resent(
    hooked: tuple[World, HookedTransport], after: Callable[..., httpx.Response]
) -> None:
    """Delivered but the answer was lost: `unknown` (exit 4), then read-back → `sent`, 1 copy."""
    world, transport = hooked
    user = world.dm("Amy Ambiguous")
    world.sync()
    transport.after = after
    with pytest.raises(core.SendUnknown) as exc:
        world.send(world.thread_of(user), "On it, Amy")
    transport.after = None
    assert int(exc.value.exit_code) == 4
    (rec,) = store.list_records(world.conn)
    assert rec.entry.state is OutboxState.UNKNOWN
    for _ in range(2):  # a second start-up must not resend either
        core.startup(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    rec = store.get(world.conn, rec.entry.id)
    assert rec.entry.state is OutboxState.SENT
    assert [d.text for d in world.sb.deliveries(world.page, user)] == ["On it, Amy"]


def test_transient_refusal_unknown_never_auto_resent(world: World) -> None:
    """A 5xx before processing → unknown; start-ups prove it absent but never resend it."""
    user = world.dm("Tess Transient")
    world.sync()
    th = world.thread_of(user)
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(th, "hello Tess")
    world.sb.faults = None
    for _ in range(3):
        core.startup(world.conn, world.client, world.page, now=world.clock.now(), settle_s=0)
    assert world.sb.deliveries(world.page, user) == []
    (rec,) = store.list_records(world.conn)
    assert rec.entry.state is OutboxState.UNKNOWN and rec.absent_at is not None


def test_absence_needs_a_read_back_covering_the_send(world: World) -> None:
    """A busy conversation whose newest page starts after the send proves nothing: stays pending."""
    user = world.dm("Bea Busy", ago=timedelta(minutes=30))
    world.sync()
    th = world.thread_of(user)
    world.sb.faults = "rate=1.0,kinds=timeout"  # delivered, answer lost
    with pytest.raises(core.SendUnknown):
        world.send(th, "Thanks Bea")
    world.sb.faults = None
    # 60 more messages arrive after the send: it is no longer in the newest 50.
    start = world.now()
    for i in range(60):
        world.sb.add_message(world.page, user, f"msg {i}", at=start + timedelta(seconds=i + 1))
    later = world.clock.now() + timedelta(minutes=5)
    rep = core.reconcile(world.conn, world.client, world.page, now=later, settle_s=0)
    assert (rep.found, rep.absent, rep.pending) == (0, 0, 1)
    (rec,) = store.list_records(world.conn)
    assert rec.entry.state is OutboxState.UNKNOWN and rec.absent_at is None
    assert len(world.sb.deliveries(world.page, user)) == 1


def test_absence_proven_on_a_short_conversation(world: World) -> None:
    """A conversation read back whole (fewer than a page) proves the message absent."""
    user = world.dm("Sid Short")
    world.sync()
    world.sb.faults = "rate=1.0,kinds=500:2"
    with pytest.raises(core.SendUnknown):
        world.send(world.thread_of(user), "hi Sid")
    world.sb.faults = None
    later = world.clock.now() + timedelta(minutes=5)
    rep = core.reconcile(world.conn, world.client, world.page, now=later, settle_s=0)
    assert rep.absent == 1
