"""Replay: the rule simulated over history, with its limits in memory."""

from __future__ import annotations

from datetime import timedelta

from socialdesk.core import rules
from tests.support.rules_world import RulesWorld


def test_replay_counts_fires_and_skips_without_acting(world: RulesWorld) -> None:
    ann = world.dm("Ann Lee", "hello", ago=timedelta(minutes=50))  # one request, two messages
    world.write(ann, "anyone?", ago=timedelta(minutes=40))
    bob = world.dm("Bo Berg", "hi", ago=timedelta(minutes=30))
    world.sync()
    world.human_reply(bob)  # a person answered Bo afterwards
    world.sync()
    rep = rules.replay_rule(world.ctx, world.conn, world.page_cfg, "away", seconds=3600, lag=60)
    threads = {world.thread_of(u).id for u in (ann, bob)}
    assert {f.thread_id for f in rep.fires} == threads  # each thread's request once
    assert len(rep.fires) == 2
    assert rep.skipped.get("once") == 1  # Ann's second message: the same request
    assert world.deliveries(ann) == []  # a replay never acts
    # A 42-minute lag (a laptop asleep): Ann's newest message is then past max_age (30m).
    late = rules.replay_rule(world.ctx, world.conn, world.page_cfg, "away", seconds=3600, lag=2500)
    assert late.fires == [] and late.skipped == {"max_age": 1}
