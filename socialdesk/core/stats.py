"""Response statistics: the definitions of PRODUCT.md §7, computed from the local database.

Called by the ``stats`` command (``cli/cmd_stats.py``; ``core.stats_export`` writes the files)
and by the inbox's stats screen.
The SQL lives in :mod:`socialdesk.store.stats`; this module holds the definitions and the pure
arithmetic (:func:`build_days`, :func:`build_badge`, :func:`percentile`), so both front ends
share one meaning of every figure. No Rich, no Typer, no Textual.

Definitions
-----------
- Times are bucketed by **local calendar day** in the configured timezone (``stats.timezone``,
  an IANA name); a day runs from local midnight to the next local midnight, so a DST change day
  is 23 h or 25 h long.
- Messages of a thread are ordered by time; within the same second an inbound message comes
  before an outbound one.
- A **request** is an inbound message that arrives when its thread is not already awaiting
  reply: the previous message of the thread is outbound, or there is none. Later inbound
  messages before a reply belong to the same request.
- Its **first response time** (FRT) is the time until the next outbound message of the thread,
  whoever sent it (socialdesk, or Meta's inbox / the phone app: both count as answered).
  Automated answers (a rule's reply, an ``ack``) count too, in ``responded``, the response rate
  and the FRT, so the figures stay comparable with Meta's; each day's ``auto_answered`` (JSON)
  says how many of its requests were first answered by an automated send, so the human-answered
  share is ``responded − auto_answered`` (issue 14).
- Per day (the day of the request time), per channel (``dm``, ``comment``) and in total:

  ``inbound``       inbound messages created that day;
  ``requests``      requests made that day;
  ``responded``     those answered by export time (``generated_at``);
  ``responded_24h`` those answered within 24 h (FRT ≤ 86,400 s);
  ``pending``       unanswered and younger than 24 h at export time (not yet judged);
  ``missed``        unanswered and 24 h old or older at export time;
  ``response_rate`` responded_24h / (requests − pending), rounded to 4 places; ``null`` when
                    the denominator is 0 (a request answered after 24 h counts against it);
  ``median_s``, ``p90_s``  FRT percentiles in seconds over responded requests, **nearest-rank**
                    method: the p-th percentile of n sorted values is the value at rank
                    ceil(p × n / 100) (so the median of an even count is the lower middle
                    value; every figure is a response time that really happened);
  ``mean_s``        the arithmetic mean FRT, rounded to 0.1 s;
  ``median_bh_s``   the nearest-rank median FRT counting only seconds inside
                    ``stats.business_hours`` (``null`` when not configured);
  ``done``          threads marked done that day (distinct threads with a ``done`` triage action);
  ``backlog``       threads awaiting reply at the end of that day (for today: now), i.e. whose
                    last message before that instant is inbound.
  The total row is the same figures over every channel (its percentiles are computed over all
  FRTs, not averaged).
- **Meta badge estimate** (DMs only; Meta's published rule as best known, research/PEERS.md
  §4.1): over the trailing 7 days before export time, a *badge request* is an inbound DM that is
  the thread's first message ever or follows ≥ 24 h with no message from either side; its
  response is the next outbound message. ``requests`` counts them, ``answered`` those answered,
  ``waiting`` the unanswered ones younger than 24 h; ``rate`` = answered / (requests −
  waiting) (``null`` when 0); ``median_response_s`` the nearest-rank median response time over
  answered ones; ``earned`` = rate ≥ 90 % and median ≤ 15 min. ``to_keep`` says "answer N
  waiting requests within M minutes": N = how many waiting requests still need an answer for
  the rate to stay ≥ 90 % once every request counts, i.e. max(0, ceil(0.9 × requests) −
  answered) capped at ``waiting``; M = whole minutes left before the soonest waiting request
  passes 15 minutes (``null`` when none is younger than 15 minutes). Meta's wording changed
  over the years: treat all of this as an estimate.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from socialdesk.business_hours import BusinessCalendar, BusinessHours, parse_business_hours
from socialdesk.core.timezones import load_timezone as load_timezone
from socialdesk.errors import UsageError
from socialdesk.format import iso

CHANNELS: tuple[str, ...] = ("dm", "comment")
"""Channels always present in the output, in this order (others, if any, follow sorted: the
Instagram ones, ``ig_comment`` and ``ig_dm``, appear once the Page has Instagram activity)."""
FILTER_CHANNELS: tuple[str, ...] = (*CHANNELS, "ig_dm", "ig_comment")
"""What ``--channel`` accepts. The Meta badge estimate stays Messenger-only (``dm``): Meta's
rule is stated for Page messages, and the Instagram contract says nothing of a badge."""

DAY_SECONDS = 86400
BADGE_WINDOW_S = 7 * DAY_SECONDS
BADGE_RATE = 0.9
BADGE_TIME_S = 15 * 60
MAX_DAYS = 3660
"""Longest period accepted (about ten years)."""

FIGURE_FIELDS: tuple[str, ...] = (
    "inbound",
    "requests",
    "responded",
    "responded_24h",
    "pending",
    "missed",
    "response_rate",
    "median_s",
    "p90_s",
    "mean_s",
    "median_bh_s",
    "done",
    "backlog",
)
CSV_COLUMNS: tuple[str, ...] = ("day", "channel", *FIGURE_FIELDS)
"""The stable CSV header; one row per day and channel (``dm``, ``comment``, then ``total``)."""


# ---- period ------------------------------------------------------------------------------


def load_business_hours(spec: str | None) -> BusinessHours | None:
    """Parse ``stats.business_hours`` (``None`` or empty: not configured)."""
    if spec is None or not spec.strip():
        return None
    return parse_business_hours(spec)


@dataclass(frozen=True)
class Period:
    """An inclusive range of local calendar days."""

    since: date
    until: date

    @property
    def days(self) -> list[date]:
        n = (self.until - self.since).days + 1
        return [self.since + timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class PeriodWords:
    """How a front end names the period's parts in errors (the CLI: its option names)."""

    day: str = "the day"
    since: str = "the first day"
    until: str = "the last day"
    days: str = "the number of days"


def parse_day(text: str, today: date, *, what: str = "the day") -> date:
    """``today``, ``yesterday`` or an ISO date (``2026-03-01``); never a future day."""
    t = text.strip().lower()
    if t == "today":
        day = today
    elif t == "yesterday":
        day = today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(t)
        except ValueError:
            raise UsageError(
                f"{what}: {text!r} is not a day",
                hint="use today, yesterday or an ISO date such as 2026-03-01",
            ) from None
    if day > today:
        raise UsageError(
            f"{what}: {day.isoformat()} is in the future (today is {today.isoformat()})",
            hint="stats can only describe days that have started",
        )
    return day


def resolve_period(
    *,
    today: date,
    day: str | None = None,
    since: str | None = None,
    until: str | None = None,
    days: int | None = None,
    words: PeriodWords = PeriodWords(),
) -> Period:
    """The period of one day, a range (``since`` [``until``]) or the ``days`` full days before
    today (``days=1`` is yesterday); yesterday when none is given. ``until`` defaults to
    yesterday. ``words`` names the parts in errors."""
    given = [name for name, v in ((words.day, day), (words.days, days)) if v is not None]
    if since is not None or until is not None:
        given.append(f"{words.since}/{words.until}")
    if len(given) > 1:
        raise UsageError(
            f"choose one of a day, a range or a number of days (got {', '.join(given)})"
        )
    if days is not None:
        if days < 1 or days > MAX_DAYS:
            raise UsageError(f"{words.days}: {days} is not between 1 and {MAX_DAYS}")
        end = today - timedelta(days=1)
        return Period(end - timedelta(days=days - 1), end)
    if since is not None or until is not None:
        if since is None:
            raise UsageError(f"{words.until} needs {words.since}")
        start = parse_day(since, today, what=words.since)
        end = (
            parse_day(until, today, what=words.until)
            if until is not None
            else today - timedelta(days=1)
        )
        if start > end:
            raise UsageError(
                f"{words.since} {start.isoformat()} is after {words.until} {end.isoformat()}"
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise UsageError(f"the period is longer than {MAX_DAYS} days")
        return Period(start, end)
    d = parse_day(day if day is not None else "yesterday", today, what=words.day)
    return Period(d, d)


def last_days(today: date, n: int) -> Period:
    """The ``n`` days ending with ``today`` (the inbox's stats screen: today included)."""
    return Period(today - timedelta(days=n - 1), today)


def day_bounds(period: Period, tz: ZoneInfo) -> list[int]:
    """Unix seconds of local midnight for every day of ``period`` and the day after it."""
    out: list[int] = []
    for i in range((period.until - period.since).days + 2):
        d = period.since + timedelta(days=i)
        out.append(int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()))
    return out


# ---- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The figures of one day and one channel (or the total). See the module docstring."""

    inbound: int = 0
    requests: int = 0
    responded: int = 0
    responded_24h: int = 0
    pending: int = 0
    missed: int = 0
    response_rate: float | None = None
    median_s: int | None = None
    p90_s: int | None = None
    mean_s: float | None = None
    median_bh_s: int | None = None
    done: int = 0
    backlog: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of these figures (keys in :data:`FIGURE_FIELDS` order)."""
        return {name: getattr(self, name) for name in FIGURE_FIELDS}


@dataclass(frozen=True)
class DayStats:
    """One local day: figures per channel and in total."""

    day: date
    channels: dict[str, Figures]
    total: Figures
    auto_answered: int = 0
    """Requests of the day whose first answer was automated (a rule or ``ack``; JSON only)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "channels": {name: f.as_dict() for name, f in self.channels.items()},
            "total": self.total.as_dict(),
            "auto_answered": self.auto_answered,
        }


@dataclass(frozen=True)
class ToKeep:
    """ "Answer ``answer`` waiting requests within ``within_minutes`` minutes"."""

    answer: int
    within_minutes: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "within_minutes": self.within_minutes}

    def sentence(self, *, earned: bool = True) -> str:
        """The human phrasing used by the table and the inbox (after "to keep the badge:", or
        "to earn the badge:" when it is not earned)."""
        noun = "request" if self.answer == 1 else "requests"
        if self.answer == 0:
            if not earned:
                return "no waiting request can earn it now; answer new ones within 15 min"
            if self.within_minutes is None:
                return "nothing urgent"
            return (
                f"the rate holds; the next waiting request passes 15 min"
                f" in {self.within_minutes} min"
            )
        if self.within_minutes is None:
            return f"answer {self.answer} waiting {noun} (already past 15 min)"
        if self.within_minutes <= 0:
            return f"answer {self.answer} waiting {noun} now (the oldest is at 15 min)"
        return f"answer {self.answer} waiting {noun} within {self.within_minutes} min"


@dataclass(frozen=True)
class Badge:
    """The trailing-7-day "Very responsive" estimate for DMs."""

    since: datetime
    until: datetime
    requests: int
    answered: int
    waiting: int
    rate: float | None
    median_response_s: int | None
    earned: bool
    to_keep: ToKeep

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "rate": self.rate,
            "median_response_s": self.median_response_s,
            "requests": self.requests,
            "answered": self.answered,
            "waiting": self.waiting,
            "earned": self.earned,
            "to_keep": self.to_keep.as_dict(),
        }


@dataclass(frozen=True)
class StatsReport:
    """Everything ``stats`` prints or exports."""

    page_id: str
    period: Period
    timezone: str
    business_hours: str | None
    generated_at: datetime
    last_sync_at: datetime | None
    days: tuple[DayStats, ...]
    badge: Badge
    channel: str | None = None
    """The ``--channel`` filter, if any (then ``channels`` and ``total`` cover it only)."""
    period_end: datetime = field(default=datetime(1970, 1, 1, tzinfo=UTC))
    """The end of the period as an instant (now, for a period ending today)."""

    @property
    def sync_is_stale(self) -> bool:
        """Whether the data may miss messages of the period: last sync before its end."""
        return self.last_sync_at is None or self.last_sync_at < self.period_end

    def as_json(self) -> dict[str, Any]:
        """The documented, stable JSON shape of ``stats --format json``."""
        return {
            "page_id": self.page_id,
            "period": {
                "since": self.period.since.isoformat(),
                "until": self.period.until.isoformat(),
                "timezone": self.timezone,
            },
            "business_hours": self.business_hours,
            "channel": self.channel,
            "generated_at": iso(self.generated_at),
            "last_sync_at": iso(self.last_sync_at) if self.last_sync_at else None,
            "days": [d.as_dict() for d in self.days],
            "badge": self.badge.as_dict(),
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """One dict per (day, channel) in :data:`CSV_COLUMNS`, then the day's ``total`` row;
        ``None`` stays ``None`` (an empty cell)."""
        rows: list[dict[str, Any]] = []
        for d in self.days:
            for name, figures in [*d.channels.items(), ("total", d.total)]:
                rows.append({"day": d.day.isoformat(), "channel": name, **figures.as_dict()})
        return rows


# ---- pure arithmetic -----------------------------------------------------------------------


def percentile(sorted_values: Sequence[int], p: int) -> int | None:
    """Nearest-rank p-th percentile of ascending ``sorted_values``: the value at rank
    ceil(p·n/100) (1-based); ``None`` for no values."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, (p * n + 99) // 100)
    return sorted_values[rank - 1]


@dataclass
class _Acc:
    inbound: int = 0
    requests: int = 0
    responded: int = 0
    responded_24h: int = 0
    pending: int = 0
    missed: int = 0
    frt: list[int] = field(default_factory=list)
    frt_bh: list[int] = field(default_factory=list)
    done: int = 0
    backlog: int = 0

    def add(self, other: _Acc) -> None:
        self.inbound += other.inbound
        self.requests += other.requests
        self.responded += other.responded
        self.responded_24h += other.responded_24h
        self.pending += other.pending
        self.missed += other.missed
        self.frt.extend(other.frt)
        self.frt_bh.extend(other.frt_bh)
        self.done += other.done
        self.backlog += other.backlog

    def figures(self, *, business_hours: bool) -> Figures:
        frt = sorted(self.frt)
        denominator = self.requests - self.pending
        return Figures(
            inbound=self.inbound,
            requests=self.requests,
            responded=self.responded,
            responded_24h=self.responded_24h,
            pending=self.pending,
            missed=self.missed,
            response_rate=round(self.responded_24h / denominator, 4) if denominator else None,
            median_s=percentile(frt, 50),
            p90_s=percentile(frt, 90),
            mean_s=round(sum(frt) / len(frt), 1) if frt else None,
            median_bh_s=percentile(sorted(self.frt_bh), 50) if business_hours else None,
            done=self.done,
            backlog=self.backlog,
        )


def build_days(
    *,
    days: Sequence[date],
    bounds: Sequence[int],
    now: int,
    requests: Iterable[tuple[str, int | None, int | None]],
    inbound: Iterable[tuple[str, int, int]],
    done: Iterable[tuple[str, str, int]],
    idle_backlog: dict[str, int],
    calendar: BusinessCalendar | None = None,
    channel: str | None = None,
) -> tuple[DayStats, ...]:
    """The per-day figures from the store's rows (pure: no I/O).

    ``bounds`` holds len(days) + 1 Unix seconds (local midnights). ``requests`` are
    ``(channel, request_at | None, response_at | None)`` rows (``request_at=None``: a wait carried
    into the period); ``inbound`` ``(channel, at, count)``; ``done`` ``(channel, thread_id, at)``;
    ``idle_backlog`` threads awaiting reply through the whole period, per channel.
    """
    n = len(days)
    if len(bounds) != n + 1:
        raise ValueError("bounds must hold one more instant than days")
    names = [channel] if channel else list(CHANNELS)
    acc: dict[str, list[_Acc]] = {name: [_Acc() for _ in range(n)] for name in names}

    def cell(name: str) -> list[_Acc]:
        if name not in acc:
            acc[name] = [_Acc() for _ in range(n)]
        return acc[name]

    def day_of(ts: int) -> int:
        i = bisect.bisect_right(bounds, ts) - 1
        return i if 0 <= i < n else -1

    # Backlog instants: each day's end, or now for a day still running.
    ends = [min(bounds[i + 1], now) for i in range(n)]
    diff: dict[str, list[int]] = {}

    for name, request_at, response_at in requests:
        if request_at is not None:
            i = day_of(request_at)
            if i >= 0:
                a = cell(name)[i]
                a.requests += 1
                if response_at is not None:
                    frt = response_at - request_at
                    a.responded += 1
                    a.frt.append(frt)
                    if frt <= DAY_SECONDS:
                        a.responded_24h += 1
                    if calendar is not None:
                        a.frt_bh.append(calendar.open_seconds(request_at, response_at))
                elif now - request_at < DAY_SECONDS:
                    a.pending += 1
                else:
                    a.missed += 1
        # Awaiting at the end of day k iff request_at < ends[k] <= response_at.
        k_lo = 0 if request_at is None else bisect.bisect_right(ends, request_at)
        k_hi = n - 1 if response_at is None else bisect.bisect_right(ends, response_at) - 1
        if k_lo <= k_hi:
            d = diff.setdefault(name, [0] * (n + 1))
            d[k_lo] += 1
            d[k_hi + 1] -= 1
            cell(name)

    for name, at, count in inbound:
        i = day_of(at)
        if i >= 0:
            cell(name)[i].inbound += count

    seen: set[tuple[int, str]] = set()
    for name, thread_id, at in done:
        i = day_of(at)
        if i >= 0 and (i, thread_id) not in seen:
            seen.add((i, thread_id))
            cell(name)[i].done += 1

    for name in idle_backlog:
        cell(name)
    for name, cells in acc.items():
        running = idle_backlog.get(name, 0)
        d = diff.get(name, [0] * (n + 1))
        for k in range(n):
            running += d[k]
            cells[k].backlog = running

    order = [c for c in names if c in acc] + sorted(c for c in acc if c not in names)
    bh = calendar is not None
    out: list[DayStats] = []
    for k, day in enumerate(days):
        total = _Acc()
        per: dict[str, Figures] = {}
        for name in order:
            total.add(acc[name][k])
            per[name] = acc[name][k].figures(business_hours=bh)
        out.append(DayStats(day=day, channels=per, total=total.figures(business_hours=bh)))
    return tuple(out)


def build_badge(rows: Iterable[tuple[int, int | None]], *, since: datetime, now: datetime) -> Badge:
    """The badge estimate from ``(request_at, response_at)`` badge requests (pure)."""
    now_ts = int(now.timestamp())
    requests = answered = waiting = 0
    times: list[int] = []
    soonest: int | None = None
    for request_at, response_at in rows:
        requests += 1
        if response_at is not None:
            answered += 1
            times.append(response_at - request_at)
            continue
        age = now_ts - request_at
        if age < DAY_SECONDS:
            waiting += 1
        if age < BADGE_TIME_S:
            left = BADGE_TIME_S - age
            soonest = left if soonest is None else min(soonest, left)
    times.sort()
    judged = requests - waiting
    rate = round(answered / judged, 4) if judged else None
    median = percentile(times, 50)
    earned = (
        rate is not None and rate >= BADGE_RATE and median is not None and (median <= BADGE_TIME_S)
    )
    need = max(0, (9 * requests + 9) // 10 - answered)
    to_keep = ToKeep(
        answer=min(need, waiting),
        within_minutes=None if soonest is None else soonest // 60,
    )
    return Badge(
        since=since,
        until=now,
        requests=requests,
        answered=answered,
        waiting=waiting,
        rate=rate,
        median_response_s=median,
        earned=earned,
        to_keep=to_keep,
    )


# ---- from the store --------------------------------------------------------------------------


def compute_badge(conn: sqlite3.Connection, page_id: str, *, now: datetime) -> Badge:
    """The trailing-7-day badge estimate as of ``now``."""
    from socialdesk.store import stats as sql

    since = now - timedelta(seconds=BADGE_WINDOW_S)
    rows = sql.badge_rows(
        conn, page_id, lo=int(since.timestamp()), now=int(now.timestamp()), silence=DAY_SECONDS
    )
    return build_badge(rows, since=since, now=now)


def compute_stats(
    conn: sqlite3.Connection,
    page_id: str,
    period: Period,
    *,
    now: datetime,
    timezone: str | ZoneInfo = "UTC",
    business_hours: str | BusinessHours | None = None,
    channel: str | None = None,
) -> StatsReport:
    """Compute the statistics of ``page_id`` for ``period`` as of ``now`` (aware).

    Reads the local database only. Raises :class:`UsageError` for an unknown timezone, a
    malformed business-hours spec, an unknown channel or a period that has not started.
    """
    from socialdesk.store import stats as sql

    tz = timezone if isinstance(timezone, ZoneInfo) else load_timezone(timezone)
    hours = (
        business_hours
        if isinstance(business_hours, BusinessHours) or business_hours is None
        else load_business_hours(business_hours)
    )
    if channel is not None and channel not in FILTER_CHANNELS:
        raise UsageError(
            f"unknown channel {channel!r}", hint="use dm, comment, ig_dm or ig_comment"
        )
    bounds = day_bounds(period, tz)
    now_ts = int(now.timestamp())
    lo, hi = bounds[0], bounds[-1]
    if lo > now_ts:
        raise UsageError(f"the period starting {period.since.isoformat()} is in the future")
    calendar = None
    if hours is not None:
        calendar = BusinessCalendar(hours, tz)
        calendar.cover(lo, min(hi, now_ts))

    # A bucket size that divides every day boundary keeps the inbound GROUP BY exact.
    bucket = 900 if all(b % 900 == 0 for b in bounds) else 1
    rows = sql.period_rows(conn, page_id, lo=lo, hi=hi, now=now_ts, bucket=bucket, channel=channel)
    days = build_days(
        days=period.days,
        bounds=bounds,
        now=now_ts,
        requests=rows.requests,
        inbound=rows.inbound,
        done=sql.done_events(conn, page_id, lo=lo, hi=hi, now=now_ts, channel=channel),
        idle_backlog=sql.quiet_backlog(conn, page_id, lo=lo, hi=hi, now=now_ts, channel=channel),
        calendar=calendar,
        channel=channel,
    )
    days = _with_auto_answered(conn, page_id, days, bounds, channel)
    last = sql.last_sync_at(conn, page_id)
    return StatsReport(
        page_id=page_id,
        period=period,
        timezone=tz.key,
        business_hours=hours.spec if hours is not None else None,
        generated_at=now.astimezone(UTC),
        last_sync_at=datetime.fromtimestamp(last, tz=UTC) if last is not None else None,
        days=days,
        badge=compute_badge(conn, page_id, now=now),
        channel=channel,
        period_end=datetime.fromtimestamp(min(hi, now_ts), tz=UTC),
    )


def _with_auto_answered(
    conn: sqlite3.Connection,
    page_id: str,
    days: tuple[DayStats, ...],
    bounds: Sequence[int],
    channel: str | None,
) -> tuple[DayStats, ...]:
    """Each day with its ``auto_answered`` count (requests of that day first answered by an
    automated send: they stay in ``responded`` and the FRT; see the module docstring)."""
    import dataclasses

    from socialdesk.store.rules import auto_answered_requests

    counts = [0] * len(days)
    for _name, at in auto_answered_requests(
        conn, page_id, lo=bounds[0], hi=bounds[-1], channel=channel
    ):
        i = bisect.bisect_right(bounds, at) - 1
        if 0 <= i < len(days):
            counts[i] += 1
    return tuple(dataclasses.replace(d, auto_answered=n) for d, n in zip(days, counts, strict=True))
