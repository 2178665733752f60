"""Nonsense from the API never hangs a sync or loses what is stored (issue 8 item 8, issue 12).

Each kind is injected by a wrapper around the in-process sandbox on the conversations listing:
an HTML error page (on 200 and on 502), a 200 carrying an error body, a JSON list for an object,
an over-large body, a ``next`` link to another host, and an endless chain of fresh cursors.
The sync finishes or its edge fails with a clear "try later" error (exit 4; 5 for the round),
the other edges sync, and one clean run then equals a clean sync.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.core import syncing
from socialdesk.errors import ExitCode
from socialdesk.sandbox import Sandbox
from tests.support.sync_world import World, db_threads, dump, make_world, populate, sandbox_threads

Mangle = Callable[[httpx.Request, httpx.Response, int], httpx.Response]


class _Nonsense(httpx.BaseTransport):
    """The sandbox transport; ``mangle`` rewrites the n-th conversations answer."""

    def __init__(self, sb: Sandbox, mangle: Mangle) -> None:
        self.inner = sb.transport()
        self.mangle = mangle
        self.n = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after", "").startswith("fresh"):
            # Our own fresh cursor: serve the first page again (Graph's cursors are opaque).
            request = httpx.Request(
                request.method, request.url.copy_remove_param("after"), headers=request.headers
            )
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/conversations"):
            return response
        self.n += 1
        return self.mangle(request, response, self.n)


def _html(status: int) -> Mangle:
    def mangle(req: httpx.Request, resp: httpx.Response, n: int) -> httpx.Response:
        return httpx.Response(
            status, text="<html><body>502 Bad Gateway</body></html>",
            headers={"content-type": "text/html"},
        )  # fmt: skip

    return mangle


def _body(obj: Any) -> Mangle:
    def mangle(req: httpx.Request, resp: httpx.Response, n: int) -> httpx.Response:
        return httpx.Response(200, json=obj)

    return mangle


def _huge(req: httpx.Request, resp: httpx.Response, n: int) -> httpx.Response:
    return httpx.Response(200, content=b" " * (17 * 1024 * 1024) + b"{}")


def _relink(make: Callable[[str, int], str]) -> Mangle:
    def mangle(req: httpx.Request, resp: httpx.Response, n: int) -> httpx.Response:
        body = json.loads(resp.read())
        body.setdefault("paging", {})["next"] = make(str(req.url), n)
        return httpx.Response(resp.status_code, json=body)

    return mangle


CASES: dict[str, Mangle] = {
    "html-200": _html(200),
    "html-502": _html(502),
    "error-in-200": _body({"error": {"code": 2, "message": "Service temporarily unavailable"}}),
    "list-body": _body([1, 2, 3]),
    "10mb-plus": _huge,
    "foreign-next": _relink(lambda url, n: "https://evil.example/v26.0/1/conversations?a=1"),
    "endless-next": _relink(lambda url, n: url.split("?")[0] + f"?after=fresh{n}&limit=100"),
}


@pytest.fixture(autouse=True)
def _short_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 30-page bound on conversation walks keeps the endless chain quick (it is the bound
    that is tested, not its size)."""
    from socialdesk.api import graph

    monkeypatch.setattr(graph, "CONVERSATION_MAX_PAGES", 30)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    populate(w.sb, w.page_id, convs=30, posts=4)
    yield w
    w.conn.close()


@pytest.mark.parametrize("kind", list(CASES))
def test_nonsense_on_conversations_fails_that_edge_clearly_and_the_next_sync_converges(
    world: World, kind: str
) -> None:
    """The conversations edge stops with exit 4 and a message; feed and Reels still sync."""
    world.sync()
    before = dump(world.conn)
    transport = _Nonsense(world.sb, CASES[kind])
    # A full sync: no watermark ends the walk early, so only the bounds can.
    report = world.sync(transport=transport, full=True)
    conv = report.edges[0]
    assert conv.edge == "conversations" and not conv.ok, conv
    assert conv.exit_code == ExitCode.UNAVAILABLE and conv.error and conv.hint
    assert all(e.ok for e in report.edges[1:])
    assert syncing.exit_code(report) is ExitCode.PARTIAL
    assert transport.n <= 40  # bounded: retries and the page bound, never endless
    assert world.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Nothing stored was lost, and a normal sync converges with a clean one.
    stored = {r[0] for r in world.conn.execute("SELECT id FROM messages")}
    assert {r[0] for r in before["messages"]} <= stored
    world.sync()
    clean = world.other_db("clean")
    clean.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    assert dump(world.conn) == dump(clean.conn)
