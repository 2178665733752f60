"""Graph JSON → models (api/parse.py), with the real response shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from socialdesk.api.errors import MalformedResponse
from socialdesk.api.parse import (
    parse_comment,
    parse_conversation,
    parse_message,
    parse_message_attachment,
    parse_page,
    parse_post,
    parse_send_result,
    parse_time,
    parse_token_info,
)
from socialdesk.models import Attachment, Direction
from tests.api.conftest import PAGE_ID, TOKEN, load

T0 = "2026-11-22T09:50:48+0000"


def _msg(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "m_1", "created_time": T0, "from": {"id": "7001", "name": "A"}}
    base.update(fields)
    return base


def test_times_parse_to_utc() -> None:
    """Graph's +0000 form, ISO with colon or Z, and Unix seconds all parse as aware UTC."""
    expected = datetime(2026, 11, 22, 9, 50, 48, tzinfo=UTC)
    assert parse_time(T0) == expected
    assert parse_time("2026-11-22T10:50:48+01:00") == expected
    assert parse_time("2026-11-22T09:50:48Z") == expected
    assert parse_time(int(expected.timestamp())) == expected
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_conversation_page_parses_customer_messages_and_next() -> None:
    """A conversations page gives the customer, newest-first messages and a stripped next link."""
    item = load("conversations_p1.json")["data"][0]
    conv = parse_conversation(item, page_id=PAGE_ID)
    assert conv.id == "t_587956915396498"
    assert conv.customer.id == "7001" and conv.customer.name == "Ana Souza"
    assert conv.message_count == 3 and conv.snippet == "Is the blue one in stock?"
    assert [m.id for m in conv.messages] == ["m_ToF35NI1a", "m_ToF35NI1b", "m_ToF35NI1c"]
    assert [m.direction for m in conv.messages] == [Direction.IN, Direction.OUT, Direction.IN]
    assert all(m.thread_id == conv.id for m in conv.messages)
    assert conv.messages_next is not None
    assert "after=QVFIUmZA" in conv.messages_next
    assert TOKEN not in conv.messages_next and "access_token" not in conv.messages_next


def test_empty_message_with_sticker_keeps_the_sticker() -> None:
    """An empty `message` with a sticker gives text "" and a sticker attachment."""
    item = load("conversations_p1.json")["data"][0]
    sticker = parse_conversation(item, page_id=PAGE_ID).messages[2]
    assert sticker.text == ""
    assert sticker.attachments == (
        Attachment("sticker", url="https://scontent.xx.fbcdn.net/v/t39.1997-6/sticker.png"),
    )


def test_image_attachment() -> None:
    """image_data becomes an image attachment with its URL, name and MIME type."""
    item = load("conversations_p1.json")["data"][1]
    msg = parse_conversation(item, page_id=PAGE_ID).messages[0]
    assert msg.attachments == (
        Attachment(
            "image",
            url="https://scontent.xx.fbcdn.net/photo.jpg",
            name="image-1.jpg",
            mime_type="image/jpeg",
        ),
    )
    assert parse_conversation(item, page_id=PAGE_ID).messages_next is None


@pytest.mark.parametrize(
    ("attachment", "kind", "url"),
    [
        (
            {"id": "1", "video_data": {"url": "https://v/1.mp4", "width": 1}},
            "video",
            "https://v/1.mp4",
        ),
        (
            {"id": "2", "mime_type": "audio/mpeg", "file_url": "https://f/a.mp3"},
            "audio",
            "https://f/a.mp3",
        ),
        (
            {
                "id": "3",
                "mime_type": "application/pdf",
                "name": "menu.pdf",
                "file_url": "https://f/m.pdf",
            },
            "file",
            "https://f/m.pdf",
        ),
        (
            {"id": "4", "mime_type": "video/mp4", "file_url": "https://f/v.mp4"},
            "video",
            "https://f/v.mp4",
        ),
        (
            {"id": "5", "image_data": {"url": "https://i/s.png", "render_as_sticker": True}},
            "sticker",
            "https://i/s.png",
        ),
        (
            {"id": "6", "generic_template": {"title": "T", "media_url": "https://m/1"}},
            "share",
            "https://m/1",
        ),
        (
            {"id": "1234", "name": "Media not available due to new privacy rules in Europe"},
            "unknown",
            None,
        ),
        ({"id": "7", "hologram": {"x": 1}}, "unknown", None),
        ({"id": "8", "size": None, "mime_type": "image/gif"}, "image", None),
    ],
)
def test_attachment_shapes(attachment: dict[str, Any], kind: str, url: str | None) -> None:
    """Every attachment shape maps to a kind; unknown shapes become "unknown", never dropped."""
    parsed = parse_message_attachment(attachment)
    assert parsed.kind == kind
    assert parsed.url == url


def test_shares_and_unsupported_are_kept() -> None:
    """shares become share attachments and is_unsupported an unsupported one."""
    obj = _msg(
        message="",
        shares={"data": [{"id": None, "link": "https://example.com/p", "name": ""}]},
        is_unsupported=True,
    )
    msg = parse_message(obj, page_id=PAGE_ID, thread_id="t_1")
    assert [a.kind for a in msg.attachments] == ["share", "unsupported"]
    assert msg.attachments[0].url == "https://example.com/p"
    assert msg.attachments[0].name is None


def test_unknown_attachment_is_kept_alongside_text() -> None:
    """A message with text and an attachment in an unknown shape keeps both."""
    obj = _msg(message="see this", attachments={"data": [{"id": "9", "weird": True}]})
    msg = parse_message(obj, page_id=PAGE_ID, thread_id="t_1")
    assert msg.text == "see this"
    assert [a.kind for a in msg.attachments] == ["unknown"]


def test_missing_optional_fields_are_absorbed() -> None:
    """No from, no message, no attachments (Graph omits empty fields): the message parses."""
    msg = parse_message({"id": "m_2", "created_time": T0}, page_id=PAGE_ID, thread_id="t_1")
    assert msg.text == "" and msg.author.id == "" and msg.direction == Direction.IN
    assert msg.attachments == ()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"message": 42}, "message"),
        ({"attachments": "nope"}, "attachments"),
        ({"attachments": {"data": {"0": {"name": "x"}}}}, "attachments"),
        ({"from": "Ana"}, "from"),
        ({"from": {"id": 7, "name": "Ana"}}, "from.id"),
        ({"created_time": 12345}, "created_time"),
        ({"created_time": "x" * 50}, "created_time"),
        ({"message": "x" * 100_001}, "message"),
        ({"id": 12345}, "id"),
    ],
)
def test_wrong_types_are_bad_items_never_silently_absorbed(
    extra: dict[str, Any], field: str
) -> None:
    """A present field of the wrong type (or an absurd size) makes the item unreadable, so it
    is skipped and read again later instead of being stored degraded for good."""
    from socialdesk.api.errors import MalformedItem

    with pytest.raises(MalformedItem) as info:
        parse_message({"id": "m_2", "created_time": T0, **extra}, page_id=PAGE_ID, thread_id="t")
    assert info.value.field == field


def test_missing_message_time_uses_fallback() -> None:
    """A message without created_time takes the conversation's updated_time."""
    conv = parse_conversation(
        {"id": "t_1", "updated_time": T0, "messages": {"data": [{"id": "m_1"}]}},
        page_id=PAGE_ID,
    )
    assert conv.messages[0].created_at == parse_time(T0)
    assert conv.customer.id == ""


def test_conversation_without_updated_time_uses_newest_message() -> None:
    """updated_time missing: the newest message's time is used."""
    conv = parse_conversation(
        {
            "id": "t_1",
            "messages": {"data": [_msg(), _msg(id="m_0", created_time="2020-01-01T00:00:00+0000")]},
        },
        page_id=PAGE_ID,
    )
    assert conv.updated_at == parse_time(T0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: parse_conversation({"updated_time": T0}, page_id=PAGE_ID),
        lambda: parse_conversation({"id": "t_1"}, page_id=PAGE_ID),
        lambda: parse_message({"created_time": T0}, page_id=PAGE_ID, thread_id="t"),
        lambda: parse_message({"id": "m_1"}, page_id=PAGE_ID, thread_id="t"),
        lambda: parse_post({"message": "x", "created_time": T0}, page_id=PAGE_ID),
        lambda: parse_comment({"id": ""}, page_id=PAGE_ID),
        lambda: parse_send_result({"recipient_id": "1"}),
    ],
)
def test_missing_required_fields_raise_malformed(call: Any) -> None:
    """No id (or no usable time at all) is a MalformedResponse, not a crash or a silent drop."""
    with pytest.raises(MalformedResponse):
        call()


def test_post_with_comments() -> None:
    """A feed item gives the post, its comments with thread ids, hidden flags and next link."""
    posts = [parse_post(p, page_id=PAGE_ID) for p in load("feed_p1.json")["data"]]
    post = posts[0]
    assert post.id == "111_5001" and post.permalink == "https://www.facebook.com/111/posts/5001"
    reply, sticker, top = post.comments
    assert reply.thread_id == "5001_9001" and reply.parent_id == "5001_9001"
    assert reply.direction == Direction.OUT
    assert top.thread_id == "5001_9001" and top.parent_id is None
    assert top.direction == Direction.IN
    assert sticker.thread_id == "5001_9002" and sticker.is_hidden is True
    assert sticker.text == "" and [a.kind for a in sticker.attachments] == ["sticker"]
    assert post.comments_next is not None and "access_token" not in post.comments_next
    bare = posts[1]
    assert bare.message == "" and bare.comments == () and bare.comments_next is None


def test_comment_thread_override() -> None:
    """Replies fetched for a known thread keep that thread id even without a parent field."""
    msg = parse_comment({"id": "c_2", "created_time": T0}, page_id=PAGE_ID, thread_id="c_1")
    assert msg.thread_id == "c_1"


def test_unknown_comment_attachment_type_is_kept() -> None:
    """A comment attachment of an unknown type is kept as kind "unknown"."""
    msg = parse_comment(
        {"id": "c", "created_time": T0, "attachment": {"type": "hologram", "url": "https://h"}},
        page_id=PAGE_ID,
    )
    assert msg.attachments == (Attachment("unknown", url="https://h", name="hologram"),)


def test_token_info() -> None:
    """debug_token data: expires_at 0 means never; scopes kept."""
    info = parse_token_info(
        {
            "app_id": "138483919580948",
            "type": "PAGE",
            "is_valid": True,
            "expires_at": 0,
            "scopes": ["pages_messaging", "pages_read_engagement"],
            "profile_id": "111",
        }
    )
    assert info.is_valid and info.type == "PAGE" and info.expires_at is None
    assert info.scopes == ("pages_messaging", "pages_read_engagement")
    assert info.profile_id == "111"


def test_send_result_shapes() -> None:
    """Send API and create answers both give a message id."""
    assert parse_send_result({"recipient_id": "7001", "message_id": "m_X"}).message_id == "m_X"
    result = parse_send_result({"id": "5001_9010"})
    assert result.message_id == "5001_9010" and result.recipient_id is None


_JSON_LONE = (
    '{"id": "c1", "updated_time": "2026-11-22T09:50:48+0000", "snippet": "cut \\ud83d",'
    ' "participants": {"data": [{"id": "u1", "name": "Lone\\ud800Sur"}, {"id": "%s"}]},'
    ' "messages": {"data": [{"id": "m1", "created_time": "2026-11-22T09:50:48+0000",'
    ' "from": {"id": "u1", "name": "Lone\\ud800Sur"}, "message": "text \\udfff",'
    ' "attachments": {"data": [{"name": "f\\udc00.pdf", "mime_type": "application/pdf",'
    ' "file_url": "https://x/\\ud800"}]}}],'
    ' "paging": {"next": "https://graph.facebook.com/v26.0/c1/messages?after=\\ud800"}}}'
)


def _encodable(value: object) -> None:
    """Every string reachable in ``value`` (a model) encodes as UTF-8."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, tuple):
        for item in value:
            _encodable(item)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _encodable(getattr(value, name))


def test_lone_surrogates_become_replacement_characters() -> None:
    """Lone surrogates from JSON escapes (names, text, snippet, attachments) become U+FFFD."""
    import json

    conv = parse_conversation(json.loads(_JSON_LONE % PAGE_ID), page_id=PAGE_ID)
    _encodable(conv)
    assert conv.customer.name == "Lone\ufffdSur"
    assert conv.snippet == "cut \ufffd"
    [message] = conv.messages
    assert message.text == "text \ufffd" and message.author.name == "Lone\ufffdSur"
    assert message.attachments[0].name == "f\ufffd.pdf"
    assert message.attachments[0].url == "https://x/\ufffd"
    post = parse_post(
        {
            "id": "p1",
            "created_time": T0,
            "message": "post \ud800",
            "comments": {"data": [{"id": "k1", "from": {"id": "u"}, "message": "c \udbff"}]},
        },
        page_id=PAGE_ID,
    )
    assert post.message == "post \ufffd" and post.comments[0].text == "c \ufffd"
    assert parse_page({"id": "1", "name": "Pa\udfffge"}).name == "Pa\ufffdge"


def test_graph_error_message_with_lone_surrogate_is_scrubbed() -> None:
    """A Graph error message holding a lone surrogate is stored/printed as U+FFFD."""
    from socialdesk.api.errors import classify

    err = classify(400, {"error": {"message": "bad \ud800", "code": 100}})
    err.message.encode("utf-8")
    assert "\ufffd" in err.message
