"""Every safety rail of issue 14, each with a scenario that fails without it (core level)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.core import rules
from socialdesk.core.rules import engine
from socialdesk.core.rules.evaluate import evaluate
from socialdesk.core.rules.model import Rule, RuleState
from socialdesk.store import rules as store
from socialdesk.store.db import open_db
from tests.support.rules_world import AWAY, RulesWorld


def _live_sending(extra: str = "", query: str = "is:dm is:unanswered", settings: str = "") -> str:
    return f"""
[settings]
pace_seconds = 0
{settings}

[templates.t]
text = ["Hi {{first_name}}, got it.", "Thanks {{first_name}}!", "Hello {{first_name}}."]

[[rule]]
name  = "ack"
state = "live"
query = "{query}"
reply = "t"
{extra}
"""


# ---- never twice --------------------------------------------------------------------------------


def test_the_recheck_inside_the_queueing_transaction_stops_a_racing_second_run(
    world: RulesWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run B fires between run A's decision and A's queueing: A must not send a second copy."""
    ann = world.dm("Ann Lee")
    world.sync()
    other = open_db(world.paths.db_file)
    real = engine._queue_intent
    raced: list[bool] = []

    def racing(conn, it, env, report, now):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(True)
            rules.run(world.ctx, other, world.page_cfg)  # "another process" acts first
        return real(conn, it, env, report, now)

    monkeypatch.setattr(engine, "_queue_intent", racing)
    rep = world.run()
    assert raced and rep.count("sent") == 0
    assert len(world.deliveries(ann)) == 1
    assert any(a.outcome == "skipped" for a in rep.actions)
    other.close()


def test_the_ledger_refuses_a_second_fire_of_one_request(world: RulesWorld) -> None:
    """The unique ledger key alone refuses a duplicate fire (same rule, thread, request)."""
    from socialdesk.store.db import transaction

    fields = dict(
        run_id=None,
        page_id=world.page,
        rule="away",
        thread_id="t1",
        customer_key="dm:u1",
        anchor_id="m1",
        once_key="request:t1:m1",
        now=world.now(),
    )
    with transaction(world.conn):
        assert store.record_fire(world.conn, **fields) is not None
        assert store.record_fire(world.conn, **fields) is None


# ---- never outside the window, never a tag ------------------------------------------------------


def test_never_outside_the_window_with_a_margin_and_never_human_agent(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, _live_sending(), human_agent=True)
    try:
        ann = w.dm("Ann Lee", ago=timedelta(hours=23, minutes=55))
        w.sync()
        th = w.thread_of(ann)
        rs = rules.load(w.ctx)
        # No max_age: the window rail alone must refuse (5 minutes left < the 10-minute margin).
        rule = dataclasses.replace(rs.rule("ack"), max_age=None)
        env = engine.make_env(rs, page_id=w.page, now=w.now(), config=w.ctx.config)
        d = evaluate(w.conn, env, rule, th, matched=True, since=0)
        assert not d.fire and d.reason == "window"
        later = dataclasses.replace(env, now=w.now() + timedelta(hours=2))
        d = evaluate(w.conn, later, rule, th, matched=True, since=0)
        assert not d.fire and d.reason == "eligible"  # closed: HUMAN_AGENT is for people only
        assert w.run().count("sent") == 0  # max_age (30m) refuses it too
        assert w.deliveries(ann) == []
    finally:
        w.close()


def test_every_automated_send_is_a_response_without_a_tag(world: RulesWorld) -> None:
    for name in ("Ann Lee", "Bo Berg"):
        world.dm(name)
    world.sync_run()
    sent = world.deliveries()
    assert len(sent) == 2
    assert {(d.messaging_type, d.tag) for d in sent} == {("RESPONSE", None)}


# ---- never to the Page itself -------------------------------------------------------------------


def test_never_to_the_page_itself_or_an_ignored_author(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, _live_sending())
    try:
        ann = w.dm("Ann Lee")
        w.sync()
        th = w.thread_of(ann)
        rs = rules.load(w.ctx)
        env = engine.make_env(rs, page_id=w.page, now=w.now(), config=w.ctx.config)
        own = dataclasses.replace(th, customer=dataclasses.replace(th.customer, id=w.page))
        d = evaluate(w.conn, env, rs.rule("ack"), own, matched=True, since=0)
        assert d.reason == "author"
        w.write_rules(_live_sending(settings=f'ignore_authors = ["{ann}"]'))
        assert w.run().count("sent") == 0
        assert w.deliveries(ann) == []
    finally:
        w.close()


# ---- never on history ---------------------------------------------------------------------------


def test_a_rule_never_acts_on_a_request_older_than_its_going_live(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, "")  # no rules yet
    try:
        ann = w.dm("Ann Lee", ago=timedelta(minutes=1))  # arrives before the rule exists
        w.advance(minutes=4)
        w.write_rules(AWAY)  # the rule goes live now; the message is synced only now
        rep = w.sync_run()
        assert rep.count("sent") == 0
        assert any((a.reason or "").startswith("live_since") for a in rep.actions), rep.actions
        assert w.deliveries(ann) == []
        # Editing the rule makes it a new version: live since the edit.
        w.advance(minutes=1)
        bob = w.dm("Bo Berg")
        w.write_rules(AWAY.replace('cooldown = "12h"', 'cooldown = "6h"'))
        w.advance(minutes=1)
        assert w.sync_run().count("sent") == 0
        assert w.deliveries(bob) == []
    finally:
        w.close()


def test_laptop_sleep_does_not_flush_old_away_messages(world: RulesWorld) -> None:
    """A message that waited longer than max_age (the laptop slept) gets no away reply."""
    piotr = world.dm("Piotr Nowak", ago=timedelta(minutes=1))
    world.advance(minutes=45)  # asleep: no sync, no run
    rep = world.sync_run()
    assert rep.count("sent") == 0
    assert [(a.reason or "").split(":")[0] for a in rep.actions if a.reason] == ["max_age"]
    assert world.deliveries(piotr) == []


# ---- one per run, daily cap ---------------------------------------------------------------------


def test_at_most_one_automated_send_per_thread_per_run(tmp_path: Path) -> None:
    text = (
        _live_sending()
        + """
[[rule]]
name  = "second"
state = "live"
query = "is:dm"
reply = "t"
"""
    )
    w = RulesWorld(tmp_path, text)
    try:
        ann = w.dm("Ann Lee")
        rep = w.sync_run()
        assert rep.count("sent") == 1
        assert [(a.reason or "").split(":")[0] for a in rep.actions if a.outcome != "sent"] == [
            "run_thread"
        ]
        assert len(w.deliveries(ann)) == 1
    finally:
        w.close()


def test_a_daily_cap_per_thread(tmp_path: Path) -> None:
    w = RulesWorld(
        tmp_path, _live_sending(settings='max_auto_per_thread_day = 1\nhuman_quiet = "1m"')
    )
    try:
        ann = w.dm("Ann Lee")
        assert w.sync_run().count("sent") == 1
        w.human_reply(ann)  # a person answers: the next message is a new request
        w.advance(minutes=5)
        w.write(ann, "one more question")
        rep = w.sync_run()
        assert rep.count("sent") == 0
        assert any((a.reason or "").startswith("thread_cap") for a in rep.actions), rep.actions
        automated = [d for d in w.deliveries(ann) if d.text.startswith("Automatic reply: ")]
        assert len(automated) == 1
    finally:
        w.close()


# ---- the human ----------------------------------------------------------------------------------


def test_no_automated_reply_within_minutes_of_a_human_reply_then_it_goes(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, _live_sending(settings='human_quiet = "10m"'))
    try:
        bob = w.dm("Bo Berg", ago=timedelta(minutes=30))
        w.sync()
        w.human_reply(bob)  # the operator is at work on another thread
        ann = w.dm("Ann Lee", ago=timedelta(seconds=10))
        rep = w.sync_run()
        assert rep.count("deferred") == 1 and w.deliveries(ann) == []
        w.advance(minutes=11)  # the operator went quiet: the deferred match is offered again
        rep = w.run()
        assert rep.count("sent") == 1 and len(w.deliveries(ann)) == 1
    finally:
        w.close()


# ---- kill switches ------------------------------------------------------------------------------


def test_the_kill_switches(world: RulesWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    ann = world.dm("Ann Lee")
    world.sync()
    world.write_rules(AWAY.replace("[settings]", "[settings]\nenabled = false"))
    assert world.run().switched_off == "config"
    world.write_rules(AWAY)
    monkeypatch.setenv("SOCIALDESK_RULES", "off")
    assert world.run().switched_off == "environment"
    monkeypatch.delenv("SOCIALDESK_RULES")
    rules.pause(world.conn, world.page_cfg, reason="holiday", now=world.now())
    rep = world.run()
    assert rep.paused is not None and rep.paused.reason == "holiday"
    assert world.deliveries(ann) == []
    rules.resume(world.conn, world.page_cfg)
    assert world.run().count("sent") == 1


# ---- trip wires ---------------------------------------------------------------------------------


def test_error_368_pauses_every_rule_and_doctor_says_why(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, AWAY)
    try:
        w.refusing.code = 368
        w.dm("Ann Lee")
        w.dm("Bo Berg")
        rep = w.sync_run()
        assert rep.tripped is not None and "368" in rep.tripped
        assert rep.count("failed") == 1  # the second was not attempted
        line = rules.pause_line(w.conn, w.page)
        assert line is not None and line[0] and "368" in line[1]
        assert w.run().paused is not None  # until `rules resume`
        from socialdesk.core.health import run_checks

        [check] = [c for c in run_checks(w.ctx, "corner").checks if c.name == "rules"]
        assert check.status == "fail" and "368" in check.detail
    finally:
        w.close()


def test_a_burst_of_refusals_pauses(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, _live_sending(settings="refusal_burst = 2"))
    try:
        w.refusing.code = 551
        for name in ("A A", "B B", "C C"):
            w.dm(name)
        rep = w.sync_run()
        assert rep.tripped is not None and "refusals" in rep.tripped
        assert rep.count("failed") == 2
    finally:
        w.close()


def test_an_invalid_token_pauses(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, AWAY)
    try:
        w.dm("Ann Lee")
        w.sync()
        w.sb.invalidate_token(w.token)
        rep = w.run()
        assert rep.tripped is not None and "invalid token" in rep.tripped
        assert rep.stopped is not None
        from socialdesk.cli.cmd_rules import exit_for

        assert exit_for(rep) == 3
    finally:
        w.close()


def test_a_surge_sends_nothing_and_pauses(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, _live_sending(settings="surge_pause = 2"))
    try:
        users = [w.dm(f"User {i}") for i in range(3)]
        rep = w.sync_run()
        assert rep.tripped is not None and rep.tripped.startswith("surge")
        assert all(w.deliveries(u) == [] for u in users)
    finally:
        w.close()


# ---- shadow -------------------------------------------------------------------------------------


def test_a_new_rule_is_shadow_it_logs_would_and_changes_nothing(tmp_path: Path) -> None:
    w = RulesWorld(tmp_path, AWAY.replace('state    = "live"\n', ""))
    try:
        assert rules.load(w.ctx).rule("away").state is RuleState.SHADOW
        ann = w.dm("Ann Lee")
        rep = w.sync_run()
        assert rep.count("would") == 1 and w.deliveries(ann) == []
        assert w.thread_of(ann).tags == ()
        assert [e.outcome for e in store.events(w.conn, w.page)] == ["would"]
    finally:
        w.close()


def test_rule_is_a_plain_dataclass() -> None:
    assert Rule(name="x", query="is:dm").digest != Rule(name="x", query="is:comment").digest


def test_resending_a_failed_automated_reply_never_becomes_human_agent(tmp_path: Path) -> None:
    from socialdesk.core import outbox as core_outbox
    from socialdesk.errors import RefusedError
    from socialdesk.models import OutboxState

    w = RulesWorld(tmp_path, AWAY, human_agent=True)
    try:
        w.refusing.code = 551
        ann = w.dm("Ann Lee")
        assert w.sync_run().count("failed") == 1
        w.refusing.code = None
        rules.resume(w.conn, w.page_cfg)
        [row] = [r for r in core_outbox.pending(w.conn, w.page) if r.record.entry.origin == "rule"]
        assert row.record.entry.state is OutboxState.FAILED
        w.advance(hours=25)  # the 24-hour window closed; HUMAN_AGENT would still be open
        with pytest.raises(RefusedError):
            core_outbox.resolve_resend(
                w.conn, w.client, w.page, row.record.entry.id, clock=w.clock, human_agent=True
            )
        assert w.deliveries(ann) == []
    finally:
        w.close()


def test_a_run_of_one_rule_leaves_the_new_messages_to_the_others(tmp_path: Path) -> None:
    text = (
        AWAY
        + """
[[rule]]
name  = "tagger"
state = "live"
query = "is:dm"
tag   = ["seen-by-rules"]
"""
    )
    w = RulesWorld(tmp_path, text)
    try:
        ann = w.dm("Ann Lee")
        w.sync()
        assert w.run(only=("tagger",)).count("fired") == 1
        assert w.deliveries(ann) == []
        assert w.run().count("sent") == 1  # the away rule still sees Ann's message
    finally:
        w.close()
