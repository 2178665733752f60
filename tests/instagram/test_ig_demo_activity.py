"""The demo's Instagram traffic: multilingual, a hostile customer, bursts of more than 20 DMs
(a gap for a client that polls slower) and deleted comments (``comments_count`` goes down)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from socialdesk.api.client import GraphClient
from socialdesk.core import instagram
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.models import SyncReport
from socialdesk.paths import Paths
from socialdesk.sandbox import Activity, Sandbox, build_demo
from socialdesk.sandbox.demo import IG_BURST_EVERY
from socialdesk.store.db import open_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _sync(sb: Sandbox, page: str, token: str, home: Path) -> SyncReport:
    conn = open_db(home / "socialdesk.db")
    with GraphClient(token, transport=sb.transport(), pace=False, sleep=sb.advance) as client:
        if instagram.stored_account(conn, page) is None:
            instagram.discover(conn, client, page, now=sb.now())
        report = sync_page(conn, client, page, paths=Paths(home, home), clock=FixedClock(sb.now()))
    conn.close()
    return report


def test_bursts_leave_gap_markers_and_deletions_lower_the_count() -> None:
    sb, page, token = build_demo(seed=4, now=NOW, rate_limit=False)
    home = Path(tempfile.mkdtemp(prefix="ig-demo-"))
    first = _sync(sb, page, token, home)
    assert first.errors == () and first.instagram["threads"] > 5
    deleted_before = sum(1 for c in sb.state.ig_comments.values() if c.deleted)
    act = Activity(sb, 1.0, seed=5)
    for _ in range(3 * IG_BURST_EVERY):  # one IG tick in three: a burst and a deletion
        sb.advance(1)
        act.tick()
    assert sum(1 for c in sb.state.ig_comments.values() if c.deleted) > deleted_before
    report = _sync(sb, page, token, home)
    assert report.errors == ()
    assert report.instagram["gaps"] >= 1
    assert report.instagram["media_reread"] >= 1
    conn = open_db(home / "socialdesk.db")
    rows = dict(conn.execute("SELECT id, comments_total FROM posts WHERE kind = 'ig_media'"))
    conn.close()
    for mid, stored in rows.items():
        graph = sum(
            1 for cid in sb.state.ig_media[mid].comments if not sb.state.ig_comments[cid].deleted
        )
        assert stored in (None, graph), mid  # the stored count is Graph's count
    assert any(v is not None for v in rows.values())
