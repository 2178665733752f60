"""Business-hours specs: parsing, errors naming the bad part, and open seconds across DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from socialdesk.business_hours import (
    BusinessCalendar,
    BusinessHoursError,
    open_seconds,
    parse_business_hours,
)
from socialdesk.errors import UsageError

WARSAW = ZoneInfo("Europe/Warsaw")


def w(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WARSAW)


def test_parse_simple_and_multi_part() -> None:
    """Ranges, single days, several parts and several ranges per part are understood."""
    bh = parse_business_hours("Mon-Fri 09:00-17:00, Sat 10:00-14:00")
    assert bh.week[0] == ((540, 1020),)
    assert bh.week[4] == ((540, 1020),)
    assert bh.week[5] == ((600, 840),)
    assert bh.week[6] == ()
    split = parse_business_hours("mon 09:00-12:00 13:00-17:00")
    assert split.week[0] == ((540, 720), (780, 1020))
    listed = parse_business_hours("Mon,Wed-Fri 08:30-16:00")  # config.py's day-list form
    assert [d for d in range(7) if listed.week[d]] == [0, 2, 3, 4]


def test_parse_wrapping_range_and_merge() -> None:
    """A day range may wrap the week; overlapping parts merge; 24:00 is a valid end."""
    bh = parse_business_hours("Sat-Mon 20:00-24:00, Sun 08:00-21:00")
    assert [d for d in range(7) if bh.week[d]] == [0, 5, 6]
    assert bh.week[6] == ((480, 1440),)


@pytest.mark.parametrize(
    ("spec", "part"),
    [
        ("Mon-Fry 09:00-17:00", "Fry"),
        ("Mon-Fri 9-17", "9-17"),
        ("Mon-Fri 17:00-09:00", "17:00-09:00"),
        ("Mon-Fri 09:00-25:00", "09:00-25:00"),
        ("Mon-Fri", "Mon-Fri"),
        ("Mon-Fri 09:00-17:00,", "empty part"),
        ("Mon-Fri 09:00-17:00, Sat", "Sat"),
        ("", "empty"),
    ],
)
def test_malformed_specs_name_the_part(spec: str, part: str) -> None:
    """A malformed spec raises a UsageError (also a ValueError) naming what is wrong."""
    with pytest.raises(BusinessHoursError) as info:
        parse_business_hours(spec)
    assert part in str(info.value)
    assert isinstance(info.value, UsageError)
    assert isinstance(info.value, ValueError)


def test_open_seconds_across_a_weekend() -> None:
    """Friday 16:00 to Monday 10:00 counts 1 h on Friday and 1 h on Monday."""
    bh = parse_business_hours("Mon-Fri 09:00-17:00")
    assert open_seconds(bh, WARSAW, w(2026, 3, 13, 16), w(2026, 3, 16, 10)) == 7200


def test_open_seconds_outside_hours_is_zero() -> None:
    """A wait entirely at night counts nothing."""
    bh = parse_business_hours("Mon-Fri 09:00-17:00")
    assert open_seconds(bh, WARSAW, w(2026, 3, 10, 0), w(2026, 3, 10, 0, 1)) == 0


def test_open_seconds_on_dst_days() -> None:
    """Hours are wall-clock: 09:00-17:00 is 8 h on both change days; 01:00-04:00 is not 3 h."""
    day = parse_business_hours("Sun 09:00-17:00")
    assert open_seconds(day, WARSAW, w(2026, 3, 29), w(2026, 3, 30)) == 8 * 3600
    assert open_seconds(day, WARSAW, w(2026, 10, 25), w(2026, 10, 26)) == 8 * 3600
    night = parse_business_hours("Sun 01:00-04:00")
    assert open_seconds(night, WARSAW, w(2026, 3, 29), w(2026, 3, 30)) == 2 * 3600
    assert open_seconds(night, WARSAW, w(2026, 10, 25), w(2026, 10, 26)) == 4 * 3600


def test_calendar_extends_on_demand() -> None:
    """A calendar built for one span still answers for instants far outside it."""
    bh = parse_business_hours("Mon-Fri 09:00-17:00")
    cal = BusinessCalendar(bh, WARSAW)
    cal.cover(int(w(2026, 3, 10).timestamp()), int(w(2026, 3, 11).timestamp()))
    start = int(datetime(2026, 6, 1, 7, 0, tzinfo=UTC).timestamp())  # Mon 09:00 CEST
    assert cal.open_seconds(start, start + 3600) == 3600
    assert cal.open_seconds(start, start) == 0
