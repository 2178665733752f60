"""``Sandbox``: the public face of the Graph API fake (state, clock, lock, counters, faults).

Tests, the CLI (``sandbox serve``, ``demo``) and the benchmarks build one, fill it (or call
``demo.build_demo``), and talk to it through ``transport()`` (in-process httpx) or ``serve()``
(loopback HTTP). All state changes go through ``lock``, shared by the server's threads, the
activity timer and the public methods below.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .faults import FaultSpec
from .handler import Reply, handle
from .model import Comment, Delivery, Message, State, to_us

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
    """

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        rate_limit: bool = True,
        faults: FaultSpec | str | None = None,
        seed: int = 0,
        *,
        app_secret: str | None = None,
        usage_budget: int = 1000,
        usage_window_s: float = 3600.0,
        data_budget: int = 2500,
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
        self.app_id = str(1_000_000_000_000_000 + seed)
        self.app_name = "socialdesk sandbox"
        self.admin_user_id = str(100_000_000_000_000 + seed)
        self.usage_budget = usage_budget
        """Calls per usage window that make 100 % in the usage headers."""
        self.usage_window_s = usage_window_s
        self.data_budget = data_budget
        """``limit`` × nested limit above this answers code 1 "reduce the amount of data"."""
        self.calls = 0
        self.calls_by_edge: Counter[str] = Counter()
        self._app_calls: deque[int] = deque()
        self._page_calls: dict[str, deque[int]] = {}
        self._messenger_calls: dict[str, deque[int]] = {}
        self._conv_calls: dict[str, deque[int]] = {}

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

    def add_page(self, name: str, *, page_id: str | None = None, human_agent: bool = False) -> str:
        """Create a page; ``human_agent`` grants the Human Agent feature (7-day tag)."""
        with self.lock:
            return self.state.add_page(name, page_id, human_agent)

    def set_human_agent(self, page_id: str, granted: bool) -> None:
        """Grant or withdraw the Human Agent feature."""
        with self.lock:
            self.state.pages[page_id].human_agent = granted

    def issue_token(self, page_id: str, *, scopes: Sequence[str] | None = None) -> str:
        """A new never-expiring page token."""
        with self.lock:
            return self.state.issue_token(page_id, list(scopes) if scopes else None, self.now())

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

    def add_user(self, name: str, *, user_id: str | None = None, blocked: bool = False) -> str:
        """Create a customer; ``blocked`` users answer sends with 551/1545041."""
        with self.lock:
            return self.state.add_user(name, user_id, blocked)

    def block_user(self, user_id: str, blocked: bool = True) -> None:
        """Block (or unblock) a customer after the fact."""
        with self.lock:
            self.state.users[user_id].blocked = blocked

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
    ) -> str:
        """Add a message (creating the conversation if needed); return the message id.

        ``from_page=True`` is a Page reply made elsewhere (Meta's inbox): it shows in reads but
        is not a delivery. Attachments are raw Graph attachment dicts (see ``image_attachment``).
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
            )
            return msg.id

    def conversation_id(self, page_id: str, user_id: str) -> str:
        """The conversation id between a page and a user (KeyError when none)."""
        with self.lock:
            return self.state.conv_by_user[(page_id, user_id)]

    def add_post(self, page_id: str, message: str, *, at: datetime | None = None) -> str:
        """Create a Page post; returns ``{page_id}_{n}``."""
        with self.lock:
            return self.state.add_post(page_id, message, _aware(at) if at else self.now())

    def add_comment(
        self,
        post_id: str,
        user_id: str | None,
        text: str,
        *,
        at: datetime | None = None,
        parent_id: str | None = None,
        attachment: Mapping[str, Any] | None = None,
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
            )

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

    def transport(self) -> SandboxTransport:
        """An in-process ``httpx.BaseTransport`` (timeouts raise ``httpx.ReadTimeout``)."""
        from .transport import SandboxTransport

        return SandboxTransport(self)

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
        """Zero ``calls``, ``calls_by_edge``, the usage windows and the 2 calls/s window."""
        with self.lock:
            self.calls = 0
            self.calls_by_edge.clear()
            self._app_calls.clear()
            self._page_calls.clear()
            self._messenger_calls.clear()
            self._conv_calls.clear()

    def _trim(self, dq: deque[int], now_us: int, window_us: int) -> None:
        while dq and dq[0] <= now_us - window_us:
            dq.popleft()

    def record_usage(self, page_id: str, now: datetime, *, messenger: bool) -> None:
        """Count one authenticated call in the rolling usage windows."""
        now_us = to_us(now)
        self._app_calls.append(now_us)
        self._page_calls.setdefault(page_id, deque()).append(now_us)
        if messenger:
            self._messenger_calls.setdefault(page_id, deque()).append(now_us)

    def _pct(self, dq: deque[int] | None, now: datetime) -> int:
        if dq is None:
            return 0
        self._trim(dq, to_us(now), int(self.usage_window_s * 1_000_000))
        return min(100, len(dq) * 100 // max(1, self.usage_budget))

    def app_usage(self, now: datetime) -> dict[str, int]:
        """The ``X-App-Usage`` object."""
        pct = self._pct(self._app_calls, now)
        return {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}

    def buc_usage(self, page_id: str, now: datetime, regain_minutes: int = 0) -> dict[str, Any]:
        """The ``X-Business-Use-Case-Usage`` object keyed by the page id."""
        entries = []
        for kind, table in (("pages", self._page_calls), ("messenger", self._messenger_calls)):
            pct = self._pct(table.get(page_id), now)
            if regain_minutes:
                pct = 100
            entries.append(
                {
                    "type": kind,
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain_minutes,
                }
            )
        return {page_id: entries}

    def conversation_call_ok(self, page_id: str, now: datetime) -> bool:
        """The 2 calls/s per page conversations limit (sliding 1 s window of accepted calls)."""
        dq = self._conv_calls.setdefault(page_id, deque())
        now_us = to_us(now)
        self._trim(dq, now_us, 1_000_000)
        if len(dq) >= 2:
            return False
        dq.append(now_us)
        return True


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
