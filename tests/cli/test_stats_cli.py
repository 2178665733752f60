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
from tests.support.stats_script import add_sync, add_thread, scripted_day, w

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


def _table_rows(stdout: str) -> dict[str, list[str]]:
    """The one-day table as {label: [dm, comment, total]} (labels are the words before cells)."""
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        parts = line.rsplit(None, 3)
        if len(parts) == 4 and parts[0].strip():
            rows[parts[0].strip()] = parts[1:]
    return rows


def test_default_is_yesterday_as_a_table(home: Path) -> None:
    """Without options: yesterday's figures, one row per figure, dm / comment / total columns."""
    result = runner.invoke(app, ["stats"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "2026-03-10" in result.stdout and "all channels" in result.stdout
    rows = _table_rows(result.stdout)
    # At 12:00 on the 11th: B (25 h) is answered, C and H are still pending (see scripted_day).
    assert rows["inbound messages"] == ["7", "3", "10"]
    assert rows["requests"] == ["6", "2", "8"]
    assert rows["answered"] == ["5", "1", "6"]
    assert rows["within 24 h"] == ["4", "1", "5"]
    assert rows["pending (< 24 h old)"] == ["1", "1", "2"]
    assert rows["missed"] == ["0", "0", "0"]
    assert rows["response rate"] == ["80.0%", "100.0%", "83.3%"]  # 4/5, 1/1, 5/6
    assert rows["first response: median"] == ["20m", "20m", "20m"]
    assert [c.replace("\xa0", " ") for c in rows["threads marked done"]] == ["1", "1", "2"]
    assert rows["awaiting reply at day end"] == ["2", "1", "3"]
    assert "median, business hours" not in result.stdout
    assert all(len(line) <= 80 and "…" not in line for line in result.stdout.splitlines())
    assert result.stderr == ""


def test_table_shows_the_badge_and_to_keep(home: Path) -> None:
    """The badge block: verdict, deciding figures and "answer N waiting requests within M min"."""
    result = runner.invoke(app, ["stats"])
    # Badge requests in the 7 days: A B C D E F (first messages); answered all but C (waiting).
    assert "Meta badge estimate (DMs, last 7 days): earned" in result.stdout
    assert "rate 100.0% (90% needed) · median response 5m (15m at most)" in result.stdout
    assert "6 requests: 5 answered, 1 waiting" in result.stdout
    assert "to keep the badge: answer 1 waiting request (already past 15 min)" in result.stdout
    conn = open_db(home / "socialdesk.db")
    add_thread(conn, "N", "dm", [("in", w(2026, 3, 11, 11, 55))])  # 5 min before NOW
    conn.close()
    result = runner.invoke(app, ["stats"])
    # ceil(0.9 × 7) − 5 = 2 of the 2 waiting; N passes 15 min in 10 min.
    assert "7 requests: 5 answered, 2 waiting" in result.stdout
    assert "to keep the badge: answer 2 waiting requests within 10 min" in result.stdout
    doc = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert doc["badge"]["to_keep"] == {"answer": 2, "within_minutes": 10}
    assert (doc["badge"]["rate"], doc["badge"]["median_response_s"]) == (1.0, 300)
    assert doc["badge"]["earned"] is True


def test_multi_day_table_fits_80_columns(home: Path) -> None:
    """Several days: one row per day (total), readable in 80 columns, no cell cut short."""
    write_config(home, hours="Mon-Fri 09:00-17:00")
    result = runner.invoke(app, ["stats", "--days", "7"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 and "…" not in line for line in lines)
    day = next(ln.split() for ln in lines if ln.startswith("2026-03-10"))
    assert day[:8] == ["2026-03-10", "10", "8", "5", "2", "0", "83.3%", "20m"]
    assert sum(ln[:4] == "2026" for ln in lines) == 7


FIGURE_KEYS = ["inbound", "requests", "responded", "responded_24h", "pending", "missed",
               "response_rate", "median_s", "p90_s", "mean_s", "median_bh_s", "done",
               "backlog"]  # fmt: skip


def test_json_fields(home: Path) -> None:
    """--format json prints the documented, stable shape with the hand-computed figures."""
    result = runner.invoke(app, ["stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["page_id", "period", "business_hours", "channel", "generated_at",
                         "last_sync_at", "days", "badge"]  # fmt: skip
    assert doc["period"] == {"since": "2026-03-10", "until": "2026-03-10",
                             "timezone": "Europe/Warsaw"}  # fmt: skip
    assert (doc["generated_at"], doc["last_sync_at"]) == ("2026-03-11T11:00:00Z",
                                                          "2026-03-11T07:00:00Z")  # fmt: skip
    day = doc["days"][0]
    assert list(day) == ["day", "channels", "total", "auto_answered"]
    assert list(day["channels"]) == ["dm", "comment"] and day["auto_answered"] == 0
    assert list(day["total"]) == FIGURE_KEYS
    # At 12:00 on the 11th, C and H (the 10th, 15:00 and 14:00) are still pending.
    assert day["total"] == {"inbound": 10, "requests": 8, "responded": 6, "responded_24h": 5,
                            "pending": 2, "missed": 0, "response_rate": 0.8333, "median_s": 1200,
                            "p90_s": 90000, "mean_s": 15960.0, "median_bh_s": None, "done": 2,
                            "backlog": 3}  # fmt: skip
    assert list(doc["badge"]) == ["since", "until", "rate", "median_response_s", "requests",
                                  "answered", "waiting", "earned", "to_keep"]  # fmt: skip
    assert doc["badge"]["to_keep"] == {"answer": 1, "within_minutes": None}


@pytest.mark.parametrize(
    ("day", "since"),
    [("today", "2026-03-11"), ("yesterday", "2026-03-10"), (" Yesterday ", "2026-03-10"),
     ("2026-02-28", "2026-02-28")],
)  # fmt: skip
def test_day_formats(home: Path, day: str, since: str) -> None:
    """--day takes today, yesterday (any case) and ISO dates, in the configured timezone."""
    result = runner.invoke(app, ["stats", "--day", day, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["period"]["since"] == since


def test_days_and_range(home: Path) -> None:
    """--days N is the N days before today; --since/--until an inclusive range."""
    doc = json.loads(runner.invoke(app, ["stats", "--days", "3", "--json"]).stdout)
    assert [d["day"] for d in doc["days"]] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    result = runner.invoke(app, ["stats", "--since", "2026-03-09", "--until", "today", "--json"])
    assert [d["day"] for d in json.loads(result.stdout)["days"]][-1] == "2026-03-11"


def test_help_states_the_definitions() -> None:
    """`stats --help` spells out the definitions, the badge rule and the stable fields."""
    result = runner.invoke(app, ["stats", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for phrase in (
        "A request is an inbound message arriving when its thread is not already awaiting reply",
        "first response time (FRT) is the time to the next outbound message",
        "response_rate responded_24h / (requests - pending)",
        "nearest-rank",
        "backlog threads awaiting reply at the end of the day",
        "follows 24 h with no message either way",
        "rate >= 90 % and the median response time <= 15 min",
        "To keep (or earn) the badge: answer",
        "to_keep {answer, within_minutes}",
        "mode 0600",
        "exits 2 and writes nothing",
    ):
        assert phrase in text, phrase
    assert ", ".join(CSV_COLUMNS) in text
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


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


@pytest.mark.parametrize("channel", ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)",
                                     "\tx", "\r=1"])  # fmt: skip
def test_csv_formula_cells_are_neutralised(home: Path, tmp_path: Path, channel: str) -> None:
    """A text cell that would start a formula (= + - @ TAB CR) gets a leading quote."""
    conn = open_db(home / "socialdesk.db")
    add_thread(conn, "odd", channel, [("in", w(2026, 3, 10, 9))])
    conn.close()
    out = tmp_path / "s.csv"
    assert runner.invoke(app, ["stats", "--output", str(out)]).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    odd = [row for row in rows if row[1].startswith("'")]
    assert len(odd) == 1 and odd[0][2:4] == ["1", "1"]
    table = runner.invoke(app, ["stats"])
    assert table.exit_code == 0 and "\r" not in table.stdout


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
    ("args", "config", "message"),
    [
        (["--day", "2026-03-12"], None, "future"),
        (["--since", "2026-03-12"], None, "future"),
        ([], "Mars/Olympus", "Mars/Olympus"),
        ([], "Mon-Fry 09:00-17:00", "business_hours"),
        (["--format", "table"], None, "table"),
        (["--append"], None, "other columns"),
    ],
)
def test_existing_output_is_never_overwritten_on_error(
    home: Path, tmp_path: Path, args: list[str], config: str | None, message: str
) -> None:
    """Bad input with an existing --output: exit 2, content and mode untouched, no temp file."""
    if config == "Mars/Olympus":
        write_config(home, timezone=config)
    elif config is not None:
        write_config(home, hours=config)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "keep.csv"
    out.write_text("date,visits\n2026-03-01,3\n", encoding="utf-8")
    out.chmod(0o640)
    result = runner.invoke(app, ["stats", "--output", str(out), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert out.read_text(encoding="utf-8") == "date,visits\n2026-03-01,3\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in out.parent.iterdir()] == ["keep.csv"]


def test_output_to_a_directory_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    """--output naming a directory: exit 2."""
    result = runner.invoke(app, ["stats", "--output", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_failed_write_keeps_the_old_file(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the old file is intact, the temp file gone, exit 1."""
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "s.csv"
    out.write_text("old\n", encoding="utf-8")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = runner.invoke(app, ["stats", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "No space left" in result.stderr
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in out.parent.iterdir()] == ["s.csv"]


@pytest.mark.parametrize(("name", "kind"), [("s.json", "json"), ("s.txt", "csv")])
def test_output_file_format_and_mode(home: Path, tmp_path: Path, name: str, kind: str) -> None:
    """--output without --format: JSON for *.json, CSV otherwise; the file is 0600."""
    out = tmp_path / name
    assert runner.invoke(app, ["stats", "--output", str(out)]).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    if kind == "json":
        assert json.loads(text)["days"][0]["total"]["requests"] == 8
    else:
        assert text.startswith(",".join(CSV_COLUMNS) + "\n")


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
    write_config(home, hours="Mon-Fri 09:00-17:00, Sat 10:00-14:00")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    # dm: 0 (E) 300 (A) 600 (D 16:50-17:00) 1200 (A) 32400 (B: 7 h Tue + 2 h Wed) → 600.
    assert _table_rows(result.stdout)["median, business hours"] == ["10m", "20m", "10m"]


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


def test_badge_block_says_to_earn_when_not_earned() -> None:
    """An unearned badge: "to earn the badge: …"; an earned one: "to keep the badge: …"."""
    from dataclasses import replace
    from datetime import timedelta

    from socialdesk.cli.render import badge_lines
    from socialdesk.core.stats import Period, build_badge, compute_stats

    now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    start = int((now - timedelta(days=2)).timestamp())
    rows = [(start + i * 600, start + i * 600 + 60 if i < 5 else None) for i in range(10)]
    badge = build_badge(rows, since=now - timedelta(days=7), now=now)
    assert not badge.earned
    report = compute_stats(open_db(":memory:"), "1", Period(now.date(), now.date()), now=now)
    lines = badge_lines(replace(report, badge=badge))
    assert lines[0].endswith("not earned")
    assert lines[-1] == (
        "  to earn the badge: no waiting request can earn it now; answer new ones within 15 min"
    )
    earned = badge_lines(replace(report, badge=replace(badge, earned=True)))
    assert earned[-1].startswith("  to keep the badge:")
