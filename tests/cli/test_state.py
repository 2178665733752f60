"""state export/import: JSON lines, 0600 atomic file, stdout purity, round trip, bad input."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app
from tests.support.sandbox import SandboxEnv

runner = CliRunner()


def _synced(env: SandboxEnv) -> None:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output


def test_export_to_file_is_0600_and_has_no_token(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """The export file is JSON lines with a header, mode 0600, and never holds the token."""
    _synced(sandbox_env)
    target = tmp_path / "state.jsonl"
    result = runner.invoke(app, ["state", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0]["type"] == "header" and len(lines) > 1
    assert sandbox_env.token not in target.read_text()


def test_export_to_stdout_is_only_json_lines(sandbox_env: SandboxEnv) -> None:
    """Without FILE the export is on stdout, every line JSON; the count goes to stderr."""
    _synced(sandbox_env)
    result = runner.invoke(app, ["state", "export"])
    assert result.exit_code == 0
    assert all(json.loads(line) for line in result.stdout.splitlines())
    assert "exported" in result.stderr


def test_round_trip_into_a_fresh_home(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """What one home exports another imports, row for row."""
    _synced(sandbox_env)
    target = tmp_path / "state.jsonl"
    assert runner.invoke(app, ["state", "export", str(target)]).exit_code == 0
    rows = len(target.read_text().splitlines()) - 1
    other = tmp_path / "other-home"
    other.mkdir()
    result = runner.invoke(
        app, ["state", "import", str(target)], env={"SOCIALDESK_HOME": str(other)}
    )
    assert result.exit_code == 0, result.output
    assert f"Imported {rows} rows" in result.stdout
    again = runner.invoke(app, ["state", "export"], env={"SOCIALDESK_HOME": str(other)})
    assert len(again.stdout.splitlines()) - 1 == rows


def test_import_from_stdin(sandbox_env: SandboxEnv) -> None:
    """'-' imports from standard input."""
    _synced(sandbox_env)
    exported = runner.invoke(app, ["state", "export"]).stdout
    result = runner.invoke(app, ["state", "import", "-"], input=exported)
    assert result.exit_code == 0, result.output


def test_import_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    """A missing file or a file that is not an export is exit 2 with a message."""
    assert runner.invoke(app, ["state", "import", str(tmp_path / "nope")]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "mystery"}\n')
    result = runner.invoke(app, ["state", "import", str(bad)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
