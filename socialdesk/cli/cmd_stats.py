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
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    from socialdesk.core.stats import StatsReport

FORMATS = ("table", "json", "csv")

STATS_HELP = """Response statistics from the local database (definitions below; PRODUCT.md §7).

\b
Days are local calendar days in stats.timezone (a DST change day is 23 or 25 h).
A request is an inbound message arriving when its thread is not already awaiting
reply (the previous message is outbound, or there is none). Its first response
time (FRT) is the time to the next outbound message of the thread, whoever sent it
(socialdesk, Meta's inbox, the phone app). Per day of the request, per channel
(dm, comment) and in total:
  inbound        inbound messages that day
  requests       requests that day
  responded      requests answered by now; responded_24h: within 24 h
  pending        unanswered and younger than 24 h now (left out of the rate)
  missed         unanswered and 24 h old or more
  response_rate  responded_24h / (requests - pending); empty when 0 / 0
  median_s p90_s FRT percentiles in seconds, nearest-rank (value at rank
                 ceil(p*n/100); an even count's median is the lower middle)
  mean_s         mean FRT; median_bh_s: median counting business hours only
                 (stats.business_hours, e.g. "Mon-Fri 09:00-17:00, Sat 10:00-14:00")
  done           threads marked done that day
  backlog        threads awaiting reply at the end of the day (today: now)

\b
Meta badge estimate (DMs, trailing 7 days from now): a badge request is an inbound
DM that is the thread's first message or follows 24 h with no message either way.
rate = answered / (requests - waiting under 24 h); earned when rate >= 90 % and
the median response time <= 15 min. "to keep: answer N waiting requests within M
minutes": N = max(0, ceil(0.9 * requests) - answered), at most the waiting ones;
M = minutes before the soonest waiting request passes 15 min.

\b
CSV columns (stable): day, channel, inbound, requests, responded, responded_24h,
pending, missed, response_rate, median_s, p90_s, mean_s, median_bh_s, done,
backlog; one row per day for dm, comment and total. --append adds only days not
already in the file and writes the header only for a new file.

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
        suffix = output.suffix.lower() if output is not None else ""
        fmt = "csv" if append or suffix == ".csv" else "json" if suffix == ".json" else "table"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise _fail_usage(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if append and (fmt != "csv" or output is None):
        raise _fail_usage("--append needs --format csv and --output FILE")
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
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``, mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _dur(seconds: float | None) -> str:
    from socialdesk.cli.output import human_duration

    return "–" if seconds is None else human_duration(seconds)


def badge_line(report: StatsReport) -> str:
    """One line: the badge estimate and what keeps it."""
    b = report.badge
    verdict = "earned" if b.earned else "not earned"
    return (
        f"Meta badge estimate (DMs, last 7 days): {verdict} · rate {_pct(b.rate)}"
        f" · median response {_dur(b.median_response_s)} · {b.requests} requests"
        f" · to keep it: {b.to_keep.sentence()}"
    )


def render_table(report: StatsReport, page_label: str) -> None:
    """The at-a-glance table on stdout."""
    from rich.text import Text

    from socialdesk.cli.output import console, customer_text, make_table

    con = console()
    period = report.period
    span = (
        period.since.isoformat()
        if period.since == period.until
        else f"{period.since.isoformat()} – {period.until.isoformat()}"
    )
    title = customer_text(f"{page_label} · {span} ({report.timezone})", single_line=True)
    con.print(title, style="bold")
    bh = report.business_hours is not None
    many = len(report.days) > 1
    right: dict[str, Any] = {"justify": "right", "no_wrap": True}
    left: dict[str, Any] = {"no_wrap": True}
    columns: list[str | tuple[str, dict[str, Any]]] = [
        *([("day", left)] if many else []),
        ("channel", left),
    ]
    # Short headers keep a month of rows readable in 100 columns; --help spells them out.
    headers = ("in", "req", "ans", "≤24h", "pend", "miss", "rate", "med", "p90", "mean",
               *(["med bh"] if bh else []), "done", "backlog")  # fmt: skip
    columns.extend((name, right) for name in headers)
    table = make_table(*columns)
    table.padding = (0, 0, 0, 1)
    table.collapse_padding = True
    for d in report.days:
        for name, f in [*d.channels.items(), ("total", d.total)]:
            cells = [
                *([d.day.isoformat()] if many else []),
                name,
                str(f.inbound),
                str(f.requests),
                str(f.responded),
                str(f.responded_24h),
                str(f.pending),
                str(f.missed),
                _pct(f.response_rate),
                _dur(f.median_s),
                _dur(f.p90_s),
                _dur(f.mean_s),
                *([_dur(f.median_bh_s)] if bh else []),
                str(f.done),
                str(f.backlog),
            ]
            table.add_row(*[Text(c, style="bold" if name == "total" else "") for c in cells])
    con.print(table)
    con.print(
        Text(
            "in = inbound messages, req = requests, ans = answered, ≤24h = answered within"
            " 24 h, pend = pending, miss = missed, med/p90/mean = first response time",
            style="dim",
        )
    )
    con.print(Text(badge_line(report)))


def _warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")
    sys.stderr.flush()


def _sync_first(session: Any, page_cfg: Any) -> None:
    from socialdesk.store import cache
    from socialdesk.store.db import transaction

    try:
        from socialdesk.core.sync import sync_page
    except ImportError as exc:  # pragma: no cover - sync ships with the package
        raise _fail_usage(f"--sync is not available: {exc}") from None
    conn = session.db
    with transaction(conn):
        cache.upsert_page(conn, page_cfg.id, page_cfg.name, now=session.clock.now())
    cfg = session.config.sync
    report = sync_page(
        conn,
        session.client(page_cfg),
        page_cfg.id,
        paths=session.paths,
        clock=session.clock,
        lookback_days=cfg.comment_lookback_days,
        deep_sweep_hours=cfg.deep_sweep_hours,
    )
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
            help="table, json or csv (default: table; csv/json when --output ends so).",
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
            if output is not None:
                raise _fail_usage("--format table prints to the terminal; use csv or json")
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
