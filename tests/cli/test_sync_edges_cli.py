"""``socialdesk sync`` output for per-edge failures, skipped items, waits and ``--watch``.

A failed edge gets its own ``error:``/``hint:`` pair and exit 5 when others synced; waits are one
stderr line each (reason and duration) even when stderr is not a terminal; ``--watch`` lines
carry UTC timestamps and each round says when the next one runs and why.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from tests.support.sandbox import SandboxEnv

runner = CliRunner()
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def _sb(env: SandboxEnv) -> Any:
    return env.sandbox


def test_a_failed_edge_is_named_with_its_fix_and_the_sync_exits_5(sandbox_env: SandboxEnv) -> None:
    """Without Advanced Access conversations fail (1/99); comments sync; exit 5, not 0."""
    _sb(sandbox_env).set_advanced_access(sandbox_env.page_id, False)
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 5, result.output
    assert "failed: conversations" in result.stdout
    lines = result.stderr.splitlines()
    assert any(line.startswith("error: conversations: Graph API error #1/99") for line in lines)
    assert any(line.startswith("hint: ") and "Advanced Access" in line for line in lines)
    data = json.loads(runner.invoke(app, ["sync", "--json"]).stdout)
    assert data["exit_code"] == 5
    edges = {e["edge"]: e for e in data["edges"]}
    assert edges["conversations"]["status"] == "failed"
    assert edges["conversations"]["reason"] == "advanced_access"
    assert edges["feed"]["status"] == "ok" and edges["reels"]["status"] == "ok"


def test_every_edge_failing_the_same_way_is_one_error(sandbox_env: SandboxEnv) -> None:
    """An invalid token: one error line and one hint, exit 3 (not one pair per edge)."""
    runner.invoke(app, ["sync"])
    _sb(sandbox_env).invalidate_token(sandbox_env.token)
    result = runner.invoke(app, ["sync", "--page", sandbox_env.page_id])
    assert result.exit_code == 3
    assert len(result.stderr.splitlines()) == 2


def test_waits_are_printed_on_stderr_even_when_it_is_not_a_terminal(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throttle with a regain estimate: one 'waiting …' line with reason and duration."""
    from socialdesk.api import client as client_module
    from socialdesk.api.errors import Throttled

    slept: list[float] = []
    thrown: list[bool] = []
    real_init = client_module.GraphClient.__init__
    real_attempt = client_module.GraphClient._attempt

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["sleep"] = slept.append
        real_init(self, *args, **kwargs)

    def attempt(self: Any, method: str, url: str, *rest: Any) -> Any:
        if url.endswith("/conversations") and not thrown:
            thrown.append(True)
            return Throttled("rate limited by the Graph API (#80006)", code=80006, retry_after=90)
        return real_attempt(self, method, url, *rest)

    monkeypatch.setattr(client_module.GraphClient, "__init__", init)
    monkeypatch.setattr(client_module.GraphClient, "_attempt", attempt)
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    waits = [line for line in result.stderr.splitlines() if line.startswith("waiting ")]
    assert waits == ["waiting 90 s: throttled: regain access (80006): attempt 2 [conversations]"]
    assert 90 in slept


def test_watch_lines_carry_timestamps_and_say_when_the_next_round_runs(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round: a stamped summary and a stamped 'next round in … (reason)' line."""
    from socialdesk.cli import cmd_sync

    waits: list[float] = []

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cmd_sync, "_sleep", fake_sleep)
    monkeypatch.setattr(cmd_sync, "_now", lambda: datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    result = runner.invoke(app, ["sync", "--watch", "30"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4 and all(STAMP.match(line) for line in lines)
    assert lines[0].startswith("2026-11-20T09:30:00Z ") and "synced" in lines[0]
    assert "next round in 30 s" in lines[1] and "(" in lines[1]
    assert waits == [30, 30]


def test_watch_json_lines_carry_the_next_interval(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--watch --json: each JSON line has next.seconds and next.reason."""
    from socialdesk.cli import cmd_sync

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cmd_sync, "_sleep", stop)
    result = runner.invoke(app, ["sync", "--watch", "45", "--json"])
    [line] = result.stdout.strip().splitlines()
    data = json.loads(line)
    assert data["next"]["seconds"] == 45 and data["next"]["reason"]
    assert data["next"]["stop"] is False and data["exit_code"] == 0
