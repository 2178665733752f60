"""The watch policy (core/syncing.py): a small Page's Messenger budget is never exhausted.

Rounds run against the in-process sandbox, whose Messenger budget is 200 calls x engaged users
per rolling 24 h (docs/GRAPH_API.md §20.9); the policy's interval moves the sandbox clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from socialdesk.core.clock import FixedClock
from socialdesk.core.syncing import (
    WatchPolicy,
    plan_interval,
    watch_advice,
    watch_policy,
)
from socialdesk.errors import AuthError, UnavailableError
from socialdesk.models import EdgeResult, EdgeStatus, RateUsage, SyncReport
from tests.support.sync_world import World, make_world, populate


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.conn.close()


def _simulate(world: World, days: float, poll: float) -> tuple[list[float], int, int]:
    """Watch rounds for ``days`` of sandbox time: (intervals, peak Messenger %, throttled)."""
    clock = _SandboxClock(world)
    policy = watch_policy(world.conn, world.page_id, poll_seconds=poll, clock=clock)
    end = world.sb.now() + timedelta(days=days)
    intervals: list[float] = []
    peak = 0
    throttled = 0
    while world.sb.now() < end:
        report = world.sync()
        pct = report.usage.of_type("messenger") if report.usage else None
        peak = max(peak, pct or 0)
        throttled += sum(1 for e in report.edges if e.reason == "throttled")
        decision = policy.next_interval(report, None)
        assert not decision.stop
        intervals.append(decision.seconds)
        world.sb.advance(decision.seconds)
    return intervals, peak, throttled


class _SandboxClock:
    def __init__(self, world: World) -> None:
        self.world = world

    def now(self) -> datetime:
        return self.world.sb.now()


def test_a_page_with_one_engaged_user_never_runs_out_polling_every_minute(
    world: World,
) -> None:
    """200 Messenger calls a day, 2 per round: the policy slows down and never hits 80006."""
    populate(world.sb, world.page_id, convs=3, posts=1)
    world.sb.set_engaged_users(world.page_id, 1)
    intervals, peak, throttled = _simulate(world, days=3, poll=60)
    assert throttled == 0
    assert peak < 75
    assert intervals[0] == 60  # no slowdown before the headers say anything
    assert max(intervals) >= 20 * 60  # it did slow down (60 s would need 2,880 calls a day)
    # Over the last simulated day the rounds (2 Messenger calls each) used about half.
    last_day, spent = 0, 0.0
    for seconds in reversed(intervals):
        spent += seconds
        if spent > 86400:
            break
        last_day += 1
    assert 2 * last_day <= 200 * 0.55


def test_a_busy_page_keeps_the_configured_interval(world: World) -> None:
    """With 500 engaged users (100 000 calls a day) polling every 60 s stays at 60 s."""
    populate(world.sb, world.page_id, convs=3, posts=1)
    world.sb.set_engaged_users(world.page_id, 500)
    intervals, peak, throttled = _simulate(world, days=0.05, poll=60)
    assert set(intervals) == {60} and throttled == 0 and peak < 10


def test_watch_advice_for_doctor_matches_the_policy(world: World) -> None:
    """doctor's advice (database only) equals what a live watch decides after a round."""
    populate(world.sb, world.page_id, convs=3, posts=1)
    world.sb.set_engaged_users(world.page_id, 1)
    _simulate(world, days=0.3, poll=60)
    now = world.sb.now()
    clock = FixedClock(now)
    live = watch_policy(world.conn, world.page_id, poll_seconds=60, clock=clock)
    decision = live.next_interval(None, None)
    advice = watch_advice(world.conn, world.page_id, poll_seconds=60, now=now)
    assert advice == decision
    assert "Messenger budget" in advice.reason and advice.seconds > 60


@pytest.mark.parametrize(
    ("usage", "calls", "seconds", "words"),
    [
        (None, 0, 60, "no usage headers"),
        (RateUsage(by_type=(("messenger", 3),)), 3, 60, "3 %"),
        (RateUsage(by_type=(("messenger", 50),)), 100, 1728, "about 200 calls a day"),
        (RateUsage(by_type=(("messenger", 80),)), 3, 900, "slowing"),
        (RateUsage(by_type=(("messenger", 95),)), 3, 3600, "pausing"),
        (RateUsage(call_count=100, regain_access_minutes=42), 20, 2520, "regain"),
    ],
)
def test_plan_interval_cases(
    usage: RateUsage | None, calls: int, seconds: float, words: str
) -> None:
    """Each regime of the budget rule, with the reason it gives."""
    decision = plan_interval(60, usage, calls, 2)
    assert decision.seconds == pytest.approx(seconds, rel=0.01)
    assert words in decision.reason


def test_an_invalid_token_stops_the_watch_and_other_errors_back_off() -> None:
    """All edges failing with an auth error stop; unavailable rounds back off, then recover."""
    clock = FixedClock()
    policy = WatchPolicy(60, clock=clock)

    def failed(code: int, reason: str) -> SyncReport:
        edges = tuple(
            EdgeResult(e, EdgeStatus.FAILED, error="nope", exit_code=code, reason=reason)
            for e in ("conversations", "feed", "reels")
        )
        return SyncReport("p", edges=edges)

    waits = [policy.next_interval(failed(4, "transient"), None).seconds for _ in range(3)]
    assert waits == [120, 240, 480]
    ok = SyncReport("p", edges=(EdgeResult("feed", EdgeStatus.OK),))
    assert policy.next_interval(ok, None).seconds == 60
    stop = policy.next_interval(failed(3, "token_invalid"), None)
    assert stop.stop and "stopping" in stop.reason
    assert policy.next_interval(None, AuthError("no token")).stop
    assert not policy.next_interval(None, UnavailableError("down")).stop
    assert policy.current is not None
