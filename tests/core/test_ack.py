"""Bulk acknowledgements against the sandbox: plan, plan files, apply, re-runs, recovery."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.core import ack, ack_plan
from socialdesk.core.ack_plan import SkipReason
from socialdesk.core.templates import Template
from socialdesk.errors import UsageError
from socialdesk.models import OutboxState, SendKind, Status
from socialdesk.store import outbox as store
from socialdesk.store.db import open_db, transaction
from socialdesk.store.threads import get_thread
from tests.support.outbox_world import World

THANKS = Template("thanks", ("Thanks {first_name}!", "Hi {first_name}, got it."))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _plan(w: World, query: str = "is:awaiting", *, done: bool = False) -> ack.Plan:
    return ack.build_plan(
        w.conn, page_id=w.page, query=query, template=THANKS, now=w.clock.now(), done=done
    )


def _apply(w: World, plan: ack.Plan, **kw: object) -> ack.AckReport:
    return ack.apply_plan(w.conn, w.client, plan, clock=w.clock, sleep=lambda s: None, **kw)  # type: ignore[arg-type]


def test_plan_renders_and_skips_outside_window(world: World) -> None:
    """The plan holds exact texts and send kinds; an old DM is skipped, never HUMAN_AGENT."""
    world.sb.set_human_agent(world.page, True)
    users = [world.dm(f"Cust{i} Last") for i in range(6)]
    old = world.dm("Old Timer", ago=timedelta(days=2))
    cu, _ = world.comment("Com Menter")
    world.sync()
    plan = _plan(world)
    by_customer = {it.customer_id: it for it in plan.items}
    assert set(by_customer) == {*users, cu}
    assert by_customer[cu].kind is SendKind.COMMENT_PUBLIC
    assert all(it.kind is not SendKind.DM_HUMAN_AGENT for it in plan.items)
    first = {it.customer_id: it.text for it in plan.items}
    assert first[users[0]] in ("Thanks Cust0!", "Hi Cust0, got it.")
    texts = [it.text.split()[0] for it in plan.items]
    assert all(a != b for a, b in itertools.pairwise(texts))
    (skip,) = plan.skipped
    assert skip.thread_id == world.thread_of(old).id
    assert skip.reason is SkipReason.OUTSIDE_WINDOW and skip.text == "outside the 24-hour window"
    assert world.sb.deliveries(world.page) == []


def test_apply_tags_and_reruns_only_new(world: World) -> None:
    """Apply sends each once, tags acked (+done); a re-run skips them until a new message."""
    users = [world.dm(f"P{i}") for i in range(4)]
    world.sync()
    report = _apply(world, _plan(world, done=True))
    assert len(report.sent) == 4 and not report.failed
    for u in users:
        th = world.thread_of(u)
        assert "acked" in th.tags and th.status is Status.DONE
        assert len(world.sb.deliveries(world.page, u)) == 1
    again = _plan(world, "")
    assert again.items == ()
    # A customer writes again (a little later): after sync only that thread is planned.
    world.sb.advance(5)
    world.sb.add_message(world.page, users[1], "and another thing")
    world.sync()
    third = _plan(world)
    assert [it.customer_id for it in third.items] == [users[1]]
    _apply(world, third)
    assert len(world.sb.deliveries(world.page, users[1])) == 2
    assert [len(world.sb.deliveries(world.page, u)) for u in users] == [1, 2, 1, 1]


def test_rerun_without_sync_sends_nothing(world: World) -> None:
    """Without a sync in between, a re-run sends nothing: the local echo already shows each
    thread answered, and the outbox alone refuses a thread still seen as awaiting."""
    users = [world.dm(f"Q{i}") for i in range(3)]
    world.sync()
    stale = [world.thread_of(u) for u in users]
    _apply(world, _plan(world))
    rerun = _plan(world)
    assert rerun.items == () and rerun.skipped == ()  # none is awaiting any more
    report = _apply(world, _plan(world, ""))
    assert report.sent == []
    assert report.skipped_by_reason() == {SkipReason.NOT_AWAITING: 3}
    assert all(len(world.sb.deliveries(world.page, u)) == 1 for u in users)
    # The threads as planned before the first run (awaiting): the outbox still says no.
    reasons = {ack.why_not(world.conn, th, now=world.now()) for th in stale}
    assert reasons == {SkipReason.ALREADY_ACKNOWLEDGED}


def test_apply_skips_changed_threads(world: World) -> None:
    """A new inbound message or a done mark after planning skips that thread, saying why."""
    a, b, c = world.dm("A"), world.dm("B"), world.dm("C")
    world.sync()
    plan = _plan(world)
    world.sb.add_message(world.page, a, "hello again")
    world.sync()
    from socialdesk.store import triage

    with transaction(world.conn):
        triage.set_status(world.conn, world.thread_of(b).id, Status.DONE, now=world.clock.now())
    report = _apply(world, plan)
    reasons = {s.thread_id: s.reason for s in report.skipped}
    assert reasons[world.thread_of(a).id] is SkipReason.CHANGED
    assert reasons[world.thread_of(b).id] is SkipReason.NOW_DONE
    assert len(report.sent) == 1
    assert world.sb.deliveries(world.page, c) and not world.sb.deliveries(world.page, a)


@pytest.mark.parametrize("unreachable", ["blocked", "unavailable"])
def test_api_refusal_is_failed_others_sent(world: World, unreachable: str) -> None:
    """A blocked customer (551/1545041) or one Graph says "isn't available right now" (bare
    200): failed with the API's reason, never a login problem, and never retried by a later
    plan; the rest are still acknowledged."""
    ok = [world.dm("Ok1"), world.dm("Ok2")]
    bad = world.dm("Blocked", blocked=unreachable == "blocked")
    if unreachable == "unavailable":
        world.sb.set_unavailable(bad)
    world.sync()
    report = _apply(world, _plan(world))
    assert len(report.sent) == 2
    ((num, reason),) = report.failed
    assert num == world.thread_of(bad).number and "available" in reason
    assert "login" not in reason
    assert "acked" not in world.thread_of(bad).tags
    assert all(world.sb.deliveries(world.page, u) for u in ok)
    rerun = _plan(world)
    assert rerun.items == ()
    assert {s.reason for s in rerun.skipped} == {SkipReason.REFUSED_EARLIER}


def test_invalid_token_stops_run(world: World) -> None:
    """An invalid token stops the run: nothing marked sent, the rest not attempted, exit 3."""
    for i in range(3):
        world.dm(f"T{i}")
    world.sync()
    plan = _plan(world)
    world.sb.invalidate_token(world.token)
    report = _apply(world, plan)
    assert report.sent == [] and report.stopped is not None
    assert int(report.stopped.exit_code) == 3
    assert report.skipped_by_reason() == {SkipReason.NOT_ATTEMPTED: 2}
    assert store.count_by_state(world.conn) == {"failed": 1}
    assert world.sb.deliveries(world.page) == []


def test_pacing(world: World) -> None:
    """Sends are spaced by 1/rate seconds."""
    for i in range(4):
        world.dm(f"R{i}")
    world.sync()
    slept: list[float] = []
    report = ack.apply_plan(
        world.conn,
        world.client,
        _plan(world),
        clock=world.clock,
        rate=2.0,
        sleep=slept.append,
        monotonic=lambda: 0.0,
    )
    assert len(report.sent) == 4
    assert slept == [0.5, 0.5, 0.5]


def test_plan_file_roundtrip_and_refusals(world: World, tmp_path: Path) -> None:
    """A written plan is 0600 and applies; a hand edit or another database is refused."""
    world.dm("Fi")
    world.sync()
    plan = _plan(world)
    path = tmp_path / "plan.json"
    ack_plan.write_plan(path, plan, world.conn)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert ack_plan.read_plan(path, world.conn) == plan
    data = json.loads(path.read_text())
    data["items"][0]["text"] = "Buy now! 50% off"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="checksum mismatch"):
        ack_plan.read_plan(edited, world.conn)
    other = open_db(tmp_path / "other.sqlite")
    with pytest.raises(UsageError, match="another database"):
        ack_plan.read_plan(path, other)
    other.close()
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        ack_plan.read_plan(tmp_path / "junk.json", world.conn)
    report = _apply(world, ack_plan.read_plan(path, world.conn))
    assert len(report.sent) == 1


def test_prepare_run_settles_interrupted_ack_rows(world: World) -> None:
    """A killed run's rows: one delivered (found → sent + acked), one never sent (re-planned)."""
    a, b = world.dm("Del"), world.dm("Nod")
    world.sync()
    plan = _plan(world)
    from socialdesk.api import graph
    from socialdesk.core import outbox as core

    batch = f"ack:{plan.plan_id}"
    for item in plan.items:
        th = world.thread_of(item.customer_id)
        prepared = core.queue(
            world.conn,
            th,
            [item.text],
            now=world.clock.now(),
            human_agent=False,
            human_written=False,
            origin="ack",
            batch=batch,
            kind=item.kind,
        )
        with transaction(world.conn, durable=True):
            store.mark_sending(world.conn, prepared.ids[0], now=world.clock.now())
        if item.customer_id == a:  # this request left before the kill
            graph.send_message(world.client, world.page, text=item.text, recipient_id=a)
    ack.prepare_run(
        world.conn, world.client, world.page, clock=world.clock, sleep=lambda s: None, settle_s=0
    )
    th_a = get_thread(world.conn, world.thread_of(a).id, now=world.clock.now())
    assert th_a is not None and "acked" in th_a.tags
    rerun = _plan(world)
    assert [it.customer_id for it in rerun.items] == [b]
    _apply(world, rerun)
    assert len(world.sb.deliveries(world.page, a)) == 1
    assert len(world.sb.deliveries(world.page, b)) == 1
    assert OutboxState.SENDING not in {r.entry.state for r in store.list_records(world.conn)}


def test_apply_skips_window_closed_since_planning(world: World) -> None:
    """Applied after the 24-hour window closed: that DM is skipped, saying so (no HUMAN_AGENT)."""
    from socialdesk.core.clock import FixedClock

    late = world.dm("Lara Late", ago=timedelta(hours=23, minutes=50))
    fresh = world.dm("Fred Fresh")
    world.sb.set_human_agent(world.page, True)
    world.sync()
    plan = _plan(world)
    assert {it.customer_id for it in plan.items} == {late, fresh}
    world.clock = FixedClock(world.clock.now() + timedelta(minutes=20))
    report = _apply(world, plan)
    assert report.skipped_by_reason() == {SkipReason.WINDOW_CLOSED: 1}
    assert world.sb.deliveries(world.page, late) == []
    assert [d.messaging_type for d in world.sb.deliveries(world.page, fresh)] == ["RESPONSE"]


def test_one_unsendable_reply_is_skipped_not_fatal(world: World) -> None:
    """A rendered reply over the limit skips that thread with the reason; the others are planned."""
    ok = world.dm("Ann Lee")
    long_name = world.dm("L" * 2100)
    world.sync()
    plan = ack.build_plan(
        world.conn,
        page_id=world.page,
        query="is:awaiting",
        template=Template("hi", ("Hello {name}",)),
        now=world.clock.now(),
    )
    assert [it.customer_id for it in plan.items] == [ok]
    (skip,) = plan.skipped
    assert skip.thread_id == world.thread_of(long_name).id
    assert skip.reason is SkipReason.TEXT_REFUSED and "2000" in skip.detail


def test_plan_file_is_ascii_even_with_hostile_names(world: World, tmp_path: Path) -> None:
    """Customer names with bidi, C1 and line separators are escaped in the plan file."""
    world.dm("Eve \u202eRoot\u2028\x85x")
    world.sync()
    plan = _plan(world)
    path = tmp_path / "plan.json"
    ack_plan.write_plan(path, plan, world.conn)
    raw = path.read_bytes()
    assert raw.isascii()
    assert ack_plan.read_plan(path, world.conn) == plan
