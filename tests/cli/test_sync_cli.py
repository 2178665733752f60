"""``socialdesk sync`` against a loopback sandbox: summary line, --json, --watch, exit codes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.paths import resolve_paths
from socialdesk.store.lock import sync_lock
from tests.support.sandbox import SandboxEnv

runner = CliRunner()


def test_sync_prints_one_summary_line_and_a_second_sync_costs_four_calls(
    sandbox_env: SandboxEnv,
) -> None:
    """First sync imports and prints one line; the next one, with --json, makes ≤ 4 calls
    (inbox, the `other` folder, feed, Reels)."""
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "conversations" in lines[0] and "calls" in lines[0]
    result = runner.invoke(app, ["sync", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"page_id", "conversations", "messages", "calls", "duration_s", "skipped"}
    assert data["page_id"] == sandbox_env.page_id
    assert data["calls"] <= 4
    assert data["messages"] == 0 and data["skipped"] is False


def test_sync_full_rewalks(sandbox_env: SandboxEnv) -> None:
    """--full reads every conversation again and says so."""
    runner.invoke(app, ["sync"])
    result = runner.invoke(app, ["sync", "--full", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["full"] is True and data["conversations"] >= 12


def test_sync_with_a_rejected_token_exits_3_without_leaking_it(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalidated token: one error line with a hint, exit 3, no traceback, no token."""
    runner.invoke(app, ["sync"])
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    result = runner.invoke(app, ["sync", "--page", sandbox_env.page_id])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: ")
    assert "hint: " in result.stderr
    assert "Traceback" not in result.output
    assert sandbox_env.token not in result.output


def test_sync_watch_prints_a_line_per_round_and_stops_on_ctrl_c(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--watch SECONDS loops, one JSON line per round; Ctrl-C ends it with exit 0."""
    from socialdesk.cli import cmd_sync

    waits: list[float] = []

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cmd_sync, "_sleep", fake_sleep)
    result = runner.invoke(app, ["sync", "--watch", "7", "--json"])
    assert result.exit_code == 0, result.output
    rounds = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(rounds) == 2
    assert rounds[1]["calls"] <= 4
    assert waits == [7, 7]


def test_sync_seconds_without_watch_is_a_usage_error(sandbox_env: SandboxEnv) -> None:
    """A bare SECONDS argument without --watch is refused with exit 2."""
    result = runner.invoke(app, ["sync", "30"])
    assert result.exit_code == 2
    assert "--watch" in result.stderr


def test_sync_skips_with_a_message_while_another_sync_holds_the_lock(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second sync of the same page says it skipped and exits 7 (cron can tell it apart)."""
    from socialdesk.core import sync as core_sync

    real = core_sync.sync_page

    def quick(*args: object, **kwargs: object) -> object:
        kwargs["lock_wait_s"] = 0.05
        return real(*args, **kwargs)  # type: ignore[arg-type]

    # The round's own call (core.syncing imports sync_page by name).
    monkeypatch.setattr("socialdesk.core.syncing.sync_page", quick)
    with sync_lock(resolve_paths(), sandbox_env.page_id, wait_s=0) as held:
        assert held
        result = runner.invoke(app, ["sync"])
    assert result.exit_code == 7, result.output
    assert "skipped" in result.stdout


def test_token_and_proof_never_reach_the_database_logs_or_exports(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch, isolated_home: object, tmp_path: Path
) -> None:
    """After login, syncs (one failing), --debug logs and exports, no file or output holds them."""
    root = logging.getLogger()
    # --debug installs a root handler for the process; put logging back for the next tests.
    handlers, level = list(root.handlers), root.level
    try:
        _check_no_secret_anywhere(sandbox_env, monkeypatch, tmp_path)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _check_no_secret_anywhere(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sb: Any = sandbox_env.sandbox
    token = sandbox_env.token
    secret = "app-secret-for-the-proof"
    proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    sb.require_appsecret_proof(secret)
    monkeypatch.setenv("SOCIALDESK_APP_SECRET", secret)
    monkeypatch.delenv("SOCIALDESK_TOKEN")
    login = runner.invoke(
        app, ["auth", "login", "--page-id", sandbox_env.page_id, "--token-stdin"], input=token
    )
    assert login.exit_code == 0, login.output
    outputs = [login.output]
    for args in (["--debug", "sync"], ["sync", "--full", "--json"], ["list", "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout + result.stderr)
    outputs.append(runner.invoke(app, ["show", "1", "--json"]).stdout)
    sb.invalidate_token(token)
    failed = runner.invoke(app, ["--debug", "sync"])
    assert failed.exit_code == 3
    outputs.append(failed.stdout + failed.stderr)
    export = tmp_path / "state.jsonl"
    assert runner.invoke(app, ["state", "export", str(export)]).exit_code == 0
    paths = resolve_paths()
    files = [export] + [
        f
        for f in Path(paths.data_dir).rglob("*")
        if f.is_file() and paths.token_dir not in f.parents
    ]
    files += [paths.config_file]
    # The one place the token may be: the 0600 token file (proves the grep below can see it).
    assert any(token.encode() in f.read_bytes() for f in paths.token_dir.rglob("*") if f.is_file())
    assert any(f.name.startswith("socialdesk.db") for f in files)
    for secret_text in (token, proof, secret):
        needle = secret_text.encode()
        for f in files:
            assert needle not in f.read_bytes(), f"{f.name} holds a secret"
        for out in outputs:
            assert secret_text not in out


def test_rejected_env_token_hint_names_the_variable_not_auth_login(
    sandbox_env: SandboxEnv,
) -> None:
    """SOCIALDESK_TOKEN overrides the stored token, so its rejection names the variable."""
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 3
    assert "hint: the token comes from SOCIALDESK_TOKEN" in result.stderr
    assert len(result.stderr.splitlines()) == 2
