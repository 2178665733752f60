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


def _tsv(ref: str) -> tuple[str, list[str], str | None]:
    data = json.loads(runner.invoke(app, ["show", ref, "--json"]).stdout)
    return data["status"], data["tags"], data["note"]


def test_import_never_silently_undoes_newer_state(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """A file made before #a was marked done here, holding a newer tag for #b: a dry run shows
    both and writes nothing; the import keeps #a done (and says so) and adds #b's tag;
    --force takes the file's state for #a too."""
    from tests.support.cli import new_dm

    _, a = new_dm(sandbox_env, "Ada Import")
    _, b = new_dm(sandbox_env, "Bob Import")
    old = tmp_path / "old.jsonl"
    assert runner.invoke(app, ["state", "export", str(old)]).exit_code == 0
    lines = [json.loads(line) for line in old.read_text().splitlines()]
    b_id = json.loads(runner.invoke(app, ["show", b, "--json"]).stdout)["id"]
    for obj in lines:
        if obj.get("type") == "thread_state":
            # #a's state in the file is older than the `done` below; #b's is newer than here.
            obj["updated_at"] += 3600 if obj["thread_id"] == b_id else -10
    page = lines[1].get("page_id", sandbox_env.page_id)
    lines.append({"type": "thread_tag", "thread_id": b_id, "page_id": page, "tag": "later",
                  "created_at": 1})  # fmt: skip
    old.write_text("".join(json.dumps(obj) + "\n" for obj in lines))
    assert runner.invoke(app, ["done", a]).exit_code == 0
    dry = runner.invoke(app, ["state", "import", str(old), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{a}: kept as it is here" in dry.stdout and "not status done → open" in dry.stdout
    assert f"{b}: +later" in dry.stdout and "nothing was written" in dry.stdout
    assert _tsv(a)[0] == "done" and _tsv(b)[1] == []
    res = runner.invoke(app, ["state", "import", str(old)])
    assert res.exit_code == 0, res.output
    assert _tsv(a)[0] == "done" and _tsv(b)[1] == ["later"]
    assert "1 thread kept as here (newer)" in res.stdout
    forced = runner.invoke(app, ["state", "import", str(old), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _tsv(a)[0] == "open"


def test_a_bad_file_fails_the_dry_run_too(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """--dry-run checks every line as the import does: a bad line is exit 2 naming it."""
    _synced(sandbox_env)
    good = runner.invoke(app, ["state", "export"]).stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good + '{"type": "thread_state", "bogus": 1}\n')
    res = runner.invoke(app, ["state", "import", str(bad), "--dry-run"])
    assert res.exit_code == 2 and "line" in res.stderr
