"""Send API rules: retired tags (100/1893061), unavailable vs blocked recipients, message ids."""

from __future__ import annotations

import pytest

from .conftest import World, error_of, make_world

RETIRED = ["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"]


@pytest.mark.parametrize("tag", RETIRED)
def test_retired_tags_answer_1893061(world: World, tag: str) -> None:
    """The three tags Meta retired on 2026-04-27 answer error 100, subcode 1893061."""
    resp = world.send("your order shipped", to=world.bob, messaging_type="MESSAGE_TAG", tag=tag)
    err = error_of(resp)
    assert resp.status_code == 400
    assert (err["code"], err["error_subcode"]) == (100, 1893061)
    assert tag in err["message"]
    assert world.sb.deliveries(world.page) == []


def test_only_human_agent_is_a_tag(world: World) -> None:
    """An unknown tag is a plain parameter error naming HUMAN_AGENT as the only choice."""
    err = error_of(world.send("x", messaging_type="MESSAGE_TAG", tag="SHIPPING_UPDATE"))
    assert err["code"] == 100 and "error_subcode" not in err
    assert "{HUMAN_AGENT}" in err["message"]
    w = make_world(human_agent=True)
    ok = w.send("hi", to=w.bob, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert ok.status_code == 200


def test_unavailable_person_is_200_without_subcode(world: World) -> None:
    """add_user(unavailable=True) / set_unavailable: (#200) This person isn't available."""
    gone = world.sb.add_user("Deactivated", unavailable=True)
    world.sb.add_message(world.page, gone, "bye")
    err = error_of(world.send("hello?", to=gone))
    assert err["code"] == 200 and "error_subcode" not in err
    assert err["message"] == "(#200) This person isn't available right now."
    world.sb.set_unavailable(world.alice)
    assert error_of(world.send("hi"))["code"] == 200
    world.sb.set_unavailable(world.alice, False)
    assert world.send("hi").status_code == 200


def test_blocked_stays_551(world: World) -> None:
    """A customer who blocked the Page keeps the 551/1545041 answer."""
    blocker = world.sb.add_user("Blocker", blocked=True)
    world.sb.add_message(world.page, blocker, "stop")
    err = error_of(world.send("sorry", to=blocker))
    assert (err["code"], err["error_subcode"]) == (551, 1545041)


def test_send_message_id_is_the_read_id(world: World) -> None:
    """The Send API message_id (m_…) is the id the Conversations API lists for that message."""
    sent = world.send("thanks!").json()["message_id"]
    assert sent.startswith("m_")
    conv = world.sb.conversation_id(world.page, world.alice)
    listed = world.get(f"/{conv}/messages", fields="id").json()["data"][0]["id"]
    assert listed == sent
