"""Small Instagram rules: the pacer's lanes, the text limits, template names, discovery parsing,
error classes, and the field strings (never a Messenger-only field, never more than 20)."""

from __future__ import annotations

import pytest

from socialdesk.api import graph_ig
from socialdesk.api.errors import PermissionDenied, PolicyRefused, classify
from socialdesk.api.pacer import Pacer
from socialdesk.api.parse_ig import parse_ig_account, parse_ig_comment, parse_ig_conversation
from socialdesk.core import textcheck
from socialdesk.core.templates import FALLBACK_NAME, name_for_template, render
from socialdesk.errors import RefusedError
from socialdesk.models import Channel, Direction, Person


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_instagram_dm_calls_have_a_lane_of_their_own() -> None:
    pacer = Pacer(monotonic=Clock())
    assert pacer.reserve("conversations") == 0
    assert pacer.reserve("ig_conversations") == 0  # not behind the Messenger call
    assert pacer.reserve("ig_messages") > 0  # the same Instagram lane
    assert pacer.reserve("conversations") > 0
    assert pacer.reserve("ig_media") == 0  # not a Conversations API call


def test_ig_field_strings() -> None:
    fields = graph_ig.ig_conversation_fields(50)
    assert "messages.limit(20)" in fields
    for messenger_only in ("message_count", "snippet", "unread_count", "tags", "sticker"):
        assert messenger_only not in fields
    assert "is_hidden" not in graph_ig.IG_COMMENT_FIELDS and "hidden" in graph_ig.IG_COMMENT_FIELDS


def test_text_limits_count_utf8_bytes_for_instagram_dms() -> None:
    assert textcheck.limits_for(Channel.IG_DM) == (2000, 1000)
    assert textcheck.limits_for(Channel.IG_COMMENT, private=True) == (2000, 1000)
    assert textcheck.limits_for(Channel.IG_COMMENT) == (2000, None)
    assert textcheck.limits_for(Channel.DM) == (2000, None)
    textcheck.check_text("a" * 1000, max_bytes=1000)
    with pytest.raises(RefusedError):
        textcheck.check_text("€" * 334, max_bytes=1000)  # 1,002 bytes
    parts = textcheck.prepare("日本語のテキスト " * 60, split=True, max_bytes=1000)
    assert len(parts) > 1 and all(len(p.encode()) <= 1000 for p in parts)


@pytest.mark.parametrize(
    ("person", "hi"),
    [
        (Person("1", "@you.are.scammers", "you.are.scammers"), f"Hi {FALLBACK_NAME}!"),
        (Person("1", "@jane.doe", "jane.doe"), f"Hi {FALLBACK_NAME}!"),
        (Person("1", "Jane Doe", "jane.doe"), "Hi Jane!"),
        (Person("1", "Ola Nowak"), "Hi Ola!"),
    ],
)
def test_templates_never_greet_a_handle(person: Person, hi: str) -> None:
    name = name_for_template(person)
    assert render("Hi {first_name}!", customer_name=name, page_name="Shop") == hi


def test_discovery_prefers_the_business_account_and_falls_back() -> None:
    both = parse_ig_account(
        {
            "instagram_business_account": {"id": "1784", "username": "a"},
            "connected_instagram_account": {"id": "1785", "username": "b"},
        }
    )
    assert both is not None and both.id == "1784" and both.other_id == "1785"
    only = parse_ig_account({"connected_instagram_account": {"id": "1785", "username": "b"}})
    assert only is not None and only.source == "connected_instagram_account"
    assert parse_ig_account({"id": "1"}) is None


def test_parsers_read_instagram_shapes() -> None:
    conv = parse_ig_conversation(
        {
            "id": "aWdf1",
            "updated_time": "2026-04-05T05:27:08+0000",
            "participants": {"data": [
                {"username": "jane", "id": "55"}, {"id": "ig", "username": "shop"},
            ]},
            "messages": {"data": [
                {"id": "m2", "created_time": "2026-04-05T05:27:08+0000",
                 "from": {"id": "ig", "username": "shop"}, "message": "hi"},
                {"id": "m1"},  # beyond the horizon: no details
            ]},
        },
        page_id="page",
        ig_user_id="ig",
    )  # fmt: skip
    assert conv.channel is Channel.IG_DM and conv.customer.username == "jane"
    assert [m.id for m in conv.messages] == ["m2"] and conv.messages[0].direction is Direction.OUT
    old = parse_ig_comment(  # a 2018 shape: no from, only username
        {"id": "c1", "text": "x", "timestamp": "2018-01-01T00:00:00+0000", "username": "shop"},
        ig_user_id="ig",
        ig_username="shop",
    )
    assert old.direction is Direction.OUT


def test_instagram_errors_are_classified_by_code() -> None:
    def err(code: int, sub: int, msg: str = "Mensagem localizada") -> object:
        return classify(400, {"error": {"code": code, "error_subcode": sub, "message": msg}})

    toggle = err(200, 2534041)
    assert isinstance(toggle, PermissionDenied) and toggle.reason == "ig_messages_disabled"
    assert isinstance(err(10, 2534022), PolicyRefused)
    used = err(100, 2534025)
    assert isinstance(used, PolicyRefused) and used.reason == "private_reply_used"
    assert isinstance(err(100, 2534014), PolicyRefused)
