"""`show` and `list` agree on an expired snooze: both report the thread as open."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.models import Conversation, Direction, Message, Person, Status
from socialdesk.paths import resolve_paths
from socialdesk.store import cache, triage
from socialdesk.store.db import open_db, transaction

runner = CliRunner()


def _snoozed_db(isolated_home: Path, until: timedelta) -> None:
    paths = resolve_paths(str(isolated_home))
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig(name="shop", id="123")))
    now = datetime.now(UTC)
    ann = Person("u1", "Ann")
    conv = Conversation(
        "t_1",
        "123",
        now - timedelta(hours=3),
        ann,
        (Message("m1", "t_1", Direction.IN, ann, "hello", now - timedelta(hours=3)),),
    )
    conn = open_db(paths.db_file)
    try:
        with transaction(conn):
            cache.upsert_conversations(conn, "123", [conv], now=now)
            triage.set_status(
                conn,
                "t_1",
                Status.SNOOZED,
                now=now - timedelta(hours=2),
                snoozed_until=now + until,
            )
    finally:
        conn.close()


def _status(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return (data["threads"][0] if "threads" in data else data)["status"]


def test_show_json_of_an_expired_snooze_says_open(isolated_home: Path) -> None:
    """A snooze that ran out an hour ago: `show --json` says open, as `list --json` does."""
    _snoozed_db(isolated_home, -timedelta(hours=1))
    assert _status("list") == "open"
    assert _status("show", "#1") == "open"


def test_show_json_of_a_running_snooze_says_snoozed(isolated_home: Path) -> None:
    """A snooze still running reads as snoozed in `show --json`."""
    _snoozed_db(isolated_home, timedelta(hours=1))
    assert _status("show", "#1") == "snoozed"
