"""The domain vocabulary shared by every layer.

Frozen dataclasses and string enums only: no I/O, no httpx, no sqlite3, no Textual. The api layer
builds these from Graph JSON (``socialdesk.api.parse``), the store persists and returns them, core
services combine them, and the CLI and the inbox render them.

Times are timezone-aware ``datetime`` objects in UTC everywhere in the domain; the store keeps
them as integer Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


def utc(ts: int | float) -> datetime:
    """A Unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, tz=UTC)


def epoch(dt: datetime) -> int:
    """An aware datetime as whole Unix seconds (what the store keeps); the inverse of utc()."""
    return int(dt.timestamp())


class Channel(StrEnum):
    """Where a thread lives: the Page's Messenger and comments, the linked Instagram account's
    DMs and comments (docs/INSTAGRAM_API.md)."""

    DM = "dm"
    """A Messenger conversation."""
    COMMENT = "comment"
    """A top-level comment under one of the Page's posts, with its replies."""
    IG_DM = "ig_dm"
    """An Instagram DM thread of the linked account (``platform=instagram`` on the Page)."""
    IG_COMMENT = "ig_comment"
    """A top-level comment under one of the linked Instagram account's media, with its replies."""


INSTAGRAM_CHANNELS = (Channel.IG_DM, Channel.IG_COMMENT)
"""The channels of the linked Instagram account."""
DM_CHANNELS = (Channel.DM, Channel.IG_DM)
COMMENT_CHANNELS = (Channel.COMMENT, Channel.IG_COMMENT)

IG_TEXT_MAX_BYTES = 1000
"""Instagram DM text: "must be UTF-8 and be 1,000 bytes or less" (INSTAGRAM_API.md §4.1)."""
IG_DETAIL_HORIZON = 20
"""Only the 20 newest messages of an Instagram thread have details (INSTAGRAM_API.md §3.4)."""


class Direction(StrEnum):
    """Who wrote a message, seen from the Page."""

    IN = "in"
    """From the customer."""
    OUT = "out"
    """From the Page (via socialdesk or answered elsewhere)."""


class Status(StrEnum):
    """Operator triage status of a thread."""

    OPEN = "open"
    DONE = "done"
    SNOOZED = "snoozed"


class OutboxState(StrEnum):
    """The life of one send. See PRODUCT.md §5: nothing lost, nothing sent twice."""

    QUEUED = "queued"
    """Intent recorded, no request made yet."""
    SENDING = "sending"
    """Committed durably right before the HTTP request leaves."""
    SENT = "sent"
    """The API answered with an id (or reconciliation found the message)."""
    FAILED = "failed"
    """The API refused it; it was certainly not delivered."""
    UNKNOWN = "unknown"
    """Ambiguous outcome (timeout, reset, 5xx): never resent automatically."""


class SendKind(StrEnum):
    """How a reply is delivered."""

    DM_RESPONSE = "dm_response"
    """Send API, ``messaging_type=RESPONSE``, inside the 24 h window."""
    DM_HUMAN_AGENT = "dm_human_agent"
    """Send API, ``MESSAGE_TAG`` + ``HUMAN_AGENT``, 24 h to 7 days, human-written only."""
    COMMENT_PUBLIC = "comment_public"
    """``POST /{comment-id}/comments``."""
    COMMENT_PRIVATE = "comment_private"
    """Send API with ``recipient.comment_id``: one per comment, within 7 days."""


class WindowKind(StrEnum):
    """Which reply window applies to a thread right now."""

    STANDARD = "standard"
    """DM: 24 h after the customer's last message."""
    HUMAN_AGENT = "human_agent"
    """DM: 24 h to 7 days, only with ``messaging.human_agent`` on and a human-written reply."""
    PRIVATE_REPLY = "private_reply"
    """Comment: the one private reply, within 7 days of the comment."""
    PUBLIC = "public"
    """Comment: public replies are always possible."""
    CLOSED = "closed"
    """Nothing can be sent (DM outside every window)."""


# The reply-window durations (GRAPH_API.md §4.3, §5.4): the one definition that
# core.windows (what is shown and what sends obey) and store.query (``expires:`` and the
# ``expires`` sort) both build on.
STANDARD_WINDOW = timedelta(hours=24)
"""Messenger's standard messaging window after the customer's last message."""
HUMAN_AGENT_WINDOW = timedelta(days=7)
"""``HUMAN_AGENT`` tagged replies: up to 7 days after the customer's last message."""
PRIVATE_REPLY_WINDOW = timedelta(days=7)
"""A comment's one private reply: within 7 days of the (top-level) comment."""


REQUIRED_SCOPES: tuple[str, ...] = (
    "pages_messaging",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_metadata",
    "pages_manage_engagement",
)
"""The permissions socialdesk's features need (GRAPH_API.md §9.4, Instagram aside): reading and
answering Messenger, reading and answering comments, hiding comments. ``auth`` and ``doctor``
check a token against this list."""


@dataclass(frozen=True)
class Person:
    """A customer or the Page itself as the author of a message."""

    id: str
    """Page-scoped user id (PSID) for Messenger, app-scoped id for comments, or the page id."""
    name: str
    """Display name as the API returned it (untrusted text). Instagram gives no name (only a
    ``username``) until the profile is fetched: then this is ``""``."""
    username: str = ""
    """The Instagram username (``@`` not included), mutable; ``""`` on Messenger. An Instagram
    person without a known name has ``name == "@" + username`` (what every list shows)."""

    @property
    def real_name(self) -> str:
        """The person's name, never their Instagram handle (``""`` when only that is known)."""
        if self.username and self.name in ("", "@" + self.username):
            return ""
        return self.name


@dataclass(frozen=True)
class InstagramAccount:
    """The Instagram professional account linked to a Page (INSTAGRAM_API.md §2)."""

    id: str
    """The IG user id (``1784…``): the node of media and comments."""
    username: str
    name: str = ""
    source: str = "instagram_business_account"
    """Which Page field carried it: ``instagram_business_account`` or (the fallback)
    ``connected_instagram_account``."""
    other_id: str | None = None
    """When the two Page fields name different accounts: the one not used (doctor warns)."""


@dataclass(frozen=True)
class Page:
    """A Facebook Page the operator manages."""

    id: str
    name: str
    """Display name (from ``GET /me``)."""


@dataclass(frozen=True)
class Attachment:
    """A reference to media or a share; never downloaded."""

    kind: str
    """``image``, ``video``, ``audio``, ``file``, ``sticker``, ``share``, ``unsupported``…"""
    url: str | None = None
    name: str | None = None
    """A display name only (untrusted): never used as a file path."""
    mime_type: str | None = None


@dataclass(frozen=True)
class Message:
    """One item of a thread: a Messenger message or a comment."""

    id: str
    """Graph id (``m_…`` for messages, ``{post}_{comment}`` for comments)."""
    thread_id: str
    """The conversation id, or the top-level comment id for comment threads."""
    direction: Direction
    author: Person
    text: str
    """Message text as sent; may be empty when the message is only an attachment."""
    created_at: datetime
    attachments: tuple[Attachment, ...] = ()
    parent_id: str | None = None
    """For a comment reply: the comment it answers."""
    is_hidden: bool = False
    """For comments: hidden on Facebook."""
    can_reply_privately: bool | None = None
    """For comments: Graph's ``can_reply_privately`` (``None`` when not returned)."""
    private_reply_conversation: str | None = None
    """For comments: the conversation a private reply opened (sent from anywhere)."""


@dataclass(frozen=True)
class Conversation:
    """A Messenger conversation as one page of ``/{page}/conversations`` returns it."""

    id: str
    page_id: str
    updated_at: datetime
    """``updated_time``: the time of the newest message."""
    customer: Person
    messages: tuple[Message, ...]
    """The newest messages inlined by the nested ``messages.limit(n)``, newest first."""
    messages_next: str | None = None
    """The nested edge's ``next`` link (access_token stripped) when more messages exist."""
    message_count: int | None = None
    snippet: str | None = None
    channel: Channel = Channel.DM
    """``dm`` (Messenger) or ``ig_dm`` (an Instagram thread: no ``message_count``, only the 20
    newest messages have details)."""


@dataclass(frozen=True)
class Post:
    """A Page post with the comments inlined by the nested ``comments`` field."""

    id: str
    page_id: str
    created_at: datetime
    message: str
    permalink: str | None = None
    updated_at: datetime | None = None
    comments: tuple[Message, ...] = ()
    """Comments and replies (``filter(stream)``), newest first."""
    comments_next: str | None = None
    """The nested edge's ``next`` link when more comments exist."""
    comment_total: int | None = None
    """``comments.summary.total_count`` (all comments and replies), when Graph gave it."""
    kind: str = "post"
    """``post`` (from ``/feed``), ``reel`` (from ``/video_reels``: the feed never lists Reels) or
    ``ig_media`` (an Instagram media of the linked account: ``comment_total`` is its
    ``comments_count``, replies included)."""

    @property
    def channel(self) -> Channel:
        """The channel of this post's comment threads."""
        return Channel.IG_COMMENT if self.kind == "ig_media" else Channel.COMMENT


@dataclass(frozen=True)
class ItemProblem:
    """One item of a Graph answer that could not be read (null id, wrong types): skipped.

    ``raw`` is the offending value as ASCII (``ascii()``, escapes for anything else), cut to a
    few dozen characters: safe to print and to store, never the token.
    """

    edge: str
    """``conversations``, ``messages``, ``feed``, ``comments``, ``reels``."""
    page: int
    """1-based HTTP page of the walk."""
    index: int
    """0-based position of the item in that page's ``data``."""
    field: str
    """The field that could not be read (``id``, ``created_time``, ``item`` for a non-object)."""
    raw: str
    problem: str
    """What was wrong, in a few words."""
    parent: str | None = None
    """For a nested item: the conversation or post it belongs to."""

    def describe(self) -> str:
        """One line naming the item and what was wrong (no customer text beyond ``raw``)."""
        where = f"{self.edge} page {self.page}, item {self.index + 1}"
        if self.parent:
            where += f" (in {self.parent})"
        return f"{where}: {self.problem} ({self.field}={self.raw})"


@dataclass(frozen=True)
class RateUsage:
    """The usage headers of the latest response, as percentages of the limits."""

    call_count: int = 0
    total_time: int = 0
    total_cputime: int = 0
    regain_access_minutes: int = 0
    """``estimated_time_to_regain_access`` from ``X-Business-Use-Case-Usage``."""
    by_type: tuple[tuple[str, int], ...] = ()
    """Peak percentage per ``X-Business-Use-Case-Usage`` ``type`` (``messenger``, ``pages``…)."""

    @property
    def peak(self) -> int:
        """The highest of the three percentages: what pacing looks at."""
        return max(self.call_count, self.total_time, self.total_cputime)

    def of_type(self, kind: str) -> int | None:
        """The peak percentage of one BUC ``type`` (``None`` when the headers had none)."""
        for name, pct in self.by_type:
            if name == kind:
                return pct
        return None


@dataclass(frozen=True)
class Wait:
    """A pause the Graph client is about to make (a throttle, a retry backoff, a slowdown).

    Front ends print one line per wait (``sync`` on stderr) so waiting is never silent.
    """

    seconds: float
    reason: str
    """Why, in a few words (``rate limited (#80006): regain access``, ``timeout: retry 2``)."""
    edge: str = ""
    """The Graph edge the call was for (``conversations``, ``feed``…), when known."""


@dataclass(frozen=True)
class TokenInfo:
    """What ``/debug_token`` says about the configured token."""

    is_valid: bool
    type: str
    app_id: str | None = None
    profile_id: str | None = None
    """The page id for a page token."""
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    """``None`` when the token never expires (``expires_at: 0``)."""


@dataclass(frozen=True)
class SendResult:
    """What the API answered to a send."""

    message_id: str
    recipient_id: str | None = None


@dataclass(frozen=True)
class Window:
    """The reply window that applies to a thread, and when it closes."""

    kind: WindowKind
    closes_at: datetime | None = None
    """``None`` for windows that never close (public comment replies) and for CLOSED."""
    closed_at: datetime | None = None
    """For CLOSED: when the last window closed."""


@dataclass(frozen=True)
class Thread:
    """The unit of triage, as the store returns it (cache joined with operator state)."""

    number: int
    """Short local number (``#42``), assigned when first seen, never reused."""
    id: str
    """Graph id: the conversation id or the top-level comment id."""
    page_id: str
    channel: Channel
    status: Status
    customer: Person
    last_message_at: datetime
    awaiting_reply: bool
    """The newest message is inbound."""
    request_at: datetime | None
    """First inbound message since the last outbound one, when awaiting reply."""
    last_inbound_at: datetime | None
    snippet: str
    tags: tuple[str, ...] = ()
    note: str | None = None
    snoozed_until: datetime | None = None
    post_id: str | None = None
    """For comment threads: the post the comment belongs to."""
    post_message: str | None = None
    is_hidden: bool = False
    seen_at: datetime | None = None
    """When the operator last saw the thread (``None``: never); see :attr:`unread`."""
    gaps: int = 0
    """Instagram DMs: times more than 20 messages arrived between two syncs, so older ones
    could not be read (only the 20 newest have details). Shown, never silently incomplete."""

    @property
    def unread(self) -> bool:
        """Awaiting reply with a customer message the operator has not seen yet."""
        if not self.awaiting_reply or self.last_inbound_at is None:
            return False
        return self.seen_at is None or self.last_inbound_at > self.seen_at


@dataclass(frozen=True)
class OutboxEntry:
    """One row of the outbox (PRODUCT.md §5)."""

    id: int
    page_id: str
    thread_id: str
    kind: SendKind
    text: str
    state: OutboxState
    created_at: datetime
    origin: str = "reply"
    """``reply`` (a human wrote it) or ``ack`` (bulk acknowledgement)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message_id: str | None = None
    error: str | None = None
    refused: bool = False
    """The platform refused it (window, private reply used…): retrying cannot help."""
    done_on_sent: bool = False
    """The thread is marked done in the transaction that confirms this send."""
    comment_id: str | None = None
    """The comment a private reply answers (``None`` for other kinds)."""


class SyncStage(StrEnum):
    """What a sync is reading, for progress events."""

    CONVERSATIONS = "conversations"
    """Pages of the conversations listing (with their newest messages)."""
    MESSAGES = "messages"
    """Older messages of long conversations."""
    FEED = "feed"
    """Posts of the feed (with their newest comments)."""
    REELS = "reels"
    """The Page's Reels (with their newest comments)."""
    COMMENTS = "comments"
    """Further comments of busy posts and Reels."""
    IG_CONVERSATIONS = "ig_conversations"
    """Pages of the Instagram DM listing (with their 20 newest messages)."""
    IG_MEDIA = "ig_media"
    """The Instagram account's media (with ``comments_count``)."""
    IG_COMMENTS = "ig_comments"
    """Comments (with replies) of Instagram media whose count changed."""


@dataclass(frozen=True)
class SyncProgress:
    """A cumulative progress event: ``done`` items of ``stage`` so far (``total`` if known)."""

    stage: SyncStage
    done: int
    total: int | None = None


class EdgeStatus(StrEnum):
    """The outcome of one edge in one sync."""

    OK = "ok"
    FAILED = "failed"
    NOT_RUN = "not_run"
    """Skipped because an earlier failure made it pointless (an invalid token, the deadline)."""


@dataclass(frozen=True)
class EdgeResult:
    """What one edge (conversations, feed, reels) did in one sync: its own success or failure."""

    edge: str
    status: EdgeStatus
    calls: int = 0
    error: str | None = None
    """The failure, in one line (redacted)."""
    hint: str | None = None
    """How to fix it."""
    reason: str | None = None
    """Machine cause (``missing_permission``, ``advanced_access``, ``throttled``…)."""
    exit_code: int | None = None
    """The exit code this failure alone would give."""
    problems: tuple[ItemProblem, ...] = ()
    """Items skipped as unreadable on this edge."""

    @property
    def ok(self) -> bool:
        return self.status is EdgeStatus.OK

    def as_dict(self) -> dict[str, Any]:
        """The ``edges[]`` item of ``sync --json``."""
        return {
            "edge": self.edge,
            "status": self.status.value,
            "calls": self.calls,
            "error": self.error,
            "hint": self.hint,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "skipped_items": [p.describe() for p in self.problems],
        }


@dataclass(frozen=True)
class EdgeState:
    """The stored state of one edge of a Page, for ``doctor`` and the inbox header."""

    edge: str
    last_run_at: datetime | None
    """When the latest recorded run finished (``None``: never ran)."""
    ok: bool | None
    """Whether that run succeeded (``None``: never ran)."""
    last_ok_at: datetime | None
    failing_since: datetime | None
    """When the current streak of failures started (``None`` when the latest run was ok)."""
    error: str | None = None
    hint: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    calls: int = 0
    skipped_items: int = 0
    """Items the latest run skipped as unreadable."""


@dataclass(frozen=True)
class SyncReport:
    """What one sync of one page did."""

    page_id: str
    full: bool = False
    conversations: int = 0
    """Conversations fetched and stored."""
    messages: int = 0
    posts: int = 0
    comments: int = 0
    calls: int = 0
    """HTTP requests made to the Graph API."""
    duration_s: float = 0.0
    reopened: int = 0
    """Done or snoozed threads that new inbound activity moved back to open."""
    skipped: bool = False
    """Another sync of the same page held the lock."""
    errors: tuple[str, ...] = field(default_factory=tuple)
    """One line per failed edge (``edge: error``), or the skip notice."""
    edges: tuple[EdgeResult, ...] = ()
    """Each edge's own result, in sync order (conversations, feed, reels)."""
    reels: int = 0
    """Reels fetched and stored (their comments count in ``comments``)."""
    usage: RateUsage | None = None
    """The Page's usage headers at the end of the sync (``None``: none seen)."""
    messenger_calls: int = 0
    """Calls made to the Conversations API (Messenger, and Instagram DMs, which may spend the
    Page's Messenger budget too), which has its own daily budget."""
    instagram: dict[str, int] = field(default_factory=dict)
    """Instagram counters when the Page has a linked account (``threads``, ``messages``,
    ``gaps``, ``media``, ``media_reread``, ``comments``); empty without one."""

    @property
    def failed_edges(self) -> tuple[EdgeResult, ...]:
        """The edges that did not succeed (failed or not run)."""
        return tuple(e for e in self.edges if not e.ok)

    @property
    def problems(self) -> tuple[ItemProblem, ...]:
        """Every item skipped as unreadable, over all edges."""
        return tuple(p for e in self.edges for p in e.problems)

    def as_dict(self) -> dict[str, Any]:
        """The ``sync --json`` shape."""
        return {
            "page_id": self.page_id,
            "full": self.full,
            "conversations": self.conversations,
            "messages": self.messages,
            "posts": self.posts,
            "comments": self.comments,
            "calls": self.calls,
            "duration_s": round(self.duration_s, 3),
            "reopened": self.reopened,
            "skipped": self.skipped,
            "errors": list(self.errors),
            "reels": self.reels,
            "messenger_calls": self.messenger_calls,
            "instagram": dict(self.instagram),
            "edges": [e.as_dict() for e in self.edges],
            "usage": None
            if self.usage is None
            else {"peak": self.usage.peak, "by_type": dict(self.usage.by_type)},
        }
