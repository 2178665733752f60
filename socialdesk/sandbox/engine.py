"""``Sandbox``: the public face of the Graph API fake (state, clock, lock, counters, faults).

Tests, the CLI (``sandbox serve``, ``demo``) and the benchmarks build one, fill it (or call
``demo.build_demo``), and talk to it through ``transport()`` (in-process httpx) or ``serve()``
(loopback HTTP). All state changes go through ``lock``, shared by the server's threads, the
activity timer and the public methods below.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .faults import FaultSpec
from .handler import Reply, handle
from .model import FOLDERS, Comment, Delivery, IgComment, Message, State, to_us
from .usage import BUC_WINDOW_S, Meter

if TYPE_CHECKING:
    from .server import SandboxServer
    from .transport import SandboxTransport


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


class Sandbox:
    """A faithful, in-memory Graph API (the subset GRAPH_API.md pins) with a controllable clock.

    The clock is real time unless ``set_time`` froze it; ``advance`` moves it either way. The
    2 calls/s conversations limit and the usage windows run on this clock, so a test that wants
    to wait should pass ``sb.advance`` as its sleep function.

    Budgets (``usage.py``): by default Meta's BUC model (200 × engaged users Messenger calls and
    4,800 × engaged users Page calls per rolling 24 h, engaged users derived from the data or set
    with ``set_engaged_users``); ``usage_budget=N`` replaces both by N calls per
    ``usage_window_s``. ``feed_cap`` is the ~600 ranked posts per year /feed lists (None: no cap).
    ``app_id``/``app_secret`` are the app's credentials (``app_credentials()``; the app token
    ``APPID|APPSECRET`` is what ``debug_token`` needs); passing ``app_secret`` also makes every
    call require ``appsecret_proof``, as before.
    """

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        rate_limit: bool = True,
        faults: FaultSpec | str | None = None,
        seed: int = 0,
        *,
        app_secret: str | None = None,
        usage_budget: int | None = None,
        usage_window_s: float = BUC_WINDOW_S,
        data_budget: int = 2500,
        app_id: str | None = None,
        engaged_users: int | None = None,
        feed_cap: int | None = 600,
        lenient_debug_token: bool = False,
    ) -> None:
        self.state = State(seed)
        self.lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._frozen: datetime | None = None
        self._offset = timedelta()
        self.rate_limit = rate_limit
        """False switches the 2 calls/s conversations limit off (benchmarks)."""
        self._faults: FaultSpec | None = None
        self.faults = faults
        self.app_secret = app_secret
        """When set, every call must carry a valid ``appsecret_proof``."""
        self.app_id = app_id or str(1_000_000_000_000_000 + seed)
        self._app_secret_value = (
            app_secret or hashlib.sha256(f"sandbox app secret {seed}".encode()).hexdigest()[:32]
        )
        self.app_name = "socialdesk sandbox"
        self.admin_user_id = str(100_000_000_000_000 + seed)
        self.meter = Meter(flat_budget=usage_budget, window_s=usage_window_s)
        self.engaged_users_default = engaged_users
        """Engaged users of every page that has no count of its own (None: derived)."""
        self.data_budget = data_budget
        """``limit`` × nested limit above this answers code 1 "reduce the amount of data"."""
        self.feed_cap = feed_cap
        """Posts per calendar year that /feed, /posts and /published_posts list (ranked)."""
        self.lenient_debug_token = lenient_debug_token
        """False (the default) refuses ``debug_token`` called with a Page token, as Graph does:
        ``(#100) You must provide an app access token…`` (GRAPH_API.md §20.4). True is the old
        leniency, for a test that needs it."""
        self.calls = 0
        self.calls_by_edge: Counter[str] = Counter()
        self._app_calls: deque[int] = deque()

    # -- budgets ---------------------------------------------------------------------------

    @property
    def usage_budget(self) -> int | None:
        """A flat budget (calls per ``usage_window_s``) replacing Meta's model; None = Meta's."""
        return self.meter.flat_budget

    @usage_budget.setter
    def usage_budget(self, value: int | None) -> None:
        self.meter.flat_budget = value

    @property
    def usage_window_s(self) -> float:
        """The rolling window of the BUC counts (24 h, as Meta's)."""
        return self.meter.window_s

    @usage_window_s.setter
    def usage_window_s(self, value: float) -> None:
        self.meter.window_s = value

    def set_engaged_users(self, page_id: str, count: int | None) -> None:
        """Fix the page's engaged-user count for the BUC budgets (None: derive it again)."""
        with self.lock:
            self.state.pages[page_id].engaged_users = count

    def engaged_users(self, page_id: str, kind: str = "messenger") -> int:
        """The engaged-user count behind the ``kind`` budget right now (``messenger``/``pages``)."""
        with self.lock:
            return self.meter.engaged_users(self.state, self.state.pages[page_id], kind, self.now())

    def app_credentials(self) -> tuple[str, str]:
        """``(app_id, app_secret)`` of the sandbox's app."""
        return self.app_id, self._app_secret_value

    def app_token(self) -> str:
        """The app access token ``APPID|APPSECRET`` (what ``debug_token`` needs as caller)."""
        return f"{self.app_id}|{self._app_secret_value}"

    # -- faults ----------------------------------------------------------------------------

    @property
    def faults(self) -> FaultSpec | None:
        """The active fault spec (assign a ``FaultSpec``, a spec string, or None)."""
        return self._faults

    @faults.setter
    def faults(self, value: FaultSpec | str | None) -> None:
        self._faults = FaultSpec.parse(value) if isinstance(value, str) else value

    # -- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox time (aware UTC)."""
        base = self._frozen if self._frozen is not None else _aware(self._clock())
        return base + self._offset

    def set_time(self, dt: datetime) -> None:
        """Freeze the clock at ``dt`` (it then moves only by ``advance``)."""
        with self.lock:
            self._frozen = _aware(dt)
            self._offset = timedelta()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (usable as an injected ``sleep``)."""
        with self.lock:
            self._offset += timedelta(seconds=seconds)

    # -- pages, users, tokens --------------------------------------------------------------

    def add_page(
        self,
        name: str,
        *,
        page_id: str | None = None,
        human_agent: bool = False,
        advanced_access: bool = True,
    ) -> str:
        """Create a page; ``human_agent`` grants the Human Agent feature (7-day tag).

        ``advanced_access=False``: the app has only Standard Access for this Page's Messenger
        data, so conversation reads and sends answer ``code 1, error_subcode 99``.
        """
        with self.lock:
            pid = self.state.add_page(name, page_id, human_agent)
            page = self.state.pages[pid]
            page.advanced_access = advanced_access
            page.engaged_users = self.engaged_users_default
            return pid

    def set_advanced_access(self, page_id: str, granted: bool) -> None:
        """Grant or withdraw Advanced Access for the page's Messenger data (1/99 when off)."""
        with self.lock:
            self.state.pages[page_id].advanced_access = granted

    def set_human_agent(self, page_id: str, granted: bool) -> None:
        """Grant or withdraw the Human Agent feature."""
        with self.lock:
            self.state.pages[page_id].human_agent = granted

    def issue_token(
        self,
        page_id: str,
        *,
        scopes: Sequence[str] | None = None,
        tasks: Sequence[str] | None = None,
    ) -> str:
        """A new never-expiring page token.

        ``tasks`` are the Page tasks of the token's person (default: an admin's). Without
        ``MODERATE`` comments come back without ``id``; without ``MESSAGING`` and ``MODERATE``
        the Conversations API refuses the token.
        """
        with self.lock:
            return self.state.issue_token(
                page_id,
                list(scopes) if scopes else None,
                self.now(),
                list(tasks) if tasks is not None else None,
            )

    def invalidate_token(self, token: str, subcode: int = 460) -> None:
        """Make the token fail with 190/``subcode`` (460 = password changed)."""
        with self.lock:
            self.state.tokens[token].invalid_subcode = subcode

    def expire_token(self, token: str) -> None:
        """Make the token fail with 190/463 (expired a second ago)."""
        with self.lock:
            self.state.tokens[token].expires_at = self.now() - timedelta(seconds=1)

    def require_appsecret_proof(self, app_secret: str | None) -> None:
        """Require ``appsecret_proof`` on every call (None switches it off)."""
        with self.lock:
            self.app_secret = app_secret

    def add_user(
        self,
        name: str,
        *,
        user_id: str | None = None,
        blocked: bool = False,
        unavailable: bool = False,
    ) -> str:
        """Create a customer; ``blocked`` users answer sends with 551/1545041, ``unavailable``
        ones (deactivated, messages off) with ``(#200) This person isn't available right now``.
        """
        with self.lock:
            return self.state.add_user(name, user_id, blocked, unavailable)

    def block_user(self, user_id: str, blocked: bool = True) -> None:
        """Block (or unblock) a customer after the fact."""
        with self.lock:
            self.state.users[user_id].blocked = blocked

    def set_unavailable(self, user_id: str, unavailable: bool = True) -> None:
        """Make a customer unreachable (or reachable again) after the fact."""
        with self.lock:
            self.state.users[user_id].unavailable = unavailable

    # -- content ---------------------------------------------------------------------------

    def add_message(
        self,
        page_id: str,
        user_id: str,
        text: str,
        *,
        at: datetime | None = None,
        from_page: bool = False,
        attachments: Sequence[Mapping[str, Any]] = (),
        sticker: str | None = None,
        shares: Sequence[Mapping[str, Any]] = (),
        is_unsupported: bool = False,
        story: Mapping[str, Any] | None = None,
        reply_to: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a message (creating the conversation if needed); return the message id.

        ``from_page=True`` is a Page reply made elsewhere (Meta's inbox): it shows in reads but
        is not a delivery. Attachments are raw Graph attachment dicts (see ``image_attachment``).
        With an Instagram customer (``add_ig_user``) the message goes to the Instagram thread;
        ``story`` (``{"mention": {...}}`` / ``{"reply_to": {...}}``) and ``reply_to`` are
        Instagram message fields.
        """
        with self.lock:
            msg = self.state.add_message(
                page_id,
                user_id,
                text,
                _aware(at) if at else self.now(),
                from_page=from_page,
                attachments=[dict(a) for a in attachments],
                sticker=sticker,
                shares=[dict(s) for s in shares],
                is_unsupported=is_unsupported,
                story=dict(story) if story is not None else None,
                reply_to=dict(reply_to) if reply_to is not None else None,
            )
            return msg.id

    def conversation_id(self, page_id: str, user_id: str) -> str:
        """The conversation id between a page and a user (KeyError when none)."""
        with self.lock:
            return self.state.conv_by_user[(page_id, user_id)]

    def set_folder(self, page_id: str, user_id: str, folder: str) -> None:
        """Move the page↔user conversation to a folder (inbox, page_done, other, spam)."""
        if folder not in FOLDERS:
            raise ValueError(f"unknown folder {folder!r} (one of {', '.join(FOLDERS)})")
        with self.lock:
            conv = self.state.conversations[self.state.conv_by_user[(page_id, user_id)]]
            conv.folder = folder
            self.state.pages[page_id].generation += 1

    def add_post(
        self,
        page_id: str,
        message: str,
        *,
        at: datetime | None = None,
        ranked: bool = False,
        kind: str = "post",
        from_user: str | None = None,
    ) -> str:
        """Create a Page post; returns ``{page_id}_{n}`` (a reel: its video id).

        ``ranked``: Graph answers the post's comments most relevant (most liked) first whatever
        ``order`` asks. ``kind="reel"`` makes a Reel (see ``add_reel``). ``from_user``: a
        visitor post written by that customer (in /feed, not in /posts or /published_posts).
        """
        with self.lock:
            return self.state.add_post(
                page_id,
                message,
                _aware(at) if at else self.now(),
                kind=kind,
                author_id=from_user,
                ranked=ranked,
            )

    def add_reel(
        self, page_id: str, description: str, *, at: datetime | None = None, ranked: bool = False
    ) -> str:
        """Create a Reel (listed by /{page}/video_reels only); returns its video id."""
        return self.add_post(page_id, description, at=at, ranked=ranked, kind="reel")

    def add_comment(
        self,
        post_id: str,
        user_id: str | None,
        text: str,
        *,
        at: datetime | None = None,
        parent_id: str | None = None,
        attachment: Mapping[str, Any] | None = None,
        likes: int = 0,
    ) -> str:
        """Add a comment (``user_id`` None = written by the Page); returns the comment id."""
        with self.lock:
            post = self.state.posts[post_id]
            author = user_id if user_id is not None else post.page_id
            return self.state.add_comment(
                post_id,
                author,
                text,
                _aware(at) if at else self.now(),
                parent_id=parent_id,
                attachment=dict(attachment) if attachment is not None else None,
                likes=likes,
            )

    def set_likes(self, comment_id: str, likes: int) -> None:
        """Set a comment's like count (what ranked posts order by)."""
        with self.lock:
            self.state.comments[comment_id].likes = likes

    # -- Instagram -------------------------------------------------------------------------

    def add_instagram(
        self,
        page_id: str,
        username: str,
        *,
        name: str | None = None,
        ig_id: str | None = None,
        business_account: bool = True,
        messages_access: bool = True,
        locale: str = "en_US",
    ) -> str:
        """Link an Instagram professional account to the page; returns its IG user id.

        ``business_account=False``: linked in the Page settings only (it shows under
        ``connected_instagram_account`` alone). ``messages_access=False``: the owner's
        "Allow access to messages" toggle is off. ``locale`` localises Instagram errors.
        """
        with self.lock:
            return self.state.add_instagram(
                page_id,
                username,
                name if name is not None else username,
                ig_id,
                business_account=business_account,
                messages_access=messages_access,
                locale=locale,
            )

    def instagram_id(self, page_id: str) -> str:
        """The IG user id linked to the page (KeyError when none)."""
        with self.lock:
            return self.state.ig_by_page[page_id]

    def set_messages_access(self, ig_id: str, allowed: bool) -> None:
        """Flip the account's "Allow access to messages" toggle."""
        with self.lock:
            self.state.ig_accounts[ig_id].messages_access = allowed

    def set_ig_impressions(self, ig_id: str, impressions: int | None) -> None:
        """Fix the impressions behind the ``instagram`` budget (None: derive them again)."""
        with self.lock:
            self.state.ig_accounts[ig_id].impressions = impressions

    def add_ig_user(
        self,
        username: str,
        *,
        name: str = "",
        user_id: str | None = None,
        blocked: bool = False,
    ) -> str:
        """An Instagram customer: returns the IGSID (``name`` known only after consent)."""
        with self.lock:
            return self.state.add_user(
                name, user_id, blocked, platform="instagram", username=username
            )

    def set_ig_folder(self, page_id: str, user_id: str, folder: str) -> None:
        """File an Instagram thread under ``requests`` (hidden after 30 idle days) or back."""
        if folder not in ("inbox", "requests"):
            raise ValueError("Instagram threads are in inbox or requests")
        with self.lock:
            conv = self.state.conversations[self.state.conv_by_user[(page_id, user_id)]]
            conv.folder = folder
            self.state.pages[page_id].generation += 1

    def add_ig_media(
        self,
        ig_id: str,
        caption: str,
        *,
        at: datetime | None = None,
        media_type: str = "IMAGE",
        product: str = "FEED",
    ) -> str:
        """A media object (``product``: FEED, REELS, AD or STORY); returns its id."""
        with self.lock:
            return self.state.add_ig_media(
                ig_id,
                caption,
                _aware(at) if at else self.now(),
                media_type=media_type,
                product=product,
            )

    def add_ig_comment(
        self,
        media_id: str,
        user_id: str | None,
        text: str,
        *,
        at: datetime | None = None,
        parent_id: str | None = None,
        like_count: int = 0,
    ) -> str:
        """An Instagram comment or reply (``user_id`` None = the business)."""
        with self.lock:
            author = user_id if user_id is not None else self.state.ig_media[media_id].ig_id
            return self.state.add_ig_comment(
                media_id,
                author,
                text,
                _aware(at) if at else self.now(),
                parent_id=parent_id,
                like_count=like_count,
            )

    def ig_comment(self, comment_id: str) -> IgComment:
        """An Instagram comment by id, deleted or not (for assertions)."""
        return self.state.ig_comments[comment_id]

    def private_reply_elsewhere(self, comment_id: str, text: str) -> str:
        """A private reply sent outside the API (Meta's inbox): returns the message id.

        The comment then shows ``can_reply_privately: false`` and its
        ``private_reply_conversation``, and an API private reply to it answers 10900. It is
        not a delivery (the app did not send it).
        """
        with self.lock:
            st = self.state
            ig_comment = st.ig_comments.get(comment_id)
            if ig_comment is not None:
                media = st.ig_media[ig_comment.media_id]
                if ig_comment.from_id == media.ig_id or ig_comment.private_reply_mid:
                    raise ValueError("no private reply possible to this comment")
                page = st.ig_accounts[media.ig_id].page_id
                msg = st.add_message(page, ig_comment.from_id, text, self.now(), from_page=True)
                ig_comment.private_reply_mid = msg.id
                return msg.id
            comment = st.comments[comment_id]
            page_id = st.page_of_comment(comment)
            if comment.from_id == page_id:
                raise ValueError("the Page cannot reply privately to its own comment")
            if comment.private_reply_mid is not None:
                raise ValueError("the comment already has a private reply")
            msg = st.add_message(page_id, comment.from_id, text, self.now(), from_page=True)
            comment.private_reply_mid = msg.id
            return msg.id

    def message(self, message_id: str) -> Message:
        """A message by id (for assertions)."""
        return self.state.messages[message_id]

    def comment(self, comment_id: str) -> Comment:
        """A comment by id, deleted or not (for assertions)."""
        return self.state.comments[comment_id]

    def deliveries(self, page_id: str, user_id: str | None = None) -> list[Delivery]:
        """Messages the Page sent through the Send API, oldest first."""
        with self.lock:
            return [
                d
                for d in self.state.deliveries
                if d.page_id == page_id and (user_id is None or d.user_id == user_id)
            ]

    # -- serving ---------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b"") -> Reply:
        """Answer one request (what the transport and the server call)."""
        return handle(self, method, url, headers, body)

    def transport(self, *, sleep: Callable[[float], None] | None = None) -> SandboxTransport:
        """An in-process ``httpx.BaseTransport`` (timeouts raise ``httpx.ReadTimeout``;
        ``sleep`` paces ``drip`` answers, ``time.sleep`` by default)."""
        from .transport import SandboxTransport

        return SandboxTransport(self, sleep=sleep)

    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0.0,
        stall_s: float | None = None,
    ) -> SandboxServer:
        """Start a loopback HTTP server in a background thread (``.base_url``, ``.shutdown()``)."""
        from .server import SandboxServer

        return SandboxServer(self, host, port, latency_ms=latency_ms, stall_s=stall_s)

    # -- counters --------------------------------------------------------------------------

    def reset_counters(self) -> None:
        """Zero ``calls``, ``calls_by_edge``, the usage windows and the 2 calls/s buckets."""
        with self.lock:
            self.calls = 0
            self.calls_by_edge.clear()
            self._app_calls.clear()
            self.meter.reset()

    def app_usage(self, now: datetime) -> dict[str, int]:
        """The ``X-App-Usage`` object of an app-token call (Platform limit: 200 calls/hour for
        an app whose one daily user is its developer)."""
        now_us = to_us(now)
        self._app_calls.append(now_us)
        while self._app_calls and self._app_calls[0] <= now_us - 3_600_000_000:
            self._app_calls.popleft()
        pct = min(100, len(self._app_calls) * 100 // 200)
        return {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}

    def buc_usage(self, page_id: str, now: datetime, regain_minutes: int = 0) -> dict[str, Any]:
        """The ``X-Business-Use-Case-Usage`` object keyed by the page id."""
        page = self.state.pages[page_id]
        entries = self.meter.buc_entries(self.state, page, now, force_regain=regain_minutes)
        return {page_id: entries}


def image_attachment(name: str, width: int = 1080, height: int = 1350) -> dict[str, Any]:
    """A Graph-shaped image attachment for ``Sandbox.add_message``."""
    url = f"https://scontent.xx.fbcdn.net/v/t1.15752-9/{name}?_nc_sandbox=1"
    return {
        "mime_type": "image/jpeg",
        "name": name,
        "size": width * height // 8,
        "image_data": {
            "width": width,
            "height": height,
            "max_width": width,
            "max_height": height,
            "url": url,
            "preview_url": url + "&preview=1",
            "image_type": 1,
            "render_as_sticker": False,
        },
    }


def file_attachment(
    name: str, mime_type: str = "application/pdf", size: int = 48_213
) -> dict[str, Any]:
    """A Graph-shaped file attachment for ``Sandbox.add_message``."""
    return {
        "mime_type": mime_type,
        "name": name,
        "size": size,
        "file_url": f"https://cdn.fbsbx.com/v/t59.2708-21/{name}?_nc_sandbox=1",
    }
