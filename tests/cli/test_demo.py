"""`socialdesk demo`: sandbox + home + first sync + awaiting list; serving mode in a shell.

The in-process tests (the no-terminal path, --home) run the demo without its rate limit and
client pacing (``tests.support.demo``: pacing only slept there); the --serve test runs the real,
paced ``python -m socialdesk demo`` end to end, first sync through the limited sandbox included.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import load_config
from socialdesk.paths import resolve_paths
from tests.support.demo import unpace_demo

runner = CliRunner()


def test_demo_without_terminal_syncs_prints_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not on a terminal: it syncs, lists threads awaiting reply, exits 0, removes its home."""
    unpace_demo(monkeypatch)
    result = runner.invoke(app, ["demo", "--seed", "1", "--threads", "12"])
    assert result.exit_code == 0, result.output
    assert "Threads awaiting reply" in result.stdout and "synced" in result.stdout
    match = re.search(r"Demo home: (\S+)", result.stdout)
    assert match is not None
    assert not Path(match.group(1)).exists()
    assert "\x1b" not in result.stdout


def test_demo_with_home_keeps_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--home keeps config (with the sandbox URL), a 0600 token file and the database."""
    unpace_demo(monkeypatch)
    home = tmp_path / "demo-home"
    result = runner.invoke(app, ["demo", "--home", str(home), "--threads", "8"])
    assert result.exit_code == 0, result.output
    paths = resolve_paths(home)
    cfg = load_config(paths)
    assert cfg.graph.base_url is not None and cfg.graph.base_url.startswith("http://127.0.0.1:")
    assert cfg.default_page is not None
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert paths.db_file.exists()
    again = runner.invoke(app, ["demo", "--home", str(home), "--threads", "8", "--seed", "4"])
    assert again.exit_code == 0, again.output


def test_demo_serves_and_other_commands_work_against_it(tmp_path: Path) -> None:
    """With --serve it keeps serving; the printed env lines work for `list --json`; Ctrl-C stops.

    The real entry point, paced against the rate-limited sandbox (the demo as users run it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALDESK_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "socialdesk",
            "demo",
            "--serve",
            "--threads",
            "10",
            "--activity",
            "0.2",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = ""
        for line in proc.stdout:
            if "SOCIALDESK_HOME=" in line and "socialdesk list" in line:
                break
        found = re.search(r"SOCIALDESK_HOME=(\S+) SOCIALDESK_GRAPH_URL=(\S+) socialdesk list", line)
        assert found is not None, line
        home, url = found.groups()
        listed = subprocess.run(
            [sys.executable, "-m", "socialdesk", "list", "--json"],
            env={**env, "SOCIALDESK_HOME": home, "SOCIALDESK_GRAPH_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert isinstance(json.loads(listed.stdout)["threads"], list)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Demo stopped" in out and "Traceback" not in err
    assert not Path(home).exists()
