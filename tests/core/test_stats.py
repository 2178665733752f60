"""The stats definitions (PRODUCT.md §7), pinned by hand-computed figures on scripted histories."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from socialdesk.core.stats import (
    Figures,
    Period,
    build_badge,
    compute_badge,
    compute_stats,
    percentile,
    resolve_period,
)
from socialdesk.errors import UsageError
from socialdesk.store.db import open_db
from tests.support.stats_script import PAGE, add_sync, add_thread, scripted_day, w

DAY = Period(date(2026, 3, 10), date(2026, 3, 10))
BH = "Mon-Fri 09:00-17:00"


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = open_db(tmp_path / "s.db")
    yield c
    c.close()


@pytest.fixture
def day_conn(conn: sqlite3.Connection) -> sqlite3.Connection:
    scripted_day(conn)
    return conn


def stats_for(
    conn: sqlite3.Connection, now: int, period: Period = DAY, business_hours: str | None = None
) -> dict[str, Figures]:
    report = compute_stats(
        conn, PAGE, period, now=at(now), timezone="Europe/Warsaw", business_hours=business_hours
    )
    d = report.days[0]
    return {**d.channels, "total": d.total}


def test_scripted_day_figures(day_conn: sqlite3.Connection) -> None:
    """Answers within minutes, after a day, never, elsewhere; midnight; done; backlog."""
    f = stats_for(day_conn, w(2026, 3, 12, 10), business_hours=BH)
    assert f["dm"] == Figures(
        inbound=7,  # A×3, B, C, D, E (F's message was at 23:59:59 the day before)
        requests=6,  # A×2 (09:02 follows 09:00: same request), B, C, D, E
        responded=5,
        responded_24h=4,  # B took 25 h
        pending=0,
        missed=1,  # C
        response_rate=0.6667,  # 4 / 6
        median_s=1200,  # sorted 60 300 1200 3000 90000: rank ceil(5/2)=3
        p90_s=90000,  # rank ceil(4.5)=5
        mean_s=18912.0,  # 94560 / 5
        median_bh_s=600,  # 0 300 600 1200 32400 (D: 16:50-17:00; B: 7 h + 2 h)
        done=1,  # A, twice the same day
        backlog=2,  # B and C await reply at midnight
    )
    assert f["comment"] == Figures(
        inbound=3,
        requests=2,
        responded=1,
        responded_24h=1,
        pending=0,
        missed=1,
        response_rate=0.5,
        median_s=1200,
        p90_s=1200,
        mean_s=1200.0,
        median_bh_s=1200,
        done=1,  # G at 23:30 local; C's 00:30 local (23:30 UTC) belongs to the 11th
        backlog=1,  # H
    )
    assert f["total"] == Figures(
        inbound=10,
        requests=8,
        responded=6,
        responded_24h=5,
        pending=0,
        missed=2,
        response_rate=0.625,
        median_s=1200,  # 60 300 1200 1200 3000 90000: rank 3
        p90_s=90000,  # rank ceil(5.4)=6
        mean_s=15960.0,
        median_bh_s=600,  # 0 300 600 1200 1200 32400: rank 3
        done=2,
        backlog=3,
    )


def test_pending_versus_missed_at_export_time(day_conn: sqlite3.Connection) -> None:
    """Unanswered < 24 h is pending (out of the rate); a reply after `now` does not exist yet."""
    f = stats_for(day_conn, w(2026, 3, 11, 10, 30))["dm"]
    # B (10:00) is 24.5 h old and its 11:00 reply is in the future: missed. C (15:00): pending.
    assert (f.responded, f.pending, f.missed) == (4, 1, 1)
    assert f.response_rate == 0.8  # 4 / (6 - 1)
    f = stats_for(day_conn, w(2026, 3, 11, 12))["dm"]
    assert (f.responded, f.responded_24h, f.pending, f.missed) == (5, 4, 1, 0)


def test_business_hours_absent_gives_null(day_conn: sqlite3.Connection) -> None:
    """Without stats.business_hours the business-hours median is null."""
    assert stats_for(day_conn, w(2026, 3, 12))["total"].median_bh_s is None


def test_midnight_belongs_to_the_local_day(conn: sqlite3.Connection) -> None:
    """00:00:00 local is the new day; 23:59:59 local is the old one (UTC would say otherwise)."""
    add_thread(conn, "X", "dm", [("in", w(2026, 3, 10, 0)), ("out", w(2026, 3, 10, 0, 0, 30))])
    add_thread(conn, "Y", "dm", [("in", w(2026, 3, 10, 23, 59, 59))])
    now = w(2026, 3, 12)
    period = Period(date(2026, 3, 9), date(2026, 3, 10))
    report = compute_stats(conn, PAGE, period, now=at(now), timezone="Europe/Warsaw")
    d9, d10 = report.days
    assert (d9.total.requests, d10.total.requests) == (0, 2)
    assert d10.total.backlog == 1
    utc = compute_stats(conn, PAGE, period, now=at(now), timezone="UTC")
    assert (utc.days[0].total.requests, utc.days[1].total.requests) == (1, 1)


def test_dst_day_is_25_hours(conn: sqlite3.Connection) -> None:
    """2026-10-25 in Warsaw runs 25 h: 00:00 CEST to 24:00 CET all count for that day."""
    add_thread(conn, "P", "dm", [("in", w(2026, 10, 25, 0))])  # 22:00 UTC on the 24th
    add_thread(conn, "Q", "dm", [("in", w(2026, 10, 25, 23, 30))])  # 22:30 UTC on the 25th
    add_thread(conn, "R", "dm", [("in", w(2026, 10, 24, 23, 59, 59))])
    add_thread(conn, "S", "dm", [("in", w(2026, 10, 26, 0))])
    assert w(2026, 10, 26) - w(2026, 10, 25) == 25 * 3600
    period = Period(date(2026, 10, 25), date(2026, 10, 25))
    f = stats_for(conn, w(2026, 10, 28), period)["dm"]
    assert (f.inbound, f.requests, f.missed, f.backlog) == (2, 2, 2, 3)  # R, P and Q wait


def test_consecutive_inbound_and_a_reply_in_the_same_second(conn: sqlite3.Connection) -> None:
    """Only the first of consecutive inbound messages is a request; a same-second reply counts."""
    t0 = w(2026, 3, 10, 10)
    history = [("in", t0), ("in", t0 + 60), ("in", t0 + 120), ("out", t0 + 600),
               ("in", t0 + 900), ("out", t0 + 900)]  # fmt: skip
    add_thread(conn, "K", "dm", history)
    f = stats_for(conn, w(2026, 3, 12))["dm"]
    assert (f.inbound, f.requests, f.responded) == (4, 2, 2)
    assert (f.median_s, f.p90_s, f.mean_s) == (0, 600, 300.0)


def test_backlog_carries_requests_older_than_the_period(conn: sqlite3.Connection) -> None:
    """A wait that began before the period counts in every day's backlog until it is answered."""
    add_thread(conn, "old", "comment", [("in", w(2026, 2, 1, 12))])  # never answered, quiet
    add_thread(conn, "late", "dm", [("in", w(2026, 3, 9, 12)), ("out", w(2026, 3, 11, 9))])
    add_thread(conn, "woken", "dm", [("in", w(2026, 3, 8, 12)), ("out", w(2026, 3, 13, 9))])
    period = Period(date(2026, 3, 10), date(2026, 3, 12))
    report = compute_stats(conn, PAGE, period, now=at(w(2026, 3, 14)), timezone="Europe/Warsaw")
    assert [d.total.backlog for d in report.days] == [3, 2, 2]
    assert [d.channels["dm"].backlog for d in report.days] == [2, 1, 1]
    assert all(d.total.requests == 0 for d in report.days)


def test_channel_filter(day_conn: sqlite3.Connection) -> None:
    """--channel comment reports the comment channel only, and the total equals it."""
    report = compute_stats(
        day_conn, PAGE, DAY, now=at(w(2026, 3, 12)), timezone="Europe/Warsaw", channel="comment"
    )
    day = report.days[0]
    assert list(day.channels) == ["comment"]
    assert day.total.requests == day.channels["comment"].requests == 2


def test_percentile_nearest_rank() -> None:
    """Nearest rank: the value at rank ceil(p·n/100); an even count's median is the lower one."""
    assert percentile([], 50) is None
    assert percentile([7], 90) == 7
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 12)), 90) == 10


def test_badge_and_to_keep(conn: sqlite3.Connection) -> None:
    """Badge requests follow 24 h of silence; waiting ones set to_keep; comments are ignored."""
    now = w(2026, 3, 20, 12)
    h = 3600
    add_thread(conn, "T1", "dm", [("in", now - 72 * h), ("out", now - 72 * h + 600),
                                  ("in", now - 48 * h), ("out", now - 48 * h + 60)])  # fmt: skip
    add_thread(conn, "T2", "dm", [("in", now - 120 * h), ("out", now - 120 * h + 1200),
                                  ("in", now - 24 * h), ("out", now - 24 * h + 300)])  # fmt: skip
    add_thread(conn, "T3", "dm", [("in", now - 144 * h)])
    add_thread(conn, "T4", "dm", [("in", now - 300)])
    add_thread(conn, "T5", "dm", [("in", now - 200 * h), ("out", now - 199 * h),
                                  ("in", now - 1200)])  # fmt: skip
    add_thread(conn, "T6", "comment", [("in", now - 3600)])
    badge = compute_badge(conn, PAGE, now=at(now))
    # T1's second message came 23h50 after the reply: not a new badge request.
    assert (badge.requests, badge.answered, badge.waiting) == (6, 3, 2)
    assert badge.rate == 0.75  # 3 / (6 - 2 waiting)
    assert badge.median_response_s == 600  # 300 600 1200
    assert badge.earned is False
    # ceil(0.9 × 6) − 3 = 3 needed, only 2 waiting; T4 has 10 min left before 15 min.
    assert badge.to_keep.as_dict() == {"answer": 2, "within_minutes": 10}


def test_badge_earned_pure() -> None:
    """Rate ≥ 90 % and median ≤ 15 min earn it; nothing more to answer when enough were."""
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    n = int(now.timestamp())
    rows = [(n - 86400 * 2 - i * 1000, n - 86400 * 2 - i * 1000 + 300) for i in range(10)]
    badge = build_badge([*rows, (n - 61, None)], since=now, now=now)
    assert (badge.rate, badge.median_response_s, badge.earned) == (1.0, 300, True)
    assert badge.to_keep.as_dict() == {"answer": 0, "within_minutes": 13}
    slow = build_badge([(n - 5000, n - 5000 + 901)], since=now, now=now)
    assert slow.earned is False
    empty = build_badge([], since=now, now=now)
    assert (empty.rate, empty.earned, empty.to_keep.sentence()) == (None, False, "nothing urgent")


def test_period_resolution() -> None:
    """--day/--since/--until/--days resolve to local days; the future and mixtures are refused."""
    today = date(2026, 3, 11)
    assert resolve_period(today=today) == Period(date(2026, 3, 10), date(2026, 3, 10))
    assert resolve_period(today=today, day="today").since == today
    assert resolve_period(today=today, day="2026-03-01").until == date(2026, 3, 1)
    assert resolve_period(today=today, days=7) == Period(date(2026, 3, 4), date(2026, 3, 10))
    assert resolve_period(today=today, since="2026-03-01", until="today").until == today
    for kwargs in (
        {"day": "2026-03-12"},
        {"day": "tomorrow"},
        {"day": "today", "days": 2},
        {"days": 0},
        {"since": "2026-03-05", "until": "2026-03-01"},
        {"until": "2026-03-01"},
    ):
        with pytest.raises(UsageError):
            resolve_period(today=today, **kwargs)


def test_bad_timezone_and_hours_are_usage_errors(day_conn: sqlite3.Connection) -> None:
    """An unknown timezone or malformed hours is a UsageError naming it."""
    with pytest.raises(UsageError, match="Mars/Olympus"):
        compute_stats(day_conn, PAGE, DAY, now=at(w(2026, 3, 12)), timezone="Mars/Olympus")
    with pytest.raises(UsageError, match="Fry"):
        compute_stats(day_conn, PAGE, DAY, now=at(w(2026, 3, 12)), business_hours="Mon-Fry 9")


def test_report_shapes_and_sync_staleness(day_conn: sqlite3.Connection) -> None:
    """JSON and CSV shapes are stable; a sync older than the period's end is flagged."""
    add_sync(day_conn, w(2026, 3, 10, 20))
    report = compute_stats(day_conn, PAGE, DAY, now=at(w(2026, 3, 12)), timezone="Europe/Warsaw")
    assert report.sync_is_stale
    doc = report.as_json()
    assert doc["period"] == {"since": "2026-03-10", "until": "2026-03-10",
                             "timezone": "Europe/Warsaw"}  # fmt: skip
    assert doc["last_sync_at"] == "2026-03-10T19:00:00Z"
    assert list(doc["days"][0]["channels"]) == ["dm", "comment"]
    assert set(doc["badge"]) >= {"rate", "median_response_s", "requests", "earned", "to_keep"}
    rows = report.csv_rows()
    assert [r["channel"] for r in rows] == ["dm", "comment", "total"]
    add_sync(day_conn, w(2026, 3, 11, 1))
    fresh = compute_stats(day_conn, PAGE, DAY, now=at(w(2026, 3, 12)), timezone="Europe/Warsaw")
    assert not fresh.sync_is_stale


def test_to_keep_sentences_read_as_english() -> None:
    """The badge advice never says "within 0 min", and says "earn" advice when not earned."""
    from socialdesk.core.stats import ToKeep

    assert ToKeep(37, 0).sentence() == "answer 37 waiting requests now (the oldest is at 15 min)"
    assert ToKeep(1, 12).sentence() == "answer 1 waiting request within 12 min"
    assert ToKeep(2, None).sentence() == "answer 2 waiting requests (already past 15 min)"
    assert "earn" in ToKeep(0, None).sentence(earned=False)
