"""``socialdesk stats``: response statistics per day and channel, and the Meta badge estimate.

Registered on the root app. The definitions and the computation live in
:mod:`socialdesk.core.stats` (shared with the inbox's stats screen); this module resolves the
options, validates everything that can be wrong *before* writing anything, and renders a table,
JSON or CSV (to stdout or atomically to a 0600 file, with ``--append`` adding only new days).
Heavy imports happen inside the command, so cron runs start fast and never load Textual.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    from socialdesk.core.stats import StatsReport

FORMATS = ("table", "json", "csv")

STATS_HELP = """Response statistics from the local database: response rate and times per day.

\b
Definitions. Days are local calendar days in stats.timezone (a DST change
day is 23 or 25 h). A request is an inbound message arriving when its thread
is not already awaiting reply (the previous message is outbound, or there is
none); more inbound messages before a reply belong to the same request. Its
first response time (FRT) is the time to the next outbound message of the
thread, whoever sent it (socialdesk, Meta's inbox, the phone app). Per day
of the request, per channel (dm, comment) and in total:
  inbound        inbound messages that day
  requests       requests that day
  responded      requests answered by now; responded_24h: within 24 h
  pending        unanswered and younger than 24 h now (left out of the rate)
  missed         unanswered and 24 h old or more
  response_rate  responded_24h / (requests - pending); empty when 0 / 0
  median_s       FRT median in seconds; p90_s: 90th percentile; both
                 nearest-rank (the value at rank ceil(p*n/100), so an even
                 count's median is the lower middle value)
  mean_s         mean FRT in seconds
  median_bh_s    FRT median counting only business hours (stats.
                 business_hours, e.g. "Mon-Fri 09:00-17:00"; else empty)
  done           threads marked done that day
  backlog        threads awaiting reply at the end of the day (today: now)

\b
Meta badge estimate (DMs, the 7 days before now; Meta's rule as best
known): a badge request is an inbound DM that is the thread's first message
or follows 24 h with no message either way. rate = answered / (requests -
waiting), waiting = unanswered and under 24 h old; "earned" when rate >= 90 %
and the median response time <= 15 min. "To keep the badge: answer N waiting
requests within M minutes": N = max(0, ceil(0.9 * requests) - answered), at
most the waiting ones; M = minutes before the soonest waiting request passes
15 min.

\b
CSV columns (stable, in this order): day, channel, inbound, requests,
responded, responded_24h, pending, missed, response_rate, median_s, p90_s,
mean_s, median_bh_s, done, backlog; one row per day and channel (dm,
comment, then total); an empty cell is "no value". No cell starts a formula.
JSON (stable): {page_id, period {since, until, timezone}, business_hours,
channel, generated_at, last_sync_at, days [{day, channels {dm, comment:
FIGURES}, total: FIGURES}], badge {since, until, rate, median_response_s,
requests, answered, waiting, earned, to_keep {answer, within_minutes}}},
FIGURES being the CSV's figure columns; null is "no value"; times in UTC.

\b
Files are written atomically with mode 0600. --append adds only the days not
already in the CSV (header only for a new file), so re-running is harmless;
it refuses a CSV with other columns. stats reads the local database only: it
warns on stderr when the last sync is older than the period's end (--sync
syncs first). Bad input (unknown timezone, malformed business hours, a day
in the future, a missing --output directory, a foreign CSV) exits 2 and
writes nothing.

\b
Examples:
  socialdesk stats                      # yesterday, as a table
  socialdesk stats --days 30 --format json
  socialdesk stats --day yesterday --format csv --output stats.csv --append
"""


def _fail_usage(message: str, hint: str | None = None) -> Exception:
    from socialdesk.errors import UsageError

    return UsageError(message, hint)


def _resolve_format(fmt: str | None, output: Path | None, append: bool, as_json: bool) -> str:
    if as_json:
        if fmt not in (None, "json"):
            raise _fail_usage("--json contradicts --format " + str(fmt))
        fmt = "json"
    if fmt is None:
        if output is None:
            fmt = "table"
        else:
            fmt = "json" if output.suffix.lower() == ".json" and not append else "csv"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise _fail_usage(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if append and (fmt != "csv" or output is None):
        raise _fail_usage("--append needs --format csv and --output FILE")
    if fmt == "table" and output is not None:
        raise _fail_usage(
            "--format table prints to the terminal", hint="use --format csv or json with --output"
        )
    return fmt


def _check_output(output: Path) -> None:
    parent = output.parent
    if not parent.is_dir():
        raise _fail_usage(
            f"--output: the directory {str(parent)!r} does not exist",
            hint="create it first, or choose another path",
        )
    if output.is_dir():
        raise _fail_usage(f"--output: {str(output)!r} is a directory")
    if output.exists() and not output.is_file():
        raise _fail_usage(f"--output: {str(output)!r} is not a regular file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _fail_usage(f"--output: cannot create files in {str(parent)!r}")


def existing_csv_days(path: Path) -> tuple[set[str], str]:
    """Days already in a stats CSV and its text; a UsageError for a file with other columns."""
    from socialdesk.core.stats import CSV_COLUMNS

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set(), ""
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail_usage(f"--append: cannot read {str(path)!r}: {exc}") from None
    if not text.strip():
        return set(), ""
    rows = list(csv.reader(io.StringIO(text)))
    header = [c.strip() for c in rows[0]] if rows else []
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if tuple(header) != CSV_COLUMNS:
        raise _fail_usage(
            f"--append: {str(path)!r} has other columns than socialdesk stats writes",
            hint="append to a file created by `socialdesk stats --format csv`, or pick a new file",
        )
    return {r[0] for r in rows[1:] if r}, text


def csv_text(report: StatsReport, *, header: bool = True, skip_days: set[str] | None = None) -> str:
    """The report as CSV (every cell through ``sanitize.csv_cell``)."""
    from socialdesk.core.stats import CSV_COLUMNS
    from socialdesk.sanitize import csv_cell

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in report.csv_rows():
        if skip_days and row["day"] in skip_days:
            continue
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with :func:`socialdesk.paths.atomic_write`, mode 0600.

    On any failure ``path`` keeps its previous content and no temporary file is left; the
    OSError becomes the command's error (exit code of :class:`SocialdeskError`)."""
    from socialdesk.errors import SocialdeskError
    from socialdesk.paths import atomic_write

    try:
        atomic_write(path, text.encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise SocialdeskError(
            f"cannot write {str(path)!r}: {exc.strerror or exc}",
            hint="the file was left as it was",
        ) from None


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _dur(seconds: float | None) -> str:
    from socialdesk.cli.output import human_duration

    return "–" if seconds is None else human_duration(seconds)


def badge_lines(report: StatsReport) -> list[str]:
    """The badge estimate, the figures that decide it, and what keeps it (the table's footer)."""
    b = report.badge
    verdict = "earned" if b.earned else "not earned"
    return [
        f"Meta badge estimate (DMs, last 7 days): {verdict}",
        f"  rate {_pct(b.rate)} (90% needed) · median response"
        f" {_dur(b.median_response_s)} (15m at most)",
        f"  {b.requests} requests: {b.answered} answered, {b.waiting} waiting",
        f"  to keep the badge: {b.to_keep.sentence()}",
    ]


def badge_line(report: StatsReport) -> str:
    """The badge estimate on one line."""
    return " ·".join(line.strip() for line in badge_lines(report))


# (label, Figures attribute, formatter) of the one-day table, top to bottom.
_DAY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("inbound messages", "inbound", "n"),
    ("requests", "requests", "n"),
    ("answered", "responded", "n"),
    ("  within 24 h", "responded_24h", "n"),
    ("pending (< 24 h old)", "pending", "n"),
    ("missed", "missed", "n"),
    ("response rate", "response_rate", "pct"),
    ("first response: median", "median_s", "dur"),
    ("  90th percentile", "p90_s", "dur"),
    ("  mean", "mean_s", "dur"),
    ("  median, business hours", "median_bh_s", "dur"),
    ("threads marked done", "done", "n"),
    ("awaiting reply at day end", "backlog", "n"),
)


def _fmt(value: Any, kind: str) -> str:
    if kind == "pct":
        return _pct(value)
    if kind == "dur":
        return _dur(value)
    return str(value)


def _local_today(report: StatsReport) -> date:
    from zoneinfo import ZoneInfo

    return report.generated_at.astimezone(ZoneInfo(report.timezone)).date()


def render_table(report: StatsReport, page_label: str) -> None:
    """The at-a-glance table on stdout (fits 80 columns).

    One day: a figure per row, a column per channel and the total. Several days: a row per
    day with the main figures of the total (or of ``--channel``); per-channel days are in the
    CSV/JSON.
    """
    from rich.text import Text

    from socialdesk.cli.output import console, customer_text, make_table

    con = console()
    period = report.period
    span = (
        period.since.isoformat()
        if period.since == period.until
        else f"{period.since.isoformat()} – {period.until.isoformat()}"
    )
    scope = f"{report.channel} only" if report.channel else "all channels"
    title = customer_text(f"{page_label} · {span} ({report.timezone}) · {scope}", single_line=True)
    con.print(title, style="bold")
    bh = report.business_hours is not None
    right: dict[str, Any] = {"justify": "right", "no_wrap": True}
    if len(report.days) == 1:
        day = report.days[0]
        names = [*day.channels, "total"]
        table = make_table(("", {"no_wrap": True}))
        for name in names:  # channel names come from the database: never markup
            table.add_column(customer_text(name, single_line=True), **right)
        figures = [*day.channels.values(), day.total]
        for label, attr, kind in _DAY_ROWS:
            if attr == "median_bh_s" and not bh:
                continue
            if attr == "backlog" and period.until >= _local_today(report):
                label = "awaiting reply now"
            cells = [_fmt(getattr(f, attr), kind) for f in figures]
            table.add_row(Text(label), *[Text(c) for c in cells])
        con.print(table)
    else:
        headers = ["day", "in", "req", "≤24h", "pend", "miss", "rate", "median", "p90",
                   *(["med bh"] if bh else []), "done", "backlog"]  # fmt: skip
        table = make_table(("day", {"no_wrap": True}), *[(h, right) for h in headers[1:]])
        # The box's column divider is the only gap, so a month of rows fits 80 columns.
        table.padding = (0, 0, 0, 0)
        for d in report.days:
            f = d.total
            cells = [d.day.isoformat(), str(f.inbound), str(f.requests), str(f.responded_24h),
                     str(f.pending), str(f.missed), _pct(f.response_rate), _dur(f.median_s),
                     _dur(f.p90_s), *([_dur(f.median_bh_s)] if bh else []), str(f.done),
                     str(f.backlog)]  # fmt: skip
            table.add_row(*[Text(c) for c in cells])
        con.print(table)
        con.print(
            Text(
                "in = inbound messages, req = requests, ≤24h = answered within 24 h, pend ="
                " pending, miss = missed; median/p90 = first response time; backlog = awaiting"
                " reply at day end. Per channel: --channel dm|comment, or --format csv.",
                style="dim",
            )
        )
    for line in badge_lines(report):
        con.print(Text(line))


def _warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")
    sys.stderr.flush()


def _sync_first(session: Any, page_cfg: Any) -> None:
    try:
        from socialdesk.core.syncing import failure, sync_round
    except ImportError as exc:  # pragma: no cover - sync ships with the package
        raise _fail_usage(f"--sync is not available: {exc}") from None
    report = sync_round(session, session.db, page_cfg)
    error = failure(report)
    if error is not None:
        raise error
    if report.skipped:
        _warn("another sync of this page is running; stats use the data stored so far")


@app.command("stats", help=STATS_HELP)
def stats(
    day: Annotated[
        str | None,
        typer.Option("--day", help="One day: today, yesterday (default) or YYYY-MM-DD."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="First day of a range (with --until).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day of the range (default: yesterday).")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="The N full days before today.")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only dm or comment.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="table, json or csv (default: table; with --output: json for *.json, else csv).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to FILE (atomically, mode 0600)."),
    ] = None,
    append: Annotated[
        bool,
        typer.Option("--append", help="CSV: add only the days not yet in --output."),
    ] = False,
    sync: Annotated[
        bool, typer.Option("--sync", help="Sync the page first (needs the token).")
    ] = False,
    page: Annotated[
        str | None, typer.Option("--page", help="Page id or name (default: the default page).")
    ] = None,
) -> None:
    from socialdesk.cli.output import print_json, to_json
    from socialdesk.core import stats as core_stats
    from socialdesk.core.session import Session

    # Everything that can be wrong is checked before anything is computed or written.
    out_fmt = _resolve_format(fmt, output, append, as_json)
    if channel is not None and channel not in core_stats.CHANNELS:
        raise _fail_usage(f"--channel: {channel!r} is not dm or comment")
    if output is not None:
        _check_output(output)
    session = Session.open()
    try:
        cfg = session.config.stats
        tz = core_stats.load_timezone(cfg.timezone)
        hours = core_stats.load_business_hours(cfg.business_hours)
        page_cfg = session.page(page)
        now = session.clock.now()
        period = core_stats.resolve_period(
            today=now.astimezone(tz).date(), day=day, since=since, until=until, days=days
        )
        present: set[str] = set()
        previous = ""
        if append and output is not None:
            present, previous = existing_csv_days(output)
        if sync:
            _sync_first(session, page_cfg)
            now = session.clock.now()
        report = core_stats.compute_stats(
            session.db,
            page_cfg.id,
            period,
            now=now,
            timezone=tz,
            business_hours=hours,
            channel=channel,
        )
        if report.sync_is_stale:
            if report.last_sync_at is None:
                _warn("this page was never synced: the figures only cover what is stored")
            else:
                _warn(
                    f"the last sync ({core_stats.iso_utc(report.last_sync_at)}) is older than"
                    f" the end of the period; run `socialdesk sync` or use --sync"
                )
        if out_fmt == "table":
            render_table(report, page_cfg.name or page_cfg.id)
            return
        if out_fmt == "json":
            if output is None:
                print_json(report.as_json())
            else:
                write_atomic(output, to_json(report.as_json()) + "\n")
            return
        if output is None:
            sys.stdout.write(csv_text(report))
            sys.stdout.flush()
            return
        if append and previous:
            new_rows = csv_text(report, header=False, skip_days=present)
            if new_rows:
                sep = "" if previous.endswith("\n") else "\n"
                write_atomic(output, previous + sep + new_rows)
            return
        write_atomic(output, csv_text(report))
    finally:
        session.close()
