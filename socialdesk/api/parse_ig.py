"""Instagram Graph JSON → domain models (docs/INSTAGRAM_API.md §2-§5).

The Instagram shapes differ from Messenger's in ways a shared parser would hide: people carry
``username`` and an IG-scoped id (never a ``name``), the business is the IG user id (not the
Page id), comments have ``text``/``timestamp``/``hidden``/``parent_id`` instead of
``message``/``created_time``/``is_hidden``/``parent``, and ``from`` is optional on comments (it
did not exist before 2021: fall back to ``username`` and ``user``). The same bad-item rules as
``api/parse.py`` apply (missing ids, unreadable times, wrong types raise :class:`MalformedItem`;
with a ``problems`` list, nested items are skipped and reported). One Instagram-only rule: a
nested message that comes back as ``{"id"}`` alone lies beyond the 20-message horizon (no
details exist): it is left out, not reported as bad. Called by ``api/graph.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from socialdesk.api.errors import MalformedItem
from socialdesk.api.paging import next_link
from socialdesk.api.parse import (
    _bad,
    _count,
    _mapping,
    _message_attachments,
    _required_time,
    _str,
    _time_field,
    edge_items,
    not_an_object,
    problem,
    require_id,
    text_field,
)
from socialdesk.models import (
    Attachment,
    Channel,
    Conversation,
    Direction,
    InstagramAccount,
    ItemProblem,
    Message,
    Person,
    Post,
)

__all__ = [
    "parse_ig_account",
    "parse_ig_comment",
    "parse_ig_comments",
    "parse_ig_conversation",
    "parse_ig_media",
    "parse_ig_messages",
    "parse_ig_person",
]


def parse_ig_person(obj: object, what: str) -> Person:
    """``{id, username}`` (a participant, a message's ``from``, a comment's ``from``).

    ``name`` is the label lists show: the person's name when given (the profile API), else
    ``@username``; :attr:`Person.real_name` tells the two apart.
    """
    if obj is None:
        return Person(id="", name="")
    if not isinstance(obj, Mapping):
        raise _bad(what, "from", obj)
    for key in ("id", "name", "username"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(what, f"from.{key}", value)
    username = text_field(obj, "username", what).lstrip("@")
    name = text_field(obj, "name", what)
    return Person(
        id=text_field(obj, "id", what),
        name=name or (f"@{username}" if username else ""),
        username=username,
    )


def _story(obj: Mapping[str, Any]) -> tuple[Attachment, ...]:
    story = obj.get("story")
    if not isinstance(story, Mapping):
        return ()
    out: list[Attachment] = []
    for key, label in (("mention", "story mention"), ("reply_to", "story reply")):
        part = story.get(key)
        if isinstance(part, Mapping):
            out.append(Attachment("story", url=_str(part.get("link")) or None, name=label))
    return tuple(out)


def _detailless(obj: Mapping[str, Any]) -> bool:
    """A message beyond the 20-message horizon: only its id came back."""
    return set(obj) <= {"id"}


def parse_ig_message(
    obj: Mapping[str, Any],
    *,
    ig_user_id: str,
    thread_id: str,
    fallback_time: datetime | None = None,
) -> Message:
    """One Instagram DM; ``out`` when ``from.id`` is the business's IG user id."""
    message_id = require_id(obj, "message")
    author = parse_ig_person(obj.get("from"), "a message")
    return Message(
        id=message_id,
        thread_id=thread_id,
        direction=Direction.OUT if author.id == ig_user_id else Direction.IN,
        author=author,
        text=text_field(obj, "message", "a message"),
        created_at=_required_time(obj.get("created_time"), fallback_time, "message"),
        attachments=(*_message_attachments(obj), *_story(obj)),
    )


def parse_ig_messages(
    raw_items: list[object],
    *,
    ig_user_id: str,
    thread_id: str,
    fallback_time: datetime | None,
    problems: list[ItemProblem] | None,
    edge: str = "ig_messages",
    page: int = 1,
) -> list[Message]:
    """Messages of one Instagram thread; bad ones skipped into ``problems`` (raised without)."""
    out: list[Message] = []
    for index, item in enumerate(raw_items):
        if not isinstance(item, Mapping):
            if problems is not None:
                problems.append(not_an_object(edge, page, index, item, thread_id))
            continue
        if _detailless(item) and item.get("id"):
            continue
        try:
            out.append(
                parse_ig_message(
                    item, ig_user_id=ig_user_id, thread_id=thread_id, fallback_time=fallback_time
                )
            )
        except MalformedItem as exc:
            if problems is None:
                raise
            problems.append(problem(edge, page, index, exc, thread_id))
    return out


def parse_ig_conversation(
    obj: Mapping[str, Any],
    *,
    page_id: str,
    ig_user_id: str,
    problems: list[ItemProblem] | None = None,
) -> Conversation:
    """One item of ``/{page}/conversations?platform=instagram`` with its nested messages.

    The customer is the participant that is not the business (the order is not documented).
    """
    conv_id = require_id(obj, "conversation")
    updated = _time_field(obj, "updated_time", "a conversation")
    raw_messages = edge_items(obj, "messages", "a conversation")
    messages = tuple(
        parse_ig_messages(
            raw_messages,
            ig_user_id=ig_user_id,
            thread_id=conv_id,
            fallback_time=updated,
            problems=problems,
            edge="ig_messages",
        )
    )
    if updated is None:
        if not messages:
            raise _bad("a conversation", "updated_time", obj.get("updated_time"))
        updated = max(m.created_at for m in messages)
    customer = Person(id="", name="")
    for raw in edge_items(obj, "participants", "a conversation"):
        if not isinstance(raw, Mapping):
            continue
        person = parse_ig_person(raw, "a conversation")
        if person.id and person.id not in (ig_user_id, page_id):
            customer = person
            break
    return Conversation(
        id=conv_id,
        page_id=page_id,
        updated_at=updated,
        customer=customer,
        messages=messages,
        messages_next=next_link(_mapping(obj.get("messages"))),
        channel=Channel.IG_DM,
    )


def parse_ig_media(obj: Mapping[str, Any], *, page_id: str) -> Post:
    """One item of ``/{ig-user-id}/media``: a :class:`Post` of kind ``ig_media``.

    ``comment_total`` is Graph's ``comments_count`` (replies included), the only change signal.
    """
    media_id = require_id(obj, "media")
    created = _required_time(obj.get("timestamp"), None, "media")
    return Post(
        id=media_id,
        page_id=page_id,
        created_at=created,
        message=text_field(obj, "caption", "a media"),
        permalink=_str(obj.get("permalink")) or None,
        comment_total=_count(obj.get("comments_count")),
        kind="ig_media",
    )


def parse_ig_comment(
    obj: Mapping[str, Any],
    *,
    ig_user_id: str,
    ig_username: str,
    thread_id: str | None = None,
    fallback_time: datetime | None = None,
) -> Message:
    """An Instagram comment or reply. Its thread is ``parent_id`` when present, else itself.

    Direction: ``out`` when ``from.id`` is the business, or (no ``from``) ``user.id`` is, or the
    ``username`` is the business's.
    """
    comment_id = require_id(obj, "comment")
    author = parse_ig_person(obj.get("from"), "a comment")
    username = text_field(obj, "username", "a comment").lstrip("@")
    if not author.id and not author.username and username:
        author = Person(id="", name=f"@{username}", username=username)
    user = _mapping(obj.get("user"))
    user_id = _str(user.get("id")) or ""
    if not author.id and user_id:
        author = Person(id=user_id, name=author.name, username=author.username)
    out = author.id == ig_user_id or (
        not author.id and bool(ig_username) and author.username == ig_username
    )
    parent_id = text_field(obj, "parent_id", "a comment") or None
    return Message(
        id=comment_id,
        thread_id=thread_id or parent_id or comment_id,
        direction=Direction.OUT if out else Direction.IN,
        author=author,
        text=text_field(obj, "text", "a comment"),
        created_at=_required_time(obj.get("timestamp"), fallback_time, "comment"),
        parent_id=parent_id if parent_id != comment_id else None,
        is_hidden=obj.get("hidden") is True,
    )


def parse_ig_comments(
    raw_items: list[object],
    *,
    ig_user_id: str,
    ig_username: str,
    fallback_time: datetime | None,
    problems: list[ItemProblem] | None,
    parent: str,
    edge: str = "ig_comments",
    page: int = 1,
) -> tuple[list[Message], list[tuple[str, str]]]:
    """Top-level comments with their nested ``replies``; bad ones skipped into ``problems``.

    Returns the comments (replies included, each reply's thread = its top-level comment) and,
    for top-level comments whose nested replies have a ``next`` link, ``(comment id, link)``.
    """
    out: list[Message] = []
    more: list[tuple[str, str]] = []
    for index, item in enumerate(raw_items):
        if not isinstance(item, Mapping):
            if problems is not None:
                problems.append(not_an_object(edge, page, index, item, parent))
            continue
        try:
            top = parse_ig_comment(
                item, ig_user_id=ig_user_id, ig_username=ig_username, fallback_time=fallback_time
            )
            raw_replies = edge_items(item, "replies", "a comment")
        except MalformedItem as exc:
            if problems is None:
                raise
            problems.append(problem(edge, page, index, exc, parent))
            continue
        # A top-level comment is its own thread, whatever parent_id it claims.
        top = dataclasses.replace(top, thread_id=top.id, parent_id=None)
        out.append(top)
        out.extend(
            parse_ig_replies(
                raw_replies,
                ig_user_id=ig_user_id,
                ig_username=ig_username,
                comment_id=top.id,
                fallback_time=top.created_at,
                problems=problems,
            )
        )
        link = next_link(_mapping(item.get("replies")))
        if link:
            more.append((top.id, link))
    return out, more


def parse_ig_replies(
    raw_items: list[object],
    *,
    ig_user_id: str,
    ig_username: str,
    comment_id: str,
    fallback_time: datetime | None,
    problems: list[ItemProblem] | None,
    page: int = 1,
) -> list[Message]:
    """Replies of one top-level comment (nested or from ``/{comment}/replies``)."""
    out: list[Message] = []
    for index, item in enumerate(raw_items):
        if not isinstance(item, Mapping):
            if problems is not None:
                problems.append(not_an_object("ig_replies", page, index, item, comment_id))
            continue
        try:
            reply = parse_ig_comment(
                item,
                ig_user_id=ig_user_id,
                ig_username=ig_username,
                thread_id=comment_id,
                fallback_time=fallback_time,
            )
        except MalformedItem as exc:
            if problems is None:
                raise
            problems.append(problem("ig_replies", page, index, exc, comment_id))
            continue
        out.append(dataclasses.replace(reply, parent_id=comment_id))
    return out


def parse_ig_account(obj: Mapping[str, Any]) -> InstagramAccount | None:
    """The Page's linked account: ``instagram_business_account``, else
    ``connected_instagram_account`` (INSTAGRAM_API.md §2); ``None`` when neither is there."""
    business = _mapping(obj.get("instagram_business_account"))
    connected = _mapping(obj.get("connected_instagram_account"))
    b_id = _str(business.get("id")) or ""
    c_id = _str(connected.get("id")) or ""
    if b_id:
        return InstagramAccount(
            id=b_id,
            username=(_str(business.get("username")) or _str(connected.get("username")) or ""),
            name=_str(business.get("name")) or "",
            source="instagram_business_account",
            other_id=c_id if c_id and c_id != b_id else None,
        )
    if c_id:
        return InstagramAccount(
            id=c_id,
            username=_str(connected.get("username")) or "",
            source="connected_instagram_account",
        )
    return None
