"""init, auth login/status/logout and pages against a real loopback sandbox."""

from __future__ import annotations

import json
import stat
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import load_config
from socialdesk.paths import resolve_paths
from tests.support.sandbox import SandboxEnv

runner = CliRunner()


@pytest.fixture
def env(sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch) -> SandboxEnv:
    """The sandbox, but without SOCIALDESK_TOKEN: tokens come from login."""
    monkeypatch.delenv("SOCIALDESK_TOKEN")
    return sandbox_env


def _login(env: SandboxEnv, *extra: str, token: str | None = None) -> Any:
    return runner.invoke(
        app, ["auth", "login", "--token-stdin", *extra], input=(token or env.token) + "\n"
    )


def test_init_non_interactive_writes_config_and_0600_token(env: SandboxEnv) -> None:
    """init --page-id --token-stdin validates, names the page, writes config and token."""
    result = runner.invoke(
        app, ["init", "--page-id", env.page_id, "--token-stdin"], input=env.token + "\n"
    )
    assert result.exit_code == 0, result.output
    paths = resolve_paths()
    cfg = load_config(paths)
    assert cfg.default_page is not None
    assert cfg.page().id == env.page_id
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert json.loads(paths.token_file.read_text())["pages"][env.page_id] == env.token
    assert env.token not in result.output and env.token not in paths.config_file.read_text()


def test_init_interactive_prompts_with_hidden_token(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, init asks for the page id and the token; the token is not echoed."""
    monkeypatch.setattr("socialdesk.cli.cmd_auth.stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["init"], input=f"{env.page_id}\n{env.token}\nAsia/Tokyo\n")
    assert result.exit_code == 0, result.output
    assert "Page id" in result.output and env.token not in result.output
    assert "Timezone" in result.output
    cfg = load_config(resolve_paths())
    assert cfg.page().id == env.page_id and cfg.stats.timezone == "Asia/Tokyo"


def test_init_takes_the_timezone_and_defaults_to_the_systems(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """init --timezone sets stats.timezone (an unknown one is exit 2, nothing written); without
    it, the system's zone is used."""
    args = ["init", "--page-id", env.page_id, "--token-stdin"]
    bad = runner.invoke(app, [*args, "--timezone", "Mars/Olympus"], input=env.token + "\n")
    assert bad.exit_code == 2 and not resolve_paths().config_file.exists()
    monkeypatch.setenv("TZ", "America/Chicago")
    assert runner.invoke(app, args, input=env.token + "\n").exit_code == 0
    assert load_config(resolve_paths()).stats.timezone == "America/Chicago"
    assert runner.invoke(app, [*args, "--timezone", "UTC"], input=env.token + "\n").exit_code == 0
    assert load_config(resolve_paths()).stats.timezone == "UTC"


def test_init_refuses_a_token_of_another_page(env: SandboxEnv) -> None:
    """A token that belongs to another page is an auth error (3) and nothing is written."""
    result = runner.invoke(
        app, ["init", "--page-id", "12345", "--token-stdin"], input=env.token + "\n"
    )
    assert result.exit_code == 3
    assert "not to page 12345" in result.stderr
    assert not resolve_paths().config_file.exists()


def test_init_rejects_a_non_numeric_page_id(env: SandboxEnv) -> None:
    """A page id that is not digits is a usage error before any call."""
    result = runner.invoke(app, ["init", "--page-id", "shop", "--token-stdin"], input="x\n")
    assert result.exit_code == 2 and "not a Page id" in result.stderr


def test_login_with_invalid_token_exits_3_and_stores_nothing(env: SandboxEnv) -> None:
    """An invalidated token is refused by the API: exit 3, no token file, token not shown."""
    env.sandbox.invalidate_token(env.token)
    result = _login(env)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")
    assert env.token not in result.stderr + result.stdout
    assert not resolve_paths().token_file.exists()
    assert "fresh Page access token" in result.stderr  # not "run auth login" from auth login


def test_login_without_terminal_or_stdin_is_a_usage_error(env: SandboxEnv) -> None:
    """Without a terminal, login needs --token-stdin (exit 2), never hangs on a prompt."""
    result = runner.invoke(app, ["auth", "login"], input="")
    assert result.exit_code == 2 and "--token-stdin" in result.stderr


def test_login_empty_stdin(env: SandboxEnv) -> None:
    """An empty standard input is a usage error."""
    result = runner.invoke(app, ["auth", "login", "--token-stdin"], input="\n")
    assert result.exit_code == 2


def test_login_warns_about_missing_scopes(env: SandboxEnv) -> None:
    """A token without pages_messaging logs in but warns which permissions are missing."""
    token = env.sandbox.issue_token(env.page_id, scopes=["pages_read_engagement"])
    result = _login(env, token=token)
    assert result.exit_code == 0, result.output
    assert "pages_messaging" in result.stderr


def test_status_reports_source_validity_and_scopes(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auth status --json says where the token is, that it is a valid Page token (checked with
    reads), and that scopes need the app id and secret; given them, its scopes; no token."""
    login = _login(env)
    assert login.exit_code == 0
    assert "not checked: token type, scopes and expiry need /debug_token" in login.stderr
    result = runner.invoke(app, ["auth", "status", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (page,) = doc["pages"]
    assert doc["ok"] is True and page["valid"] is True and page["token_source"] == "file"
    assert page["page_id"] == env.page_id and page["type"] == "PAGE"
    assert page["scopes"] == [] and page["problems"] == []
    assert any("app id and app secret" in u for u in page["unchecked"])
    assert env.token not in result.stdout
    human = runner.invoke(app, ["auth", "status"])
    assert human.exit_code == 0 and "valid        yes" in human.stdout
    assert "not checked" in human.stdout
    app_id, secret = env.sandbox.app_credentials()
    monkeypatch.setenv("SOCIALDESK_APP_ID", app_id)
    monkeypatch.setenv("SOCIALDESK_APP_SECRET", secret)
    doc = json.loads(runner.invoke(app, ["auth", "status", "--json"]).stdout)
    (page,) = doc["pages"]
    assert "pages_messaging" in page["scopes"] and page["missing_scopes"] == []
    assert page["unchecked"] == [] and page["expires_at"] is None


def test_status_with_invalidated_token_exits_3(env: SandboxEnv) -> None:
    """A token invalidated after login shows as invalid, exit 3."""
    assert _login(env).exit_code == 0
    env.sandbox.invalidate_token(env.token)
    result = runner.invoke(app, ["auth", "status", "--json"])
    assert result.exit_code == 3
    page = json.loads(result.stdout)["pages"][0]
    assert page["valid"] is False and page["error"]


def test_status_without_any_setup_exits_nonzero(env: SandboxEnv) -> None:
    """With nothing configured and no token, status is an error, not a crash."""
    result = runner.invoke(app, ["auth", "status"])
    assert result.exit_code == 2 and "socialdesk init" in result.stderr


def test_env_token_status_and_pages_without_config(sandbox_env: SandboxEnv) -> None:
    """With only SOCIALDESK_TOKEN set, status and pages discover the token's page."""
    result = runner.invoke(app, ["auth", "status", "--json"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)["pages"][0]
    assert page["token_source"] == "env" and page["page_id"] == sandbox_env.page_id
    pages = runner.invoke(app, ["pages", "--json"])
    assert pages.exit_code == 0, pages.output
    (row,) = json.loads(pages.stdout)
    assert row["id"] == sandbox_env.page_id and row["token"] is True and row["configured"] is False


def test_logout_forgets_the_token(env: SandboxEnv) -> None:
    """logout removes the stored token; status then fails with exit 3."""
    assert _login(env).exit_code == 0
    result = runner.invoke(app, ["auth", "logout"])
    assert result.exit_code == 0 and "Forgot" in result.stdout
    assert runner.invoke(app, ["auth", "status"]).exit_code == 3
    again = runner.invoke(app, ["auth", "logout"])
    assert again.exit_code == 0 and "No token" in again.stdout


def test_pages_lists_configured_and_reachable(env: SandboxEnv) -> None:
    """pages shows the configured page with its Facebook name; --json is pure JSON."""
    assert _login(env).exit_code == 0
    result = runner.invoke(app, ["pages", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["configured"] and row["default"] and row["token"] and row["title"]
    human = runner.invoke(app, ["pages"])
    assert human.exit_code == 0 and env.page_id in human.stdout
    assert "\x1b" not in human.stdout


@pytest.mark.parametrize("bad", ["EAAB\rX-Evil: 1", "EAAB\x1bX", "EAAB tok", "EAABé"])
def test_login_refuses_a_malformed_stdin_token(env: SandboxEnv, bad: str) -> None:
    """A token with CR/control/space/non-ASCII inside: exit 3 naming standard input, no call."""
    env.sandbox.reset_counters()
    result = _login(env, token=bad)
    assert result.exit_code == 3, result.output
    assert "standard input" in result.stderr and bad not in result.stderr
    assert env.sandbox.calls == 0
    assert not resolve_paths().token_file.exists()


def test_malformed_env_token_exits_3_without_retries(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOCIALDESK_TOKEN with a CR/LF is an auth error (3) naming the variable, not 6 retries."""
    monkeypatch.setenv("SOCIALDESK_TOKEN", sandbox_env.token + "\r\nX")
    sandbox_env.sandbox.reset_counters()
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 3, result.output
    assert "SOCIALDESK_TOKEN" in result.stderr
    assert sandbox_env.sandbox.calls == 0


def test_login_leaves_no_token_when_the_config_cannot_be_written(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If saving the config fails, auth login stores no token (the config is written first)."""
    from socialdesk.errors import ConfigError

    def fail(*args: object) -> None:
        raise ConfigError("cannot write the config")

    monkeypatch.setattr("socialdesk.config.save_config", fail)
    result = _login(env)
    assert result.exit_code != 0
    assert not resolve_paths().token_file.exists()


def test_login_restores_the_config_when_storing_the_token_fails(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the token cannot be stored, the page added to the config is taken out again."""
    from socialdesk.errors import AuthError

    def fail(*args: object, **kw: object) -> str:
        raise AuthError("token file damaged")

    monkeypatch.setattr("socialdesk.secrets.store_token", fail)
    result = _login(env)
    assert result.exit_code == 3
    assert not resolve_paths().config_file.exists()


def test_login_trailing_newline_and_storage_named(env: SandboxEnv) -> None:
    """The stdin token's trailing CR/LF is stripped; status names where the token lives."""
    result = runner.invoke(app, ["auth", "login", "--token-stdin"], input=env.token + "\r\n")
    assert result.exit_code == 0, result.output
    token_file = resolve_paths().token_file
    assert f"Token stored in {token_file}" in result.stdout
    status = runner.invoke(app, ["auth", "status"])
    assert f"file {token_file}" in status.stdout
    doc = json.loads(runner.invoke(app, ["auth", "status", "--json"]).stdout)
    assert doc["pages"][0]["token_storage"] == f"file {token_file}"


def test_login_creates_a_new_home_0700(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """auth login into a SOCIALDESK_HOME that does not exist yet creates it 0700."""
    home = tmp_path / "fresh" / "sd"
    monkeypatch.setenv("SOCIALDESK_HOME", str(home))
    assert _login(env).exit_code == 0
    for directory in (home.parent, home, home / "secrets"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    monkeypatch.setenv("SOCIALDESK_HOME", str(tmp_path / "home"))


def test_login_records_the_page_display_name_for_the_page_placeholder(env: SandboxEnv) -> None:
    """After auth login, {page} renders the Page's own name; pages.name stays the config slug."""
    from socialdesk.core.session import Session
    from socialdesk.core.templates import render
    from socialdesk.sandbox.demo import PAGE_NAME
    from socialdesk.store import pages as store_pages

    assert _login(env).exit_code == 0
    with Session.open() as session:
        slug = session.config.page().name
        assert slug != PAGE_NAME
        stored = session.db.execute("SELECT name FROM pages WHERE id = ?", (env.page_id,))
        assert stored.fetchone()[0] == slug
        name = store_pages.page_name(session.db, env.page_id)
    assert render("Thanks for writing to {page}!", customer_name="Ann", page_name=name) == (
        f"Thanks for writing to {PAGE_NAME}!"
    )


def test_page_discovered_from_env_token_records_its_display_name(
    sandbox_env: SandboxEnv,
) -> None:
    """A context that finds its page via SOCIALDESK_TOKEN (GET /me) stores the display name,
    and the next one knows the page without asking the API again."""
    from socialdesk.core.context import AppContext
    from socialdesk.core.session import Session
    from socialdesk.sandbox.demo import PAGE_NAME
    from socialdesk.store import pages as store_pages

    sb = sandbox_env.sandbox
    with Session(AppContext.open(transport=sb.transport())) as session:
        page = session.page()
        assert page.id == sandbox_env.page_id
        assert store_pages.page_name(session.db, page.id) == PAGE_NAME
    sb.reset_counters()
    with Session(AppContext.open(transport=sb.transport())) as session:
        assert session.page().id == sandbox_env.page_id
        assert store_pages.page_name(session.db, sandbox_env.page_id) == PAGE_NAME
    assert sb.calls == 0  # the remembered page: no GET /me
