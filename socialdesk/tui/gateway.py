"""The inbox's one door to the layers below: reading threads, triage, replies, sync, stats.

Called by :mod:`socialdesk.tui.app` (and only by it, always from thread workers except the two
cheap reads the first screen needs: :meth:`Gateway.threads` and :meth:`Gateway.rows_by_number`).
No other ``tui`` module imports ``socialdesk.core``, ``socialdesk.store`` or ``socialdesk.config``
(``tests/tui/test_layers_tui.py`` checks it).

The names and shapes follow the application layer being written in ``core/`` (APP_LAYER.md:
``ThreadRow``, ``Listing``, ``ViewSpec``, ``ThreadDetail``, ``TriageResult`` with an undo token,
``ReplyRequest``/``ReplyPreview``/``ReplyOutcome``, ``sync_round``, ``WatchPolicy``). Until that
layer lands, they are implemented here on today's ``core``/``store`` functions; where the store
has no query for what the inbox needs, the SQL is written here, marked ``BRIDGE``, and listed in
the tui report so the lead can move it down (ordered thread numbers, rows by numbers, counts of
several views in one scan, tag counts, a post by id, undo of a triage action, seen-state).

Threads and connections: the gateway is used from the UI thread and from Textual's worker
threads at once. The thread that opened it keeps one connection; every call from another thread
opens its own short-lived connection (SQLite connections are not shared across threads here) with
a smaller page cache, so three or four live workers stay far below the RSS budget. The sync and
the send/hide work get separate Graph clients (a client's pacer, usage and counters are not
written for two threads at once).

Seen-state (the unread marker) has no column yet: it is kept in memory for the life of the
inbox (:meth:`Gateway.mark_seen`), which is reported as the migration the store needs
(``thread_state.seen_at``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from socialdesk.config import Config, PageConfig, load_config
from socialdesk.core.clock import Clock, SystemClock
from socialdesk.core.windows import choose_send_kind, comment_created_at, window_for_conn
from socialdesk.errors import (
    AuthError,
    RefusedError,
    SocialdeskError,
    UsageError,
)
from socialdesk.models import (
    Channel,
    Direction,
    Message,
    OutboxEntry,
    OutboxState,
    Post,
    SendKind,
    Status,
    SyncReport,
    Thread,
    Window,
    utc,
)
from socialdesk.paths import Paths, resolve_paths
from socialdesk.store import outbox as store_outbox
from socialdesk.store import threads as store_threads
from socialdesk.store.db import open_db, transaction
from socialdesk.store.query import CLOSES_SQL, QueryError, compile_query

if TYPE_CHECKING:
    import httpx

    from socialdesk.api.client import GraphClient
    from socialdesk.core.session import Session
    from socialdesk.core.stats import StatsReport

__all__ = [
    "Gateway",
    "HeaderState",
    "Listing",
    "QueryError",
    "ReplyOutcome",
    "ReplyPreview",
    "ReplyRequest",
    "SyncProgress",
    "ThreadDetail",
    "ThreadRow",
    "TriageResult",
    "UndoToken",
    "ViewSpec",
    "WatchDecision",
    "WatchPolicy",
]

Sort = Literal["expires", "newest", "oldest"]

WORKER_CACHE_KIB = 8 * 1024
"""Page cache of a worker's connection (the UI thread's keeps the store's 32 MiB)."""


# ---- read model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadRow:
    """One row of the thread list: the thread, its reply window now, and the unread marker."""

    thread: Thread
    window: Window
    unread: bool


@dataclass(frozen=True)
class Listing:
    """The first rows of a view (what the first screen paints)."""

    rows: list[ThreadRow]
    total: int
    """Rows in ``rows`` (the full count comes later, from :meth:`Gateway.counts`)."""
    truncated: bool
    """Whether more threads match than ``rows`` holds."""


@dataclass(frozen=True)
class ViewSpec:
    """A view of the sidebar: a named query."""

    key: str
    """Stable id: ``awaiting``, ``open``, ``snoozed``, ``done``, ``all``, ``tag:NAME``,
    ``view:NAME``."""
    title: str
    query: str
    kind: Literal["builtin", "tag", "saved"]


BUILTIN_VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("awaiting", "Awaiting reply", "is:open is:awaiting", "builtin"),
    ViewSpec("open", "Open", "is:open", "builtin"),
    ViewSpec("snoozed", "Snoozed", "is:snoozed", "builtin"),
    ViewSpec("done", "Done", "is:done", "builtin"),
    ViewSpec("all", "All", "", "builtin"),
)


@dataclass(frozen=True)
class ThreadDetail:
    """Everything the thread pane shows for one thread."""

    thread: Thread
    window: Window
    messages: list[Message]
    """Oldest first; only the newest ``limit`` of them."""
    has_older: bool
    others: list[ThreadRow]
    """The customer's other threads on this page, newest first."""
    post: Post | None
    reply_targets: list[Message]
    """Comment threads: the customer comment a private reply answers (the top-level comment)."""
    pending: list[OutboxEntry]
    """Sends of this thread not (yet) read back by a sync: sent, unknown, or recently failed."""
    limit: int
    loaded_at: datetime


# ---- triage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prior:
    """One thread's operator state before an action (what undo puts back)."""

    thread_id: str
    number: int
    status: str
    snoozed_until: int | None
    done_at: int | None
    status_at: int | None
    note: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class UndoToken:
    """How to undo one triage action: the prior state and the log rows the action wrote."""

    label: str
    """What was done, for "undone: …" (e.g. ``done #12``)."""
    priors: tuple[_Prior, ...]
    log_ids: tuple[int, ...]
    """``triage_log`` rows written by the action: removed on undo, so an undone ``done`` is not
    counted as done that day by stats."""
    hidden: bool | None = None
    """For hide/unhide: the state to go back to (an API call, not a local change)."""


@dataclass(frozen=True)
class TriageResult:
    """What one triage action did."""

    message: str
    """One line for the operator (already free of customer text, or cleaned)."""
    changed: tuple[int, ...]
    """Numbers of the threads that changed."""
    undo: UndoToken | None
    still_in_view: dict[int, bool] = field(default_factory=dict)
    """Per changed thread: whether it still matches the view the action was taken in."""


# ---- replying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRequest:
    """One reply as the compose box asks for it."""

    text: str | None = None
    template: str | None = None
    private: bool = False
    split: bool = False
    done: bool = False
    human_written: bool = True


@dataclass(frozen=True)
class ReplyPreview:
    """What sending now would do (no network): shown live under the compose box."""

    parts: list[str]
    kind: SendKind | None
    window: Window
    length: int
    limit: int
    recipient: str
    """Who gets it, cleaned of escapes: the customer, or the comment a private reply answers."""
    refusal: SocialdeskError | None
    """Set when the rules refuse it (window closed, private reply used, too long, bidi)."""


@dataclass(frozen=True)
class ReplyOutcome:
    """How a send ended."""

    state: Literal["sent", "refused", "unknown", "failed"]
    entries: list[OutboxEntry]
    kind: SendKind | None
    reason: str | None
    next_step: str | None


# ---- sync, header, watch policy --------------------------------------------------------------


@dataclass(frozen=True)
class SyncProgress:
    """Cumulative progress of a sync round."""

    stage: str
    done: int
    total: int | None


@dataclass(frozen=True)
class HeaderState:
    """The header's facts: page, last sync, headroom, failed edges."""

    page: str
    last_sync_at: datetime | None
    failed: tuple[tuple[str, str], ...]
    """``(edge, error)`` of edges whose latest sync failed (error redacted by the store)."""
    headroom: int | None
    """100 minus the highest usage percentage of the latest response (None: not known yet)."""


@dataclass(frozen=True)
class WatchDecision:
    """When to sync next, and why."""

    seconds: float
    reason: str
    stop: bool = False


class WatchPolicy:
    """The background sync's interval: the configured poll, slowed by quota and errors.

    Stand-in for ``core.syncing.WatchPolicy`` (the fidelity issue owns the real one): near the
    usage limit the interval grows (×2 past 75 %, ×4 past 90 %); a throttled answer waits what
    the API said; transient failures back off exponentially up to 15 minutes; an invalid token
    stops the polling until the operator acts (it would fail every time).
    """

    MAX_BACKOFF_S = 900.0

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = float(poll_seconds)
        self.failures = 0

    def next_interval(
        self, report: SyncReport | None, error: BaseException | None, usage_peak: int | None
    ) -> WatchDecision:
        """The decision after a round that returned ``report`` or raised ``error``."""
        base = self.poll_seconds
        if isinstance(error, AuthError):
            return WatchDecision(base, "token refused: background sync stopped", stop=True)
        if error is not None:
            self.failures += 1
            retry_after = getattr(error, "retry_after", None)
            if isinstance(retry_after, int | float) and retry_after > 0:
                return WatchDecision(max(base, float(retry_after)), "throttled by the API")
            wait = min(self.MAX_BACKOFF_S, base * (2 ** min(self.failures, 8)))
            return WatchDecision(wait, "sync failed: retrying later")
        self.failures = 0
        if usage_peak is not None and usage_peak >= 90:
            return WatchDecision(base * 4, f"API usage at {usage_peak}%: polling slower")
        if usage_peak is not None and usage_peak >= 75:
            return WatchDecision(base * 2, f"API usage at {usage_peak}%: polling slower")
        if report is not None and report.skipped:
            return WatchDecision(base, "another sync of this page was running")
        return WatchDecision(base, "")


# ---- SQL the store does not have yet (BRIDGE) ------------------------------------------------

_FROM = """
FROM threads t
JOIN thread_state s ON s.thread_id = t.id
JOIN thread_numbers n ON n.thread_id = t.id
"""

# BRIDGE: the same columns as store.threads' listing SELECT, so store.threads.thread_from_row
# builds the Thread. Move to store.threads.threads_by_number.
_ROW_SELECT = (
    """
SELECT t.id, t.page_id, t.channel, t.customer_id, t.customer_name, t.post_id,
       t.last_message_at, t.last_inbound_at, t.awaiting_reply, t.request_at, t.snippet,
       t.is_hidden, s.status, s.snoozed_until, s.note, n.number, p.message AS post_message,
       (SELECT group_concat(g.tag, ' ') FROM thread_tags g WHERE g.thread_id = t.id) AS tags
"""
    + _FROM
    + "LEFT JOIN posts p ON p.id = t.post_id\n"
)

# BRIDGE: store.threads' sort orders (private there). Move to store.threads.thread_numbers.
_ORDER: dict[str, str] = {
    "expires": f"({CLOSES_SQL}) IS NULL, {CLOSES_SQL}, t.last_message_at DESC, n.number",
    "newest": "t.last_message_at DESC, n.number DESC",
    "oldest": "COALESCE(t.request_at, t.last_message_at), n.number",
}

_PARAM_RE = re.compile(r":q(\d+)\b")
_TRIAGE_ACTIONS = ("done", "reopen", "snooze", "tag", "untag", "note")
_CHUNK = 500


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _prefixed(where: str, prefix: str) -> str:
    """A compiled query's SQL with its ``:qN`` parameters renamed ``:{prefix}qN`` (several
    queries in one statement); ``:qnow`` and ``:qha`` are shared and stay."""
    return _PARAM_RE.sub(lambda m: f":{prefix}q{m.group(1)}", where)


class Gateway:
    """The inbox's calls into core and store for one Page (see the module docstring)."""

    def __init__(
        self,
        paths: Paths,
        config: Config,
        page: PageConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.paths = paths
        self.config = config
        self.page = page
        self.clock: Clock = clock or SystemClock()
        self.human_agent = config.messaging.human_agent
        self._transport = transport
        self._session_obj: Session | None = None
        self._owner = threading.get_ident()
        paths.ensure()
        self._conn = open_db(paths.db_file)
        self._seen: dict[str, datetime] = {}
        self._seen_lock = threading.Lock()
        self._clients: dict[str, GraphClient] = {}
        self._clients_lock = threading.Lock()
        self._outbox_ready = False
        self._page_recorded = False
        self._send_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        home: str | None = None,
        *,
        page: str | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Gateway:
        """The gateway for ``page`` (default: the configured default page) under ``home``."""
        from socialdesk.core.session import Session

        paths = resolve_paths(home)
        config = load_config(paths)
        session = Session(paths, config, clock, transport=transport)
        page_cfg = session.page(page)
        return cls(paths, config, page_cfg, clock=clock, transport=transport)

    def close(self) -> None:
        """Close the Graph clients and the UI thread's connection."""
        with self._clients_lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        self._conn.close()

    # -- connections and clients ------------------------------------------------------------

    @contextmanager
    def _unit(self) -> Iterator[sqlite3.Connection]:
        """The connection for one unit of work on the calling thread."""
        if threading.get_ident() == self._owner:
            yield self._conn
            return
        conn = open_db(self.paths.db_file, migrate=False)
        conn.execute(f"PRAGMA cache_size = -{WORKER_CACHE_KIB}")
        try:
            yield conn
        finally:
            conn.close()

    @property
    def _session(self) -> Session:
        # Imported on first use (a worker's), not before the first screen: it pulls in the
        # secrets and API client modules.
        from socialdesk.core.session import Session

        with self._clients_lock:
            if self._session_obj is None:
                self._session_obj = Session(
                    self.paths, self.config, self.clock, transport=self._transport
                )
            return self._session_obj

    def _client(self, purpose: Literal["sync", "send"]) -> GraphClient:
        session = self._session
        with self._clients_lock:
            client = self._clients.get(purpose)
            if client is None:
                client = session.client_for_token(session.token(self.page))
                self._clients[purpose] = client
            return client

    def route_logging_to_file(self) -> None:
        """While the app runs, logging goes to ``<data>/logs/inbox.log`` (redacted), never to
        the terminal: Textual draws on stderr, and a log line there would break the screen."""
        import logging

        from socialdesk.api.redact import RedactingFilter
        from socialdesk.paths import make_private_dir

        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                root.removeHandler(handler)
        make_private_dir(self.paths.log_dir)
        handler = logging.FileHandler(self.paths.log_dir / "inbox.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
        logging.captureWarnings(True)

    def token_check(self) -> None:
        """:class:`AuthError` naming the fix when the page has no token (before the UI opens)."""
        self._session.token(self.page)

    @property
    def page_title(self) -> str:
        """The Page's display name (else its config name), cleaned by the caller."""
        with self._unit() as conn:
            return store_outbox.page_name(conn, self.page.id) or self.page.name

    def now(self) -> datetime:
        return self.clock.now()

    # -- read model ---------------------------------------------------------------------------

    def _rows(
        self, conn: sqlite3.Connection, threads: Sequence[Thread], now: datetime
    ) -> list[ThreadRow]:
        return [
            ThreadRow(t, window_for_conn(conn, t, now, self.human_agent), self._unread(t))
            for t in threads
        ]

    def threads(self, query: str | None, *, sort: Sort = "expires", limit: int = 50) -> Listing:
        """The first ``limit`` threads of ``query`` in ``sort`` order (fast: index walks)."""
        now = self.now()
        with self._unit() as conn:
            found = store_threads.list_threads(
                conn,
                query,
                page_id=self.page.id,
                now=now,
                sort=sort,
                limit=limit + 1,
                human_agent=self.human_agent,
            )
            rows = self._rows(conn, found[:limit], now)
        return Listing(rows, len(rows), len(found) > limit)

    def _where(self, query: str | None, now: datetime) -> tuple[str, dict[str, Any]]:
        compiled = compile_query(query, now=now, human_agent=self.human_agent)
        params = dict(compiled.params)
        params["page_id"] = self.page.id
        return f"t.page_id = :page_id AND ({compiled.where})", params

    def thread_numbers(self, query: str | None, *, sort: Sort = "expires") -> list[int]:
        """Every matching thread's number, in ``sort`` order (BRIDGE: one query, for the
        virtual list; 40-350 ms on 100k threads, so only from a worker)."""
        now = self.now()
        where, params = self._where(query, now)
        sql = f"SELECT n.number {_FROM} WHERE {where} ORDER BY {_ORDER[sort]}"
        with self._unit() as conn:
            return [int(r[0]) for r in conn.execute(sql, params)]

    def rows_by_number(self, numbers: Sequence[int]) -> list[ThreadRow]:
        """The rows of these thread numbers, in the order given (unknown numbers left out)."""
        now = self.now()
        found: dict[int, Thread] = {}
        with self._unit() as conn:
            for i in range(0, len(numbers), _CHUNK):
                chunk = list(numbers[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"{_ROW_SELECT} WHERE n.number IN ({marks})", chunk):
                    th = store_threads.thread_from_row(r, now=now)
                    found[th.number] = th
            ordered = [found[n] for n in numbers if n in found]
            return self._rows(conn, ordered, now)

    def row(self, number: int) -> ThreadRow | None:
        """One row by thread number."""
        rows = self.rows_by_number([number])
        return rows[0] if rows else None

    def resolve(self, ref: str) -> ThreadRow:
        """The thread ``#N``, ``N`` or a Graph id names (UsageError when unknown)."""
        now = self.now()
        with self._unit() as conn:
            th = store_threads.resolve_thread(conn, ref, page_id=self.page.id, now=now)
            return self._rows(conn, [th], now)[0]

    def views(self) -> list[ViewSpec]:
        """Awaiting reply, Open, Snoozed, Done, All, each tag, then the saved ``[views]``."""
        tag_views = [ViewSpec(f"tag:{t}", f"#{t}", f"tag:{t}", "tag") for t, _ in self.tags()]
        saved = [
            ViewSpec(f"view:{name}", name, query, "saved")
            for name, query in self.config.views.items()
        ]
        return [*BUILTIN_VIEWS, *tag_views, *saved]

    def counts(self, views: Sequence[ViewSpec]) -> dict[str, int | None]:
        """How many threads each view holds, in one scan (BRIDGE). ``None``: its query is bad."""
        now = self.now()
        cases: list[str] = []
        params: dict[str, Any] = {"page_id": self.page.id}
        keys: list[str] = []
        out: dict[str, int | None] = {}
        for i, view in enumerate(views):
            try:
                compiled = compile_query(view.query, now=now, human_agent=self.human_agent)
            except UsageError:
                out[view.key] = None
                continue
            where = _prefixed(compiled.where, f"v{i}")
            for name, value in compiled.params.items():
                if name in ("qnow", "qha"):
                    params[name] = value
                else:
                    params[f"v{i}{name}"] = value
            cases.append(f"COALESCE(SUM(CASE WHEN ({where}) THEN 1 ELSE 0 END), 0)")
            keys.append(view.key)
        if cases:
            sql = f"SELECT {', '.join(cases)} {_FROM} WHERE t.page_id = :page_id"
            with self._unit() as conn:
                row = conn.execute(sql, params).fetchone()
            out.update({k: int(v) for k, v in zip(keys, row, strict=True)})
        return out

    def tags(self) -> list[tuple[str, int]]:
        """Tags in use on this page with their thread counts, most used first (BRIDGE)."""
        with self._unit() as conn:
            rows = conn.execute(
                "SELECT tag, count(*) FROM thread_tags WHERE page_id = ?"
                " GROUP BY tag ORDER BY count(*) DESC, tag",
                (self.page.id,),
            ).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def check_query(self, text: str) -> None:
        """:class:`QueryError` (with ``start``/``end``) when ``text`` is not a valid query."""
        compile_query(text, now=self.now(), human_agent=self.human_agent)

    def thread(self, number: int, *, limit: int = 50) -> ThreadDetail:
        """The thread pane's data: the newest ``limit`` messages and the rest of the context."""
        now = self.now()
        with self._unit() as conn:
            th = self._thread_on(conn, number, now)
            window = window_for_conn(conn, th, now, self.human_agent)
            msgs = store_threads.get_messages(conn, th.id, limit=limit + 1)
            has_older = len(msgs) > limit
            msgs = msgs[-limit:] if has_older else msgs
            others = self._rows(
                conn, store_threads.customer_threads(conn, th, limit=6, now=now), now
            )
            post = self._post(conn, th.post_id) if th.post_id else None
            targets: list[Message] = []
            if th.channel in (Channel.COMMENT, Channel.IG_COMMENT):
                top = [m for m in msgs if m.id == th.id] or [
                    m for m in store_threads.get_messages(conn, th.id, limit=None) if m.id == th.id
                ]
                targets = [m for m in top if m.direction is Direction.IN]
            pending = self._pending(conn, th, now)
        return ThreadDetail(th, window, msgs, has_older, others, post, targets, pending, limit, now)

    def _thread_on(self, conn: sqlite3.Connection, number: int, now: datetime) -> Thread:
        row = conn.execute(f"{_ROW_SELECT} WHERE n.number = ?", (number,)).fetchone()
        if row is None:
            raise UsageError(f"no thread #{number}")
        return store_threads.thread_from_row(row, now=now)

    def _post(self, conn: sqlite3.Connection, post_id: str) -> Post | None:
        # BRIDGE: store.threads has no post lookup; a post by primary key.
        r = conn.execute(
            "SELECT id, page_id, message, permalink, created_at, updated_at FROM posts"
            " WHERE id = ?",
            (post_id,),
        ).fetchone()
        if r is None:
            return None
        return Post(
            id=r["id"],
            page_id=r["page_id"],
            created_at=utc(r["created_at"]),
            message=r["message"],
            permalink=r["permalink"],
            updated_at=utc(r["updated_at"]) if r["updated_at"] is not None else None,
        )

    def _pending(self, conn: sqlite3.Connection, th: Thread, now: datetime) -> list[OutboxEntry]:
        records = store_outbox.list_records(
            conn, thread_id=th.id, since=now - timedelta(days=7), limit=20
        )
        if not records:
            return []
        ids = [r.entry.message_id for r in records if r.entry.message_id]
        stored: set[str] = set()
        if ids:
            marks = ",".join("?" * len(ids))
            stored = {
                str(x[0])
                for x in conn.execute(f"SELECT id FROM messages WHERE id IN ({marks})", ids)
            }
        out: list[OutboxEntry] = []
        for rec in records:
            e = rec.entry
            if e.state is OutboxState.SENT and e.message_id in stored:
                continue
            if rec.resolution is not None:
                continue
            if e.state is OutboxState.FAILED and (e.finished_at or e.created_at) < now - timedelta(
                hours=24
            ):
                continue
            out.append(e)
        return out

    # -- seen-state (in memory until thread_state.seen_at exists) -------------------------------

    def _unread(self, th: Thread) -> bool:
        if not th.awaiting_reply or th.last_inbound_at is None:
            return False
        with self._seen_lock:
            seen = self._seen.get(th.id)
        return seen is None or th.last_inbound_at > seen

    def mark_seen(self, th: Thread) -> None:
        """The operator opened (or answered) ``th``: its unread marker clears until new inbound."""
        when = th.last_inbound_at or th.last_message_at
        with self._seen_lock:
            self._seen[th.id] = when

    # -- triage with undo ------------------------------------------------------------------------

    def _priors(self, conn: sqlite3.Connection, threads: Sequence[Thread]) -> tuple[_Prior, ...]:
        out: list[_Prior] = []
        for th in threads:
            r = conn.execute(
                "SELECT status, snoozed_until, done_at, status_at, note FROM thread_state"
                " WHERE thread_id = ?",
                (th.id,),
            ).fetchone()
            tags = tuple(
                sorted(
                    str(x[0])
                    for x in conn.execute(
                        "SELECT tag FROM thread_tags WHERE thread_id = ?", (th.id,)
                    )
                )
            )
            out.append(
                _Prior(
                    th.id,
                    th.number,
                    r["status"],
                    r["snoozed_until"],
                    r["done_at"],
                    r["status_at"],
                    r["note"],
                    tags,
                )
            )
        return tuple(out)

    def _log_mark(self, conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM triage_log").fetchone()[0])

    def _log_since(
        self, conn: sqlite3.Connection, mark: int, threads: Sequence[Thread]
    ) -> tuple[int, ...]:
        ids = [t.id for t in threads]
        marks = ",".join("?" * len(ids))
        acts = ",".join("?" * len(_TRIAGE_ACTIONS))
        rows = conn.execute(
            f"SELECT id FROM triage_log WHERE id > ? AND thread_id IN ({marks})"
            f" AND action IN ({acts})",
            (mark, *ids, *_TRIAGE_ACTIONS),
        )
        return tuple(int(r[0]) for r in rows)

    def _fresh(self, conn: sqlite3.Connection, numbers: Sequence[int]) -> list[Thread]:
        now = self.now()
        return [self._thread_on(conn, n, now) for n in numbers]

    def _in_view(
        self, conn: sqlite3.Connection, numbers: Sequence[int], view_query: str | None
    ) -> dict[int, bool]:
        if view_query is None:
            return {}
        where, params = self._where(view_query, self.now())
        out: dict[int, bool] = {}
        for n in numbers:
            row = conn.execute(
                f"SELECT 1 {_FROM} WHERE n.number = :num AND {where}", {**params, "num": n}
            ).fetchone()
            out[n] = row is not None
        return out

    def _triage(
        self,
        numbers: Sequence[int],
        label: str,
        apply: Callable[[sqlite3.Connection, list[Thread]], int],
        view_query: str | None,
    ) -> TriageResult:
        with self._unit() as conn:
            threads = self._fresh(conn, numbers)
            priors = self._priors(conn, threads)
            mark = self._log_mark(conn)
            changed = apply(conn, threads)
            log_ids = self._log_since(conn, mark, threads)
            nums = tuple(t.number for t in threads)
            still = self._in_view(conn, nums, view_query)
        what = f"{label} {', '.join(f'#{n}' for n in nums)}"
        if not changed:
            return TriageResult(f"{what}: nothing to change", (), None, still)
        token = UndoToken(what, priors, log_ids)
        return TriageResult(what, nums, token, still)

    def done(self, numbers: Sequence[int], *, view_query: str | None = None) -> TriageResult:
        """Mark threads done (the same core call as ``socialdesk done``)."""
        from socialdesk.core import triage as core_triage

        now = self.now()

        def apply(conn: sqlite3.Connection, ths: list[Thread]) -> int:
            outs = core_triage.set_status(conn, ths, Status.DONE, now=now)
            return sum(o.changed for o in outs)

        return self._triage(numbers, "done", apply, view_query)

    def reopen(self, numbers: Sequence[int], *, view_query: str | None = None) -> TriageResult:
        """Reopen threads."""
        from socialdesk.core import triage as core_triage

        now = self.now()

        def apply(conn: sqlite3.Connection, ths: list[Thread]) -> int:
            return sum(o.changed for o in core_triage.set_status(conn, ths, Status.OPEN, now=now))

        return self._triage(numbers, "reopened", apply, view_query)

    def snooze(
        self, numbers: Sequence[int], until: datetime, *, view_query: str | None = None
    ) -> TriageResult:
        """Snooze threads until ``until``."""
        from socialdesk.core import triage as core_triage

        now = self.now()

        def apply(conn: sqlite3.Connection, ths: list[Thread]) -> int:
            outs = core_triage.set_status(conn, ths, Status.SNOOZED, now=now, until=until)
            return sum(o.changed for o in outs)

        return self._triage(numbers, "snoozed", apply, view_query)

    def tag(
        self,
        numbers: Sequence[int],
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        *,
        view_query: str | None = None,
    ) -> TriageResult:
        """Add and remove tags (normalised by the store; UsageError for an invalid tag)."""
        from socialdesk.core import triage as core_triage

        now = self.now()

        def apply(conn: sqlite3.Connection, ths: list[Thread]) -> int:
            n = 0
            for th in ths:
                if add:
                    n += len(core_triage.tag(conn, th, list(add), now=now))
                if remove:
                    n += len(core_triage.tag(conn, th, list(remove), now=now, remove=True))
            return n

        words = [f"+{t}" for t in add] + [f"-{t}" for t in remove]
        return self._triage(numbers, "tagged " + " ".join(words), apply, view_query)

    def note(self, number: int, text: str, *, view_query: str | None = None) -> TriageResult:
        """Set (empty text: clear) the thread's note."""
        from socialdesk.core import triage as core_triage

        now = self.now()

        def apply(conn: sqlite3.Connection, ths: list[Thread]) -> int:
            return int(core_triage.note(conn, ths[0], text, now=now))

        return self._triage([number], "note on", apply, view_query)

    def set_hidden(
        self, number: int, hidden: bool, *, view_query: str | None = None
    ) -> TriageResult:
        """Hide or unhide a comment thread on Facebook (an API call), then locally."""
        from socialdesk.core import triage as core_triage

        with self._unit() as conn:
            th = self._fresh(conn, [number])[0]
            before = th.is_hidden
            core_triage.set_hidden(conn, self._client("send"), th, hidden)
            still = self._in_view(conn, [number], view_query)
        what = f"{'hidden' if hidden else 'unhidden'} #{number}"
        token = UndoToken(what, (), (), hidden=before) if before != hidden else None
        return TriageResult(what, (number,), token, still)

    def undo(self, token: UndoToken, *, view_query: str | None = None) -> TriageResult:
        """Put back the state before ``token``'s action; its log rows go (BRIDGE SQL).

        A hide/unhide is undone by the opposite API call.
        """
        nums = tuple(p.number for p in token.priors)
        if token.hidden is not None:
            number = int(token.label.rsplit("#", 1)[1])
            res = self.set_hidden(number, token.hidden, view_query=view_query)
            return TriageResult(f"undone: {token.label}", res.changed, None, res.still_in_view)
        now_s = _ts(self.now())
        with self._unit() as conn:
            with transaction(conn):
                for p in token.priors:
                    conn.execute(
                        "UPDATE thread_state SET status = ?, snoozed_until = ?, done_at = ?,"
                        " status_at = ?, note = ?, updated_at = ? WHERE thread_id = ?",
                        (
                            p.status,
                            p.snoozed_until,
                            p.done_at,
                            p.status_at,
                            p.note,
                            now_s,
                            p.thread_id,
                        ),
                    )
                    conn.execute("DELETE FROM thread_tags WHERE thread_id = ?", (p.thread_id,))
                    page_id = self.page.id
                    conn.executemany(
                        "INSERT INTO thread_tags (thread_id, page_id, tag, created_at)"
                        " VALUES (?, ?, ?, ?)",
                        [(p.thread_id, page_id, tag, now_s) for tag in p.tags],
                    )
                if token.log_ids:
                    marks = ",".join("?" * len(token.log_ids))
                    conn.execute(f"DELETE FROM triage_log WHERE id IN ({marks})", token.log_ids)
            still = self._in_view(conn, nums, view_query)
        return TriageResult(f"undone: {token.label}", nums, None, still)

    def parse_snooze(self, text: str) -> datetime:
        """A snooze time typed by the operator (``2h``, ``tomorrow 9:00``, ``mon``, ISO…)."""
        from socialdesk.core import triage as core_triage

        tz = core_triage.timezone_of(self.config.stats.timezone)
        return core_triage.parse_when(text, now=self.now(), tz=tz)

    # -- replying -----------------------------------------------------------------------------

    def templates(self) -> list[str]:
        """Names of the configured templates."""
        return sorted(self.config.templates)

    def render_template(self, name: str, number: int) -> str:
        """Template ``name`` for this thread's customer (name filled in, escapes stripped)."""
        from socialdesk.core.templates import get_template, render_for

        with self._unit() as conn:
            th = self._fresh(conn, [number])[0]
            tpl = get_template(self.config.templates, name)
            return render_for(
                tpl,
                customer_id=th.customer.id,
                customer_name=th.customer.name,
                page_name=store_outbox.page_name(conn, self.page.id),
            )

    def _body(self, req: ReplyRequest, number: int) -> str:
        if req.template is not None:
            return self.render_template(req.template, number)
        return req.text or ""

    def preview(self, number: int, req: ReplyRequest) -> ReplyPreview:
        """What :meth:`send` would do now, without any network call."""
        from socialdesk.core import textcheck
        from socialdesk.sanitize import clean

        now = self.now()
        with self._unit() as conn:
            th = self._fresh(conn, [number])[0]
            window = window_for_conn(conn, th, now, self.human_agent)
            body = self._body(req, number)
            who = clean(th.customer.name or th.customer.id or "the customer", single_line=True)
            if th.channel in (Channel.COMMENT, Channel.IG_COMMENT):
                top = conn.execute("SELECT text FROM messages WHERE id = ?", (th.id,)).fetchone()
                said = clean(str(top[0]) if top else th.snippet, single_line=True)
                said = said if len(said) <= 40 else said[:39] + "…"
                recipient = (
                    f"{who}, privately (Messenger), answering their comment “{said}”"
                    if req.private
                    else f"a public reply under {who}'s comment “{said}”"
                )
            else:
                recipient = who
            refusal: SocialdeskError | None = None
            parts: list[str] = []
            kind: SendKind | None = None
            try:
                if body.strip():
                    parts = textcheck.prepare(body, split=req.split)
                kind = choose_send_kind(
                    th,
                    now,
                    self.human_agent,
                    private=req.private,
                    human_written=req.human_written,
                    comment_at=(
                        comment_created_at(conn, th) if th.channel is Channel.COMMENT else None
                    ),
                    private_used=store_outbox.private_reply_used(conn, th.id),
                )
            except (RefusedError, UsageError) as exc:
                refusal = exc
        return ReplyPreview(
            parts, kind, window, len(body.strip()), textcheck.MAX_CHARS, recipient, refusal
        )

    def send(self, number: int, req: ReplyRequest) -> ReplyOutcome:
        """Send through the outbox, exactly as ``socialdesk reply`` does; never raises for
        an outcome the operator must see (refused, failed, unknown)."""
        from socialdesk.core import outbox as core_outbox
        from socialdesk.core import textcheck
        from socialdesk.store.lock import leave_senders

        with self._send_lock, self._unit() as conn:
            kind: SendKind | None = None
            try:
                th = self._fresh(conn, [number])[0]
                body = self._body(req, number)
                parts = textcheck.prepare(body, split=req.split)
                client = self._client("send")
                if not self._outbox_ready:
                    core_outbox.startup(conn, client, self.page.id, now=self.now())
                    self._outbox_ready = True
                prepared = core_outbox.queue(
                    conn,
                    th,
                    parts,
                    now=self.now(),
                    human_agent=self.human_agent,
                    private=req.private,
                    human_written=req.human_written,
                    origin="reply",
                    last_batch=(
                        core_outbox.effects_batch("reply", done=True) if req.done else None
                    ),
                )
                kind = prepared.kind
                entries = core_outbox.send_prepared(conn, client, prepared, clock=self.clock)
                self.mark_seen(th)
                return ReplyOutcome("sent", entries, kind, None, None)
            except RefusedError as exc:
                return ReplyOutcome("refused", [], kind, exc.message, exc.hint)
            except core_outbox.SendUnknown as exc:
                return ReplyOutcome(
                    "unknown",
                    [],
                    kind,
                    exc.message,
                    "it is never sent again by itself: the inbox reads the thread back at its "
                    "next start and marks it sent if it arrived (see `socialdesk outbox`)",
                )
            except UsageError as exc:
                return ReplyOutcome("refused", [], kind, exc.message, exc.hint)
            except SocialdeskError as exc:
                return ReplyOutcome("failed", [], kind, exc.message, exc.hint)
            finally:
                leave_senders(conn)

    # -- sync, header, stats -------------------------------------------------------------------

    def sync_round(
        self, *, full: bool = False, progress: Callable[[SyncProgress], None] | None = None
    ) -> SyncReport:
        """One sync of the page under the page's sync lock (skipped if a cron sync holds it)."""
        from socialdesk.core.sync import sync_page

        counts: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int | None) -> None:
            if stage in ("messages", "comments"):
                counts[stage] = counts.get(stage, 0) + done
            else:
                counts[stage] = done
            if progress is not None:
                progress(SyncProgress(stage, counts[stage], total))

        client = self._client("sync")
        with self._unit() as conn:
            if not self._page_recorded:
                from socialdesk.store import cache

                with transaction(conn):
                    cache.upsert_page(conn, self.page.id, self.page.name, now=self.now())
                self._page_recorded = True
            return sync_page(
                conn,
                client,
                self.page.id,
                paths=self.paths,
                clock=self.clock,
                full=full,
                lookback_days=self.config.sync.comment_lookback_days,
                deep_sweep_hours=self.config.sync.deep_sweep_hours,
                progress=on_progress,
                lock_wait_s=0.5,
            )

    def usage_peak(self) -> int | None:
        """The sync client's latest usage percentage (None before any response)."""
        with self._clients_lock:
            client = self._clients.get("sync")
        usage = client.usage if client is not None else None
        return usage.peak if usage is not None else None

    def header_state(self) -> HeaderState:
        """Last successful sync, failed edges and headroom, for the header."""
        from socialdesk.store.watermarks import last_syncs

        with self._unit() as conn:
            runs = last_syncs(conn, self.page.id)
        oks = [r.last_ok_at for r in runs.values() if r.last_ok_at is not None]
        failed = tuple((r.edge, r.error or "failed") for r in runs.values() if not r.ok)
        peak = self.usage_peak()
        return HeaderState(
            self.page.name,
            max(oks) if oks else None,
            failed,
            None if peak is None else max(0, 100 - peak),
        )

    def stats(self, days: int = 30) -> StatsReport:
        """The last ``days`` days (today included) and the badge estimate (0.5-1.3 s on 1M
        messages: call it from a worker)."""
        from socialdesk.core.stats import Period, compute_stats, load_timezone

        now = self.now()
        tz = load_timezone(self.config.stats.timezone)
        today = now.astimezone(tz).date()
        period = Period(today - timedelta(days=days - 1), today)
        with self._unit() as conn:
            return compute_stats(
                conn,
                self.page.id,
                period,
                now=now,
                timezone=tz,
                business_hours=self.config.stats.business_hours,
            )
