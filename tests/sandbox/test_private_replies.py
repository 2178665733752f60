"""Private replies: once per comment (replies included), 7 days per comment, never to the Page's
own comment, ``can_reply_privately`` and ``private_reply_conversation`` (GRAPH_API §5.4)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from .conftest import NOW, World, error_of

FIELDS = "can_reply_privately,private_reply_conversation"


def private(w: World, comment_id: str, text: str = "sent you the price") -> httpx.Response:
    """POST a private reply to ``comment_id``."""
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    return w.post_json(f"/{w.page}/messages", body)


def test_fields_before_and_after_a_private_reply(world: World) -> None:
    """Before: can_reply_privately true, no conversation; after: false and the DM thread."""
    assert world.get(f"/{world.comment}", fields=FIELDS).json() == {
        "can_reply_privately": True,
        "id": world.comment,
    }
    sent = private(world, world.comment).json()
    fields = "can_reply_privately,private_reply_conversation{id,messages{id}}"
    after = world.get(f"/{world.comment}", fields=fields).json()
    conv = world.sb.conversation_id(world.page, world.alice)
    assert after["can_reply_privately"] is False
    assert after["private_reply_conversation"]["id"] == conv
    assert after["private_reply_conversation"]["messages"]["data"][0]["id"] == sent["message_id"]
    bare = world.get(f"/{world.comment}", fields="private_reply_conversation").json()
    assert bare["private_reply_conversation"] == {"id": conv}


def test_reply_comments_have_their_own_allowance(world: World) -> None:
    """The once-only rule is per comment: a reply in the thread can still be answered."""
    bob_reply = world.sb.add_comment(
        world.post, world.bob, "me too!", parent_id=world.comment, at=NOW - timedelta(hours=1)
    )
    assert private(world, world.comment).status_code == 200
    second = private(world, bob_reply)
    assert second.status_code == 200 and second.json()["recipient_id"] == world.bob
    err = error_of(private(world, bob_reply))
    assert err["code"] == 10900


def test_seven_days_belong_to_each_comment(world: World) -> None:
    """An 8-day-old top-level comment is closed while a fresh reply under it is open."""
    old = world.sb.add_comment(world.post, world.alice, "old q", at=NOW - timedelta(days=8))
    fresh = world.sb.add_comment(
        world.post, world.bob, "same q", parent_id=old, at=NOW - timedelta(hours=2)
    )
    assert world.get(f"/{old}", fields="can_reply_privately").json()["can_reply_privately"] is False
    err = error_of(private(world, old))
    assert (err["code"], err["error_subcode"]) == (10, 2018278)
    assert private(world, fresh).status_code == 200


def test_pages_own_comment_is_refused_10903(world: World) -> None:
    """A private reply to the Page's own comment: (#10903), nothing delivered."""
    own = world.sb.add_comment(world.post, None, "Ask us anything!")
    fields = world.get(f"/{own}", fields="can_reply_privately").json()
    assert fields["can_reply_privately"] is False
    resp = private(world, own)
    err = error_of(resp)
    assert resp.status_code == 400
    assert err == {
        "message": "(#10903) This user can't reply to this activity",
        "type": "OAuthException",
        "code": 10903,
        "is_transient": False,
        "fbtrace_id": err["fbtrace_id"],
    }
    assert world.sb.deliveries(world.page) == []


def test_reply_under_the_pages_own_comment_can_be_answered(world: World) -> None:
    """A customer's reply under the Page's top-level comment has its own private reply."""
    own = world.sb.add_comment(world.post, None, "Winners announced tomorrow!")
    customer = world.sb.add_comment(world.post, world.bob, "yay", parent_id=own)
    assert private(world, customer).json()["recipient_id"] == world.bob


def test_private_reply_elsewhere_blocks_the_api_one(world: World) -> None:
    """A reply sent from Meta's inbox: fields show it, the API answers 10900, no delivery."""
    mid = world.sb.private_reply_elsewhere(world.comment, "Hi from Business Suite")
    fields = world.get(f"/{world.comment}", fields=FIELDS).json()
    assert fields["can_reply_privately"] is False
    assert fields["private_reply_conversation"]["id"] == world.sb.conversation_id(
        world.page, world.alice
    )
    assert world.sb.message(mid).text == "Hi from Business Suite"
    err = error_of(private(world, world.comment))
    assert (err["code"], err["message"]) == (10900, "(#10900) Activity already replied to")
    assert world.sb.deliveries(world.page) == []


def test_unknown_comment_is_2018292(world: World) -> None:
    """An id that is no comment of this Page stays the documented 100/2018292."""
    err = error_of(private(world, "123_456"))
    assert (err["code"], err["error_subcode"]) == (100, 2018292)
