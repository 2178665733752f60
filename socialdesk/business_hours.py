"""Business hours: parse a spec such as ``"Mon-Fri 09:00-17:00, Sat 10:00-14:00"`` and count the
seconds of an interval that fall inside those hours, in a timezone (DST-correct).

Standard library only, so that config validation may import it. Called by
:mod:`socialdesk.config` (a malformed ``stats.business_hours`` is refused at load) and by
:mod:`socialdesk.core.stats` (the business-hours median of the first response time).

Grammar (case-insensitive, whitespace around separators ignored)::

    spec   := part ("," part)*
    part   := days ("," days)* range+     e.g. "Mon-Fri 09:00-12:00 13:00-17:00",
                                       "Mon,Wed 10:00-14:00"
    days   := DAY | DAY "-" DAY      Mon Tue Wed Thu Fri Sat Sun (full names accepted too);
                                     a range may wrap ("Fri-Mon")
    range  := HH:MM "-" HH:MM        local wall-clock time, start < end, "24:00" allowed as an end

Hours are local wall-clock times in the configured timezone; on a DST change day an interval is
as long as the clock says (09:00-17:00 is 8 h on both change days; only an interval crossing the
change, e.g. 01:00-04:00, is shorter or longer). Overlapping parts are merged.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from socialdesk.errors import UsageError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_TIME_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_SPEC_HINT = 'write it like "Mon-Fri 09:00-17:00" or "Mon-Fri 09:00-17:00, Sat 10:00-14:00"'


class BusinessHoursError(UsageError, ValueError):
    """A malformed business-hours spec: names the offending part (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=_SPEC_HINT)


@dataclass(frozen=True)
class BusinessHours:
    """Open intervals per weekday (0 = Monday), in minutes since local midnight, merged."""

    spec: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    """Seven tuples of ``(start_minute, end_minute)``, sorted and non-overlapping."""

    def seconds_per_week(self) -> int:
        """Nominal open seconds in a week (no DST): a quick emptiness check."""
        return sum((e - s) * 60 for day in self.week for s, e in day)


def _day_index(token: str, part: str) -> int:
    t = token.strip().lower()
    if t in DAY_NAMES:
        return DAY_NAMES.index(t)
    if t in _FULL_NAMES:
        return _FULL_NAMES.index(t)
    raise BusinessHoursError(f"business hours: unknown day {token.strip()!r} in {part!r}")


def _minutes(hh: str, mm: str, token: str, part: str, *, end: bool) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        raise BusinessHoursError(f"business hours: invalid time in {token!r} of {part!r}")
    return h * 60 + m


def _days(token: str, part: str) -> list[int]:
    if "-" in token:
        first_s, _, last_s = token.partition("-")
        first, last = _day_index(first_s, part), _day_index(last_s, part)
        return [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    return [_day_index(token, part)]


def parse_business_hours(spec: str) -> BusinessHours:
    """Parse ``spec``; a :class:`BusinessHoursError` (a ``UsageError`` and a ``ValueError``) names
    the part that is wrong."""
    if not spec or not spec.strip():
        raise BusinessHoursError("business hours: the spec is empty")
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    carried: list[int] = []  # days of "Mon," in "Mon,Wed-Fri 09:00-17:00" (a day list)
    parts = [p.strip() for p in spec.split(",")]
    for index, part in enumerate(parts):
        if not part:
            raise BusinessHoursError(f"business hours: empty part in {spec!r}")
        tokens = part.split()
        days = carried + _days(tokens[0], part)
        if len(tokens) == 1:
            if index == len(parts) - 1:
                raise BusinessHoursError(
                    f"business hours: {part!r} needs days and at least one HH:MM-HH:MM range"
                )
            carried = days
            continue
        carried = []
        for token in tokens[1:]:
            m = _TIME_RANGE_RE.match(token)
            if m is None:
                raise BusinessHoursError(
                    f"business hours: {token!r} in {part!r} is not a HH:MM-HH:MM range"
                )
            start = _minutes(m.group(1), m.group(2), token, part, end=False)
            end = _minutes(m.group(3), m.group(4), token, part, end=True)
            if start >= end:
                raise BusinessHoursError(
                    f"business hours: {token!r} in {part!r} ends before it starts"
                    " (overnight ranges are not supported)"
                )
            for d in days:
                week[d].append((start, end))
    merged: list[tuple[tuple[int, int], ...]] = []
    for intervals in week:
        out: list[tuple[int, int]] = []
        for s, e in sorted(intervals):
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        merged.append(tuple(out))
    return BusinessHours(spec=spec.strip(), week=tuple(merged))


def _local_ts(day: date, minute: int, tz: ZoneInfo) -> int:
    # "24:00" is the next day's midnight; a nonexistent local time (spring-forward gap) resolves
    # with fold=0, i.e. with the offset before the change, as zoneinfo does.
    if minute >= 24 * 60:
        nxt = day + timedelta(days=1)
        return int(datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp())
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    return int(local.timestamp())


@dataclass
class BusinessCalendar:
    """The open intervals of :class:`BusinessHours` as UTC seconds, with cumulative sums, so that
    the open seconds between two instants cost two binary searches.

    Built once per stats run over the span it will be asked about; extended on demand.
    """

    hours: BusinessHours
    tz: ZoneInfo
    _starts: list[int] = field(default_factory=list)
    _ends: list[int] = field(default_factory=list)
    _cum: list[int] = field(default_factory=list)
    """``_cum[i]``: open seconds in intervals ``0 .. i-1``."""
    _first_day: date | None = None
    _last_day: date | None = None
    _lo_ts: int = 0
    _hi_ts: int = -1
    """Instants certainly covered by the built days (fast path of :meth:`_ensure`)."""

    def _local_day(self, ts: int) -> date:
        return datetime.fromtimestamp(ts, tz=self.tz).date()

    def _build(self, first: date, last: date) -> None:
        starts: list[int] = []
        ends: list[int] = []
        d = first
        while d <= last:
            for s, e in self.hours.week[d.weekday()]:
                a, b = _local_ts(d, s, self.tz), _local_ts(d, e, self.tz)
                if b > a:
                    starts.append(a)
                    ends.append(b)
            d += timedelta(days=1)
        cum = [0]
        for a, b in zip(starts, ends, strict=True):
            cum.append(cum[-1] + b - a)
        self._starts, self._ends, self._cum = starts, ends, cum
        self._first_day, self._last_day = first, last
        self._lo_ts = _local_ts(first + timedelta(days=1), 0, self.tz)
        self._hi_ts = _local_ts(last, 0, self.tz)

    def _ensure(self, lo: int, hi: int) -> None:
        if self._lo_ts <= lo and hi <= self._hi_ts:
            return
        first = self._local_day(lo) - timedelta(days=1)
        last = self._local_day(hi) + timedelta(days=1)
        if self._first_day is None or self._last_day is None:
            self._build(first, last)
        elif first < self._first_day or last > self._last_day:
            self._build(min(first, self._first_day), max(last, self._last_day))

    def cover(self, lo: int, hi: int) -> None:
        """Precompute the intervals for instants between ``lo`` and ``hi`` (Unix seconds)."""
        self._ensure(lo, hi)

    def _open_before(self, ts: int) -> int:
        i = bisect.bisect_right(self._starts, ts)
        if i == 0:
            return 0
        # Intervals 0..i-2 end before ts; interval i-1 started at or before ts.
        return self._cum[i - 1] + min(ts, self._ends[i - 1]) - self._starts[i - 1]

    def open_seconds(self, start: int, end: int) -> int:
        """Seconds of ``[start, end)`` (Unix seconds) inside business hours."""
        if end <= start:
            return 0
        self._ensure(start, end)
        return self._open_before(end) - self._open_before(start)


def open_seconds(hours: BusinessHours, tz: ZoneInfo, start: datetime, end: datetime) -> int:
    """Seconds between two aware datetimes that fall inside ``hours`` (a one-off convenience)."""
    cal = BusinessCalendar(hours, tz)
    return cal.open_seconds(int(start.timestamp()), int(end.timestamp()))
