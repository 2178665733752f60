"""The Instagram edges under faults, bad items and a kill: each sync ends, the edges fail on
their own with a cause, and a fault-free rerun equals a clean sync (nothing lost, no spurious
gap marker, the stored comment counts are Graph's)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.core import syncing
from socialdesk.errors import ExitCode
from socialdesk.paths import Paths
from socialdesk.store.db import open_db
from tests.support.dbdump import dump

from .conftest import IgWorld, make_ig_world


def _populate(w: IgWorld) -> None:
    for i in range(40):
        uid = w.sb.add_ig_user(f"buyer_{i}")
        for j in range(2 + i % 4):
            at = w.sb.now() - timedelta(hours=1 + i, minutes=10 - j)
            w.sb.add_message(w.page_id, uid, f"q{j} from {i}", at=at, from_page=j == 1)
    for m in range(8):
        mid = w.sb.add_ig_media(w.ig, f"post {m}", at=w.sb.now() - timedelta(days=2 + m))
        for c in range(3 + m * 9):
            w.sb.add_ig_comment(
                mid, w.jane, f"c{c}", at=w.sb.now() - timedelta(hours=30, minutes=c)
            )


def _clean(w: IgWorld, tmp: Path) -> sqlite3.Connection:
    d = tmp / "clean"
    other = IgWorld(
        w.sb, w.page_id, w.ig, w.token, Paths(d, d), open_db(d / "socialdesk.db"),
        w.jane, w.kuba, w.media,
    )  # fmt: skip
    other.discover()
    other.sync()
    return other.conn


def _ig_dump(conn: sqlite3.Connection) -> dict[str, Any]:
    out = dump(conn)
    out["gaps"] = conn.execute("SELECT thread_id, after_at, before_at FROM thread_gaps").fetchall()
    out["counts"] = conn.execute(
        "SELECT id, comments_total FROM posts WHERE kind = 'ig_media' ORDER BY id"
    ).fetchall()
    return out


@pytest.mark.parametrize(
    "faults",
    [
        "rate=0.3,kinds=500:2,1,613,timeout,malformed,dup-page,seed=2",
        "rate=0.3,kinds=wrong-types,html,error-200,seed=5",
    ],
)
def test_faulty_syncs_converge_to_a_clean_one(tmp_path: Path, faults: str) -> None:
    w = make_ig_world(tmp_path)
    _populate(w)
    w.sb.faults = faults
    for _ in range(2):
        report = w.sync()
        for edge in report.failed_edges:
            assert edge.error and edge.hint, edge
        assert syncing.exit_code(report) in (ExitCode.OK, ExitCode.PARTIAL, ExitCode.UNAVAILABLE)
        w.sb.advance(600)
    w.sb.faults = None
    w.sb.advance(60)
    w.sync()
    clean = _clean(w, tmp_path)
    assert _ig_dump(w.conn) == _ig_dump(clean)
    assert w.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class BadItems(httpx.BaseTransport):
    """Spoils one Instagram thread (null id) and one nested message (unreadable time)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if "platform=instagram" not in str(request.url):
            return response
        response.read()
        body = json.loads(response.content)
        data = body.get("data") or []
        if len(data) >= 2:
            data[0]["id"] = None
            nested = data[1].get("messages", {}).get("data", [])
            if nested:
                nested[0]["created_time"] = "yesterday-ish"
        return httpx.Response(response.status_code, json=body, headers={"X-Spoiled": "1"})


def test_bad_items_are_skipped_and_reported_the_rest_stored(igw: IgWorld) -> None:
    _populate(igw)
    report = igw.sync(BadItems(igw.sb.transport()))
    edge = igw.edge(report, "ig_conversations")
    assert edge.ok
    fields = {p.field for p in edge.problems}
    assert {"id", "created_time"} <= fields
    stored = igw.conn.execute("SELECT COUNT(*) FROM threads WHERE channel = 'ig_dm'").fetchone()[0]
    assert stored == 42 - 3  # 42 threads, the first of each of the 3 pages spoiled
    assert syncing.exit_code(report) is ExitCode.OK  # skipped items are warnings
    # A clean run afterwards heals: the watermark waited, the stale thread is read again.
    igw.sb.advance(60)
    igw.sync()
    clean = _clean(igw, igw.paths.data_dir.parent)
    assert _ig_dump(igw.conn)["messages"] == _ig_dump(clean)["messages"]


class KillAfter(httpx.BaseTransport):
    """Raises KeyboardInterrupt (a kill, for the database) after ``n`` Instagram requests."""

    def __init__(self, inner: httpx.BaseTransport, n: int) -> None:
        self.inner, self.n = inner, n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/conversations" in request.url.path and "platform=instagram" in str(request.url):
            self.n -= 1
            if self.n < 0:
                raise KeyboardInterrupt
        return self.inner.handle_request(request)


def test_a_sync_killed_mid_walk_resumes_without_loss(igw: IgWorld) -> None:
    _populate(igw)
    with pytest.raises(KeyboardInterrupt):
        igw.sync(KillAfter(igw.sb.transport(), 1))
    igw.sb.advance(60)
    igw.sync()
    clean = _clean(igw, igw.paths.data_dir.parent)
    assert _ig_dump(igw.conn) == _ig_dump(clean)
