"""Send API and comment writes: windows, tags, private replies, limits, ledger (GRAPH_API §4-5)."""

from __future__ import annotations

from datetime import timedelta

from .conftest import NOW, V, World, error_of, make_world


def test_send_success_appends_and_records(world: World) -> None:
    """A send answers recipient_id/message_id, shows in reads and lands in the deliveries ledger."""
    resp = world.send("Thanks, 12 EUR")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"recipient_id", "message_id"} and body["recipient_id"] == world.alice
    conv = world.sb.conversation_id(world.page, world.alice)
    newest = world.get(f"/{conv}/messages", fields="id,from,message").json()["data"][0]
    assert newest == {
        "id": body["message_id"],
        "from": {"name": "Test Shop", "email": f"{world.page}@facebook.com", "id": world.page},
        "message": "Thanks, 12 EUR",
    }
    (delivery,) = world.sb.deliveries(world.page, world.alice)
    assert delivery.message_id == body["message_id"] and delivery.messaging_type == "RESPONSE"


def test_send_form_encoded(world: World) -> None:
    """Form bodies with JSON-encoded recipient/message work like JSON bodies."""
    resp = world.client.post(
        f"{V}/{world.page}/messages",
        data={
            "recipient": f'{{"id":"{world.alice}"}}',
            "message": '{"text":"form ok"}',
            "messaging_type": "RESPONSE",
        },
    )
    assert resp.status_code == 200
    assert world.sb.deliveries(world.page)[0].text == "form ok"


def test_24h_window(world: World) -> None:
    """Outside 24 h since the user's last message: 10/2018278, nothing delivered."""
    resp = world.send("late", to=world.bob)
    err = error_of(resp)
    assert resp.status_code == 400
    assert (err["code"], err["error_subcode"]) == (10, 2018278)
    assert err["message"].startswith("(#10) This message is sent outside of allowed window.")
    assert world.sb.deliveries(world.page) == []
    world.sb.advance(22 * 3600 - 1)  # alice wrote 2 h before NOW: still inside at 23:59:59
    assert world.send("just in time").status_code == 200
    world.sb.advance(2)
    assert error_of(world.send("too late"))["error_subcode"] == 2018278


def test_human_agent_needs_the_feature(world: World) -> None:
    """HUMAN_AGENT without the feature is a 200-series permission error."""
    err = error_of(world.send("hi", to=world.bob, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"))
    assert 200 <= err["code"] <= 299


def test_human_agent_seven_days() -> None:
    """With the feature HUMAN_AGENT works up to 7 days after the user's message, not after."""
    w = make_world(human_agent=True)
    ok = w.send("human here", to=w.bob, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert ok.status_code == 200
    assert w.sb.deliveries(w.page)[0].tag == "HUMAN_AGENT"
    w.sb.advance(7 * 86400 - 30 * 3600 + 1)  # bob wrote 30 h before NOW
    late = w.send("x", to=w.bob, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert error_of(late)["error_subcode"] == 2018278


def test_text_limits(world: World) -> None:
    """Empty text: 100/2018034; 2,001 characters: code 100; exactly 2,000 is fine."""
    err = error_of(world.send(""))
    assert (err["code"], err["error_subcode"]) == (100, 2018034)
    assert error_of(world.send("x" * 2001))["code"] == 100
    assert world.send("é" * 2000).status_code == 200


def test_blocked_user_551(world: World) -> None:
    """A blocked customer answers 551/1545041."""
    world.sb.block_user(world.alice)
    err = error_of(world.send("hello?"))
    assert (err["code"], err["error_subcode"]) == (551, 1545041)


def test_bad_parameters(world: World) -> None:
    """Unknown recipient, bad messaging_type, tag missing: code 100 errors."""
    assert error_of(world.send("x", to="999"))["error_subcode"] == 2018001
    assert error_of(world.send("x", messaging_type="SPAM"))["code"] == 100
    assert error_of(world.send("x", messaging_type="MESSAGE_TAG"))["code"] == 100
    resp = world.post_json(f"/{world.page}/messages", {"message": {"text": "x"}})
    assert error_of(resp)["code"] == 100


def test_private_reply_once(world: World) -> None:
    """One private reply per comment; the second is (#10900); it lands in the DM thread."""
    body = {"recipient": {"comment_id": world.comment}, "message": {"text": "Sent you the price"}}
    first = world.post_json(f"/{world.page}/messages", body)
    assert first.status_code == 200 and first.json()["recipient_id"] == world.alice
    assert world.sb.deliveries(world.page)[0].comment_id == world.comment
    resp = world.post_json(f"/{world.page}/messages", body)
    second = error_of(resp)
    assert resp.status_code == 400
    assert second["code"] == 10900 and "error_subcode" not in second
    assert second["message"] == "(#10900) Activity already replied to"
    fields = world.get(f"/{world.comment}", fields="can_reply_privately").json()
    assert fields["can_reply_privately"] is False


def test_private_reply_seven_days(world: World) -> None:
    """After 7 days from the comment, a private reply is refused with the window error."""
    world.sb.advance(7 * 86400 - 3 * 3600 + 1)
    body = {"recipient": {"comment_id": world.comment}, "message": {"text": "late"}}
    err = error_of(world.post_json(f"/{world.page}/messages", body))
    assert (err["code"], err["error_subcode"]) == (10, 2018278)


def test_public_reply_hide_delete(world: World) -> None:
    """POST /{comment}/comments → {id}; is_hidden → success; DELETE → success."""
    resp = world.client.post(f"{V}/{world.comment}/comments", data={"message": "DM'd you!"})
    new_id = resp.json()["id"]
    reply = world.get(f"/{new_id}", fields="from,parent{id},message").json()
    assert reply["from"]["id"] == world.page and reply["parent"] == {"id": world.comment}
    hide = world.client.post(f"{V}/{world.comment}", data={"is_hidden": "true"})
    assert hide.json() == {"success": True}
    assert world.get(f"/{world.comment}", fields="is_hidden").json()["is_hidden"] is True
    world.client.post(f"{V}/{world.comment}", data={"is_hidden": "false"})
    assert world.get(f"/{world.comment}", fields="is_hidden").json()["is_hidden"] is False
    assert world.client.delete(f"{V}/{new_id}").json() == {"success": True}
    empty = world.client.post(f"{V}/{world.comment}/comments", data={"message": " "})
    assert error_of(empty)["code"] == 100


def test_reply_to_reply_attaches_to_top_level(world: World) -> None:
    """A reply to a reply gets the top-level comment as parent, as on Facebook."""
    r1 = world.sb.add_comment(world.post, world.bob, "r1", parent_id=world.comment)
    r2 = world.client.post(f"{V}/{r1}/comments", data={"message": "r2"}).json()["id"]
    assert world.sb.comment(r2).parent_id == world.comment


def test_legacy_private_replies_edge(world: World) -> None:
    """The deprecated /{comment}/private_replies edge answers an error."""
    resp = world.client.post(f"{V}/{world.comment}/private_replies", data={"message": "x"})
    assert resp.status_code == 400 and error_of(resp)["code"] == 12


def test_window_reopens_when_customer_writes(world: World) -> None:
    """A new customer message restarts the 24 h window."""
    world.sb.add_message(world.page, world.bob, "still there?", at=NOW - timedelta(minutes=1))
    assert world.send("yes!", to=world.bob).status_code == 200
