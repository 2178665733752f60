"""core.sync when the API's conversation order cannot be trusted (GRAPH_API.md decisions).

Conversations come newest first in practice, but that order is not documented: a conversation
may show up before newer ones, or reappear later in the walk with an older copy of itself. Sync
must neither stop early on such an item nor let a stale copy overwrite what is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.sandbox import Sandbox
from socialdesk.store import watermarks
from tests.support.sync_world import (
    IDLE_CALLS,
    World,
    db_threads,
    dump,
    make_world,
    populate,
    sandbox_threads,
)

Rewrite = Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]]


class _Reorder(httpx.BaseTransport):
    """Wraps the sandbox transport and rewrites the ``data`` of each conversations page.

    ``rewrite(n, data)`` gets the 0-based number of the conversations page in this client's walk.
    """

    def __init__(self, sb: Sandbox, rewrite: Rewrite) -> None:
        self.inner = sb.transport()
        self.rewrite = rewrite
        self.pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET" or not request.url.path.endswith("/conversations"):
            return response
        body = json.loads(response.read())
        body["data"] = self.rewrite(self.pages, list(body["data"]))
        self.pages += 1
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "etag", "content-encoding")
        }
        return httpx.Response(response.status_code, headers=headers, json=body)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.conn.close()


def _user_of(world: World, conv_id: str) -> str:
    return world.sb.state.conversations[conv_id].user_id


def _thread_row(world: World, conv_id: str) -> tuple[Any, ...]:
    return tuple(
        world.conn.execute(
            "SELECT last_message_at, last_inbound_at, awaiting_reply, message_count, snippet"
            " FROM threads WHERE id = ?",
            (conv_id,),
        ).fetchone()
    )


def test_old_conversation_listed_before_newer_ones_does_not_stop_the_walk(world: World) -> None:
    """An unchanged old conversation at the top of the list does not hide newer changes after it."""
    populate(world.sb, world.page_id, convs=30, posts=2)
    world.sync()
    convs = list(world.sb.state.pages[world.page_id].conversations)
    world.sb.advance(600)
    world.sb.add_message(world.page_id, _user_of(world, convs[3]), "where is my parcel?")
    world.sb.advance(60)

    def oldest_first(n: int, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The oldest conversation of the page is served first: out of order, unchanged.
        return [data[-1], *data[:-1]] if data else data

    world.sync(transport=_Reorder(world.sb, oldest_first))
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    awaiting = world.conn.execute(
        "SELECT awaiting_reply, snippet FROM threads WHERE id = ?", (convs[3],)
    ).fetchone()
    assert tuple(awaiting) == (1, "where is my parcel?")


def test_stale_copy_reappearing_later_in_the_walk_keeps_the_newest_state(world: World) -> None:
    """A conversation seen again further down, as it was before, changes nothing stored."""
    populate(world.sb, world.page_id, convs=150, posts=2)
    stale: dict[str, dict[str, Any]] = {}
    target = list(world.sb.state.pages[world.page_id].conversations)[120]

    def capture(n: int, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in data:
            if item["id"] == target:
                stale["copy"] = item
        return data

    world.sync(transport=_Reorder(world.sb, capture))
    assert "copy" in stale
    world.sb.advance(600)
    world.sb.add_message(world.page_id, _user_of(world, target), "hello again, any news?")
    world.sb.advance(60)
    fresh_world = world.other_db("fresh")
    fresh_world.sync()
    fresh = tuple(
        fresh_world.conn.execute(
            "SELECT last_message_at, last_inbound_at, awaiting_reply, message_count, snippet"
            " FROM threads WHERE id = ?",
            (target,),
        ).fetchone()
    )

    def reappear(n: int, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The fresh copy leads page 1; the old copy shows up again at the end of every page.
        return [*data, stale["copy"]] if data else data

    world.sync(transport=_Reorder(world.sb, reappear))
    assert _thread_row(world, target) == fresh
    wm_after_incremental = watermarks.get_watermark(world.conn, world.page_id, "conversations")
    world.sync(transport=_Reorder(world.sb, reappear), full=True)
    assert _thread_row(world, target) == fresh
    wm = watermarks.get_watermark(world.conn, world.page_id, "conversations")
    assert wm is not None and wm_after_incremental is not None
    assert wm.at == wm_after_incremental.at  # never moved backwards by the stale copy
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    assert dump(world.conn) == dump(fresh_world.conn)
    fresh_world.conn.close()


def test_reordered_pages_after_a_quiet_period_still_cost_no_extra_calls(world: World) -> None:
    """Processing the whole fetched page (not stopping mid-page) costs no additional call."""
    populate(world.sb, world.page_id, convs=30, posts=2)
    world.sync()
    world.sb.advance(timedelta(hours=1).total_seconds())
    world.sb.reset_counters()
    report = world.sync(transport=_Reorder(world.sb, lambda n, d: list(reversed(d))))
    assert report.calls == IDLE_CALLS
    assert report.conversations == 0
