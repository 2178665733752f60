"""Findings of the security review (SECURITY.md) and the promises they touch, as tests.

- JSON nested thousands deep is a malformed answer (a body), ignored (a usage header) or a
  refused file (plan, state, token), never a crash: ``RecursionError`` escaped before.
- The token never crosses a network in clear text: a plain ``http://`` Graph URL is refused
  unless it is a loopback address (the sandbox).
- ``stats --append`` and ``state import`` read their file bounded: a FIFO or a link to
  /dev/zero is refused at once (they hung before).
- A value from the API's answer printed by the CLI (a sent message's id) is cleaned like
  customer text.
- The inbox's log file is private (0600, an older looser file tightened) and, after a DEBUG
  session that synced, sent, failed and computed stats, holds no token; neither does any file
  of the home but the token file, nor an ack plan or a stats export.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk import secrets
from socialdesk.api.client import GraphClient
from socialdesk.api.errors import MalformedResponse
from socialdesk.cli.common import echo_line, note_line
from socialdesk.core.ack_plan import read_plan
from socialdesk.core.context import AppContext
from socialdesk.core.replying import ReplyRequest
from socialdesk.core.stats_export import existing_csv_days
from socialdesk.errors import AuthError, ConfigError, ExitCode, SocialdeskError, UsageError
from socialdesk.paths import resolve_paths
from socialdesk.tui.gateway import Gateway
from tests.support.cli import new_dm, run, synced
from tests.support.sandbox import SandboxEnv

TOKEN = "EAAsecurityreviewcanarytoken0123456789"


def _client(body: bytes) -> GraphClient:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )
    )
    return GraphClient(TOKEN, transport=transport, pace=False, sleep=lambda s: None, max_attempts=1)


def test_json_nested_thousands_deep_is_a_malformed_answer() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with _client(deep) as client, pytest.raises(MalformedResponse) as caught:
        client.get("me")
    assert isinstance(caught.value, SocialdeskError)
    assert "malformed" in caught.value.message
    nested_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with _client(nested_object) as client, pytest.raises(MalformedResponse):
        client.get("me")


@pytest.mark.parametrize(
    "url", ["http://graph.facebook.com", "http://10.0.0.5:8000", "ftp://graph.facebook.com"]
)
def test_a_graph_url_without_tls_off_loopback_is_refused(url: str) -> None:
    """Refused when the client is made, before any request could carry the token."""
    with pytest.raises(ConfigError) as caught:
        GraphClient(TOKEN, base_url=url)
    assert "not https" in caught.value.message
    assert TOKEN not in caught.value.message + (caught.value.hint or "")


@pytest.mark.parametrize(
    "url",
    [
        "https://graph.facebook.com",
        "http://127.0.0.1:8000",
        "http://localhost:9",
        "http://[::1]:80",
    ],
)
def test_tls_or_loopback_graph_urls_are_accepted(url: str) -> None:
    GraphClient(TOKEN, base_url=url).close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _files_outside_the_token_dir(home: Path) -> list[Path]:
    paths = resolve_paths(home)
    return [f for f in home.rglob("*") if f.is_file() and paths.token_dir not in f.parents]


def test_the_inbox_log_is_private_and_holds_no_token(
    sandbox_env: SandboxEnv, tmp_path: Path, restore_logging: None
) -> None:
    env = sandbox_env
    sb: Any = env.sandbox
    home = Path(os.environ["SOCIALDESK_HOME"])
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    synced(env)
    _user, ref = new_dm(env, "Log Canary")
    log_dir = resolve_paths(home).log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    old = log_dir / "inbox.log"
    old.write_text("an older line\n")
    os.chmod(old, 0o644)
    old_umask = os.umask(0o022)
    try:
        # Unpaced: the 2 calls/s spacing of conversation calls (2.3 s of sleep here) has
        # nothing to do with what the log holds.
        ctx = AppContext.open(str(home), transport=sb.transport(), pace=False)
        gw = Gateway(ctx, ctx.page())
        try:
            gw.route_logging_to_file()
            logging.getLogger().setLevel(logging.DEBUG)
            gw.sync_round(full=True)
            number = gw.resolve(ref).thread.number
            assert gw.send(number, ReplyRequest(text="thanks, on its way")).state == "sent"
            gw.stats()
            sb.invalidate_token(env.token)
            with pytest.raises(SocialdeskError):
                gw.sync_round()
        finally:
            gw.close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    log = old.read_text()
    assert "an older line" in log and "GET" in log  # it did log the session
    files = _files_outside_the_token_dir(home)
    assert old in files and any(f.name.startswith("socialdesk.db") for f in files)
    for f in files:
        assert env.token.encode() not in f.read_bytes(), f


def test_ack_plans_and_stats_exports_hold_no_token(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    env = sandbox_env
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    new_dm(env, "Plan Canary")
    plan, stats_csv = tmp_path / "plan.json", tmp_path / "stats.csv"
    assert run("ack", "from:Canary", "--template", "thanks", "--plan", str(plan)).exit_code == 0
    applied = run("ack", "--apply", str(plan), "--yes", "--json")
    assert applied.exit_code == 0, applied.output
    assert run("stats", "--output", str(stats_csv)).exit_code == 0
    for f in (plan, stats_csv):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert env.token.encode() not in f.read_bytes(), f
    assert env.token not in applied.output


def _guarded(call: Callable[[], object], seconds: float = 30.0) -> object:
    """``call()`` on a daemon thread; fails (instead of hanging the suite) if it blocks."""
    box: list[object] = []
    worker = threading.Thread(target=lambda: box.append(_capture(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked on a non-regular file"
    return box[0]


def _capture(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:  # returned for the caller to check
        return exc


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "dev_zero"])
def test_stats_append_refuses_a_file_that_is_not_regular(tmp_path: Path, make: Any) -> None:
    """`stats --append --output X` reads X first: a FIFO or /dev/zero is refused at once."""
    target = tmp_path / "stats.csv"
    make(target)
    result = _guarded(lambda: existing_csv_days(target))
    assert isinstance(result, UsageError), result
    assert "not a regular file" in result.message and str(target) in result.message


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "dev_zero"])
def test_state_import_refuses_a_file_that_is_not_regular(
    sandbox_env: SandboxEnv, tmp_path: Path, make: Any
) -> None:
    """`state import X` with a FIFO or /dev/zero exits 2 at once, naming the file."""
    target = tmp_path / "state.jsonl"
    make(target)
    result: Any = _guarded(lambda: run("state", "import", str(target)))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "not a regular file" in result.output


def test_cli_outcome_lines_are_cleaned_whatever_they_carry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`reply` and `outbox resolve --resend` print the id from the API's answer: a compromised
    endpoint's id cannot write to the terminal (the lines are cleaned where they are written)."""
    hostile = "m_\x1b]0;pwned\x07\x1b[2J\u202eid"
    echo_line(f"sent reply to #3 (Ann) as standard: {hostile}")
    note_line(f"outbox: {hostile}")
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "⟨U+202E⟩id" in text


DEEP = "[" * 5000 + "]" * 5000
"""JSON nested 5,000 deep: ``json.loads`` raises RecursionError, not ValueError."""


def test_a_usage_header_nested_thousands_deep_is_ignored() -> None:
    """Usage headers are JSON the endpoint writes: a deep one is ignored, the answer used (it
    crashed every request before)."""
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"id": "1"}, headers={"x-app-usage": DEEP})
    )
    with GraphClient(TOKEN, transport=transport, pace=False, sleep=lambda s: None) as client:
        assert client.get("me") == {"id": "1"}


def test_files_nested_thousands_deep_are_refused_clearly(
    sandbox_env: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan, a state file and a token file holding deep JSON are refused with their usual
    error (exit 2, exit 2, exit 3), not an unexpected crash."""
    plan = tmp_path / "plan.json"
    plan.write_text(DEEP)
    with pytest.raises(UsageError, match="not valid JSON"):
        read_plan(plan, sqlite3.connect(":memory:"))
    state = tmp_path / "state.jsonl"
    state.write_text(DEEP + "\n")
    result = run("state", "import", str(state))
    assert result.exit_code == ExitCode.USAGE, result.output
    paths = resolve_paths()
    paths.ensure()
    paths.token_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.token_file.write_text(DEEP)
    os.chmod(paths.token_file, 0o600)
    monkeypatch.delenv("SOCIALDESK_TOKEN")  # the variable would win over the file
    with pytest.raises(AuthError, match="damaged"):
        secrets.load_token(paths, sandbox_env.page_id)
