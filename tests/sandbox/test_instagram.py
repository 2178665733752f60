"""The linked Instagram account, against INSTAGRAM_API.md §10 (the simulator checklist)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from socialdesk.sandbox import Sandbox

from .conftest import BASE, NOW, V, error_of

DM_FIELDS = "id,updated_time,participants,messages.limit(20){id,created_time,from,to,message}"


@dataclass
class Ig:
    """A page with a linked Instagram account, two customers, a long thread and media."""

    sb: Sandbox
    page: str
    ig: str
    token: str
    jane: str
    kuba: str
    media: str
    comment: str
    reply: str
    client: httpx.Client

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET ``/v26.0{path}``."""
        return self.client.get(V + path, params={k: str(v) for k, v in params.items()})

    def dm(self, text: str, to: str | None = None, **extra: Any) -> httpx.Response:
        """POST a DM to an Instagram customer (default jane)."""
        body = {"recipient": {"id": to or self.jane}, "message": {"text": text}, **extra}
        return self.client.post(f"{V}/{self.page}/messages", json=body)

    def private(self, comment_id: str, text: str = "DM'd you") -> httpx.Response:
        """POST a private reply to an Instagram comment."""
        body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
        return self.client.post(f"{V}/{self.page}/messages", json=body)


def make_ig(*, rate_limit: bool = False, locale: str = "en_US") -> Ig:
    """Build the Instagram world."""
    sb = Sandbox(rate_limit=rate_limit, seed=11)
    sb.set_time(NOW)
    page = sb.add_page("Acme Shop")
    ig = sb.add_instagram(page, "acme_shop", name="Acme Shop", locale=locale)
    token = sb.issue_token(page)
    jane = sb.add_ig_user("jane.doe", name="Jane Doe")
    kuba = sb.add_ig_user("kuba_knits")
    for i in range(25):
        sb.add_message(
            page, jane, f"jane {i}", at=NOW - timedelta(minutes=60 - i), from_page=i % 5 == 4
        )
    sb.add_message(page, kuba, "czy macie rozmiar M?", at=NOW - timedelta(hours=30))
    media = sb.add_ig_media(ig, "New yarn 🧶", at=NOW - timedelta(days=1))
    comment = sb.add_ig_comment(media, jane, "Love it!", at=NOW - timedelta(hours=5))
    reply = sb.add_ig_comment(media, None, "@jane.doe thanks!", parent_id=comment)
    client = httpx.Client(
        transport=sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    return Ig(sb, page, ig, token, jane, kuba, media, comment, reply, client)


@pytest.fixture
def w() -> Iterator[Ig]:
    """The Instagram world, rate limit off."""
    world = make_ig()
    yield world
    world.client.close()


# -- discovery -----------------------------------------------------------------------------


def test_page_shows_the_linked_account(w: Ig) -> None:
    """Both Page fields carry the account; a Page without Instagram has neither."""
    fields = (
        "instagram_business_account{id,username,name,profile_picture_url},"
        "connected_instagram_account{id,username}"
    )
    body = w.get(f"/{w.page}", fields=fields).json()
    assert body["instagram_business_account"]["id"] == w.ig
    assert w.ig.startswith("1784") and len(w.ig) == 17
    assert body["instagram_business_account"]["username"] == "acme_shop"
    assert body["connected_instagram_account"] == {"id": w.ig, "username": "acme_shop"}
    assert list(body)[-1] == "id"
    bare = w.get("/me", fields="instagram_business_account").json()
    assert bare == {"instagram_business_account": {"id": w.ig}, "id": w.page}
    other = w.sb.add_page("No IG")
    token = w.sb.issue_token(other)
    plain = httpx.Client(transport=w.sb.transport(), base_url=BASE)
    resp = plain.get(
        f"{V}/me",
        params={"fields": fields, "access_token": token},
    ).json()
    assert resp == {"id": other}


def test_connected_only_account() -> None:
    """An account linked in the Page settings only appears under connected_instagram_account."""
    sb = Sandbox(rate_limit=False, seed=12)
    page = sb.add_page("P")
    ig = sb.add_instagram(page, "p_shop", business_account=False)
    c = httpx.Client(
        transport=sb.transport(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {sb.issue_token(page)}"},
    )
    body = c.get(
        f"{V}/{page}",
        params={"fields": "instagram_business_account,connected_instagram_account{id}"},
    ).json()
    assert body == {"connected_instagram_account": {"id": ig}, "id": page}


# -- DMs ------------------------------------------------------------------------------------


def test_instagram_conversations_are_separate(w: Ig) -> None:
    """platform=instagram lists the IG threads (aWdf… ids); the default Messenger list none."""
    body = w.get(f"/{w.page}/conversations", platform="instagram", fields=DM_FIELDS).json()
    threads = body["data"]
    assert [t["id"][:4] for t in threads] == ["aWdf", "aWdf"]
    assert threads[0]["updated_time"] == "2026-11-22T11:24:00+0000"
    people = threads[0]["participants"]["data"]
    assert sorted(p["username"] for p in people) == ["acme_shop", "jane.doe"]
    assert all(set(p) == {"username", "id"} for p in people)
    assert w.get(f"/{w.page}/conversations").json()["data"] == []
    only = w.get(f"/{w.page}/conversations", platform="instagram", user_id=w.kuba).json()
    assert [t["id"] for t in only["data"]] == [w.sb.conversation_id(w.page, w.kuba)]


@pytest.mark.parametrize("field", ["message_count", "unread_count", "snippet", "can_reply", "link"])
def test_messenger_only_thread_fields_fail_the_call(w: Ig, field: str) -> None:
    """A Messenger-only field on an IG thread fails the whole call with (#100)."""
    err = error_of(w.get(f"/{w.page}/conversations", platform="instagram", fields=f"id,{field}"))
    assert err["code"] == 100
    assert f"({field}) on node type (UnifiedThread)" in err["message"]


@pytest.mark.parametrize("field", ["tags", "sticker"])
def test_messenger_only_message_fields_fail(w: Ig, field: str) -> None:
    """tags and sticker are not Instagram message fields."""
    fields = f"messages.limit(5){{id,{field}}}"
    err = error_of(w.get(f"/{w.page}/conversations", platform="instagram", fields=fields))
    assert err["code"] == 100 and f"({field})" in err["message"]


def test_only_the_20_newest_messages_have_details(w: Ig) -> None:
    """Nested: beyond the 20 newest ids only; by id: the message has been deleted."""
    conv = w.sb.conversation_id(w.page, w.jane)
    fields = "messages.limit(20){id,created_time,from,message}"
    first = w.get(f"/{w.page}/conversations", platform="instagram", user_id=w.jane, fields=fields)
    edge = first.json()["data"][0]["messages"]
    assert len(edge["data"]) == 20 and all("message" in m for m in edge["data"])
    assert edge["data"][0]["message"] == "jane 24"  # the Page's reply
    assert edge["data"][1]["from"] == {"username": "jane.doe", "id": w.jane}
    rest = w.client.get(edge["paging"]["next"]).json()
    assert [set(m) for m in rest["data"]] == [{"id"}] * 5
    old_id = rest["data"][0]["id"]
    err = error_of(w.get(f"/{old_id}", fields="message"))
    assert err["code"] == 100 and "deleted" in err["message"]
    newest = edge["data"][0]["id"]
    assert w.get(f"/{newest}", fields="message").json()["message"] == "jane 24"
    node = w.get(f"/{conv}", fields="messages{id}").json()
    assert len(node["messages"]["data"]) == 25  # every id is listed


def test_page_replies_come_from_the_business(w: Ig) -> None:
    """A message the Page sent reads as from the IG account (username), to the customer."""
    msgs = w.get(
        f"/{w.sb.conversation_id(w.page, w.jane)}/messages", fields="from,to,message", limit=2
    ).json()["data"]
    page_msg = next(m for m in msgs if m["message"] == "jane 24")
    assert page_msg["from"] == {"username": "acme_shop", "id": w.ig}
    assert page_msg["to"] == {"data": [{"username": "jane.doe", "id": w.jane}]}


def test_oversized_nested_request_is_code_1(w: Ig) -> None:
    """limit × nested limit above 500 answers code 1; 15 × 20 passes."""
    heavy = w.get(
        f"/{w.page}/conversations", platform="instagram", limit=50, fields="messages.limit(20){id}"
    )
    assert heavy.status_code == 500 and error_of(heavy)["code"] == 1
    ok = w.get(
        f"/{w.page}/conversations", platform="instagram", limit=15, fields="messages.limit(20){id}"
    )
    assert ok.status_code == 200


def test_story_reactions_reply_to_and_empty_text(w: Ig) -> None:
    """IG message fields: story mention, reply_to, "" text for a media-only message."""
    story = {
        "mention": {"link": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", "id": "9"}
    }
    mid = w.sb.add_message(
        w.page, w.kuba, "", story=story, reply_to={"mid": "x", "is_self_reply": False}
    )
    body = w.get(f"/{mid}", fields="message,story,reply_to").json()
    assert body["message"] == "" and body["story"] == story
    assert body["reply_to"] == {"mid": "x", "is_self_reply": False}


def test_messages_toggle_off_is_200_2534041(w: Ig) -> None:
    """The owner's toggle off: conversations and sends answer 200/2534041; comments work."""
    w.sb.set_messages_access(w.ig, False)
    err = error_of(w.get(f"/{w.page}/conversations", platform="instagram"))
    assert (err["code"], err["error_subcode"]) == (200, 2534041)
    assert error_of(w.dm("hi"))["error_subcode"] == 2534041
    assert w.get(f"/{w.media}/comments").status_code == 200
    assert w.get(f"/{w.page}/conversations").status_code == 200  # Messenger untouched


def test_instagram_pacing_is_per_account(w: Ig) -> None:
    """2 calls/s per IG account (613), separate from the Page's Messenger bucket."""
    w.sb.rate_limit = True
    ig_path = f"/{w.page}/conversations"
    assert w.get(ig_path, platform="instagram").status_code == 200
    assert w.get(ig_path, platform="instagram").status_code == 200
    third = w.get(ig_path, platform="instagram")
    assert error_of(third)["code"] == 613
    assert w.get(ig_path).status_code == 200  # the Messenger bucket is full
    w.sb.advance(0.5)
    assert w.get(ig_path, platform="instagram").status_code == 200


def test_ig_user_node_routes_are_capability_errors(w: Ig) -> None:
    """/{ig-user-id}/conversations and /messages answer (#3) on graph.facebook.com."""
    for resp in (
        w.get(f"/{w.ig}/conversations"),
        w.client.post(f"{V}/{w.ig}/messages", json={"recipient": {"id": w.jane}}),
    ):
        err = error_of(resp)
        assert err["code"] == 3 and err["message"].startswith("(#3)")


def test_user_profile_needs_consent(w: Ig) -> None:
    """The profile API answers for a customer who wrote; a commenter who never did gets 230."""
    body = w.get(f"/{w.jane}", fields="name,username,profile_pic").json()
    assert body["name"] == "Jane Doe" and body["username"] == "jane.doe"
    lurker = w.sb.add_ig_user("lurker")
    w.sb.add_ig_comment(w.media, lurker, "nice")
    assert error_of(w.get(f"/{lurker}", fields="name"))["code"] == 230


# -- sends ---------------------------------------------------------------------------------


def test_send_to_an_igsid_and_the_read_id(w: Ig) -> None:
    """A DM answers {recipient_id, message_id}; the id is the one the thread lists."""
    sent = w.dm("Yes, size M is in stock.", messaging_type="RESPONSE").json()
    assert sent["recipient_id"] == w.jane
    listed = w.get(
        f"/{w.sb.conversation_id(w.page, w.jane)}/messages", fields="id", limit=1
    ).json()["data"][0]["id"]
    assert listed == sent["message_id"] and sent["message_id"].startswith("aWdf")
    assert w.sb.deliveries(w.page, w.jane)[0].text == "Yes, size M is in stock."


def test_text_cap_is_1000_utf8_bytes(w: Ig) -> None:
    """1000 bytes pass; 334 three-byte characters (1002 bytes) do not."""
    assert w.dm("a" * 1000).status_code == 200
    err = error_of(w.dm("あ" * 334))
    assert err["code"] == 100 and "1,000 bytes" in err["message"]


def test_window_and_human_agent(w: Ig) -> None:
    """kuba wrote 30 h ago: 10/2534022; HUMAN_AGENT needs the feature, then works to 7 days."""
    err = error_of(w.dm("late", to=w.kuba))
    assert (err["code"], err["error_subcode"]) == (10, 2534022)
    tag = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert error_of(w.dm("human", to=w.kuba, **tag))["code"] == 200
    w.sb.set_human_agent(w.page, True)
    assert w.dm("human", to=w.kuba, **tag).status_code == 200
    w.sb.advance(6 * 86400)
    assert error_of(w.dm("too late", to=w.kuba, **tag))["error_subcode"] == 2534022


def test_unknown_recipient_and_blocked(w: Ig) -> None:
    """A username or an unknown id is 100/2534014; a blocked customer 551."""
    assert error_of(w.dm("x", to="jane.doe"))["error_subcode"] == 2534014
    blocker = w.sb.add_ig_user("blocker", blocked=True)
    w.sb.add_message(w.page, blocker, "bye")
    assert error_of(w.dm("x", to=blocker))["code"] == 551


def test_error_messages_are_localised() -> None:
    """With a pt_BR account the same codes carry Portuguese text."""
    w = make_ig(locale="pt_BR")
    err = error_of(w.dm("late", to=w.kuba))
    assert (err["code"], err["error_subcode"]) == (10, 2534022)
    assert err["message"] == "Esta mensagem foi enviada fora da janela permitida."


def test_private_reply_once_within_7_days_no_window(w: Ig) -> None:
    """Once per comment (then 100/2534025), 7 days; it does not open the 24 h window."""
    lurker = w.sb.add_ig_user("lurker")
    c = w.sb.add_ig_comment(w.media, lurker, "price?", at=NOW - timedelta(hours=2))
    sent = w.private(c)
    assert sent.status_code == 200 and sent.json()["recipient_id"] == lurker
    assert error_of(w.private(c))["error_subcode"] == 2534025
    assert error_of(w.dm("follow-up", to=lurker))["error_subcode"] == 2534022
    old = w.sb.add_ig_comment(w.media, lurker, "old", at=NOW - timedelta(days=8))
    assert error_of(w.private(old))["error_subcode"] == 2534025
    assert error_of(w.private(w.reply))["error_subcode"] == 2534025  # the business's own
    w.sb.private_reply_elsewhere(w.comment, "from the Instagram app")
    assert error_of(w.private(w.comment))["error_subcode"] == 2534025


# -- media and comments --------------------------------------------------------------------


def test_media_list_with_comments_count(w: Ig) -> None:
    """/{ig-user-id}/media: newest first, comments_count includes replies, stories apart."""
    newer = w.sb.add_ig_media(w.ig, "Reel!", product="REELS", media_type="VIDEO")
    story = w.sb.add_ig_media(w.ig, "", product="STORY")
    body = w.get(
        f"/{w.ig}/media", fields="id,comments_count,media_product_type,timestamp,permalink"
    ).json()
    assert [m["id"] for m in body["data"]] == [newer, w.media]
    assert body["data"][1]["comments_count"] == 2
    assert body["data"][0]["media_product_type"] == "REELS"
    assert [m["id"] for m in w.get(f"/{w.ig}/stories").json()["data"]] == [story]
    since = int((NOW - timedelta(hours=2)).timestamp())
    assert [m["id"] for m in w.get(f"/{w.ig}/media", since=since).json()["data"]] == [newer]
    usage = json.loads(w.get(f"/{w.ig}/media").headers["x-business-use-case-usage"])
    assert list(usage) == [w.ig] and usage[w.ig][0]["type"] == "instagram"


def test_comments_edge_shape_and_rules(w: Ig) -> None:
    """Top level only, newest first, ≤ 50, after-only paging, none on the last page."""
    for i in range(60):
        w.sb.add_ig_comment(w.media, w.kuba, f"c{i}", at=NOW - timedelta(minutes=200 - i))
    first = w.get(
        f"/{w.media}/comments",
        limit=100,
        fields="id,text,timestamp,from{id,username},username,hidden,like_count,parent_id,user",
    ).json()
    assert len(first["data"]) == 50
    assert first["data"][0]["text"] == "c59"
    assert set(first["paging"]) == {"cursors", "next"} and set(first["paging"]["cursors"]) == {
        "after"
    }
    last = w.client.get(first["paging"]["next"]).json()
    assert "paging" not in last
    texts = [c["text"] for c in first["data"] + last["data"]]
    assert "@jane.doe thanks!" not in texts  # replies are not top-level
    default = w.get(f"/{w.comment}").json()
    assert set(default) == {"timestamp", "text", "id"}


@pytest.mark.parametrize("param", ["since", "filter", "order", "summary"])
def test_comments_edge_takes_no_parameters(w: Ig, param: str) -> None:
    """since/filter/order/summary are refused on the IG comments edge (code 100)."""
    assert error_of(w.get(f"/{w.media}/comments", **{param: "1"}))["code"] == 100
    nested = w.get(f"/{w.ig}/media", fields=f"comments.{param}(1){{id}}")
    assert error_of(nested)["code"] == 100


def test_replies_edge_nested_and_user_field(w: Ig) -> None:
    """replies edge and nesting; user only on the business's own comment; parent_id set."""
    nested = w.get(
        f"/{w.media}/comments", fields="id,replies{id,text,user,parent_id,from{username}}"
    ).json()["data"][0]
    reply = nested["replies"]["data"][0]
    assert reply["user"] == {"id": w.ig} and reply["parent_id"] == w.comment
    assert reply["from"] == {"username": "acme_shop"}
    edge = w.get(f"/{w.comment}/replies", fields="id,text").json()
    assert [r["id"] for r in edge["data"]] == [w.reply]
    jane = w.get(f"/{w.comment}", fields="user,username").json()
    assert jane == {"username": "jane.doe", "id": w.comment}


def test_username_needs_manage_comments(w: Ig) -> None:
    """Without instagram_manage_comments the username field is withheld."""
    token = w.sb.issue_token(
        w.page, scopes=("instagram_basic", "pages_read_engagement", "pages_messaging")
    )
    c = httpx.Client(
        transport=w.sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    body = c.get(f"{V}/{w.comment}", params={"fields": "username,text"}).json()
    assert body == {"text": "Love it!", "id": w.comment}


def test_standard_access_withholds_customer_comments(w: Ig) -> None:
    """Standard Access: customers' comments are not returned and not counted."""
    w.sb.set_advanced_access(w.page, False)
    assert w.get(f"/{w.media}/comments").json() == {"data": []}
    count = w.get(f"/{w.media}", fields="comments_count").json()["comments_count"]
    assert count == 1  # the business's own reply only


def test_public_reply_hide_delete(w: Ig) -> None:
    """replies go to the top level; hide= is required (not is_hidden); delete works."""
    r = w.client.post(f"{V}/{w.reply}/replies", data={"message": "more info in DM"}).json()
    assert w.sb.ig_comment(r["id"]).parent_id == w.comment
    assert error_of(w.client.post(f"{V}/{w.comment}", data={"is_hidden": "true"}))["code"] == 100
    assert w.client.post(f"{V}/{w.comment}", data={"hide": "true"}).json() == {"success": True}
    assert w.get(f"/{w.comment}", fields="hidden").json()["hidden"] is True
    assert error_of(w.client.post(f"{V}/{w.comment}/replies", data={"message": "x"}))["code"] == 100
    w.client.post(f"{V}/{w.reply}", data={"hide": "true"})
    assert w.sb.ig_comment(w.reply).hidden is False  # the owner's own comment stays visible
    assert w.client.delete(f"{V}/{w.comment}").json() == {"success": True}
    assert error_of(w.get(f"/{w.reply}"))["error_subcode"] == 33  # replies go with it
    top = w.client.post(f"{V}/{w.media}/comments", data={"message": "Giveaway!"}).json()
    assert w.sb.ig_comment(top["id"]).from_id == w.ig
    w.client.post(f"{V}/{w.media}", data={"comment_enabled": "false"})
    assert error_of(w.client.post(f"{V}/{w.media}/comments", data={"message": "x"}))["code"] == 100


def test_instagram_budget_80002() -> None:
    """The instagram BUC (4,800 × impressions) spent: 80002 on media reads."""
    w = make_ig()
    w.sb.usage_budget = 3
    for _ in range(3):
        assert w.get(f"/{w.ig}/media").status_code == 200
    err = error_of(w.get(f"/{w.ig}/media"))
    assert err["code"] == 80002
    w.sb.usage_budget = None
    w.sb.set_ig_impressions(w.ig, 2)
    assert w.get(f"/{w.ig}/media").status_code == 200


def test_a_page_without_instagram_is_unchanged() -> None:
    """No linked account: platform=instagram lists nothing, as before."""
    sb = Sandbox(rate_limit=False, seed=3)
    page = sb.add_page("Plain")
    c = httpx.Client(
        transport=sb.transport(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {sb.issue_token(page)}"},
    )
    assert c.get(f"{V}/{page}/conversations", params={"platform": "instagram"}).json() == {
        "data": []
    }


def test_demo_has_a_lively_instagram_account() -> None:
    """The demo links nordic.knits: threads (one past 20 messages, stories, a hostile one),
    multilingual media comments, and the activity timer keeps Instagram busy too."""
    from socialdesk.sandbox import Activity, build_demo
    from socialdesk.sandbox.demo import HOSTILE_NAME

    sb, page, token = build_demo(seed=4, threads=40, now=NOW)
    ig = sb.instagram_id(page)
    st = sb.state
    assert st.ig_accounts[ig].username == "nordic.knits"
    threads = [c for c in st.conversations.values() if c.platform == "instagram"]
    assert len(threads) >= 10
    assert max(len(c.messages) for c in threads) > 20
    assert any(m.story for c in threads for m in c.messages)
    assert any(st.users[c.user_id].name == HOSTILE_NAME for c in threads)
    comments = list(st.ig_comments.values())
    assert any(c.parent_id for c in comments) and len(st.ig_accounts[ig].media) >= 4
    before = sum(len(c.messages) for c in threads) + len(comments)
    act = Activity(sb, 1.0, seed=1)
    for _ in range(9):
        act.tick()
    after = sum(
        len(c.messages) for c in st.conversations.values() if c.platform == "instagram"
    ) + len(st.ig_comments)
    assert after == before + 3
    c = httpx.Client(
        transport=sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    listed = c.get(
        f"{V}/{page}/conversations",
        params={"platform": "instagram", "limit": "15", "fields": DM_FIELDS},
    )
    assert listed.status_code == 200 and len(listed.json()["data"]) == len(threads)
