"""Writing statistics out: CSV and JSON text, appending new days to a CSV, atomic files.

Called by ``stats`` (the inbox's stats screen only reads ``core.stats.StatsReport``).
CSV cells go through ``sanitize.csv_cell`` (no cell starts a formula); files are written with
``paths.atomic_write`` (mode 0600), so a failed write leaves the old file as it was. Appending
(:func:`write`) keeps the rows already in the file and adds only the days it lacks, so a cron
job may run twice; a file with other columns, or a JSON file, is refused before anything is
written.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from socialdesk.core.stats import CSV_COLUMNS, StatsReport
from socialdesk.errors import SocialdeskError, UsageError
from socialdesk.paths import MIB, atomic_write, read_bounded_text
from socialdesk.sanitize import csv_cell

APPEND_MAX_BYTES = 64 * MIB
"""Largest stats CSV ``--append`` reads (one row per day and channel: decades fit)."""

__all__ = ["Format", "WriteResult", "csv_text", "existing_csv_days", "json_text", "write"]

Format = Literal["csv", "json"]


def csv_text(report: StatsReport, *, header: bool = True, skip_days: set[str] | None = None) -> str:
    """The report as CSV (every cell through ``sanitize.csv_cell``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in report.csv_rows():
        if skip_days and row["day"] in skip_days:
            continue
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def json_text(report: StatsReport) -> str:
    """The report's documented JSON document (no customer text in it), with a final newline."""
    return json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"


def existing_csv_days(path: Path) -> tuple[set[str], str]:
    """Days already in a stats CSV, and its text; ``(set(), "")`` when there is no such file.

    :class:`UsageError` for a file that is not a stats CSV (other columns, or JSON).
    """
    try:
        # Bounded, regular files only: a FIFO or a link to /dev/zero must not hang the cron job.
        text = read_bounded_text(path, APPEND_MAX_BYTES, "the stats file to append to")
    except FileNotFoundError:
        return set(), ""
    if not text.strip():
        return set(), ""
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        raise UsageError(
            f"cannot append to {str(path)!r}: it holds JSON, and appending adds CSV rows",
            hint="append to a CSV file written by `socialdesk stats`, or write the JSON anew",
        )
    rows = list(csv.reader(io.StringIO(text)))
    header = [c.strip() for c in rows[0]] if rows else []
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if tuple(header) != CSV_COLUMNS:
        raise UsageError(
            f"cannot append to {str(path)!r}: it has other columns than socialdesk stats writes",
            hint="append to a file created by `socialdesk stats` as CSV, or pick a new file",
        )
    return {r[0] for r in rows[1:] if r}, text


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write` put in the file."""

    path: Path
    days_written: int
    """Days of the report written (on append: those the file lacked)."""


def _write_atomic(path: Path, text: str) -> None:
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise SocialdeskError(
            f"cannot write {str(path)!r}: {exc.strerror or exc}",
            hint="the file was left as it was",
        ) from None


def write(report: StatsReport, path: Path, fmt: Format, *, append: bool = False) -> WriteResult:
    """Write the report to ``path`` (atomically, 0600); ``append`` adds new days to a CSV."""
    days = [d.day.isoformat() for d in report.days]
    if fmt == "json":
        if append:
            raise UsageError("only a CSV file can be appended to; JSON is written whole")
        _write_atomic(path, json_text(report))
        return WriteResult(path, len(days))
    if not append:
        _write_atomic(path, csv_text(report))
        return WriteResult(path, len(days))
    present, previous = existing_csv_days(path)
    if not previous:
        _write_atomic(path, csv_text(report))
        return WriteResult(path, len(days))
    new_rows = csv_text(report, header=False, skip_days=present)
    if new_rows:
        sep = "" if previous.endswith("\n") else "\n"
        _write_atomic(path, previous + sep + new_rows)
    return WriteResult(path, len([d for d in days if d not in present]))


def check_output(path: Path) -> None:
    """:class:`UsageError` unless ``path`` can be written (its directory must exist already)."""
    import os

    parent = path.parent
    if not parent.is_dir():
        raise UsageError(
            f"the directory {str(parent)!r} does not exist",
            hint="create it first, or choose another path",
        )
    if path.is_dir():
        raise UsageError(f"{str(path)!r} is a directory")
    if path.exists() and not path.is_file():
        raise UsageError(f"{str(path)!r} is not a regular file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot create files in {str(parent)!r}")
