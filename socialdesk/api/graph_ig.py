"""Typed Graph API endpoints for the Page's linked Instagram account (docs/INSTAGRAM_API.md).

Two nodes, one token: DMs through the **Page** (``/{page-id}/conversations?platform=instagram``,
the Send API on ``/{page-id}/messages``, which ``api.graph.send_message`` already is), media and
comments through the **IG user** (``/{ig-user-id}/media`` → ``/{ig-media-id}/comments`` →
``/{ig-comment-id}/replies``). The field strings ask only for what Instagram documents: a
Messenger-only field (``message_count``, ``snippet``, ``tags``, ``sticker``…) can fail the whole
call. Nested messages are never asked beyond 20 (only the 20 newest have details); the
listing starts at 15 threads a page (15 × 20 passed where 50 × 20 answered code 1) and the
client halves on code 1. Comments: at most 50 a page, no time filter exists, replies nested
with their own paging. Public replies go to ``/replies`` (never ``/comments``), hiding uses
``hide`` (never ``is_hidden``). Called by core (sync, outbox, triage, discovery).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from socialdesk.api.client import GraphClient
from socialdesk.api.errors import MalformedResponse
from socialdesk.api.graph import Batch, _batches, _size
from socialdesk.api.paging import iter_raw_from_link, iter_raw_pages, with_limit
from socialdesk.api.parse import parse_send_result
from socialdesk.api.parse_ig import (
    parse_ig_account,
    parse_ig_comments,
    parse_ig_conversation,
    parse_ig_media,
    parse_ig_messages,
    parse_ig_replies,
)
from socialdesk.models import (
    IG_DETAIL_HORIZON,
    Conversation,
    InstagramAccount,
    ItemProblem,
    Message,
    Post,
    SendResult,
)

EDGE_IG_CONVERSATIONS = "ig_conversations"
EDGE_IG_MESSAGES = "ig_messages"
EDGE_IG_MEDIA = "ig_media"
EDGE_IG_COMMENTS = "ig_comments"
EDGE_IG_REPLIES = "ig_replies"
IG_PACED_EDGES = frozenset({EDGE_IG_CONVERSATIONS, EDGE_IG_MESSAGES})
"""Conversations API calls for Instagram: 2 a second per Instagram account, a budget of its own."""

IG_MESSAGE_FIELDS = (
    "id,created_time,from,to,message,attachments,shares{link,name,description},"
    "story,reactions,is_unsupported,reply_to"
)
IG_COMMENT_FIELDS = "id,text,timestamp,from{id,username},username,user,hidden,like_count,parent_id"
IG_MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,comments_count"
ACCOUNT_FIELDS = (
    "instagram_business_account{id,username,name},connected_instagram_account{id,username}"
)

IG_CONVERSATION_PAGE = 15
"""Threads per page of the Instagram listing (INSTAGRAM_API.md §3.2)."""
IG_COMMENT_PAGE = 50
"""Comments (and nested replies) per page: Instagram's maximum."""
IG_MEDIA_PAGE = 50
IG_CONVERSATION_MAX_PAGES = 2000
IG_MEDIA_MAX_PAGES = 200
"""The media edge lists at most the 10 000 newest media (200 pages of 50)."""
IG_COMMENT_MAX_PAGES = 400


def ig_conversation_fields(message_limit: int = IG_DETAIL_HORIZON) -> str:
    """The ``fields`` of an Instagram listing; the nested limit never exceeds 20."""
    n = max(1, min(IG_DETAIL_HORIZON, message_limit))
    return f"id,updated_time,participants,messages.limit({n}){{{IG_MESSAGE_FIELDS}}}"


def _comments_fields(limit: int) -> str:
    return f"{IG_COMMENT_FIELDS},replies.limit({limit}){{{IG_COMMENT_FIELDS}}}"


def get_instagram_account(client: GraphClient, page_id: str) -> InstagramAccount | None:
    """The Page's linked Instagram account, or ``None`` (INSTAGRAM_API.md §2.1, one call)."""
    return parse_ig_account(client.get(f"/{page_id}", {"fields": ACCOUNT_FIELDS}))


def iter_ig_conversations(
    client: GraphClient,
    page_id: str,
    ig_user_id: str,
    *,
    page_size: int = IG_CONVERSATION_PAGE,
    max_pages: int = IG_CONVERSATION_MAX_PAGES,
) -> Iterator[Batch[Conversation]]:
    """Instagram DM threads (newest first) with their 20 newest messages, a batch per page."""
    params = {
        "platform": "instagram",
        "fields": ig_conversation_fields(),
        "limit": str(_size(client, EDGE_IG_CONVERSATIONS, page_size)),
    }
    pages = iter_raw_pages(
        client,
        f"/{page_id}/conversations",
        params,
        edge=EDGE_IG_CONVERSATIONS,
        max_pages=max_pages,
    )
    yield from _batches(
        pages,
        EDGE_IG_CONVERSATIONS,
        lambda obj, problems: parse_ig_conversation(
            obj, page_id=page_id, ig_user_id=ig_user_id, problems=problems
        ),
    )


def get_ig_thread_messages(
    client: GraphClient, ig_user_id: str, conversation_id: str
) -> list[Message]:
    """The 20 newest messages of one Instagram thread, newest first (outbox read-back).

    The node form (``/{conversation-id}?fields=messages.limit(20){…}``) is the documented one
    for Instagram; older messages have no details, so 20 is all any read can show.
    """
    response = client.get(
        f"/{conversation_id}",
        {"fields": f"id,messages.limit({IG_DETAIL_HORIZON}){{{IG_MESSAGE_FIELDS}}}"},
        edge=EDGE_IG_MESSAGES,
    )
    block = response.get("messages")
    data = block.get("data") if isinstance(block, dict) else [] if block is None else None
    if not isinstance(data, list):
        raise MalformedResponse("the Graph API returned an Instagram thread without messages")
    return parse_ig_messages(
        data, ig_user_id=ig_user_id, thread_id=conversation_id, fallback_time=None, problems=[]
    )


def iter_ig_media(
    client: GraphClient,
    page_id: str,
    ig_user_id: str,
    *,
    since: datetime | None = None,
    page_size: int = IG_MEDIA_PAGE,
    max_pages: int = IG_MEDIA_MAX_PAGES,
) -> Iterator[Batch[Post]]:
    """The account's media newest first, each with ``comments_count`` (no comments nested)."""
    params = {
        "fields": IG_MEDIA_FIELDS,
        "limit": str(_size(client, EDGE_IG_MEDIA, page_size)),
    }
    if since is not None:
        params["since"] = str(int(since.timestamp()))
    pages = iter_raw_pages(
        client, f"/{ig_user_id}/media", params, edge=EDGE_IG_MEDIA, max_pages=max_pages
    )
    yield from _batches(
        pages, EDGE_IG_MEDIA, lambda obj, _problems: parse_ig_media(obj, page_id=page_id)
    )


def iter_ig_comments(
    client: GraphClient,
    account: InstagramAccount,
    media: Post,
    *,
    max_pages: int = IG_COMMENT_MAX_PAGES,
) -> Iterator[Batch[Message]]:
    """All comments of one media with their replies: a batch per page of top-level comments.

    Replies beyond the nested 50 of a comment are followed through the nested ``next`` link
    (``/{comment}/replies``) and added to that comment's batch.
    """
    size = _size(client, EDGE_IG_COMMENTS, IG_COMMENT_PAGE)
    params = {"fields": _comments_fields(IG_COMMENT_PAGE), "limit": str(size)}
    pages = iter_raw_pages(
        client, f"/{media.id}/comments", params, edge=EDGE_IG_COMMENTS, max_pages=max_pages
    )
    for number, raw in enumerate(pages, start=1):
        problems: list[ItemProblem] = []
        items, more = parse_ig_comments(
            raw,
            ig_user_id=account.id,
            ig_username=account.username,
            fallback_time=media.created_at,
            problems=problems,
            parent=media.id,
            page=number,
        )
        for comment_id, link in more:
            top = next(m for m in items if m.id == comment_id)
            items.extend(
                _follow_replies(client, account, comment_id, link, top.created_at, problems)
            )
        yield Batch(items, problems)


def _follow_replies(
    client: GraphClient,
    account: InstagramAccount,
    comment_id: str,
    link: str,
    fallback: datetime,
    problems: list[ItemProblem],
) -> list[Message]:
    out: list[Message] = []
    pages = iter_raw_from_link(
        client,
        with_limit(link, _size(client, EDGE_IG_REPLIES, IG_COMMENT_PAGE)),
        edge=EDGE_IG_REPLIES,
        max_pages=IG_COMMENT_MAX_PAGES,
    )
    for number, raw in enumerate(pages, start=2):
        out.extend(
            parse_ig_replies(
                raw,
                ig_user_id=account.id,
                ig_username=account.username,
                comment_id=comment_id,
                fallback_time=fallback,
                problems=problems,
                page=number,
            )
        )
    return out


def get_ig_replies(
    client: GraphClient, account: InstagramAccount, comment_id: str
) -> list[Message]:
    """Every reply of one top-level comment (``/{comment}/replies``; outbox read-back)."""
    params = {"fields": IG_COMMENT_FIELDS, "limit": str(IG_COMMENT_PAGE)}
    out: list[Message] = []
    for number, raw in enumerate(
        iter_raw_pages(
            client, f"/{comment_id}/replies", params, edge=EDGE_IG_REPLIES,
            max_pages=IG_COMMENT_MAX_PAGES,
        ),
        start=1,
    ):  # fmt: skip
        skipped: list[ItemProblem] = []
        out.extend(
            parse_ig_replies(
                raw,
                ig_user_id=account.id,
                ig_username=account.username,
                comment_id=comment_id,
                fallback_time=None,
                problems=skipped,
                page=number,
            )
        )
    return out


def reply_to_ig_comment(client: GraphClient, comment_id: str, text: str) -> SendResult:
    """A public reply under a top-level Instagram comment (``POST /{comment}/replies``).

    Never retried (a duplicate public reply is worse than an unknown one).
    """
    return parse_send_result(client.post(f"/{comment_id}/replies", {"message": text}))


def set_ig_comment_hidden(client: GraphClient, comment_id: str, hidden: bool) -> None:
    """Hide or unhide an Instagram comment (``hide=``; idempotent, so retried like a read)."""
    response = client.post(f"/{comment_id}", {"hide": "true" if hidden else "false"}, retry=True)
    if response.get("success") not in (True, "true"):
        raise MalformedResponse("the Graph API did not confirm hiding the Instagram comment")


__all__ = [
    "EDGE_IG_COMMENTS",
    "EDGE_IG_CONVERSATIONS",
    "EDGE_IG_MEDIA",
    "EDGE_IG_MESSAGES",
    "IG_PACED_EDGES",
    "get_ig_replies",
    "get_ig_thread_messages",
    "get_instagram_account",
    "ig_conversation_fields",
    "iter_ig_comments",
    "iter_ig_conversations",
    "iter_ig_media",
    "reply_to_ig_comment",
    "set_ig_comment_hidden",
]
