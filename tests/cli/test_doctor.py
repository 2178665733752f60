"""doctor: every check reports ok/warn/fail truthfully, and the exit code follows."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.paths import resolve_paths
from tests.support.sandbox import SandboxEnv

runner = CliRunner()


def _doctor(*args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = runner.invoke(app, ["doctor", "--json", *args])
    doc = json.loads(result.stdout)
    assert doc["ok"] == (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in doc["checks"]}


def _login(env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALDESK_TOKEN")
    result = runner.invoke(app, ["auth", "login", "--token-stdin"], input=env.token + "\n")
    assert result.exit_code == 0, result.output


def _app_credentials(env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id, secret = env.sandbox.app_credentials()
    monkeypatch.setenv("SOCIALDESK_APP_ID", app_id)
    monkeypatch.setenv("SOCIALDESK_APP_SECRET", secret)


def test_healthy_setup_after_sync(sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """After login and a sync every check is ok: token (a Page token of this Page, checked with
    reads: the sandbox refuses debug_token with a Page token, as Graph does), each capability,
    page, syncs, integrity, modes; what needs the app token is said not checked, and why."""
    _login(sandbox_env, monkeypatch)
    assert runner.invoke(app, ["sync"]).exit_code == 0
    code, checks = _doctor()
    assert code == 0
    for name in (
        "token",
        "token valid",
        "page reachable",
        "messaging (DMs)",
        "comments",
        "rate limit",
        "database integrity",
        "config file permissions",
        "database file permissions",
        "token file permissions",
    ):
        assert checks[name]["status"] == "ok", checks[name]
    assert "scopes" not in checks
    assert checks["not checked"]["status"] == "warn"
    assert "app id and app secret" in checks["not checked"]["detail"]
    syncs = [c for n, c in checks.items() if n.startswith("last sync (")]
    assert syncs and all(c["status"] == "ok" for c in syncs)
    assert sandbox_env.token not in json.dumps(checks)


def test_with_the_app_id_and_secret_debug_token_checks_scopes_and_expiry(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the app id and secret, doctor asks debug_token with the app token: type, expiry
    and scopes are checked, nothing is left unchecked, and no secret is printed."""
    _login(sandbox_env, monkeypatch)
    _app_credentials(sandbox_env, monkeypatch)
    code, checks = _doctor()
    assert code == 0
    assert (
        checks["token valid"]["status"] == "ok" and "page token" in checks["token valid"]["detail"]
    )
    assert checks["scopes"]["status"] == "ok" and "not checked" not in checks
    _, secret = sandbox_env.sandbox.app_credentials()
    assert secret not in json.dumps(checks)


def test_never_synced_is_a_warning_not_a_failure(sandbox_env: SandboxEnv) -> None:
    """No database yet: a warning naming `socialdesk sync`, exit 0."""
    code, checks = _doctor()
    assert code == 0
    assert (
        checks["database"]["status"] == "warn" and "socialdesk sync" in checks["database"]["detail"]
    )
    assert checks["token"]["detail"].startswith("from env")


def test_invalid_token_fails_with_exit_3(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalidated token is a failed check and exit 3."""
    _login(sandbox_env, monkeypatch)
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    code, checks = _doctor()
    assert code == 3
    assert checks["token valid"]["status"] == "fail"
    assert "auth login" in checks["token valid"]["detail"]


def test_env_token_invalid_fails_at_page_discovery(sandbox_env: SandboxEnv) -> None:
    """With only an invalid SOCIALDESK_TOKEN the page cannot be discovered: exit 3."""
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    code, checks = _doctor()
    assert code == 3 and checks["page"]["status"] == "fail"


def test_missing_scopes_warn(sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing permission is a warning naming it: found by the capability read without the
    app token, and in the scopes with it."""
    token = sandbox_env.sandbox.issue_token(sandbox_env.page_id, scopes=["pages_read_engagement"])
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    code, checks = _doctor()
    assert code == 0
    assert checks["messaging (DMs)"]["status"] == "warn"
    assert "pages_messaging" in checks["messaging (DMs)"]["detail"]
    assert checks["comments"]["status"] == "ok"
    reads = sandbox_env.sandbox.issue_token(sandbox_env.page_id, scopes=["pages_messaging"])
    monkeypatch.setenv("SOCIALDESK_TOKEN", reads)
    code, checks = _doctor()
    assert checks["comments"]["status"] == "warn" and checks["messaging (DMs)"]["status"] == "ok"
    assert "pages_read_engagement" in checks["comments"]["detail"]
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    _app_credentials(sandbox_env, monkeypatch)
    code, checks = _doctor()
    assert code == 0
    assert checks["scopes"]["status"] == "warn"
    assert "pages_messaging" in checks["scopes"]["detail"]


def test_readable_token_file_fails(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token file others can read fails (exit 3) and names the chmod fix."""
    _login(sandbox_env, monkeypatch)
    os.chmod(resolve_paths().token_file, 0o644)
    code, checks = _doctor()
    assert code == 3
    assert checks["token"]["status"] == "fail"
    assert checks["token file permissions"]["status"] == "fail"
    assert "chmod 600" in checks["token file permissions"]["detail"]


def test_loose_database_mode_warns(sandbox_env: SandboxEnv) -> None:
    """A database readable by others is a warning."""
    assert runner.invoke(app, ["sync"]).exit_code == 0
    os.chmod(resolve_paths().db_file, 0o644)
    code, checks = _doctor()
    assert code == 0 and checks["database file permissions"]["status"] == "warn"


def test_failed_sync_is_reported(sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync that failed after a success is a warning naming the error."""
    _login(sandbox_env, monkeypatch)
    assert runner.invoke(app, ["sync"]).exit_code == 0
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    assert runner.invoke(app, ["sync"]).exit_code == 3
    code, checks = _doctor()
    assert code == 3
    failed = [c for n, c in checks.items() if n.startswith("last sync (") and c["status"] != "ok"]
    assert failed and "last run failed" in failed[0]["detail"]


def test_corrupt_database_fails() -> None:
    """A database file that is not SQLite fails the integrity check (exit 1)."""
    paths = resolve_paths()
    paths.ensure()
    paths.db_file.write_bytes(b"this is not a database" * 100)
    code, checks = _doctor()
    assert code == 1
    assert checks["database integrity"]["status"] == "fail"


def test_bad_config_fails() -> None:
    """A config error is reported as a failed check, not a crash."""
    paths = resolve_paths()
    paths.ensure()
    paths.config_file.write_text("[sync]\npol_seconds = 3\n")
    code, checks = _doctor()
    assert code == 1
    assert "unknown key 'sync.pol_seconds'" in checks["config"]["detail"]


def test_no_page_configured_fails() -> None:
    """Without config or token the page check fails and names `socialdesk init`."""
    code, checks = _doctor()
    assert code == 1 and "socialdesk init" in checks["page"]["detail"]


def test_human_output_is_plain(sandbox_env: SandboxEnv) -> None:
    """The table is printed without escape sequences when stdout is not a terminal."""
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "token valid" in result.stdout and "\x1b" not in result.stdout


def test_directory_modes_are_checked(sandbox_env: SandboxEnv) -> None:
    """A data directory others can read is a warning naming chmod 700; a 0700 one is ok."""
    assert runner.invoke(app, ["sync"]).exit_code == 0
    paths = resolve_paths()
    os.chmod(paths.data_dir, 0o755)
    code, checks = _doctor()
    check = checks["data directory permissions"]
    assert code == 0 and check["status"] == "warn" and "chmod 700" in check["detail"]
    os.chmod(paths.data_dir, 0o700)
    code, checks = _doctor()
    assert checks["data directory permissions"]["status"] == "ok"
    assert checks["locks directory permissions"]["status"] == "ok"


def test_doctor_names_the_token_storage(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a secure keyring, doctor says tokens are in the file, and the token check too."""
    _login(sandbox_env, monkeypatch)
    token_file = str(resolve_paths().token_file)
    _code, checks = _doctor()
    assert token_file in checks["keyring"]["detail"] and "no secure" in checks["keyring"]["detail"]
    assert checks["token"]["detail"] == f"from file {token_file}"


def test_doctor_shows_each_edge_with_cause_fix_and_the_watch_interval(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token without pages_messaging: sync exits 5; doctor shows the conversations edge
    failing since that run with Graph's cause, the fix and the exit code, the other edges ok,
    and the interval a watch would use with its reason."""
    token = sandbox_env.sandbox.issue_token(sandbox_env.page_id, scopes=["pages_read_engagement"])
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    assert runner.invoke(app, ["sync"]).exit_code == 5
    code, checks = _doctor()
    assert code == 1
    conv = checks["last sync (conversations)"]
    assert conv["status"] == "fail" and "never succeeded, failing since" in conv["detail"]
    assert "pages_messaging" in conv["detail"] and "fix:" in conv["detail"]
    assert "(exit 3)" in conv["detail"]
    assert checks["last sync (feed)"]["status"] == "ok"
    assert checks["last sync (reels)"]["status"] == "ok"
    watch = checks["watch interval"]
    assert watch["status"] == "ok" and re.match(r"\d+[smhd]", watch["detail"]), watch
    human = runner.invoke(app, ["doctor"])
    assert "watch interval" in human.stdout and "last sync (conversations)" in human.stdout


def test_probe_asks_the_live_page_and_prints_what_it_found(sandbox_env: SandboxEnv) -> None:
    """doctor --probe asks the twelve questions (the write-only ones say how to check by hand),
    sends nothing, and prints each answer; --json carries them under probes."""
    sb = sandbox_env.sandbox
    before = len(sb.deliveries(sandbox_env.page_id))
    code, _ = _doctor()
    result = runner.invoke(app, ["doctor", "--probe", "--json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == code == 0
    probes = {p["number"]: p for p in doc["probes"]}
    assert sorted(n for n in probes if n < 100) == list(range(1, 13))
    # The demo page has a linked Instagram account: its read-only questions are asked too.
    assert sorted(n for n in probes if n >= 100) == [101, 102, 109, 114]
    assert {probes[n]["status"] for n in (5, 6, 9)} == {"not_checked"}
    assert probes[7]["status"] == "as_assumed"  # the sandbox refuses debug_token with a Page token
    assert all(p["status"] != "error" for p in probes.values()), probes
    assert len(sb.deliveries(sandbox_env.page_id)) == before
    human = runner.invoke(app, ["doctor", "--probe"])
    assert human.exit_code == 0
    assert "as_assumed" in human.stdout and "not_checked" in human.stdout
    assert "none contradicts socialdesk" in human.stdout
