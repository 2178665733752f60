"""Graph JSON → domain models (``socialdesk.models``).

The API omits fields that have no data (GRAPH_API.md §1), so every optional field is read
defensively and absorbed when missing or of the wrong type. A missing, null or empty id (or an
unreadable time with nothing to fall back on) cannot be absorbed: it raises
:class:`MalformedItem` naming the field and its raw value. Given a ``problems`` list, the parsers
of conversations and posts skip such *nested* items (a message, a comment) and append an
:class:`ItemProblem` instead, so one bad item never costs its siblings; ``api/graph.py`` does
the same for top-level items. One exception: a page of comments where *no* comment has an
``id`` key is what Graph answers when the token's user lacks the MODERATE task (v11+), which
raises :class:`ModerateTaskMissing` for the whole edge. Attachments are never dropped: shapes
this module does not know become ``Attachment(kind="unknown")``. Every string taken from the JSON
goes through :func:`text` or :func:`_str`, which replace lone surrogates with U+FFFD. Called by
``api/graph.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from socialdesk.api.errors import MalformedItem, MalformedResponse, ModerateTaskMissing
from socialdesk.api.paging import next_link
from socialdesk.api.surrogates import scrub
from socialdesk.models import (
    Attachment,
    Conversation,
    Direction,
    ItemProblem,
    Message,
    Page,
    Person,
    Post,
    SendResult,
    TokenInfo,
    utc,
)

_HINT = "try again; if it persists, report it with the command you ran"


RAW_MAX = 60
"""Characters of a bad field's raw value kept in a problem report."""


def _malformed(what: str) -> MalformedResponse:
    return MalformedResponse(f"the Graph API returned {what}", _HINT)


def raw_value(value: object) -> str:
    """``value`` as a short ASCII-only repr: safe on a terminal, in a log or in the database."""
    shown = ascii(value)
    if len(shown) > RAW_MAX:
        shown = shown[: RAW_MAX - 1] + "~"
    return shown


def _bad(what: str, field: str, value: object) -> MalformedItem:
    return MalformedItem(
        f"the Graph API returned {what} with an unreadable {field}",
        _HINT,
        field=field,
        raw=raw_value(value),
    )


def problem(
    edge: str, page: int, index: int, error: MalformedItem, parent: str | None = None
) -> ItemProblem:
    """The report of one skipped item."""
    return ItemProblem(
        edge=edge,
        page=page,
        index=index,
        field=error.field,
        raw=error.raw,
        problem=error.message.removeprefix("the Graph API returned "),
        parent=parent,
    )


def not_an_object(
    edge: str, page: int, index: int, value: object, parent: str | None = None
) -> ItemProblem:
    """The report of a ``data`` item that is not a JSON object."""
    return ItemProblem(
        edge=edge,
        page=page,
        index=index,
        field="item",
        raw=raw_value(value),
        problem=f"a {type(value).__name__} where an object belongs",
        parent=parent,
    )


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


def _raw_items(value: object) -> list[object]:
    """The raw ``data`` list of a nested edge object (``{"data": [...]}``), or a bare list."""
    if isinstance(value, Mapping):
        value = value.get("data")
    return list(value) if isinstance(value, list) else []


def _items(value: object) -> list[Mapping[str, Any]]:
    """The ``data`` list of a nested edge object, objects only."""
    return [item for item in _raw_items(value) if isinstance(item, Mapping)]


MAX_TEXT = 100_000
"""Characters a text field may hold (a Page post's limit is 63,206): more is nonsense."""


def edge_items(obj: Mapping[str, Any], key: str, what: str) -> list[object]:
    """The raw items of the nested edge ``obj[key]``; a wrong shape is :class:`MalformedItem`.

    Absent or null means none (Graph omits empty edges). An edge object whose ``data`` is not
    a list (an object keyed "0", "1"…) cannot be read without guessing: the whole item is bad,
    so nothing half-read is stored as if complete.
    """
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    if isinstance(value, Mapping):
        data = value.get("data")
        if data is None:
            return []
        if isinstance(data, list):
            return list(data)
    raise _bad(what, key, value)


def text_field(obj: Mapping[str, Any], key: str, what: str) -> str:
    """A text field: absent or null is ``""``; a non-string or an absurd length is bad."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _bad(what, key, value)
    return scrub(value)


def _time_field(obj: Mapping[str, Any], key: str, what: str) -> datetime | None:
    """A time field: absent or null is ``None``; present but unreadable is bad."""
    value = obj.get(key)
    if value is None:
        return None
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        raise _bad(what, key, value)
    return parsed


def require_id(obj: Mapping[str, Any], what: str) -> str:
    """``obj["id"]`` as a non-empty string, else :class:`MalformedItem` (Graph ids are strings)."""
    raw = obj.get("id")
    value = scrub(raw) if isinstance(raw, str) else None
    if not value or not value.strip():
        if raw is None:
            raise MalformedItem(
                f"the Graph API returned a {what} without an id", _HINT, field="id", raw="None"
            )
        raise _bad(f"a {what}", "id", raw)
    return value


_GRAPH_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}[0-5][0-9]"
)
"""Graph's own shape, which every timestamp it sends has: read by ``fromisoformat``."""


def parse_time(value: object) -> datetime | None:
    """A Graph timestamp (``2026-11-22T09:50:48+0000``, ISO 8601 or Unix seconds) in UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return utc(value)
    if not isinstance(value, str) or not value:
        return None
    if _GRAPH_TIME.fullmatch(value):
        # The same instant strptime's first format reads, ~50x cheaper (a sync parses every
        # message's time); a value it refuses (month 13, hour 24…) takes the general path.
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            pass
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
    """``created_time``: unreadable is bad; absent falls back (when a fallback is known)."""
    if value is not None:
        parsed = parse_time(value) if isinstance(value, str) else None
        if parsed is None:
            raise _bad(f"a {what}", "created_time", value)
        return parsed
    if fallback is not None:
        return fallback
    raise _bad(f"a {what}", "created_time", value)


def parse_person(obj: object, what: str = "an item") -> Person:
    """``{id, name}`` (Messenger) or ``{id, username}`` (Instagram); absent → empty person.

    A ``from`` that is not an object, or whose id or name is not a string, is bad.
    """
    if obj is None:
        return Person(id="", name="")
    if not isinstance(obj, Mapping):
        raise _bad(what, "from", obj)
    for key in ("id", "name", "username"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(what, f"from.{key}", value)
    name = text_field(obj, "name", what) or text_field(obj, "username", what)
    return Person(id=text_field(obj, "id", what), name=name)


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
    raw = edge_items(obj, "attachments", "a message")
    found = [parse_message_attachment(item) for item in raw if isinstance(item, Mapping)]
    sticker = obj.get("sticker")
    if isinstance(sticker, str) and sticker:
        found.append(Attachment("sticker", url=text(sticker)))
    elif isinstance(sticker, Mapping):
        found.append(Attachment("sticker", url=_str(sticker.get("url"))))
    for share in (s for s in edge_items(obj, "shares", "a message") if isinstance(s, Mapping)):
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
    message_id = require_id(obj, "message")
    author = parse_person(obj.get("from"), "a message")
    return Message(
        id=message_id,
        thread_id=thread_id,
        direction=Direction.OUT if author.id == page_id else Direction.IN,
        author=author,
        text=text_field(obj, "message", "a message"),
        created_at=_required_time(obj.get("created_time"), fallback_time, "message"),
        attachments=_message_attachments(obj),
    )


def _customer(obj: Mapping[str, Any], page_id: str) -> Person:
    raw = edge_items(obj, "participants", "a conversation")
    people = [parse_person(p, "a conversation") for p in raw if isinstance(p, Mapping)]
    for person in people:
        if person.id and person.id != page_id:
            return person
    return Person(id="", name="")


def parse_messages(
    raw_items: list[object],
    *,
    page_id: str,
    thread_id: str,
    fallback_time: datetime | None,
    problems: list[ItemProblem] | None,
    edge: str = "messages",
    page: int = 1,
) -> list[Message]:
    """Messages of one conversation; bad ones skipped into ``problems`` (raised without it)."""
    out: list[Message] = []
    for index, item in enumerate(raw_items):
        if not isinstance(item, Mapping):
            if problems is None:
                continue
            problems.append(not_an_object(edge, page, index, item, thread_id))
            continue
        try:
            out.append(
                parse_message(
                    item, page_id=page_id, thread_id=thread_id, fallback_time=fallback_time
                )
            )
        except MalformedItem as exc:
            if problems is None:
                raise
            problems.append(problem(edge, page, index, exc, thread_id))
    return out


def parse_conversation(
    obj: Mapping[str, Any], *, page_id: str, problems: list[ItemProblem] | None = None
) -> Conversation:
    """One item of ``/{page}/conversations`` with its nested ``messages`` (newest first).

    With ``problems``, an unreadable nested message is skipped and reported there.
    """
    conv_id = require_id(obj, "conversation")
    messages_obj = _mapping(obj.get("messages"))
    updated = _time_field(obj, "updated_time", "a conversation")
    raw_messages = edge_items(obj, "messages", "a conversation")
    messages = tuple(
        parse_messages(
            raw_messages,
            page_id=page_id,
            thread_id=conv_id,
            fallback_time=updated,
            problems=problems,
        )
    )
    if updated is None:
        if not messages:
            raise _bad("a conversation", "updated_time", obj.get("updated_time"))
        updated = max(m.created_at for m in messages)
    count = obj.get("message_count")
    return Conversation(
        id=conv_id,
        page_id=page_id,
        updated_at=updated,
        customer=_customer(obj, page_id),
        messages=messages,
        messages_next=next_link(messages_obj),
        message_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        snippet=text_field(obj, "snippet", "a conversation") or None,
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
    parent = obj.get("parent")
    if parent is not None and not isinstance(parent, Mapping):
        raise _bad("a comment", "parent", parent)
    parent_id = (text_field(parent, "id", "a comment") if parent is not None else "") or None
    author = parse_person(obj.get("from"), "a comment")
    attachment = obj.get("attachment")
    attachments: tuple[Attachment, ...] = ()
    if isinstance(attachment, Mapping):
        attachments = (parse_comment_attachment(attachment),)
    can_reply = obj.get("can_reply_privately")
    conversation = obj.get("private_reply_conversation")
    if isinstance(conversation, Mapping):
        conversation = conversation.get("id")
    return Message(
        id=comment_id,
        thread_id=thread_id or parent_id or comment_id,
        direction=Direction.OUT if author.id == page_id else Direction.IN,
        author=author,
        text=text_field(obj, "message", "a comment"),
        created_at=_required_time(obj.get("created_time"), fallback_time, "comment"),
        attachments=attachments,
        parent_id=parent_id,
        is_hidden=obj.get("is_hidden") is True,
        can_reply_privately=can_reply if isinstance(can_reply, bool) else None,
        private_reply_conversation=_str(conversation) or None,
    )


MODERATE_HINT = (
    "give the token's user the MODERATE task on the Page (Page settings > Page roles /"
    " access: full control or moderate), then run `socialdesk auth login` again"
)


def check_comment_ids(raw_items: list[object], where: str) -> None:
    """:class:`ModerateTaskMissing` when comments came but none has an ``id`` key at all.

    Graph leaves ``id`` out of every comment for a token whose user lacks the MODERATE task
    (Comments reference, v11+). A comment whose ``id`` is present but null is a bad item.
    """
    objects = [item for item in raw_items if isinstance(item, Mapping)]
    if objects and not any("id" in item for item in objects):
        raise ModerateTaskMissing(
            f"the Graph API returned the comments of {where} without ids: the token's user"
            " lacks the MODERATE task on the Page",
            MODERATE_HINT,
            reason="moderate_task_missing",
        )


def parse_comments(
    raw_items: list[object],
    *,
    page_id: str,
    fallback_time: datetime | None,
    problems: list[ItemProblem] | None,
    parent: str,
    edge: str = "comments",
    page: int = 1,
    thread_id: str | None = None,
) -> list[Message]:
    """Comments of one post; bad ones skipped into ``problems`` (raised without it)."""
    check_comment_ids(raw_items, parent)
    out: list[Message] = []
    for index, item in enumerate(raw_items):
        if not isinstance(item, Mapping):
            if problems is not None:
                problems.append(not_an_object(edge, page, index, item, parent))
            continue
        try:
            out.append(
                parse_comment(
                    item, page_id=page_id, thread_id=thread_id, fallback_time=fallback_time
                )
            )
        except MalformedItem as exc:
            if problems is None:
                raise
            problems.append(problem(edge, page, index, exc, parent))
    return out


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_post(
    obj: Mapping[str, Any],
    *,
    page_id: str,
    problems: list[ItemProblem] | None = None,
    kind: str = "post",
) -> Post:
    """One item of ``/{page}/feed`` (or ``/video_reels``) with its nested ``comments``.

    A Reel's text is its ``description``. With ``problems``, an unreadable nested comment is
    skipped and reported there.
    """
    what = "a reel" if kind == "reel" else "a post"
    post_id = require_id(obj, "reel" if kind == "reel" else "post")
    updated = _time_field(obj, "updated_time", what)
    created = _required_time(obj.get("created_time"), updated, kind)
    comments_obj = _mapping(obj.get("comments"))
    raw_comments = edge_items(obj, "comments", what)
    comments = tuple(
        parse_comments(
            raw_comments,
            page_id=page_id,
            fallback_time=created,
            problems=problems,
            parent=post_id,
        )
    )
    body = text_field(obj, "description" if kind == "reel" else "message", what)
    return Post(
        id=post_id,
        page_id=page_id,
        created_at=created,
        message=body,
        permalink=_str(obj.get("permalink_url")) or None,
        updated_at=updated,
        comments=comments,
        comments_next=next_link(comments_obj),
        comment_total=_count(_mapping(comments_obj.get("summary")).get("total_count")),
        kind=kind,
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
