"""Token rules: debug_token needs the app token, tasks (MODERATE, MESSAGING), pages_messaging,
Advanced Access (1/99) — GRAPH_API §9 "Sandbox rules"."""

from __future__ import annotations

import pytest

from socialdesk.sandbox import Sandbox

from .conftest import NOW, V, World, client_for, error_of, make_world

FEED_FIELDS = "comments.filter(stream).summary(true){id,message,parent{id},from}"


def test_debug_token_refuses_a_page_token(world: World) -> None:
    """By default a Page token as caller gets the real (#100) refusal; the app token works."""
    assert world.sb.lenient_debug_token is False
    resp = world.get("/debug_token", input_token=world.token)
    err = error_of(resp)
    assert resp.status_code == 400
    assert (err["code"], err["type"]) == (100, "OAuthException")
    assert err["message"] == (
        "(#100) You must provide an app access token, or a user access token that is an owner "
        "or developer of the app"
    )
    app_id, secret = world.sb.app_credentials()
    assert world.sb.app_token() == f"{app_id}|{secret}"
    app = client_for(world.sb, world.sb.app_token())
    data = app.post(f"{V}/debug_token", data={"input_token": world.token, "method": "GET"}).json()[
        "data"
    ]
    assert data["is_valid"] is True and data["app_id"] == app_id
    assert data["profile_id"] == world.page and data["type"] == "PAGE"
    assert "x-app-usage" in app.get(f"{V}/debug_token", params={"input_token": "x"}).headers


def test_debug_token_leniency_is_opt_in(world: World) -> None:
    """``lenient_debug_token=True`` (for a test that needs it) answers a Page token again."""
    world.sb.lenient_debug_token = True
    assert world.get("/debug_token", input_token=world.token).json()["data"]["is_valid"]


def test_app_token_is_checked_and_reads_no_page_data() -> None:
    """A wrong app secret is 190; the app token cannot read Page objects."""
    sb = Sandbox(rate_limit=False, seed=2, app_id="4242", app_secret="shh")
    page = sb.add_page("P")
    assert sb.app_credentials() == ("4242", "shh")
    bad = client_for(sb, "4242|nope").get(f"{V}/debug_token", params={"input_token": "x"})
    assert error_of(bad)["code"] == 190
    app = client_for(sb, sb.app_token())
    assert error_of(app.get(f"{V}/{page}"))["error_subcode"] == 33


def test_without_moderate_comment_ids_are_withheld() -> None:
    """A MESSAGING-only token reads comments without id (feed, edges, node, parent)."""
    w = make_world()
    reply = w.sb.add_comment(w.post, None, "DM'd you", parent_id=w.comment)
    token = w.sb.issue_token(w.page, tasks=("MESSAGING",))
    c = client_for(w.sb, token)
    post = c.get(f"{V}/{w.page}/feed", params={"fields": FEED_FIELDS}).json()["data"][0]
    comments = post["comments"]["data"]
    assert comments and all("id" not in x for x in comments)
    assert all("parent" not in x for x in comments)  # parent{id} has nothing left to show
    assert comments[0]["message"] == "How much?"
    edge = c.get(f"{V}/{w.post}/comments").json()["data"]
    assert edge and all("id" not in x for x in edge)
    node = c.get(f"{V}/{reply}", params={"fields": "message"}).json()
    assert node == {"message": "DM'd you"}
    full = client_for(w.sb, w.token).get(f"{V}/{w.post}/comments").json()["data"]
    assert full[0]["id"] == w.comment


def test_conversations_need_a_messaging_task() -> None:
    """Neither MESSAGING nor MODERATE: (#200) on conversations and sends; MODERATE is enough."""
    w = make_world()
    analyst = client_for(w.sb, w.sb.issue_token(w.page, tasks=("ANALYZE",)))
    err = error_of(analyst.get(f"{V}/{w.page}/conversations"))
    assert (err["code"], err["message"]) == (200, "(#200) Permissions error")
    moderator = client_for(w.sb, w.sb.issue_token(w.page, tasks=("MODERATE",)))
    assert moderator.get(f"{V}/{w.page}/conversations").status_code == 200


def test_conversations_need_pages_messaging() -> None:
    """No pages_messaging: (#230) on listing, a thread's messages and a send; feed still works."""
    w = make_world()
    scopes = ("pages_show_list", "pages_read_engagement", "pages_manage_metadata")
    c = client_for(w.sb, w.sb.issue_token(w.page, scopes=scopes))
    conv = w.sb.conversation_id(w.page, w.alice)
    for resp in (
        c.get(f"{V}/{w.page}/conversations"),
        c.get(f"{V}/{conv}/messages"),
        c.post(
            f"{V}/{w.page}/messages",
            json={"recipient": {"id": w.alice}, "message": {"text": "hi"}},
        ),
    ):
        err = error_of(resp)
        assert err["code"] == 230 and "pages_messaging" in err["message"]
    assert c.get(f"{V}/{w.page}/feed").status_code == 200
    assert w.sb.deliveries(w.page) == []


@pytest.mark.parametrize("how", ["add_page", "set_advanced_access"])
def test_no_advanced_access_answers_1_99(how: str) -> None:
    """Without Advanced Access Messenger calls answer code 1 / subcode 99; comments work."""
    sb = Sandbox(rate_limit=False, seed=4)
    sb.set_time(NOW)
    if how == "add_page":
        page = sb.add_page("Standard", advanced_access=False)
    else:
        page = sb.add_page("Standard")
        sb.set_advanced_access(page, False)
    user = sb.add_user("Ann")
    sb.add_message(page, user, "hi")
    post = sb.add_post(page, "post")
    c = client_for(sb, sb.issue_token(page))
    listing = c.get(f"{V}/{page}/conversations")
    err = error_of(listing)
    assert (err["code"], err["error_subcode"]) == (1, 99)
    assert err["message"] == "An unknown error occurred"
    assert listing.status_code == 500 and "is_transient" not in err
    send = c.post(
        f"{V}/{page}/messages", json={"recipient": {"id": user}, "message": {"text": "x"}}
    )
    assert error_of(send)["error_subcode"] == 99
    assert c.get(f"{V}/{post}/comments").status_code == 200
    sb.set_advanced_access(page, True)
    assert c.get(f"{V}/{page}/conversations").status_code == 200


def test_feed_and_comments_need_pages_read_engagement() -> None:
    """No pages_read_engagement: (#10) naming it on the feed, posts, Reels and comment
    listings; the Conversations API still answers (each edge on its own)."""
    w = make_world()
    scopes = ("pages_show_list", "pages_messaging", "pages_manage_metadata")
    c = client_for(w.sb, w.sb.issue_token(w.page, scopes=scopes))
    for path in (
        f"{V}/{w.page}/feed",
        f"{V}/{w.page}/published_posts",
        f"{V}/{w.page}/video_reels",
        f"{V}/{w.post}/comments",
        f"{V}/{w.comment}/comments",
    ):
        err = error_of(c.get(path))
        assert err["code"] == 10 and "'pages_read_engagement' permission" in err["message"], path
    assert c.get(f"{V}/{w.page}/conversations").status_code == 200
