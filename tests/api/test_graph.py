"""Typed endpoints (api/graph.py) against a mock transport with real Graph shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from socialdesk.api import graph
from socialdesk.api.errors import MalformedResponse, TokenInvalid, TransientError
from socialdesk.api.parse import parse_conversation, parse_post
from socialdesk.models import Direction, Post
from tests.api.conftest import PAGE_ID, TOKEN, Recorder, error_body, load, make_client, ok


def test_field_strings_match_the_contract() -> None:
    """The conversations and feed field strings nest messages/comments as GRAPH_API.md says."""
    assert graph.CONVERSATION_FIELDS == (
        "id,updated_time,message_count,snippet,participants,messages.limit(25)"
        "{id,created_time,from,to,message,attachments,sticker,"
        "shares{link,name,description,picture},tags,is_unsupported}"
    )
    comments = (
        "comments.filter(stream).order(reverse_chronological).limit(25).summary(true)"
        "{id,message,from,created_time,parent{id},attachment,is_hidden,"
        "can_reply_privately,private_reply_conversation{id}}"
    )
    assert "id,message,created_time,updated_time,permalink_url," + comments == graph.FEED_FIELDS
    assert (
        "id,description,created_time,updated_time,permalink_url," + comments
    ) == graph.REEL_FIELDS_NESTED


def test_iter_conversations_pages_and_params() -> None:
    """One list per HTTP page (empty page included), platform=messenger, limit=100."""
    recorder = Recorder(
        [
            ok(load("conversations_p1.json")),
            ok(load("conversations_p2_empty.json")),
            ok(load("conversations_p3.json")),
        ]
    )
    client = make_client(recorder)
    pages = list(graph.iter_conversations(client, PAGE_ID))
    assert [[c.id for c in p] for p in pages] == [
        ["t_587956915396498", "t_100200300"],
        [],
        ["t_900"],
    ]
    first = recorder.requests[0].url
    assert first.path == "/v26.0/111/conversations"
    assert first.params["platform"] == "messenger" and first.params["limit"] == "100"
    assert first.params["fields"] == graph.CONVERSATION_FIELDS
    assert all(TOKEN not in str(r.url) for r in recorder.requests)


def test_iter_conversations_uses_remembered_page_size() -> None:
    """After a halving the next sync asks for the remembered size."""
    recorder = Recorder([ok({"data": []})])
    client = make_client(recorder)
    client.page_size["conversations"] = 50
    list(graph.iter_conversations(client, PAGE_ID, message_limit=10))
    params = recorder.requests[0].url.params
    assert params["limit"] == "50" and "messages.limit(10)" in params["fields"]


def test_iter_more_messages_follows_the_nested_link() -> None:
    """The messages after the nested ones come from the stripped nested next link."""
    conv = parse_conversation(load("conversations_p1.json")["data"][0], page_id=PAGE_ID)
    assert conv.messages_next is not None
    older = {
        "id": "m_old",
        "created_time": "2026-11-01T00:00:00+0000",
        "from": {"id": PAGE_ID, "name": "Cafe"},
        "message": "hi",
    }
    recorder = Recorder([ok({"data": [older]})])
    pages = list(graph.iter_more_messages(make_client(recorder), conv))
    assert len(pages) == 1 and pages[0][0].direction == Direction.OUT
    assert pages[0][0].thread_id == conv.id
    url = recorder.requests[0].url
    assert url.path == "/v26.0/t_587956915396498/messages"
    assert "access_token" not in str(url) and url.params["after"] == "QVFIUmZA"


def test_iter_more_messages_without_link_makes_no_call() -> None:
    """No messages_next, no request."""
    client = make_client(Recorder([]))
    conv = parse_conversation(load("conversations_p3.json")["data"][0], page_id=PAGE_ID)
    assert list(graph.iter_more_messages(client, conv)) == []
    assert client.calls == 0


def test_get_conversation_messages() -> None:
    """Reconciliation reads the newest messages of one conversation."""
    body = {
        "data": [
            {
                "id": "m_1",
                "created_time": "2026-11-22T09:00:00+0000",
                "from": {"id": PAGE_ID},
                "message": "sent",
            }
        ]
    }
    recorder = Recorder([ok(body)])
    msgs = graph.get_conversation_messages(make_client(recorder), PAGE_ID, "t_1", limit=10)
    assert [(m.id, m.thread_id, m.direction) for m in msgs] == [("m_1", "t_1", Direction.OUT)]
    assert recorder.requests[0].url.params["limit"] == "10"


def test_iter_feed_with_since() -> None:
    """The feed call carries fields, limit=100 and since as Unix seconds."""
    recorder = Recorder([ok(load("feed_p1.json"))])
    since = datetime(2026, 11, 1, tzinfo=UTC)
    pages = list(graph.iter_feed(make_client(recorder), PAGE_ID, since=since))
    assert [p.id for p in pages[0]] == ["111_5001", "111_5000"]
    params = recorder.requests[0].url.params
    assert params["since"] == str(int(since.timestamp()))
    assert params["limit"] == "100" and params["fields"] == graph.FEED_FIELDS


def test_iter_more_comments_and_comment_thread() -> None:
    """More comments follow comments_next; a comment thread reads the comment's replies."""
    post: Post = parse_post(load("feed_p1.json")["data"][0], page_id=PAGE_ID)
    reply = {
        "id": "5001_9100",
        "created_time": "2026-11-19T00:00:00+0000",
        "from": {"id": "8009", "name": "Z"},
        "message": "old",
        "parent": {"id": "5001_9050"},
    }
    recorder = Recorder([ok({"data": [reply]}), ok({"data": [reply | {"parent": None}]})])
    client = make_client(recorder)
    more = list(graph.iter_more_comments(client, PAGE_ID, post))
    assert more[0][0].thread_id == "5001_9050"
    assert recorder.requests[0].url.path == "/v26.0/111_5001/comments"
    thread = graph.get_comment_thread(client, PAGE_ID, "5001_9050")
    assert thread[0].thread_id == "5001_9050"
    params = recorder.requests[1].url.params
    assert params["filter"] == "stream" and params["limit"] == "100"


def test_send_message_payload_and_result() -> None:
    """send_message posts the Send API JSON and returns the message id; no retry on failure."""
    recorder = Recorder([ok({"recipient_id": "7001", "message_id": "m_new"})])
    client = make_client(recorder)
    result = graph.send_message(
        client,
        PAGE_ID,
        text="On it!",
        recipient_id="7001",
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
    )
    assert result.message_id == "m_new" and result.recipient_id == "7001"
    request = recorder.requests[0]
    assert request.url.path == "/v26.0/111/messages"
    assert json.loads(request.content) == {
        "recipient": {"id": "7001"},
        "messaging_type": "MESSAGE_TAG",
        "message": {"text": "On it!"},
        "tag": "HUMAN_AGENT",
    }


def test_private_reply_uses_comment_id() -> None:
    """A private reply targets recipient.comment_id and omits the tag."""
    recorder = Recorder([ok({"message_id": "m_pr"})])
    graph.send_message(make_client(recorder), PAGE_ID, text="DM'd you", comment_id="5001_9001")
    body = json.loads(recorder.requests[0].content)
    assert body == {
        "recipient": {"comment_id": "5001_9001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "DM'd you"},
    }


def test_send_message_needs_exactly_one_recipient() -> None:
    """Neither or both recipients is a programming error."""
    client = make_client(Recorder([]))
    with pytest.raises(ValueError):
        graph.send_message(client, PAGE_ID, text="x")
    with pytest.raises(ValueError):
        graph.send_message(client, PAGE_ID, text="x", recipient_id="1", comment_id="2")


def test_send_failure_is_not_retried() -> None:
    """A 500 on a send is raised after a single request."""
    recorder = Recorder(lambda r: httpx.Response(500, json=error_body(2, is_transient=True)))
    client = make_client(recorder)
    with pytest.raises(TransientError):
        graph.send_message(client, PAGE_ID, text="x", recipient_id="1")
    assert client.calls == 1


def test_reply_to_comment_and_hide() -> None:
    """A public reply posts message=; hiding posts is_hidden and is retried when transient."""
    recorder = Recorder(
        [
            ok({"id": "5001_9200"}),
            httpx.Response(500, json=error_body(2, is_transient=True)),
            ok({"success": True}),
        ]
    )
    client = make_client(recorder)
    assert graph.reply_to_comment(client, "5001_9001", "Thanks!").message_id == "5001_9200"
    assert recorder.requests[0].content == b"message=Thanks%21"
    graph.set_comment_hidden(client, "5001_9001", True)
    assert recorder.requests[2].content == b"is_hidden=true"
    assert client.calls == 3


def test_hide_without_success_is_malformed() -> None:
    """A hide answer without success is not silently accepted."""
    client = make_client(Recorder([ok({"success": False})]))
    with pytest.raises(MalformedResponse):
        graph.set_comment_hidden(client, "c", False)


def test_get_me_debug_token_and_accounts() -> None:
    """get_me, debug_token and list_accounts (a page token gets [])."""
    recorder = Recorder(
        [
            ok({"id": PAGE_ID, "name": "Cafe Lumen"}),
            ok(
                {
                    "data": {
                        "type": "PAGE",
                        "is_valid": True,
                        "expires_at": 0,
                        "profile_id": PAGE_ID,
                        "scopes": ["pages_messaging"],
                    }
                }
            ),
            httpx.Response(
                400, json=error_body(100, "(#100) Tried accessing nonexisting field (accounts)")
            ),
            ok(
                {
                    "data": [{"id": "1", "name": "A"}],
                    "paging": {"next": "https://graph.facebook.com/v26.0/me/accounts?after=Z"},
                }
            ),
            ok({"data": [{"id": "2", "name": "B"}]}),
        ]
    )
    client = make_client(recorder)
    assert graph.get_me(client).name == "Cafe Lumen"
    info = graph.debug_token(client, TOKEN)
    assert info.type == "PAGE" and info.profile_id == PAGE_ID
    # The inspected token travels in a POST body (Graph's method override), never in the URL.
    inspect = recorder.requests[1]
    assert inspect.method == "POST" and TOKEN not in str(inspect.url)
    assert b"method=GET" in inspect.content
    assert graph.list_accounts(client) == []
    assert [p.id for p in graph.list_accounts(client)] == ["1", "2"]
    assert "access_token" not in recorder.requests[3].url.params["fields"]


def test_expired_token_mid_paging_raises_token_invalid() -> None:
    """A token that expires between pages raises TokenInvalid after the first page was yielded."""
    recorder = Recorder(
        [ok(load("conversations_p1.json")), httpx.Response(400, json=error_body(190, subcode=463))]
    )
    pages = graph.iter_conversations(make_client(recorder), PAGE_ID)
    assert len(next(pages)) == 2
    with pytest.raises(TokenInvalid):
        next(pages)
