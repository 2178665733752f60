"""The away-message recipe end to end on the sandbox (docs/RULES.md)."""

from __future__ import annotations

from tests.support.rules_world import RulesWorld


def test_away_sends_once_per_request_and_the_thread_stays_unanswered(world: RulesWorld) -> None:
    ann = world.dm("Ann Lee", "do you ship to Riga?")
    rep = world.sync_run()
    assert rep.count("sent") == 1, rep.actions
    [d] = world.deliveries(ann)
    assert d.text.startswith("Automatic reply: ")
    assert "Ann" in d.text
    assert d.messaging_type == "RESPONSE" and d.tag is None
    # The customer writes again: the same request (an automated reply does not end it).
    world.advance(minutes=3)
    world.write(ann, "and how much?")
    rep = world.sync_run()
    assert rep.count("sent") == 0
    assert len(world.deliveries(ann)) == 1
    th = world.thread_of(ann)
    assert th.number in world.numbers("is:unanswered")
    assert world.numbers("rule:away") == [th.number]
    assert "away-sent" in th.tags


def test_a_person_answering_ends_the_request(world: RulesWorld) -> None:
    ann = world.dm("Ann Lee")
    world.sync_run()
    world.human_reply(ann)
    world.sync()
    th = world.thread_of(ann)
    assert th.number not in world.numbers("is:unanswered")
    assert world.numbers('said:"hello"') == []


def test_said_sees_only_the_customers_current_request(world: RulesWorld) -> None:
    ann = world.dm("Ann Lee", "what is the price?")
    world.sync()
    n = world.thread_of(ann).number
    assert world.numbers("said:price") == [n]
    world.human_reply(ann, "The price is 10 EUR.")
    world.sync()
    assert world.numbers("said:price") == []  # the Page's own words never match
    assert n in world.numbers("price")  # a free word still matches any message
    world.advance(minutes=20)
    world.write(ann, "ok thanks")
    world.sync()
    assert world.numbers("said:price") == []
    assert world.numbers("said:thanks") == [n]


def test_the_inbox_shows_the_rule_and_stats_count_the_automated_answer(
    world: RulesWorld,
) -> None:
    from socialdesk.core.inbox import Inbox
    from socialdesk.core.stats import compute_stats, last_days

    ann = world.dm("Ann Lee")
    world.sync_run()
    world.sync()
    th = world.thread_of(ann)
    assert Inbox(world.ctx, world.conn, world.page_cfg).thread(th.number).rules == ["away"]
    report = compute_stats(
        world.conn, world.page, last_days(world.now().date(), 1), now=world.now()
    )
    [day] = report.days
    assert day.auto_answered == 1
    assert day.total.responded == 1  # the automated answer still counts as an answer
    assert report.as_json()["days"][0]["auto_answered"] == 1
