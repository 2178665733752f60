"""Small builders of domain objects and databases for the store tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from socialdesk.models import Attachment, Conversation, Direction, Message, Person, Post
from socialdesk.store.db import open_db, transaction

PAGE = "100"
PAGE2 = "200"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SHOP = Person(PAGE, "The Shop")


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def db() -> sqlite3.Connection:
    """A fresh migrated in-memory database."""
    return open_db(":memory:")


def msg(
    mid: str,
    minutes: float,
    direction: str = "in",
    text: str = "",
    *,
    thread: str = "",
    author: Person | None = None,
    attachments: Sequence[Attachment] = (),
    parent: str | None = None,
    hidden: bool = False,
) -> Message:
    """A message (or comment) ``minutes`` after T0; ``out`` messages are from the page."""
    d = Direction(direction)
    who = author or (SHOP if d is Direction.OUT else Person("u1", "Ann Lee"))
    return Message(
        id=mid,
        thread_id=thread or (parent or mid),
        direction=d,
        author=who,
        text=text,
        created_at=at(minutes),
        attachments=tuple(attachments),
        parent_id=parent,
        is_hidden=hidden,
    )


def conv(
    cid: str,
    messages: Sequence[Message],
    *,
    customer: Person | None = None,
    page_id: str = PAGE,
) -> Conversation:
    """A conversation holding ``messages`` (given in any order; stored newest first)."""
    ordered = tuple(sorted(messages, key=lambda m: m.created_at, reverse=True))
    return Conversation(
        id=cid,
        page_id=page_id,
        updated_at=ordered[0].created_at if ordered else T0,
        customer=customer or Person("u1", "Ann Lee"),
        messages=ordered,
    )


def post(pid: str, text: str, comments: Sequence[Message], *, minutes: float = 0) -> Post:
    """A post with its comments (newest first, as the feed returns them)."""
    return Post(
        id=pid,
        page_id=PAGE,
        created_at=at(minutes),
        message=text,
        comments=tuple(sorted(comments, key=lambda m: m.created_at, reverse=True)),
    )


def load(conn: sqlite3.Connection, convs: Sequence[Conversation], page_id: str = PAGE) -> None:
    """Upsert conversations in one transaction, as core.sync does."""
    from socialdesk.store.cache import upsert_conversations

    with transaction(conn):
        upsert_conversations(conn, page_id, convs, now=at(10_000))


def private_row(
    conn: sqlite3.Connection,
    thread_id: str,
    comment_id: str,
    *,
    now: datetime,
    page_id: str = "p1",
    refused_by: str | None = None,
) -> int:
    """Queue a private reply to ``comment_id`` of ``thread_id``; with ``refused_by`` (Graph's
    message) it ends ``failed`` and refused, as a 10900/10903 leaves it. Returns the row id."""
    from socialdesk.models import SendKind
    from socialdesk.store import outbox

    oid = outbox.enqueue(
        conn,
        page_id=page_id,
        thread_id=thread_id,
        kind=SendKind.COMMENT_PRIVATE,
        text="x",
        now=now,
        comment_id=comment_id,
    )
    if refused_by is not None:
        outbox.mark_sending(conn, oid, now=now)
        outbox.mark_failed(conn, oid, refused_by, now=now, refused=True)
    return oid
