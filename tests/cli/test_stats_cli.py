"""``socialdesk stats``: formats, files (atomic, 0600, --append), warnings and bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.core.clock import SystemClock
from socialdesk.core.stats import CSV_COLUMNS
from socialdesk.store.db import open_db
from tests.core.test_stats_support import add_sync, add_thread, scripted_day, w

runner = CliRunner()
NOW = datetime.fromtimestamp(w(2026, 3, 11, 12), tz=UTC)  # so "yesterday" is 2026-03-10


def write_config(home: Path, *, timezone: str = "Europe/Warsaw", hours: str | None = None) -> None:
    extra = f'business_hours = "{hours}"\n' if hours else ""
    (home / "config.toml").write_text(
        f'default_page = "shop"\n[pages.shop]\nid = "1234567890"\n'
        f'[stats]\ntimezone = "{timezone}"\n{extra}',
        encoding="utf-8",
    )


@pytest.fixture
def home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    write_config(isolated_home)
    conn = open_db(isolated_home / "socialdesk.db")
    scripted_day(conn)
    add_sync(conn, w(2026, 3, 11, 8))
    conn.close()
    return isolated_home


def test_default_is_yesterday_as_a_table(home: Path) -> None:
    """Without options: yesterday's table with the three rows and the badge line."""
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    assert "2026-03-10" in result.stdout
    lines = result.stdout.splitlines()
    rows = [ln.split() for ln in lines if ln.split()[:1] in (["dm"], ["comment"], ["total"])]
    assert [r[0] for r in rows] == ["dm", "comment", "total"]
    assert rows[2][1:4] == ["10", "8", "6"]  # inbound, requests, answered
    assert "Meta badge estimate" in result.stdout
    assert result.stderr == ""


def test_json_fields(home: Path) -> None:
    """--format json prints the documented shape with the hand-computed totals."""
    result = runner.invoke(app, ["stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"period", "generated_at", "last_sync_at", "days", "badge"}
    assert doc["period"] == {"since": "2026-03-10", "until": "2026-03-10",
                             "timezone": "Europe/Warsaw"}  # fmt: skip
    total = doc["days"][0]["total"]
    # At 12:00 on the 11th, C and H (the 10th, 15:00 and 14:00) are still pending.
    assert (total["requests"], total["pending"], total["response_rate"]) == (8, 2, 0.8333)
    assert set(doc["badge"]["to_keep"]) == {"answer", "within_minutes"}


def test_csv_file_atomic_0600_and_append_idempotent(home: Path, tmp_path: Path) -> None:
    """CSV goes to a 0600 file; --append adds only new days, header once, re-runs are no-ops."""
    out = tmp_path / "stats.csv"
    args = ["stats", "--format", "csv", "--output", str(out), "--append"]
    assert runner.invoke(app, [*args, "--day", "2026-03-09"]).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    first = out.read_text()
    result = runner.invoke(app, args)  # yesterday = 2026-03-10
    assert result.exit_code == 0, result.output
    second = out.read_text()
    assert second.startswith(first)
    again = runner.invoke(app, [*args, "--since", "2026-03-09", "--until", "2026-03-10"])
    assert again.exit_code == 0
    assert out.read_text() == second
    rows = list(csv.reader(io.StringIO(second)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[:2] for r in rows[1:]] == [
        ["2026-03-09", "dm"], ["2026-03-09", "comment"], ["2026-03-09", "total"],
        ["2026-03-10", "dm"], ["2026-03-10", "comment"], ["2026-03-10", "total"],
    ]  # fmt: skip
    assert rows[-1][2:] == ["10", "8", "6", "5", "2", "0", "0.8333", "1200", "90000",
                            "15960.0", "", "2", "3"]  # fmt: skip
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_csv_formula_cells_are_neutralised(home: Path, tmp_path: Path) -> None:
    """A cell that would start a formula is written with a leading quote (csv_cell)."""
    from socialdesk.cli.cmd_stats import existing_csv_days
    from socialdesk.sanitize import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    result = runner.invoke(app, ["stats", "--format", "csv"])
    for row in csv.reader(io.StringIO(result.stdout)):
        assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)
    out = tmp_path / "s.csv"
    out.write_text(",".join(CSV_COLUMNS) + "\n2026-03-10,dm\n", encoding="utf-8")
    assert existing_csv_days(out)[0] == {"2026-03-10"}


def test_stale_sync_warns_on_stderr(home: Path) -> None:
    """A last sync before the period's end is reported on stderr, stdout stays clean JSON."""
    result = runner.invoke(app, ["stats", "--day", "today", "--json"])
    assert result.exit_code == 0
    assert "older than the end of the period" in result.stderr
    json.loads(result.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2026-03-12"], "future"),
        (["--day", "someday"], "not a day"),
        (["--days", "3", "--day", "today"], "choose one"),
        (["--channel", "fax"], "fax"),
        (["--format", "xml"], "xml"),
        (["--append"], "--append"),
        (["--format", "csv", "--output", "{missing}/s.csv"], "does not exist"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """Bad options: a clear error, exit 2, no file written."""
    args = [a.replace("{missing}", str(tmp_path / "nope")) for a in args]
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(app, ["stats", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_foreign_csv_is_not_touched(home: Path, tmp_path: Path) -> None:
    """--append to a CSV with other columns: exit 2 and the file is unchanged."""
    out = tmp_path / "other.csv"
    out.write_text("date,visits\n2026-03-01,3\n", encoding="utf-8")
    result = runner.invoke(app, ["stats", "--output", str(out), "--append"])
    assert result.exit_code == 2
    assert "other columns" in result.stderr
    assert out.read_text() == "date,visits\n2026-03-01,3\n"


@pytest.mark.parametrize(
    ("tz", "hours", "message"),
    [("Mars/Olympus", None, "Mars/Olympus"), ("UTC", "Mon-Fry 09:00-17:00", "business_hours")],
)
def test_bad_config_exit_2_and_write_nothing(
    home: Path, tmp_path: Path, tz: str, hours: str | None, message: str
) -> None:
    """An unknown timezone or malformed business hours: exit 2, nothing written."""
    write_config(home, timezone=tz, hours=hours)
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["stats", "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not out.exists()


def test_business_hours_multi_part_in_the_table(home: Path) -> None:
    """With business hours configured, the table shows the business-hours median."""
    write_config(home, hours="Mon-Fri 09:00-17:00")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    assert "med bh" in result.stdout


def test_comment_channel_only(home: Path) -> None:
    """--channel comment limits the rows to comments and the total."""
    result = runner.invoke(app, ["stats", "--channel", "comment", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert [r[1] for r in rows[1:]] == ["comment", "total"]
    assert rows[1][2:] == rows[2][2:]


def test_never_imports_textual(home: Path) -> None:
    """The stats command runs without loading Textual."""
    add = open_db(home / "socialdesk.db")
    add_thread(add, "Z", "dm", [("in", w(2026, 3, 10, 8))])
    add.close()
    code = (
        "import sys\n"
        "from socialdesk.cli import main\n"
        "sys.argv = ['socialdesk', 'stats', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    env = {**os.environ, "SOCIALDESK_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["period"]["timezone"] == "Europe/Warsaw"


def test_sync_first_then_stats(sandbox_env: object) -> None:
    """--sync syncs the page (sandbox) before computing; the sync time is then reported."""
    result = runner.invoke(app, ["stats", "--sync", "--day", "today", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["last_sync_at"] is not None
    assert doc["days"][0]["total"]["inbound"] >= 0
