"""core.health: the checks doctor prints, on a sandbox page."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.core import health
from socialdesk.core.context import AppContext
from socialdesk.errors import ExitCode
from socialdesk.sandbox import build_demo


def _checks(report: health.HealthReport) -> dict[str, health.Check]:
    return {c.name: c for c in report.checks}


def test_missing_config_and_the_graph_url_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No config file: a warning saying the defaults are in use and how to write one; the Graph
    base URL in use, and where it comes from."""
    sb, page_id, token = build_demo(seed=3, threads=3)
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    monkeypatch.setenv("SOCIALDESK_GRAPH_URL", "http://127.0.0.1:9")
    home = tmp_path / "h"
    home.mkdir()
    ctx = AppContext.open(home, transport=sb.transport())
    report = health.run_checks(ctx, None)
    checks = _checks(report)
    assert checks["config"].status == "warn" and "does not exist" in checks["config"].detail
    assert "socialdesk init" in checks["config"].detail
    graph = checks["graph API"]
    assert graph.status == "ok" and "http://127.0.0.1:9" in graph.detail
    assert "SOCIALDESK_GRAPH_URL" in graph.detail
    assert checks["page"].detail.endswith(f"({page_id})")
    assert report.exit_code is ExitCode.OK


def test_edge_states_for_the_header(tmp_path: Path) -> None:
    """edge_states: one per edge synced, newest run first, with the last success."""
    from datetime import UTC, datetime

    from socialdesk.store.db import open_db, transaction
    from socialdesk.store.watermarks import record_sync

    conn = open_db(tmp_path / "db.sqlite")
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(conn):
        record_sync(conn, "1", "feed", started_at=t, finished_at=t, ok=True, calls=1)
        record_sync(conn, "1", "conversations", started_at=t, finished_at=t, ok=False, calls=1,
                    error="throttled")  # fmt: skip
    states = {s.edge: s for s in health.edge_states(conn, "1")}
    assert states["feed"].ok and states["feed"].last_ok_at == t
    assert not states["conversations"].ok and states["conversations"].error == "throttled"
    assert health.headroom(None) is None


def test_current_usage_falls_back_to_fresh_logged_headers(tmp_path: Path) -> None:
    """Before its first call a front end shows the headroom a sync logged within the hour;
    older headers say nothing about now, and live headers always win."""
    from datetime import UTC, datetime, timedelta

    from socialdesk.models import RateUsage
    from socialdesk.store.db import open_db, transaction
    from socialdesk.store.watermarks import record_sync

    conn = open_db(tmp_path / "db.sqlite")
    t = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    logged = RateUsage(call_count=30)
    with transaction(conn):
        record_sync(conn, "1", "conversations", started_at=t, finished_at=t, ok=True, calls=2,
                    usage=logged)  # fmt: skip
    assert health.current_usage(conn, "1", None, now=t + timedelta(minutes=59)) == logged
    assert health.headroom(health.current_usage(conn, "1", None, now=t)) == 70
    assert health.current_usage(conn, "1", None, now=t + timedelta(minutes=61)) is None
    live = RateUsage(call_count=5)
    assert health.current_usage(conn, "1", live, now=t + timedelta(hours=5)) is live
    assert health.current_usage(conn, "2", None, now=t) is None
