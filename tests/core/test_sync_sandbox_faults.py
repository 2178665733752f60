"""The sandbox's nonsense fault kinds (issue 12) against a whole sync, then a clean run.

HTML proxy pages, errors inside a 200, wrong types (null ids, numbers for strings, objects for
lists), a big body (1 MB in one text field: ten times any field's limit, under the 16 MB read
cap; the sandbox's own tests make the 10 MB one), a streamed body over the cap, ``next`` links
to another host, endless cursor chains, heavy pages that time out, and a body dripping one byte
every 5 s: each sync finishes or its edges fail as "unavailable, try later" (exit 4) within
their bounds, bad items are reported not fatal, and one clean run then equals a clean sync.

As in test_sync_faults.py, the listings start at a quarter of the client's page sizes over a
quarter of the conversations (the same walks and fault draws, a quarter of the work a page);
``heavy`` scales its threshold the same way, so the same listings count as heavy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from socialdesk.api.client import GraphClient
from socialdesk.core import syncing
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.errors import ExitCode
from socialdesk.models import SyncReport
from socialdesk.sandbox.transport import SandboxTransport
from tests.api.conftest import FakeTime
from tests.support.sync_world import World, db_threads, dump, make_world, populate, sandbox_threads

QUARTER_PAGES = {"conversations": 25, "feed": 25}
EXTRA = {"big-body": ",big=1", "huge-body": ",huge=40", "heavy": ",heavy=250"}
"""Per kind: 1 MB (see above); 40 MB is past the cap without streaming 300; heavy is
``limit`` × nested limit above 1000 at 100 a page, so above 250 at 25."""

KINDS = [
    "html",
    "error-200",
    "wrong-types",
    "big-body",
    "huge-body",
    "foreign-next",
    "endless",
    "heavy",
]


@pytest.fixture(autouse=True)
def _short_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small page bounds keep endless chains quick (the bound is what is tested)."""
    from socialdesk.api import graph

    monkeypatch.setattr(graph, "CONVERSATION_MAX_PAGES", 20)
    monkeypatch.setattr(graph, "FEED_MAX_PAGES", 10)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    w.page_sizes.update(QUARTER_PAGES)
    populate(w.sb, w.page_id, convs=40, posts=12, long_every=10, busy_every=6)
    yield w
    w.conn.close()


def _check(report: SyncReport) -> None:
    for edge in report.failed_edges:
        assert edge.exit_code == ExitCode.UNAVAILABLE, edge
        assert edge.error and edge.hint
    assert syncing.exit_code(report) in (ExitCode.OK, ExitCode.PARTIAL, ExitCode.UNAVAILABLE)


@pytest.mark.parametrize("kind", KINDS)
def test_sync_under_nonsense_converges_to_a_clean_run(world: World, kind: str) -> None:
    """Under one kind of nonsense sync ends cleanly; a fault-free rerun equals a clean run."""
    world.sb.faults = f"rate=0.3,kinds={kind},seed=4{EXTRA.get(kind, '')}"
    _check(world.sync())
    world.sb.advance(3600)
    world.sb.add_message(world.page_id, world.sb.add_user("Late"), "hello?")
    _check(world.sync())
    world.sb.faults = None
    world.sb.advance(60)
    world.sync()
    clean = world.other_db("clean")
    clean.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    assert dump(world.conn) == dump(clean.conn)
    assert world.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_dripping_body_stops_at_the_request_deadline_and_sync_moves_on(world: World) -> None:
    """One byte every 5 s: each read is quick, the whole is not; the edge fails with exit 4."""
    fake = FakeTime()
    world.sb.faults = "rate=1,kinds=drip,drip=5,seed=1"
    transport = SandboxTransport(world.sb, sleep=fake.sleep)
    client = GraphClient(
        world.token,
        transport=transport,
        pace=False,
        sleep=fake.sleep,
        monotonic=fake.monotonic,
        request_deadline=60,
        max_attempts=2,
    )
    report = sync_page(
        world.conn, client, world.page_id, paths=world.paths, clock=FixedClock(world.sb.now())
    )
    conv, feed, _ = report.edges
    assert not conv.ok and not feed.ok  # their bodies are long enough to drip past 60 s
    assert all(e.exit_code == ExitCode.UNAVAILABLE for e in report.failed_edges)
    assert all(e.reason == "timeout" for e in report.failed_edges), report.edges
    assert fake.now - 1000.0 < 3 * 2 * 70  # three edges, two attempts each, ~60 s per attempt
    world.sb.faults = None
    world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
