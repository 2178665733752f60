"""`socialdesk sandbox serve`: URL and token on lines 1-2, a working API, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from socialdesk.cli import app

runner = CliRunner()


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sandbox", "serve", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_url_and_token_then_stops_on_signal(sig: signal.Signals) -> None:
    """Line 1 is the base URL, line 2 a token that works; SIGINT/SIGTERM stop it with exit 0."""
    proc = _start("--threads", "5", "--seed", "2")
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        token = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        me = httpx.get(
            f"{base_url}/v26.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert me.status_code == 200 and me.json()["id"]
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err


def test_refuses_non_loopback_host() -> None:
    """The sandbox never listens beyond loopback (it hands out tokens)."""
    result = runner.invoke(app, ["sandbox", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "127.0.0.1" in result.stderr


def test_bad_fault_spec_is_a_usage_error() -> None:
    """A malformed --faults spec is exit 2 with the parser's message."""
    result = runner.invoke(app, ["sandbox", "serve", "--faults", "bogus=1"])
    assert result.exit_code == 2 and "--faults" in result.stderr


def test_stop_on_sigterm_sets_the_event_and_restores_the_handler() -> None:
    """SIGTERM inside stop_on_sigterm() sets the event; the previous handler is back after."""
    from socialdesk.cli.serving import stop_on_sigterm

    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with stop_on_sigterm() as stop:
            assert not stop.is_set()
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(5)
        assert calls == []
        os.kill(os.getpid(), signal.SIGTERM)
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
