"""Graph JSON → domain models (``socialdesk.models``).

The API omits fields that have no data (GRAPH_API.md §1), so every optional field is read
defensively and absorbed when missing or of the wrong type. A missing id is the one thing that
cannot be absorbed: it raises :class:`MalformedResponse`. Attachments are never dropped: shapes
this module does not know become ``Attachment(kind="unknown")``. Every string taken from the JSON
goes through :func:`text` or :func:`_str`, which replace lone surrogates with U+FFFD. Called by
``api/graph.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from socialdesk.api.errors import MalformedResponse
from socialdesk.api.paging import next_link
from socialdesk.api.surrogates import scrub
from socialdesk.models import (
    Attachment,
    Conversation,
    Direction,
    Message,
    Page,
    Person,
    Post,
    SendResult,
    TokenInfo,
    utc,
)

_HINT = "try again; if it persists, report it with the command you ran"


def _malformed(what: str) -> MalformedResponse:
    return MalformedResponse(f"the Graph API returned {what}", _HINT)


def text(value: object) -> str:
    """``value`` if it is a string (lone surrogates made U+FFFD, see api/surrogates), else ""."""
    return scrub(value) if isinstance(value, str) else ""


def _str(value: object) -> str | None:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, Any]]:
    """The ``data`` list of a nested edge object (``{"data": [...]}``), or a bare list."""
    if isinstance(value, Mapping):
        value = value.get("data")
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def require_id(obj: Mapping[str, Any], what: str) -> str:
    """``obj["id"]`` as a non-empty string, else :class:`MalformedResponse`."""
    value = _str(obj.get("id"))
    if not value:
        raise _malformed(f"a {what} without an id")
    return value


def parse_time(value: object) -> datetime | None:
    """A Graph timestamp (``2026-11-22T09:50:48+0000``, ISO 8601 or Unix seconds) in UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return utc(value)
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, fmt).astimezone(UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required_time(value: object, fallback: datetime | None, what: str) -> datetime:
    parsed = parse_time(value)
    if parsed is not None:
        return parsed
    if fallback is not None:
        return fallback
    raise _malformed(f"a {what} without a readable time")


def parse_person(obj: object) -> Person:
    """``{id, name}`` (Messenger) or ``{id, username}`` (Instagram); absent → empty person."""
    data = _mapping(obj)
    name = _str(data.get("name")) or _str(data.get("username")) or ""
    return Person(id=_str(data.get("id")) or "", name=name)


def _kind_from_mime(mime: str | None) -> str:
    major = (mime or "").split("/", 1)[0].lower()
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "file")


def parse_message_attachment(obj: Mapping[str, Any]) -> Attachment:
    """One item of a message's ``attachments.data``; unknown shapes become kind ``unknown``."""
    mime = _str(obj.get("mime_type"))
    name = _str(obj.get("name")) or None
    image = obj.get("image_data")
    if isinstance(image, Mapping):
        url = _str(image.get("url")) or _str(image.get("preview_url"))
        kind = "sticker" if image.get("render_as_sticker") is True else "image"
        return Attachment(kind, url=url, name=name, mime_type=mime)
    video = obj.get("video_data")
    if isinstance(video, Mapping):
        url = _str(video.get("url")) or _str(video.get("preview_url"))
        return Attachment("video", url=url, name=name, mime_type=mime)
    file_url = _str(obj.get("file_url"))
    if file_url:
        return Attachment(_kind_from_mime(mime), url=file_url, name=name, mime_type=mime)
    template = obj.get("generic_template")
    if isinstance(template, Mapping):
        url = _str(template.get("media_url")) or _str(template.get("cta"))
        title = _str(template.get("title")) or name
        return Attachment("share", url=url, name=title, mime_type=mime)
    # Webhook-style {"type": "image", "payload": {"url": ...}} as some fakes and old captures use.
    payload = _mapping(obj.get("payload"))
    typ = _str(obj.get("type"))
    if typ in {"image", "video", "audio", "file"}:
        return Attachment(typ, url=_str(payload.get("url")), name=name, mime_type=mime)
    if mime:
        return Attachment(_kind_from_mime(mime), url=None, name=name, mime_type=mime)
    return Attachment("unknown", url=None, name=name, mime_type=mime)


def _message_attachments(obj: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found = [parse_message_attachment(item) for item in _items(obj.get("attachments"))]
    sticker = obj.get("sticker")
    if isinstance(sticker, str) and sticker:
        found.append(Attachment("sticker", url=text(sticker)))
    elif isinstance(sticker, Mapping):
        found.append(Attachment("sticker", url=_str(sticker.get("url"))))
    for share in _items(obj.get("shares")):
        url = _str(share.get("link")) or _str(share.get("picture"))
        found.append(Attachment("share", url=url, name=_str(share.get("name")) or None))
    if obj.get("is_unsupported") is True:
        found.append(Attachment("unsupported"))
    return tuple(found)


def parse_message(
    obj: Mapping[str, Any],
    *,
    page_id: str,
    thread_id: str,
    fallback_time: datetime | None = None,
) -> Message:
    """A Messenger message; ``out`` when ``from.id`` is the page."""
    author = parse_person(obj.get("from"))
    return Message(
        id=require_id(obj, "message"),
        thread_id=thread_id,
        direction=Direction.OUT if author.id == page_id else Direction.IN,
        author=author,
        text=text(obj.get("message")),
        created_at=_required_time(obj.get("created_time"), fallback_time, "message"),
        attachments=_message_attachments(obj),
    )


def _customer(participants: object, page_id: str) -> Person:
    people = [parse_person(p) for p in _items(participants)]
    for person in people:
        if person.id and person.id != page_id:
            return person
    return Person(id="", name="")


def parse_conversation(obj: Mapping[str, Any], *, page_id: str) -> Conversation:
    """One item of ``/{page}/conversations`` with its nested ``messages`` (newest first)."""
    conv_id = require_id(obj, "conversation")
    messages_obj = _mapping(obj.get("messages"))
    updated = parse_time(obj.get("updated_time"))
    messages = tuple(
        parse_message(m, page_id=page_id, thread_id=conv_id, fallback_time=updated)
        for m in _items(messages_obj)
    )
    if updated is None:
        if not messages:
            raise _malformed("a conversation without updated_time or messages")
        updated = max(m.created_at for m in messages)
    count = obj.get("message_count")
    return Conversation(
        id=conv_id,
        page_id=page_id,
        updated_at=updated,
        customer=_customer(obj.get("participants"), page_id),
        messages=messages,
        messages_next=next_link(messages_obj),
        message_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        snippet=_str(obj.get("snippet")),
    )


_COMMENT_KINDS = {
    "photo": "image",
    "image": "image",
    "animated_image_share": "image",
    "animated_image_autoplay": "image",
    "video": "video",
    "video_inline": "video",
    "video_autoplay": "video",
    "animated_image_video": "video",
    "sticker": "sticker",
    "share": "share",
    "link": "share",
    "native_templates": "share",
    "file": "file",
    "audio": "audio",
}


def parse_comment_attachment(obj: Mapping[str, Any]) -> Attachment:
    """A comment's single ``attachment`` object ``{type, url, media{image{src}}, target{url}}``."""
    typ = _str(obj.get("type")) or ""
    media = _mapping(_mapping(obj.get("media")).get("image"))
    url = (
        _str(obj.get("url"))
        or _str(media.get("src"))
        or _str(_mapping(obj.get("target")).get("url"))
    )
    name = _str(obj.get("title")) or _str(obj.get("description")) or None
    return Attachment(_COMMENT_KINDS.get(typ, "unknown"), url=url, name=name or (typ or None))


def parse_comment(
    obj: Mapping[str, Any],
    *,
    page_id: str,
    thread_id: str | None = None,
    fallback_time: datetime | None = None,
) -> Message:
    """A Page comment or reply. Its thread is ``parent.id`` when it has a parent, else itself."""
    comment_id = require_id(obj, "comment")
    parent_id = _str(_mapping(obj.get("parent")).get("id")) or None
    author = parse_person(obj.get("from"))
    attachment = obj.get("attachment")
    attachments: tuple[Attachment, ...] = ()
    if isinstance(attachment, Mapping):
        attachments = (parse_comment_attachment(attachment),)
    return Message(
        id=comment_id,
        thread_id=thread_id or parent_id or comment_id,
        direction=Direction.OUT if author.id == page_id else Direction.IN,
        author=author,
        text=text(obj.get("message")),
        created_at=_required_time(obj.get("created_time"), fallback_time, "comment"),
        attachments=attachments,
        parent_id=parent_id,
        is_hidden=obj.get("is_hidden") is True,
    )


def parse_post(obj: Mapping[str, Any], *, page_id: str) -> Post:
    """One item of ``/{page}/feed`` with its nested ``comments`` (stream, newest first)."""
    post_id = require_id(obj, "post")
    updated = parse_time(obj.get("updated_time"))
    created = _required_time(obj.get("created_time"), updated, "post")
    comments_obj = _mapping(obj.get("comments"))
    comments = tuple(
        parse_comment(c, page_id=page_id, fallback_time=created) for c in _items(comments_obj)
    )
    return Post(
        id=post_id,
        page_id=page_id,
        created_at=created,
        message=text(obj.get("message")),
        permalink=_str(obj.get("permalink_url")) or None,
        updated_at=updated,
        comments=comments,
        comments_next=next_link(comments_obj),
    )


def parse_page(obj: Mapping[str, Any]) -> Page:
    """``GET /me`` with a page token, or one item of ``/me/accounts``."""
    return Page(id=require_id(obj, "page"), name=_str(obj.get("name")) or "")


def parse_token_info(obj: Mapping[str, Any]) -> TokenInfo:
    """The ``data`` object of ``/debug_token``; ``expires_at: 0`` means never."""
    expires = obj.get("expires_at")
    expires_at = None
    if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0:
        expires_at = utc(expires)
    scopes = obj.get("scopes")
    return TokenInfo(
        is_valid=obj.get("is_valid") is True,
        type=_str(obj.get("type")) or "",
        app_id=_str(obj.get("app_id")) or None,
        profile_id=_str(obj.get("profile_id")) or None,
        scopes=tuple(text(s) for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else (),
        expires_at=expires_at,
    )


def parse_send_result(obj: Mapping[str, Any]) -> SendResult:
    """A Send API answer ``{recipient_id, message_id}`` or a create answer ``{id}``."""
    message_id = _str(obj.get("message_id")) or _str(obj.get("id"))
    if not message_id:
        raise _malformed("a send answer without a message id")
    return SendResult(message_id=message_id, recipient_id=_str(obj.get("recipient_id")) or None)
