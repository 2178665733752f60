"""Typed Graph API endpoints: the calls socialdesk makes, returning domain models.

Field strings follow GRAPH_API.md: conversations with their newest messages nested
(``messages.limit(25)``), the feed and the Page's Reels with their comments nested
(``comments.filter(stream).order(reverse_chronological).limit(25).summary(true)``), so one HTTP
page brings up to 100 threads. ``/feed`` never lists Reels (PagePost reference: "This endpoint
does not return Reels"), so they come from ``/{page-id}/video_reels``. Page sizes shrink to what
the client remembers after a halving; ``next`` links are resized with ``paging.with_limit``.

Iterators yield one :class:`Batch` per HTTP page (a list, plus the items that could not be
read), so core can commit a page with its watermark and report what it skipped: one bad item
never costs the good ones around it. Every walk has a page bound (from the item count Graph
gives, else a default). Called by core (sync, outbox, doctor).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from socialdesk.api.client import GraphClient
from socialdesk.api.errors import InvalidRequest, MalformedItem, MalformedResponse
from socialdesk.api.paging import (
    DEFAULT_MAX_PAGES,
    iter_pages,
    iter_raw_from_link,
    iter_raw_pages,
    with_limit,
)
from socialdesk.api.parse import (
    check_comment_ids,
    not_an_object,
    parse_comment,
    parse_comments,
    parse_conversation,
    parse_messages,
    parse_page,
    parse_post,
    parse_send_result,
    parse_token_info,
    problem,
)
from socialdesk.models import (
    Conversation,
    ItemProblem,
    Message,
    Page,
    Post,
    SendResult,
    TokenInfo,
)

T = TypeVar("T")

SHARE_FIELDS = "shares{link,name,description,picture}"
"""Share sub-fields must be asked for: without them a share may come back as ``{id}`` only."""
MESSAGE_FIELDS = (
    f"id,created_time,from,to,message,attachments,sticker,{SHARE_FIELDS},tags,is_unsupported"
)
COMMENT_FIELDS = (
    "id,message,from,created_time,parent{id},attachment,is_hidden,"
    "can_reply_privately,private_reply_conversation{id}"
)
POST_FIELDS = "id,message,created_time,updated_time,permalink_url"
REEL_FIELDS = "id,description,created_time,updated_time,permalink_url"

EDGE_CONVERSATIONS = "conversations"
EDGE_MESSAGES = "messages"
EDGE_FEED = "feed"
EDGE_REELS = "reels"
EDGE_COMMENTS = "comments"

FOLLOW_PAGE_SIZE = 100
"""Page size when following a long thread's (or busy post's) older items."""
CONVERSATION_MAX_PAGES = 2000
"""200 000 conversations at 100 a page: any longer walk is a server loop."""
FEED_MAX_PAGES = 100
"""The feed lists about 600 ranked posts a year; 10 000 posts is far past any real Page."""
SLACK_PAGES = 3
"""Pages allowed past what an item count predicts (items arriving during the walk)."""
ALLOWED_TAGS = frozenset({"HUMAN_AGENT"})
"""The only message tag left: CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE and ACCOUNT_UPDATE
answer error 100 since 2026-04-27 (GRAPH_API.md §4.3)."""


class Batch(list[T]):
    """The items of one HTTP page, plus those that could not be read (``problems``)."""

    def __init__(self, items: list[T], problems: list[ItemProblem] | None = None) -> None:
        super().__init__(items)
        self.problems: list[ItemProblem] = problems or []


def conversation_fields(message_limit: int = 25) -> str:
    """The ``fields`` of a conversations call with ``message_limit`` nested messages."""
    return (
        "id,updated_time,message_count,snippet,participants,"
        f"messages.limit({message_limit}){{{MESSAGE_FIELDS}}}"
    )


def _comments_field(comment_limit: int) -> str:
    return (
        f"comments.filter(stream).order(reverse_chronological)"
        f".limit({comment_limit}).summary(true){{{COMMENT_FIELDS}}}"
    )


def feed_fields(comment_limit: int = 25) -> str:
    """The ``fields`` of a feed call with ``comment_limit`` nested comments (all, newest first)."""
    return f"{POST_FIELDS},{_comments_field(comment_limit)}"


def reel_fields(comment_limit: int = 25) -> str:
    """The ``fields`` of a ``video_reels`` call with ``comment_limit`` nested comments."""
    return f"{REEL_FIELDS},{_comments_field(comment_limit)}"


CONVERSATION_FIELDS = conversation_fields()
FEED_FIELDS = feed_fields()
REEL_FIELDS_NESTED = reel_fields()


def _size(client: GraphClient, edge: str, requested: int) -> int:
    return client.page_size_for(edge, requested)


def _bound(count: int | None, size: int, default: int) -> int:
    """Pages a walk of ``count`` items may take at ``size`` a page (plus slack)."""
    if count is None:
        return default
    return max(1, math.ceil(count / max(1, size))) + SLACK_PAGES


def _batches(
    pages: Iterator[list[object]],
    edge: str,
    read: Callable[[dict[str, Any], list[ItemProblem]], T],
    parent: str | None = None,
) -> Iterator[Batch[T]]:
    """Each raw page as a Batch: unreadable items skipped and reported, never raised."""
    for number, raw in enumerate(pages, start=1):
        items: list[T] = []
        problems: list[ItemProblem] = []
        for index, obj in enumerate(raw):
            if not isinstance(obj, dict):
                problems.append(not_an_object(edge, number, index, obj, parent))
                continue
            try:
                items.append(read(obj, problems))
            except MalformedItem as exc:
                problems.append(problem(edge, number, index, exc, parent))
        yield Batch(items, problems)


def get_me(client: GraphClient) -> Page:
    """The Page a page token belongs to (``GET /me``)."""
    return parse_page(client.get("/me", {"fields": "id,name"}))


def debug_token(client: GraphClient, token: str) -> TokenInfo:
    """What ``/debug_token`` says about ``token``.

    Note: Graph reads the inspected token from the ``input_token`` parameter. It is sent in a
    POST body with Graph's ``method=GET`` override, so the token never appears in a URL (the
    redactor masks the parameter and the token in every log and error anyway).
    """
    response = client.post("/debug_token", {"input_token": token, "method": "GET"}, retry=True)
    data = response.get("data")
    if not isinstance(data, dict):
        raise MalformedResponse("the Graph API returned a debug_token answer without data")
    return parse_token_info(data)


def list_accounts(client: GraphClient) -> list[Page]:
    """The Pages a user token manages (``/me/accounts``); ``[]`` for a page token.

    Only ``id`` and ``name`` are requested: the per-page tokens are never fetched here.
    """
    pages: list[Page] = []
    try:
        for items in iter_pages(client, "/me/accounts", {"fields": "id,name", "limit": "100"}):
            pages.extend(parse_page(item) for item in items)
    except InvalidRequest as exc:
        # A page token's /me is a Page node, which has no accounts edge: (#100) nonexisting field.
        if exc.code == 100:
            return []
        raise
    return pages


def iter_conversations(
    client: GraphClient,
    page_id: str,
    *,
    page_size: int = 100,
    message_limit: int = 25,
    folder: str | None = None,
    max_pages: int = CONVERSATION_MAX_PAGES,
) -> Iterator[Batch[Conversation]]:
    """Messenger conversations, one batch per HTTP page, most recently updated first.

    ``folder`` (``inbox`` default, ``other``, ``spam``, ``page_done``) lists another folder.
    """
    params = {
        "fields": conversation_fields(message_limit),
        "platform": "messenger",
        "limit": str(_size(client, EDGE_CONVERSATIONS, page_size)),
    }
    if folder is not None:
        params["folder"] = folder
    pages = iter_raw_pages(
        client,
        f"/{page_id}/conversations",
        params,
        edge=EDGE_CONVERSATIONS,
        max_pages=max_pages,
    )
    yield from _batches(
        pages,
        EDGE_CONVERSATIONS,
        lambda obj, problems: parse_conversation(obj, page_id=page_id, problems=problems),
    )


def iter_more_messages(
    client: GraphClient, conv: Conversation, *, page_size: int = FOLLOW_PAGE_SIZE
) -> Iterator[Batch[Message]]:
    """The messages after the nested ones, following ``conv.messages_next`` (newest first).

    The link asks for ``page_size`` (or the remembered smaller size); the walk is bounded by
    ``message_count`` when Graph gave one.
    """
    if not conv.messages_next:
        return
    size = _size(client, EDGE_MESSAGES, page_size)
    link = with_limit(conv.messages_next, size)
    bound = _bound(conv.message_count, size, DEFAULT_MAX_PAGES)
    for number, raw in enumerate(
        iter_raw_from_link(client, link, edge=EDGE_MESSAGES, max_pages=bound), start=2
    ):
        problems: list[ItemProblem] = []
        msgs = parse_messages(
            raw,
            page_id=conv.page_id,
            thread_id=conv.id,
            fallback_time=None,
            problems=problems,
            page=number,
        )
        yield Batch(msgs, problems)


def get_conversation_messages(
    client: GraphClient, page_id: str, conversation_id: str, *, limit: int = 25
) -> list[Message]:
    """The newest ``limit`` messages of one conversation, newest first (outbox reconciliation).

    Unreadable items are left out (reconciliation only looks for its own messages).
    """
    response = client.get(
        f"/{conversation_id}/messages",
        {"fields": MESSAGE_FIELDS, "limit": str(_size(client, EDGE_MESSAGES, limit))},
        edge=EDGE_MESSAGES,
    )
    data = response.get("data")
    if not isinstance(data, list):
        raise MalformedResponse("the Graph API returned messages without a data list")
    return parse_messages(
        data, page_id=page_id, thread_id=conversation_id, fallback_time=None, problems=[]
    )


def iter_feed(
    client: GraphClient,
    page_id: str,
    *,
    since: datetime | None = None,
    page_size: int = 100,
    comment_limit: int = 25,
    max_pages: int = FEED_MAX_PAGES,
) -> Iterator[Batch[Post]]:
    """Posts of the Page's feed (newest first) with their newest comments, one batch a page."""
    params = {
        "fields": feed_fields(comment_limit),
        "limit": str(_size(client, EDGE_FEED, page_size)),
    }
    if since is not None:
        params["since"] = str(int(since.timestamp()))
    pages = iter_raw_pages(client, f"/{page_id}/feed", params, edge=EDGE_FEED, max_pages=max_pages)
    yield from _batches(
        pages,
        EDGE_FEED,
        lambda obj, problems: parse_post(obj, page_id=page_id, problems=problems),
    )


def iter_reels(
    client: GraphClient,
    page_id: str,
    *,
    page_size: int = 25,
    comment_limit: int = 25,
    max_pages: int = FEED_MAX_PAGES,
) -> Iterator[Batch[Post]]:
    """The Page's Reels (``/{page-id}/video_reels``, newest first) with their newest comments.

    Each Reel is a :class:`Post` of kind ``reel`` (its ``description`` as the text).
    """
    params = {
        "fields": reel_fields(comment_limit),
        "limit": str(_size(client, EDGE_REELS, page_size)),
    }
    pages = iter_raw_pages(
        client, f"/{page_id}/video_reels", params, edge=EDGE_REELS, max_pages=max_pages
    )
    yield from _batches(
        pages,
        EDGE_REELS,
        lambda obj, problems: parse_post(obj, page_id=page_id, problems=problems, kind="reel"),
    )


def iter_more_comments(
    client: GraphClient, page_id: str, post: Post, *, page_size: int = FOLLOW_PAGE_SIZE
) -> Iterator[Batch[Message]]:
    """The comments after the nested ones, following ``post.comments_next``.

    Bounded by the post's ``summary.total_count`` when Graph gave one. A page of comments
    without any ``id`` raises :class:`ModerateTaskMissing`.
    """
    if not post.comments_next:
        return
    size = _size(client, EDGE_COMMENTS, page_size)
    link = with_limit(post.comments_next, size)
    bound = _bound(post.comment_total, size, DEFAULT_MAX_PAGES)
    for number, raw in enumerate(
        iter_raw_from_link(client, link, edge=EDGE_COMMENTS, max_pages=bound), start=2
    ):
        problems: list[ItemProblem] = []
        comments = parse_comments(
            raw,
            page_id=page_id,
            fallback_time=post.created_at,
            problems=problems,
            parent=post.id,
            page=number,
        )
        yield Batch(comments, problems)


def get_comment_thread(
    client: GraphClient, page_id: str, comment_id: str, *, limit: int = 100
) -> list[Message]:
    """All replies to a top-level comment, newest first (outbox reconciliation)."""
    params = {
        "fields": COMMENT_FIELDS,
        "filter": "stream",
        "order": "reverse_chronological",
        "limit": str(_size(client, EDGE_COMMENTS, limit)),
    }
    replies: list[Message] = []
    for items in iter_raw_pages(client, f"/{comment_id}/comments", params, edge=EDGE_COMMENTS):
        check_comment_ids(items, comment_id)
        for item in items:
            if not isinstance(item, dict):
                continue
            try:
                replies.append(parse_comment(item, page_id=page_id, thread_id=comment_id))
            except MalformedItem:
                continue  # reconciliation looks for its own replies only
    return replies


def send_message(
    client: GraphClient,
    page_id: str,
    *,
    text: str,
    recipient_id: str | None = None,
    comment_id: str | None = None,
    messaging_type: str = "RESPONSE",
    tag: str | None = None,
) -> SendResult:
    """Send a Messenger message (``recipient_id``) or a private reply (``comment_id``).

    Never retried: a timeout raises with ``request_sent`` so the outbox can mark it unknown.
    """
    if (recipient_id is None) == (comment_id is None):
        raise ValueError("send_message needs exactly one of recipient_id and comment_id")
    if tag is not None and tag not in ALLOWED_TAGS:
        raise InvalidRequest(
            f"the message tag {tag} is retired (Graph answers error 100 since 2026-04-27)",
            "only HUMAN_AGENT remains; reply inside the 24-hour window instead",
            reason="retired_tag",
            request_sent=False,
        )
    recipient = {"id": recipient_id} if recipient_id is not None else {"comment_id": comment_id}
    payload: dict[str, object] = {
        "recipient": recipient,
        "messaging_type": messaging_type,
        "message": {"text": text},
    }
    if tag is not None:
        payload["tag"] = tag
    return parse_send_result(client.post(f"/{page_id}/messages", payload))


def reply_to_comment(client: GraphClient, comment_id: str, text: str) -> SendResult:
    """A public reply under a comment; ``message_id`` is the new comment's id. Never retried."""
    return parse_send_result(client.post(f"/{comment_id}/comments", {"message": text}))


def set_comment_hidden(client: GraphClient, comment_id: str, hidden: bool) -> None:
    """Hide or unhide a comment (idempotent, so retried like a read)."""
    response = client.post(f"/{comment_id}", {"is_hidden": hidden}, retry=True)
    if response.get("success") not in (True, "true"):
        raise MalformedResponse("the Graph API did not confirm hiding the comment")
