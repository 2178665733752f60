"""The sandbox's pure state: pages, users, conversations, messages, posts, comments, tokens.

No clock, no I/O, no locking: every mutation takes its time explicitly. ``engine.Sandbox`` owns
one ``State``, guards it with a lock and feeds it the sandbox clock; ``handler`` and ``render``
read it; ``demo`` fills it.
"""

from __future__ import annotations

import base64
import random
from bisect import insort
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEFAULT_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"]
"""A Page admin's tasks (what /me/accounts reports for a full-control person)."""
FOLDERS = ("inbox", "page_done", "other", "spam")
"""The conversation folders Graph takes in ``folder=`` (values seen in public clients)."""


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch: the integer sort key used everywhere in the model."""
    return (dt - _EPOCH) // timedelta(microseconds=1)


def graph_time(dt: datetime) -> str:
    """A datetime as Graph writes it in read responses: ``2026-11-22T09:50:48+0000``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Page:
    """A Facebook Page. ``human_agent`` says whether the app holds the Human Agent feature."""

    id: str
    name: str
    human_agent: bool = False
    conversations: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    """Every post and reel id of the page, in creation order."""
    generation: int = 0
    """Bumped on every change that can reorder the page's conversations (cache key)."""
    advanced_access: bool = True
    """False: the app lacks Advanced Access here, Messenger calls answer 1/99."""
    engaged_users: int | None = None
    """Set by tests: the engaged-user count of the BUC budgets (None = derived from activity)."""


@dataclass
class User:
    """A customer, seen through a page-scoped id (PSID)."""

    id: str
    name: str
    blocked: bool = False
    """Blocked the Page: sends answer 551/1545041."""
    unavailable: bool = False
    """Deactivated or messages off: sends answer ``(#200) This person isn't available``."""
    platform: str = "messenger"
    """``instagram``: an Instagram customer (``id`` is an IGSID; ``username``, maybe no name)."""
    username: str | None = None


@dataclass
class Message:
    """One Messenger message; ``sender_id`` is the page id for Page messages."""

    id: str
    conv_id: str
    seq: int
    sender_id: str
    recipient_id: str
    text: str
    at: datetime
    us: int
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sticker: str | None = None
    shares: list[dict[str, Any]] = field(default_factory=list)
    is_unsupported: bool = False
    story: dict[str, Any] | None = None
    """Instagram: ``{"mention": {...}}`` or ``{"reply_to": {...}}``."""
    reactions: list[dict[str, Any]] = field(default_factory=list)
    reply_to: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[int, int]:
        """Chronological sort key."""
        return (self.us, self.seq)


@dataclass
class Conversation:
    """A Messenger thread between a page and one user; ``messages`` oldest first."""

    id: str
    page_id: str
    user_id: str
    num: str
    messages: list[Message] = field(default_factory=list)
    unread: int = 0
    folder: str = "inbox"
    """Meta's inbox folder: inbox, page_done, other or spam (FOLDERS)."""
    platform: str = "messenger"
    """``instagram``: a DM thread of the Page's linked Instagram account."""

    @property
    def updated_us(self) -> int:
        """Time of the newest message (0 when empty)."""
        return self.messages[-1].us if self.messages else 0

    def last_user_message(self) -> Message | None:
        """The newest message the customer wrote (the window clock starts there)."""
        for msg in reversed(self.messages):
            if msg.sender_id == self.user_id:
                return msg
        return None


@dataclass
class Post:
    """A Page post or reel; comments hang off it by ``Comment.post_id``.

    ``kind`` is ``post`` or ``reel`` (a Reel is a video: /feed never lists it, /video_reels
    does). ``author_id`` is set for a visitor post (a customer wrote it on the Page). A
    ``ranked`` post answers its comments most-liked first whatever ``order`` asks.
    """

    id: str
    page_id: str
    message: str
    at: datetime
    us: int
    seq: int
    updated_us: int = 0
    comments: list[str] = field(default_factory=list)
    """Every comment id on the post (top level and replies), chronological."""
    kind: str = "post"
    author_id: str | None = None
    ranked: bool = False


@dataclass
class Comment:
    """A comment or a reply; ``from_id`` is the page id when the Page wrote it."""

    id: str
    post_id: str
    parent_id: str | None
    from_id: str
    message: str
    at: datetime
    us: int
    seq: int
    is_hidden: bool = False
    attachment: dict[str, Any] | None = None
    private_reply_mid: str | None = None
    """The message a private reply to this comment opened (through the API or elsewhere)."""
    deleted: bool = False
    replies: list[str] = field(default_factory=list)
    likes: int = 0

    @property
    def key(self) -> tuple[int, int]:
        """Chronological sort key."""
        return (self.us, self.seq)


@dataclass
class IgAccount:
    """The Instagram professional account linked to a Page (reached with the Page token).

    ``business_account`` False: linked only in the Page settings, so it shows under
    ``connected_instagram_account`` alone. ``messages_access`` is the owner's in-app "Allow
    access to messages" toggle. ``locale`` localises Instagram error messages.
    """

    id: str
    page_id: str
    username: str
    name: str
    business_account: bool = True
    messages_access: bool = True
    locale: str = "en_US"
    impressions: int | None = None
    """Set by tests: the impressions behind the ``instagram`` BUC (None = derived)."""
    media: list[str] = field(default_factory=list)


@dataclass
class IgMedia:
    """An Instagram media object (post, reel, ad, story) of a linked account."""

    id: str
    ig_id: str
    caption: str
    at: datetime
    us: int
    seq: int
    media_type: str = "IMAGE"
    product: str = "FEED"
    comment_enabled: bool = True
    comments: list[str] = field(default_factory=list)
    """Every comment id (top level and replies), chronological."""


@dataclass
class IgComment:
    """An Instagram comment or reply; ``from_id`` is the IG account id for the business."""

    id: str
    media_id: str
    parent_id: str | None
    from_id: str
    text: str
    at: datetime
    us: int
    seq: int
    hidden: bool = False
    like_count: int = 0
    deleted: bool = False
    private_reply_mid: str | None = None
    replies: list[str] = field(default_factory=list)


@dataclass
class Token:
    """A page access token; ``expires_at`` None = never; ``invalid_subcode`` set = invalidated.

    ``tasks`` are the Page tasks of the person the token was issued for (MODERATE gives
    comment ids, MESSAGING or MODERATE the Conversations API).
    """

    value: str
    page_id: str
    scopes: list[str]
    issued_at: datetime
    expires_at: datetime | None = None
    invalid_subcode: int | None = None
    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_TASKS))


@dataclass(frozen=True)
class Delivery:
    """A message the Page sent through the Send API (the ledger kill tests read)."""

    page_id: str
    user_id: str
    message_id: str
    text: str
    at: datetime
    messaging_type: str
    tag: str | None
    comment_id: str | None


DEFAULT_SCOPES = [
    "pages_show_list",
    "pages_messaging",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_metadata",
    "pages_manage_engagement",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
]


class State:
    """All sandbox objects, indexed by id. Ids come from a seeded RNG, so they are deterministic."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(f"ids:{seed}")
        self.pages: dict[str, Page] = {}
        self.users: dict[str, User] = {}
        self.conversations: dict[str, Conversation] = {}
        self.conv_by_user: dict[tuple[str, str], str] = {}
        self.messages: dict[str, Message] = {}
        self.posts: dict[str, Post] = {}
        self.comments: dict[str, Comment] = {}
        self.tokens: dict[str, Token] = {}
        self.deliveries: list[Delivery] = []
        self.ig_accounts: dict[str, IgAccount] = {}
        self.ig_by_page: dict[str, str] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.ig_comments: dict[str, IgComment] = {}
        self._seq = 0
        self._post_num = 0
        self.activity_gen = 0
        """Bumped on every customer message or comment (cache key of the engaged-user counts)."""
        self._sorted: dict[str, tuple[int, list[Conversation]]] = {}

    # -- ids -------------------------------------------------------------------------------

    def next_seq(self) -> int:
        """A global, strictly increasing creation counter (tie-breaker for equal times)."""
        self._seq += 1
        return self._seq

    def _digits(self, n: int) -> str:
        return str(self.rng.randrange(10 ** (n - 1), 10**n))

    def _b64(self, nbytes: int) -> str:
        raw = self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def new_numeric_id(self, digits: int) -> str:
        """A fresh numeric id (page ids 15 digits, PSIDs 16) not used by anything yet."""
        while True:
            candidate = self._digits(digits)
            taken = (self.pages, self.users, self.ig_accounts, self.ig_media)
            if not any(candidate in table for table in taken):
                return candidate

    # -- pages, users, tokens --------------------------------------------------------------

    def add_page(self, name: str, page_id: str | None, human_agent: bool) -> str:
        """Create a page and return its id."""
        pid = page_id or self.new_numeric_id(15)
        if pid in self.pages:
            raise ValueError(f"page {pid} exists")
        self.pages[pid] = Page(id=pid, name=name, human_agent=human_agent)
        return pid

    def add_user(
        self,
        name: str,
        user_id: str | None,
        blocked: bool,
        unavailable: bool = False,
        *,
        platform: str = "messenger",
        username: str | None = None,
    ) -> str:
        """Create a customer and return the PSID (or the IGSID of an Instagram customer)."""
        uid = user_id or self.new_numeric_id(17 if platform == "instagram" else 16)
        if uid in self.users:
            raise ValueError(f"user {uid} exists")
        self.users[uid] = User(
            id=uid,
            name=name,
            blocked=blocked,
            unavailable=unavailable,
            platform=platform,
            username=username,
        )
        return uid

    def issue_token(
        self,
        page_id: str,
        scopes: list[str] | None,
        now: datetime,
        tasks: list[str] | None = None,
    ) -> str:
        """A new never-expiring page token (looks like the real ``EAA…`` tokens)."""
        if page_id not in self.pages:
            raise KeyError(page_id)
        value = "EAAS" + self._b64(120).replace("-", "A").replace("_", "B")
        self.tokens[value] = Token(
            value=value,
            page_id=page_id,
            scopes=list(scopes if scopes is not None else DEFAULT_SCOPES),
            issued_at=now,
            tasks=list(tasks if tasks is not None else DEFAULT_TASKS),
        )
        return value

    # -- conversations and messages --------------------------------------------------------

    def conversation_for(self, page_id: str, user_id: str) -> Conversation:
        """The page↔user conversation, created on first use."""
        key = (page_id, user_id)
        cid = self.conv_by_user.get(key)
        if cid is not None:
            return self.conversations[cid]
        if page_id not in self.pages:
            raise KeyError(page_id)
        if user_id not in self.users:
            raise KeyError(user_id)
        num = self._digits(15)
        if self.users[user_id].platform == "instagram":
            conv = Conversation(
                id="aWdfZAG06" + self._b64(45),
                page_id=page_id,
                user_id=user_id,
                num=num,
                platform="instagram",
            )
        else:
            conv = Conversation(id="t_" + num, page_id=page_id, user_id=user_id, num=num)
        self.conversations[conv.id] = conv
        self.conv_by_user[key] = conv.id
        self.pages[page_id].conversations.append(conv.id)
        return conv

    def add_message(
        self,
        page_id: str,
        user_id: str,
        text: str,
        at: datetime,
        *,
        from_page: bool,
        attachments: list[dict[str, Any]] | None = None,
        sticker: str | None = None,
        shares: list[dict[str, Any]] | None = None,
        is_unsupported: bool = False,
        story: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> Message:
        """Append a message (kept in time order) and update the conversation's counters."""
        conv = self.conversation_for(page_id, user_id)
        atts = []
        for att in attachments or []:
            att = dict(att)
            att.setdefault("id", self._digits(16))
            atts.append(att)
        kept_shares = []
        for share in shares or []:
            share = dict(share)
            share.setdefault("id", self._digits(16))
            kept_shares.append(share)
        mid = "m_" + self._b64(33)
        if conv.platform == "instagram":
            mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj" + self._b64(84)
        msg = Message(
            id=mid,
            conv_id=conv.id,
            seq=self.next_seq(),
            sender_id=page_id if from_page else user_id,
            recipient_id=user_id if from_page else page_id,
            text=text,
            at=at,
            us=to_us(at),
            attachments=atts,
            sticker=sticker,
            shares=kept_shares,
            is_unsupported=is_unsupported,
            story=story,
            reply_to=reply_to,
        )
        if not conv.messages or conv.messages[-1].key <= msg.key:
            conv.messages.append(msg)
        else:
            insort(conv.messages, msg, key=lambda m: m.key)
        conv.unread = 0 if from_page else conv.unread + 1
        if not from_page:
            self.activity_gen += 1
            if conv.folder == "page_done":
                # A customer writing again takes a Done thread back to the inbox, as Meta's
                # Page inbox does; spam and other stay where they are.
                conv.folder = "inbox"
        self.messages[msg.id] = msg
        self.pages[page_id].generation += 1
        return msg

    def sorted_conversations(self, page_id: str, platform: str = "messenger") -> list[Conversation]:
        """The page's conversations of one platform by ``updated_time`` descending (cached)."""
        page = self.pages[page_id]
        key = f"{page_id}:{platform}"
        cached = self._sorted.get(key)
        if cached is not None and cached[0] == page.generation:
            return cached[1]
        convs = [self.conversations[c] for c in page.conversations]
        convs = [c for c in convs if c.messages and c.platform == platform]
        convs.sort(key=lambda c: (-c.updated_us, c.id))
        self._sorted[key] = (page.generation, convs)
        return convs

    # -- posts and comments ----------------------------------------------------------------

    def add_post(
        self,
        page_id: str,
        message: str,
        at: datetime,
        *,
        kind: str = "post",
        author_id: str | None = None,
        ranked: bool = False,
    ) -> str:
        """Create a post (id ``{page_id}_{n}``) or a reel (a video: a bare numeric id)."""
        if page_id not in self.pages:
            raise KeyError(page_id)
        if kind not in ("post", "reel"):
            raise ValueError(f"unknown post kind {kind!r} (post or reel)")
        if author_id is not None and author_id not in self.users:
            raise KeyError(author_id)
        self._post_num += 1
        pid = self._digits(16) if kind == "reel" else f"{page_id}_{self._digits(16)}"
        us = to_us(at)
        self.posts[pid] = Post(
            id=pid,
            page_id=page_id,
            message=message,
            at=at,
            us=us,
            seq=self.next_seq(),
            updated_us=us,
            kind=kind,
            author_id=author_id,
            ranked=ranked,
        )
        self.pages[page_id].posts.append(pid)
        return pid

    def add_comment(
        self,
        post_id: str,
        from_id: str,
        text: str,
        at: datetime,
        *,
        parent_id: str | None,
        attachment: dict[str, Any] | None = None,
        likes: int = 0,
    ) -> str:
        """Create a comment; a reply to a reply attaches to the top-level one, as on Facebook."""
        post = self.posts[post_id]
        if parent_id is not None:
            parent = self.comments[parent_id]
            if parent.post_id != post_id:
                raise ValueError("parent comment is on another post")
            if parent.parent_id is not None:
                parent_id = parent.parent_id
        post_num = post_id.split("_", 1)[-1]
        cid = f"{post_num}_{self._digits(16)}"
        us = to_us(at)
        comment = Comment(
            id=cid,
            post_id=post_id,
            parent_id=parent_id,
            from_id=from_id,
            message=text,
            at=at,
            us=us,
            seq=self.next_seq(),
            attachment=attachment,
            likes=likes,
        )
        self.comments[cid] = comment
        if from_id not in self.pages:
            self.activity_gen += 1
        post.comments.append(cid)
        if len(post.comments) > 1 and self.comments[post.comments[-2]].key > comment.key:
            post.comments.sort(key=lambda c: self.comments[c].key)
        if parent_id is not None:
            parent = self.comments[parent_id]
            parent.replies.append(cid)
            if len(parent.replies) > 1 and self.comments[parent.replies[-2]].key > comment.key:
                parent.replies.sort(key=lambda c: self.comments[c].key)
        post.updated_us = max(post.updated_us, us)
        return cid

    def live_comment(self, comment_id: str) -> Comment | None:
        """The comment unless it (or its parent) was deleted."""
        comment = self.comments.get(comment_id)
        if comment is None or comment.deleted:
            return None
        if comment.parent_id is not None and self.comments[comment.parent_id].deleted:
            return None
        return comment

    def page_of_comment(self, comment: Comment) -> str:
        """The id of the page that owns the comment's post."""
        return self.posts[comment.post_id].page_id

    # -- Instagram ---------------------------------------------------------------------------

    def add_instagram(
        self, page_id: str, username: str, name: str, ig_id: str | None, **options: Any
    ) -> str:
        """Link an Instagram professional account (id ``1784…``) to a page."""
        if page_id not in self.pages:
            raise KeyError(page_id)
        if page_id in self.ig_by_page:
            raise ValueError(f"page {page_id} already has an Instagram account")
        iid = ig_id or "1784" + self._digits(13)
        self.ig_accounts[iid] = IgAccount(
            id=iid, page_id=page_id, username=username, name=name, **options
        )
        self.ig_by_page[page_id] = iid
        return iid

    def add_ig_media(
        self,
        ig_id: str,
        caption: str,
        at: datetime,
        *,
        media_type: str = "IMAGE",
        product: str = "FEED",
    ) -> str:
        """A media object of the account (ids are 17–18 digits)."""
        account = self.ig_accounts[ig_id]
        mid = self._digits(17)
        self.ig_media[mid] = IgMedia(
            id=mid,
            ig_id=ig_id,
            caption=caption,
            at=at,
            us=to_us(at),
            seq=self.next_seq(),
            media_type=media_type,
            product=product,
        )
        account.media.append(mid)
        return mid

    def add_ig_comment(
        self,
        media_id: str,
        from_id: str,
        text: str,
        at: datetime,
        *,
        parent_id: str | None = None,
        like_count: int = 0,
    ) -> str:
        """A comment or reply; a reply to a reply attaches to its top-level comment."""
        media = self.ig_media[media_id]
        if parent_id is not None:
            parent = self.ig_comments[parent_id]
            if parent.media_id != media_id:
                raise ValueError("parent comment is on another media")
            if parent.parent_id is not None:
                parent_id = parent.parent_id
        cid = self._digits(17)
        comment = IgComment(
            id=cid,
            media_id=media_id,
            parent_id=parent_id,
            from_id=from_id,
            text=text,
            at=at,
            us=to_us(at),
            seq=self.next_seq(),
            like_count=like_count,
        )
        self.ig_comments[cid] = comment
        media.comments.append(cid)
        media.comments.sort(key=lambda c: (self.ig_comments[c].us, self.ig_comments[c].seq))
        if parent_id is not None:
            self.ig_comments[parent_id].replies.append(cid)
        if from_id != media.ig_id:
            self.activity_gen += 1
        return cid

    def live_ig_comment(self, comment_id: str) -> IgComment | None:
        """The IG comment unless it (or its parent) was deleted."""
        comment = self.ig_comments.get(comment_id)
        if comment is None or comment.deleted:
            return None
        if comment.parent_id is not None and self.ig_comments[comment.parent_id].deleted:
            return None
        return comment
