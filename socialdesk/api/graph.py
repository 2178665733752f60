"""Typed Graph API endpoints: the calls socialdesk makes, returning domain models.

Field strings follow GRAPH_API.md: conversations with their newest messages nested
(``messages.limit(25)``), the feed with its comments nested
(``comments.filter(stream).order(reverse_chronological).limit(25)``), so one HTTP page brings
up to 100 threads. Page sizes shrink to what the client remembers after a code-1 halving.
Iterators yield one list per HTTP page so core can commit a page with its watermark. Called by
core (sync, outbox, doctor) and the CLI's auth commands through core.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from socialdesk.api.client import GraphClient
from socialdesk.api.errors import InvalidRequest, MalformedResponse
from socialdesk.api.paging import iter_from_link, iter_pages
from socialdesk.api.parse import (
    parse_comment,
    parse_conversation,
    parse_message,
    parse_page,
    parse_post,
    parse_send_result,
    parse_token_info,
)
from socialdesk.models import Conversation, Message, Page, Post, SendResult, TokenInfo

MESSAGE_FIELDS = "id,created_time,from,to,message,attachments,sticker,shares,tags,is_unsupported"
COMMENT_FIELDS = "id,message,from,created_time,parent{id},attachment,is_hidden"
POST_FIELDS = "id,message,created_time,updated_time,permalink_url"

EDGE_CONVERSATIONS = "conversations"
EDGE_MESSAGES = "messages"
EDGE_FEED = "feed"
EDGE_COMMENTS = "comments"


def conversation_fields(message_limit: int = 25) -> str:
    """The ``fields`` of a conversations call with ``message_limit`` nested messages."""
    return (
        "id,updated_time,message_count,snippet,participants,"
        f"messages.limit({message_limit}){{{MESSAGE_FIELDS}}}"
    )


def feed_fields(comment_limit: int = 25) -> str:
    """The ``fields`` of a feed call with ``comment_limit`` nested comments (all, newest first)."""
    return (
        f"{POST_FIELDS},comments.filter(stream).order(reverse_chronological)"
        f".limit({comment_limit}).summary(true){{{COMMENT_FIELDS}}}"
    )


CONVERSATION_FIELDS = conversation_fields()
FEED_FIELDS = feed_fields()


def _size(client: GraphClient, edge: str, requested: int) -> int:
    return max(1, min(requested, client.page_size.get(edge, requested)))


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
    client: GraphClient, page_id: str, *, page_size: int = 100, message_limit: int = 25
) -> Iterator[list[Conversation]]:
    """Messenger conversations, one list per HTTP page, most recently updated first."""
    params = {
        "fields": conversation_fields(message_limit),
        "platform": "messenger",
        "limit": str(_size(client, EDGE_CONVERSATIONS, page_size)),
    }
    for items in iter_pages(client, f"/{page_id}/conversations", params, edge=EDGE_CONVERSATIONS):
        yield [parse_conversation(item, page_id=page_id) for item in items]


def iter_more_messages(client: GraphClient, conv: Conversation) -> Iterator[list[Message]]:
    """The messages after the nested ones, following ``conv.messages_next`` (newest first)."""
    if not conv.messages_next:
        return
    for items in iter_from_link(client, conv.messages_next, edge=EDGE_MESSAGES):
        yield [
            parse_message(item, page_id=conv.page_id, thread_id=conv.id, fallback_time=None)
            for item in items
        ]


def get_conversation_messages(
    client: GraphClient, page_id: str, conversation_id: str, *, limit: int = 25
) -> list[Message]:
    """The newest ``limit`` messages of one conversation, newest first (outbox reconciliation)."""
    response = client.get(
        f"/{conversation_id}/messages",
        {"fields": MESSAGE_FIELDS, "limit": str(_size(client, EDGE_MESSAGES, limit))},
        edge=EDGE_MESSAGES,
    )
    data = response.get("data")
    if not isinstance(data, list):
        raise MalformedResponse("the Graph API returned messages without a data list")
    return [
        parse_message(item, page_id=page_id, thread_id=conversation_id)
        for item in data
        if isinstance(item, dict)
    ]


def iter_feed(
    client: GraphClient,
    page_id: str,
    *,
    since: datetime | None = None,
    page_size: int = 100,
    comment_limit: int = 25,
) -> Iterator[list[Post]]:
    """Posts of the Page's feed (newest first) with their newest comments, one list per page."""
    params = {
        "fields": feed_fields(comment_limit),
        "limit": str(_size(client, EDGE_FEED, page_size)),
    }
    if since is not None:
        params["since"] = str(int(since.timestamp()))
    for items in iter_pages(client, f"/{page_id}/feed", params, edge=EDGE_FEED):
        yield [parse_post(item, page_id=page_id) for item in items]


def iter_more_comments(client: GraphClient, page_id: str, post: Post) -> Iterator[list[Message]]:
    """The comments after the nested ones, following ``post.comments_next``."""
    if not post.comments_next:
        return
    for items in iter_from_link(client, post.comments_next, edge=EDGE_COMMENTS):
        yield [parse_comment(item, page_id=page_id) for item in items]


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
    for items in iter_pages(client, f"/{comment_id}/comments", params, edge=EDGE_COMMENTS):
        replies.extend(parse_comment(item, page_id=page_id, thread_id=comment_id) for item in items)
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
