"""Read endpoints: shapes, paging, ordering, omitted fields, errors, ETags (GRAPH_API §1-§3, §5)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from socialdesk.sandbox import file_attachment, image_attachment

from .conftest import NOW, V, World, client_for, error_of, make_world

CONV_FIELDS = (
    "id,updated_time,message_count,unread_count,snippet,participants,can_reply,link,"
    "messages.limit(2){id,created_time,from,to,message,attachments,sticker,shares,tags,is_unsupported}"
)


def many_conversations(w: World, n: int) -> list[str]:
    """Add ``n`` customers with one message each, one minute apart (newest last)."""
    users = []
    for i in range(n):
        uid = w.sb.add_user(f"User {i}")
        w.sb.add_message(w.page, uid, f"msg {i}", at=NOW - timedelta(minutes=n - i))
        users.append(uid)
    return users


def test_me_resolves_page(world: World) -> None:
    """GET /me with a page token answers the Page node {name, id}, version header echoed."""
    resp = world.get("/me")
    assert resp.status_code == 200
    assert resp.json() == {"name": "Test Shop", "id": world.page}
    assert resp.headers["facebook-api-version"] == "v26.0"
    resp = world.client.get("/v23.0/me")
    assert resp.headers["facebook-api-version"] == "v23.0"


def test_version_required(world: World) -> None:
    """Unversioned and too-old versions are errors."""
    assert error_of(world.client.get("/me"))["code"] == 2500
    old = world.client.get("/v18.0/me")
    assert old.status_code == 400
    assert error_of(old)["code"] == 2635


def test_debug_token_shape(world: World) -> None:
    """debug_token (asked with the app token) answers the documented data object, expires_at
    0 = never."""
    app = client_for(world.sb, world.sb.app_token())
    data = app.get(V + "/debug_token", params={"input_token": world.token}).json()["data"]
    assert data["type"] == "PAGE"
    assert data["is_valid"] is True
    assert data["expires_at"] == 0
    assert data["profile_id"] == world.page
    assert "pages_messaging" in data["scopes"]
    assert {"app_id", "application", "issued_at", "data_access_expires_at"} <= set(data)
    bad = app.get(V + "/debug_token", params={"input_token": "nope"}).json()["data"]
    assert bad["is_valid"] is False and bad["error"]["code"] == 190


def test_me_accounts_with_page_token_is_the_real_error(world: World) -> None:
    """/me/accounts with a page token: (#100) nonexisting field (accounts) on node type (Page)."""
    err = error_of(world.get("/me/accounts"))
    assert err["code"] == 100
    assert (
        err["message"] == "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
    )


def test_conversation_shape(world: World) -> None:
    """Conversation fields and the nested messages edge have the documented shapes."""
    body = world.get(
        f"/{world.page}/conversations", platform="messenger", fields=CONV_FIELDS
    ).json()
    first = body["data"][0]
    assert first["id"].startswith("t_")
    assert first["updated_time"] == "2026-11-22T10:00:00+0000"
    assert first["message_count"] == 1
    assert first["unread_count"] == 1
    assert first["snippet"] == "hello"
    assert first["can_reply"] is True
    assert first["link"].startswith(f"/{world.page}/inbox/")
    people = first["participants"]["data"]
    assert people[0] == {
        "name": "Alice Ånd",
        "email": f"{world.alice}@facebook.com",
        "id": world.alice,
    }
    assert people[1]["id"] == world.page
    msg = first["messages"]["data"][0]
    assert msg["from"]["id"] == world.alice
    assert msg["to"] == {
        "data": [{"name": "Test Shop", "email": f"{world.page}@facebook.com", "id": world.page}]
    }
    assert msg["message"] == "hello"
    for absent in ("attachments", "sticker", "shares", "is_unsupported"):
        assert absent not in msg  # omitted, never null
    assert "next" not in body["paging"] and "previous" not in body["paging"]
    assert set(body["paging"]["cursors"]) == {"before", "after"}
    assert first["messages"]["paging"]["cursors"]


def test_conversations_ordered_and_default_page_size(world: World) -> None:
    """Default 25 per page, updated_time descending, next absolute, last page without next."""
    many_conversations(world, 30)
    body = world.get(f"/{world.page}/conversations", fields="id,updated_time").json()
    assert len(body["data"]) == 25
    times = [c["updated_time"] for c in body["data"]]
    assert times == sorted(times, reverse=True)
    nxt = body["paging"]["next"]
    assert nxt.startswith(f"https://graph.facebook.com{V}/{world.page}/conversations?")
    assert "access_token" not in nxt  # the token came in a header
    assert "previous" not in body["paging"]
    page2 = world.client.get(nxt).json()
    assert len(page2["data"]) == 32 - 25
    assert "next" not in page2["paging"] and "previous" in page2["paging"]
    ids = [c["id"] for c in body["data"] + page2["data"]]
    assert len(set(ids)) == 32


def test_limit_capped_at_100(world: World) -> None:
    """Conversations limit above 100 is clamped to 100 (assumption, GRAPH_API §2)."""
    many_conversations(world, 120)
    body = world.get(f"/{world.page}/conversations", limit=500).json()
    assert len(body["data"]) == 100
    assert "limit=100" in body["paging"]["next"]


def test_access_token_param_is_kept_in_next(world: World) -> None:
    """When the request used access_token=, the next link carries it, as Graph does."""
    many_conversations(world, 3)
    plain = httpx.Client(transport=world.sb.transport())
    resp = plain.get(
        f"http://127.0.0.1:9{V}/{world.page}/conversations",
        params={"access_token": world.token, "limit": "2"},
    )
    nxt = resp.json()["paging"]["next"]
    assert nxt.startswith("http://127.0.0.1:9/")  # built from the request's own scheme/host
    assert parse_qs(urlsplit(nxt).query)["access_token"] == [world.token]


def test_user_id_filter_and_platform(world: World) -> None:
    """user_id returns only that thread; instagram has none; a bad platform is code 100."""
    body = world.get(f"/{world.page}/conversations", user_id=world.bob).json()
    assert [c["id"] for c in body["data"]] == [world.sb.conversation_id(world.page, world.bob)]
    assert world.get(f"/{world.page}/conversations", platform="instagram").json()["data"] == []
    assert error_of(world.get(f"/{world.page}/conversations", platform="fax"))["code"] == 100


def test_nested_messages_paging_follows(world: World) -> None:
    """messages.limit(n) has its own cursors and a next link that continues the thread."""
    for i in range(5):
        world.sb.add_message(world.page, world.alice, f"m{i}", at=NOW - timedelta(minutes=50 - i))
    body = world.get(
        f"/{world.page}/conversations", user_id=world.alice, fields="messages.limit(2){id,message}"
    ).json()
    edge = body["data"][0]["messages"]
    assert [m["message"] for m in edge["data"]] == ["m4", "m3"]
    rest = world.client.get(edge["paging"]["next"]).json()
    assert [m["message"] for m in rest["data"]] == ["m2", "m1"]
    last = world.client.get(rest["paging"]["next"]).json()
    assert [m["message"] for m in last["data"]] == ["m0", "hello"]
    assert "next" not in last["paging"]


def test_conversation_messages_edge_and_node(world: World) -> None:
    """/{conv}/messages and /{conv}?fields=messages list newest first; /{message} reads one."""
    conv = world.sb.conversation_id(world.page, world.alice)
    mid = world.sb.add_message(
        world.page,
        world.alice,
        "",
        at=NOW - timedelta(minutes=1),
        attachments=[image_attachment("a.jpg"), file_attachment("f.pdf")],
    )
    edge = world.get(f"/{conv}/messages", fields="id,message,attachments").json()
    assert edge["data"][0]["id"] == mid
    assert edge["data"][0]["message"] == ""  # attachment-only: empty string, GRAPH_API §3.4
    atts = edge["data"][0]["attachments"]["data"]
    assert atts[0]["image_data"]["width"] == 1080 and atts[1]["mime_type"] == "application/pdf"
    node = world.get(f"/{conv}", fields="messages{id}").json()
    assert node["messages"]["data"][0] == {"id": mid}
    assert node["id"] == conv
    one = world.get(f"/{mid}").json()
    assert one == {"id": mid, "created_time": "2026-11-22T11:59:00+0000"}


def test_sticker_share_unsupported_fields(world: World) -> None:
    """sticker is a URL, shares a data list (sub-fields asked), is_unsupported only when true."""
    mid = world.sb.add_message(
        world.page,
        world.alice,
        "",
        sticker="https://x/s.png",
        shares=[{"link": "https://shop/x", "name": "X"}],
        is_unsupported=True,
    )
    body = world.get(f"/{mid}", fields="message,sticker,shares{link,name},is_unsupported").json()
    assert body == {
        "message": "",
        "sticker": "https://x/s.png",
        "shares": {"data": [{"link": "https://shop/x", "name": "X"}]},
        "is_unsupported": True,
        "id": mid,
    }


def test_unknown_field_error(world: World) -> None:
    """An unknown field is the real (#100) nonexisting-field error naming the node type."""
    err = error_of(world.get(f"/{world.page}/conversations", fields="id,bogus"))
    assert (
        err["message"]
        == "(#100) Tried accessing nonexisting field (bogus) on node type (UnifiedThread)"
    )
    err = error_of(world.get(f"/{world.page}/conversations", fields="messages{nope}"))
    assert "(nope) on node type (Message)" in err["message"]


def test_unknown_node_and_edge(world: World) -> None:
    """Unknown ids are 100/33 GraphMethodException; unknown edges are (#100) nonexisting field."""
    resp = world.get("/123456789")
    err = error_of(resp)
    assert resp.status_code == 400
    assert (err["code"], err["error_subcode"], err["type"]) == (100, 33, "GraphMethodException")
    assert err["is_transient"] is False
    assert error_of(world.get(f"/{world.page}/bogus_edge"))["code"] == 100


def test_other_pages_objects_are_invisible(world: World) -> None:
    """A token sees only its own page's objects."""
    other = world.sb.add_page("Other")
    uid = world.sb.add_user("Zed")
    world.sb.add_message(other, uid, "secret")
    conv = world.sb.conversation_id(other, uid)
    assert error_of(world.get(f"/{conv}"))["error_subcode"] == 33
    assert error_of(world.get(f"/{other}/conversations"))["error_subcode"] == 33


def test_feed_shape_order_and_since(world: World) -> None:
    """Feed: newest first, documented fields, since filters, limit > 100 is an error."""
    older = world.sb.add_post(world.page, "Old news", at=NOW - timedelta(days=5))
    body = world.get(
        f"/{world.page}/feed", fields="id,message,created_time,updated_time,permalink_url"
    ).json()
    assert [p["id"] for p in body["data"]] == [world.post, older]
    first = body["data"][0]
    assert first["permalink_url"].startswith(f"https://www.facebook.com/{world.page}/posts/")
    assert first["updated_time"] == "2026-11-22T09:00:00+0000"  # the newest comment
    since = int((NOW - timedelta(days=2)).timestamp())
    recent = world.get(f"/{world.page}/feed", since=since).json()
    assert [p["id"] for p in recent["data"]] == [world.post]
    too_many = world.get(f"/{world.page}/feed", limit=101)
    assert too_many.status_code == 400 and error_of(too_many)["code"] == 100


def test_feed_nested_comments_stream(world: World) -> None:
    """comments.filter(stream).order(reverse_chronological).summary(true) flattens replies."""
    reply = world.sb.add_comment(
        world.post, None, "10 EUR", at=NOW - timedelta(hours=2), parent_id=world.comment
    )
    fields = (
        "comments.filter(stream).order(reverse_chronological).limit(25).summary(true)"
        "{id,message,from,created_time,parent{id},is_hidden,comment_count,can_reply_privately}"
    )
    post = world.get(f"/{world.page}/feed", fields=fields).json()["data"][0]
    comments = post["comments"]
    assert [c["id"] for c in comments["data"]] == [reply, world.comment]
    assert comments["data"][0]["parent"] == {"id": world.comment}
    assert comments["data"][0]["from"] == {"name": "Test Shop", "id": world.page}
    assert "parent" not in comments["data"][1]
    assert comments["data"][1]["comment_count"] == 1
    assert comments["data"][1]["can_reply_privately"] is True
    assert comments["data"][0]["can_reply_privately"] is False  # the Page's own comment
    assert comments["summary"] == {
        "order": "reverse_chronological",
        "total_count": 2,
        "can_comment": True,
    }


def test_comments_edges(world: World) -> None:
    """/{post}/comments toplevel vs stream; /{comment}/comments lists replies; since filters."""
    r1 = world.sb.add_comment(
        world.post, world.bob, "me too", at=NOW - timedelta(hours=1), parent_id=world.comment
    )
    top = world.get(f"/{world.post}/comments").json()
    assert [c["id"] for c in top["data"]] == [world.comment]
    assert set(top["data"][0]) == {"created_time", "from", "message", "id"}
    stream = world.get(f"/{world.post}/comments", filter="stream", summary="true").json()
    assert [c["id"] for c in stream["data"]] == [world.comment, r1]
    assert stream["summary"]["total_count"] == 2
    replies = world.get(f"/{world.comment}/comments").json()
    assert [c["id"] for c in replies["data"]] == [r1]
    since = int((NOW - timedelta(minutes=90)).timestamp())
    assert [
        c["id"]
        for c in world.get(f"/{world.post}/comments", filter="stream", since=since).json()["data"]
    ] == [r1]
    assert error_of(world.get(f"/{world.post}/comments", filter="weird"))["code"] == 100


def test_comments_paging_empty_and_deleted(world: World) -> None:
    """A post without comments answers empty data and no paging; deleted comments vanish."""
    empty = world.sb.add_post(world.page, "quiet")
    assert world.get(f"/{empty}/comments").json() == {"data": []}
    assert world.client.delete(f"{V}/{world.comment}").json() == {"success": True}
    assert world.get(f"/{world.post}/comments").json() == {"data": []}
    assert error_of(world.get(f"/{world.comment}"))["error_subcode"] == 33


def test_etag_and_304(world: World) -> None:
    """GET answers an ETag; If-None-Match with it gives an empty 304 until data changes."""
    first = world.get(f"/{world.page}/conversations")
    etag = first.headers["etag"]
    again = world.client.get(f"{V}/{world.page}/conversations", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert "x-business-use-case-usage" in again.headers
    world.sb.add_message(world.page, world.bob, "new!")
    changed = world.client.get(f"{V}/{world.page}/conversations", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_reduce_data_when_nested_too_big(world: World) -> None:
    """limit × nested limit above the data budget answers 500 code 1 (no is_transient)."""
    resp = world.get(f"/{world.page}/conversations", limit=100, fields="messages.limit(100){id}")
    assert resp.status_code == 500
    err = error_of(resp)
    assert err["code"] == 1 and "reduce the amount of data" in err["message"]
    assert "is_transient" not in err
    ok = world.get(f"/{world.page}/conversations", limit=100, fields="messages.limit(25){id}")
    assert ok.status_code == 200


def test_body_is_unicode_escaped(world: World) -> None:
    """Bodies are ASCII with \\u escapes and escaped slashes, as Graph sends them."""
    resp = world.get(f"/{world.page}/conversations", fields="participants")
    assert b"\\u00c5" in resp.content  # Å of "Alice Ånd"
    assert resp.content.isascii()
    assert b"\\/" in world.get(f"/{world.page}/feed", fields="permalink_url").content


def test_unread_count_omitted_when_zero() -> None:
    """After a Page reply unread_count is absent (Facebook omits zero)."""
    w = make_world()
    w.sb.add_message(w.page, w.alice, "answer", from_page=True)
    conv = w.get(f"/{w.page}/conversations", user_id=w.alice, fields="unread_count,snippet").json()
    assert conv["data"][0] == {"snippet": "answer", "id": w.sb.conversation_id(w.page, w.alice)}


def test_method_override_serves_post_as_get(world: World) -> None:
    """A POST with method=GET is served as a GET: debug_token without the token in the URL."""
    app = client_for(world.sb, world.sb.app_token())
    resp = app.post(V + "/debug_token", data={"input_token": world.token, "method": "GET"})
    assert resp.status_code == 200
    assert resp.json()["data"]["is_valid"] is True
    assert world.token not in str(resp.request.url)
