"""core.triage: every action says what it did and how to undo it; undo puts the state back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.core import triage
from socialdesk.core.stats import compute_stats, last_days
from socialdesk.models import Status
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _done_today(world: World) -> int:
    now = world.now()
    report = compute_stats(world.conn, world.page, last_days(now.date(), 1), now=now)
    return report.days[0].total.done


def test_undo_puts_back_status_snooze_tags_and_note(world: World) -> None:
    """Each action's undo token restores the state before it, tags with their old times."""
    users = [world.dm("Una Undo"), world.dm("Ugo Undo")]
    world.sync()
    a, b = (world.thread_of(u) for u in users)
    triage.tag(world.conn, [a], add=["vip"], now=world.now())
    triage.note(world.conn, a, "first note", now=world.now())
    before = [world.thread_of(u) for u in users]
    later = world.now() + timedelta(minutes=5)
    until = later + timedelta(hours=2)
    steps: list[Callable[[], triage.TriageResult]] = [
        lambda: triage.set_status(world.conn, [a, b], Status.DONE, now=later),
        lambda: triage.set_status(world.conn, [a], Status.SNOOZED, now=later, until=until),
        lambda: triage.tag(world.conn, [a, b], add=["later"], remove=["vip"], now=later),
        lambda: triage.note(world.conn, a, "", now=later),
    ]
    for step in steps:
        result = step()
        assert result.undo is not None and result.changed
        triage.undo(world.conn, result.undo, now=later)
        assert [world.thread_of(u) for u in users] == before, result.action


def test_nothing_changed_gives_no_undo(world: World) -> None:
    """An action that changes nothing (already done) returns no undo token."""
    user = world.dm("Nil Change")
    world.sync()
    th = world.thread_of(user)
    triage.set_status(world.conn, [th], Status.DONE, now=world.now())
    again = triage.set_status(world.conn, [world.thread_of(user)], Status.DONE, now=world.now())
    assert again.undo is None and again.changed == []
    assert again.outcomes[0].changed is False


def test_an_undone_done_is_not_counted_as_done_that_day(world: World) -> None:
    """stats' done counts a done that stays; the same done undone counts nothing."""
    kept, undone = world.dm("Kept Done"), world.dm("Undone Done")
    world.sync()
    triage.set_status(world.conn, [world.thread_of(kept)], Status.DONE, now=world.now())
    assert _done_today(world) == 1
    result = triage.set_status(world.conn, [world.thread_of(undone)], Status.DONE, now=world.now())
    assert _done_today(world) == 2
    assert result.undo is not None
    triage.undo(world.conn, result.undo, now=world.now())
    assert _done_today(world) == 1
    assert world.thread_of(undone).status is Status.OPEN


def test_hide_is_undone_by_the_opposite_call(world: World) -> None:
    """Hiding a comment returns a token whose undo unhides it on Facebook and locally."""
    user, cid = world.comment("Hid Den")
    world.sync()
    th = world.thread_of(user)
    result = triage.set_hidden(world.conn, world.client, th, True, now=world.now())
    assert world.sb.comment(cid).is_hidden and result.undo is not None
    triage.undo(world.conn, result.undo, now=world.now(), client=world.client)
    assert not world.sb.comment(cid).is_hidden and not world.thread_of(user).is_hidden


def test_snooze_past_the_window_warns(world: World) -> None:
    """A snooze that wakes after the 24-hour window closes says so; a short one does not."""
    user = world.dm("Win Dow", ago=timedelta(hours=20))
    world.sync()
    th = world.thread_of(user)
    now = world.now()
    short = triage.set_status(
        world.conn, [th], Status.SNOOZED, now=now, until=now + timedelta(hours=1)
    )
    assert short.warnings == []
    long = triage.set_status(
        world.conn, [th], Status.SNOOZED, now=now, until=now + timedelta(hours=6)
    )
    (warning,) = long.warnings
    assert f"#{th.number} wakes at" in warning and "after its reply window closes" in warning
