"""Comment rules on the sandbox: hide spam at once, a private reply once, order and stop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.rules_world import RulesWorld

RULES = """
[settings]
pace_seconds = 0

[templates.dm]
text = ["Hi {first_name}, here is our price list: example.com/prices"]

[[rule]]
name  = "spam"
state = "live"
query = 'is:comment said:"bit.ly"'
hide  = true
tag   = ["spam"]
stop  = true

[[rule]]
name          = "price"
state         = "live"
query         = "is:comment is:unanswered said:price"
reply_private = "dm"
once          = "thread"
tag           = ["lead"]
"""


def _comment(w: RulesWorld, name: str, text: str) -> tuple[str, str]:
    user = w.sb.add_user(name)
    post = w.sb.add_post(w.page, "New stock!", at=w.now() - timedelta(hours=1))
    cid = w.sb.add_comment(post, user, text, at=w.now() - timedelta(minutes=1))
    return user, cid


def test_spam_is_hidden_and_stops_later_rules_a_price_question_gets_one_private_reply(
    tmp_path: Path,
) -> None:
    w = RulesWorld(tmp_path, RULES)
    try:
        spammer, spam_id = _comment(w, "Spam Bot", "cheap price bit.ly/x")
        ann, ann_id = _comment(w, "Ann Lee", "what is the price?")
        rep = w.sync_run()
        by_rule = {(a.rule, a.outcome) for a in rep.actions}
        assert ("spam", "fired") in by_rule and ("price", "sent") in by_rule
        spam = w.thread_of(spammer)
        assert spam.is_hidden and "spam" in spam.tags and "lead" not in spam.tags  # stop
        assert w.deliveries(spammer) == []
        [d] = w.deliveries(ann)
        assert d.comment_id is not None and d.text.startswith("Automatic reply: ")
        assert "lead" in w.thread_of(ann).tags
        w.advance(minutes=2)
        post = w.thread_of(ann).post_id or ""
        w.sb.add_comment(post, ann, "price again?", at=w.now(), parent_id=ann_id)  # same thread
        w.sync_run()
        assert len(w.deliveries(ann)) == 1  # once per thread (and one private reply per comment)
        w.sb.add_comment(post, ann, "and the price of blue?", at=w.now())  # a new thread
        w.sync_run()
        assert len(w.deliveries(ann)) == 2  # once = "customer" would have kept this at 1
        del spam_id
    finally:
        w.close()
