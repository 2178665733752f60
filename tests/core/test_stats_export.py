"""core.stats_export: CSV/JSON files, appending new days only, refusing foreign files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from socialdesk.core.stats import CSV_COLUMNS, Period, StatsReport, compute_stats
from socialdesk.core.stats_export import csv_text, existing_csv_days, write
from socialdesk.errors import UsageError
from socialdesk.store.db import open_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _report(day: date) -> StatsReport:
    conn = open_db(":memory:")
    return compute_stats(conn, "1", Period(day, day), now=NOW)


def test_append_adds_only_new_days_and_refuses_json(tmp_path: Path) -> None:
    """A CSV gets a header once and each day once; a JSON file or foreign CSV is refused and
    left as it was."""
    out = tmp_path / "stats.csv"
    first = _report(date(2026, 3, 8))
    second = _report(date(2026, 3, 9))
    assert write(first, out, "csv", append=True).days_written == 1
    assert write(first, out, "csv", append=True).days_written == 0
    assert write(second, out, "csv", append=True).days_written == 1
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == 1 + 2 * 3
    days, _ = existing_csv_days(out)
    assert days == {"2026-03-08", "2026-03-09"}
    as_json = tmp_path / "stats.json"
    write(first, as_json, "json")
    assert json.loads(as_json.read_text())["period"]["since"] == "2026-03-08"
    before = as_json.read_text()
    with pytest.raises(UsageError, match="holds JSON"):
        write(second, as_json, "csv", append=True)
    assert as_json.read_text() == before
    foreign = tmp_path / "other.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(UsageError, match="other columns"):
        write(second, foreign, "csv", append=True)
    assert csv_text(first).startswith("day,channel")
