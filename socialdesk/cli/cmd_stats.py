"""``socialdesk stats``: response statistics per day and channel, and the Meta badge estimate.

Registered on the root app. The definitions and the computation live in
:mod:`socialdesk.core.stats` (shared with the inbox's stats screen) and the files are written by
:mod:`socialdesk.core.stats_export`; this module resolves the options, checks everything that
can be wrong *before* anything is computed or written, and renders a table, JSON or CSV.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import PageOpt, session, warn_line

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.session import Session
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
and the median response time <= 15 min. "To keep (or earn) the badge: answer
N waiting requests within M minutes": N = max(0, ceil(0.9 * requests) -
answered), at most the waiting ones; M = minutes before the soonest waiting
request passes 15 min.

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
it refuses a CSV with other columns, and any JSON file. stats reads the
local database only: it warns on stderr when the last sync is older than the
period's end (--sync syncs first). Bad input (unknown timezone, malformed
business hours, a day in the future, a missing --output directory, a foreign
CSV) exits 2 and writes nothing.

\b
Examples:
  socialdesk stats                      # yesterday, as a table
  socialdesk stats --days 30 --format json
  socialdesk stats --day yesterday --format csv --output stats.csv --append
"""


def _resolve_format(fmt: str | None, output: Path | None, append: bool, as_json: bool) -> str:
    from socialdesk.errors import UsageError

    if as_json:
        if fmt not in (None, "json"):
            raise UsageError("--json contradicts --format " + str(fmt))
        fmt = "json"
    if append and output is not None and output.suffix.lower() == ".json":
        raise UsageError(
            f"--append adds CSV rows; {str(output)!r} is a JSON file",
            hint="append to a .csv file, or write the JSON anew without --append",
        )
    if fmt is None and output is None:
        fmt = "table"
    elif fmt is None:
        fmt = "json" if output is not None and output.suffix.lower() == ".json" else "csv"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if append and (fmt != "csv" or output is None):
        raise UsageError("--append needs --format csv and --output FILE")
    if fmt == "table" and output is not None:
        raise UsageError(
            "--format table prints to the terminal", hint="use --format csv or json with --output"
        )
    return fmt


def _check_output(output: Path, append: bool) -> None:
    """The output file can be written (and, with --append, read): before anything else."""
    from socialdesk.core import stats_export
    from socialdesk.errors import UsageError

    try:
        stats_export.check_output(output)
        if append:
            stats_export.existing_csv_days(output)
    except UsageError as exc:
        flag = "--append" if append and "append" in exc.message else "--output"
        raise UsageError(f"{flag}: {exc.message}", hint=exc.hint) from None


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
    page: PageOpt = None,
) -> None:
    from socialdesk.core import stats as core_stats
    from socialdesk.core.timezones import load_timezone
    from socialdesk.errors import UsageError

    out_fmt = _resolve_format(fmt, output, append, as_json)
    if channel is not None and channel not in core_stats.FILTER_CHANNELS:
        raise UsageError(f"--channel: {channel!r} is not dm, comment, ig_dm or ig_comment")
    if output is not None:
        _check_output(output, append)
    with session() as s:
        tz = load_timezone(s.config.stats.timezone)
        page_cfg = s.page(page)
        period = core_stats.resolve_period(
            today=s.clock.now().astimezone(tz).date(),
            day=day,
            since=since,
            until=until,
            days=days,
            words=core_stats.PeriodWords("--day", "--since", "--until", "--days"),
        )
        if sync:
            _sync_first(s, page_cfg)
        report = core_stats.compute_stats(
            s.db,
            page_cfg.id,
            period,
            now=s.clock.now(),
            timezone=tz,
            business_hours=core_stats.load_business_hours(s.config.stats.business_hours),
            channel=channel,
        )
    _warn_if_stale(report)
    _emit(report, out_fmt, output, append, page_cfg.name or page_cfg.id)


def _sync_first(s: Session, page: PageConfig) -> None:
    """One sync round first (``--sync``): a failed edge is the command's error."""
    from socialdesk.core.syncing import failure, sync_round

    report = sync_round(s, s.db, page)
    error = failure(report)
    if error is not None:
        raise error
    if report.skipped:
        warn_line("another sync of this page is running; stats use the data stored so far")


def _warn_if_stale(report: StatsReport) -> None:
    from socialdesk.format import iso

    if not report.sync_is_stale:
        return
    if report.last_sync_at is None:
        warn_line("this page was never synced: the figures only cover what is stored")
    else:
        warn_line(
            f"the last sync ({iso(report.last_sync_at)}) is older than the end of the"
            " period; run `socialdesk sync` or use --sync"
        )


def _emit(
    report: StatsReport, out_fmt: str, output: Path | None, append: bool, page_label: str
) -> None:
    """The report as a table, or JSON/CSV on stdout or into ``output``."""
    from socialdesk.cli import output as out
    from socialdesk.cli import render
    from socialdesk.core import stats_export

    if out_fmt == "table":
        render.stats_table(
            report, page_label, out.console(), "--channel dm|comment, or --format csv"
        )
    elif output is not None:
        stats_export.write(report, output, "json" if out_fmt == "json" else "csv", append=append)
    elif out_fmt == "json":
        out.print_json(report.as_json())
    else:
        sys.stdout.write(stats_export.csv_text(report))
        sys.stdout.flush()
