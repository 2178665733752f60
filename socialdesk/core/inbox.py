"""The inbox read model both front ends show: listings with windows, views, counts, one thread.

Called by ``list``/``show``/``count``/``demo`` and the inbox (through its gateway). An
:class:`Inbox` holds a context, ONE connection (its caller's unit of work: a command, or one
worker of the inbox) and a page; everything it returns is typed and ready to render, with each
thread's reply window as sends will see it (``core.windows.window_for_conn``).

Queries are the language of ``store.query``, plus ``view:NAME`` for the config's saved views
(``[views]``), expanded here. ``None`` means the default query (``is:open is:awaiting``) and
``""`` every thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from socialdesk.config import PageConfig
from socialdesk.core.context import AppContext
from socialdesk.core.windows import private_target, window_for_conn
from socialdesk.errors import Reason, UsageError
from socialdesk.models import (
    Channel,
    Direction,
    Message,
    OutboxEntry,
    OutboxState,
    Post,
    Thread,
    Window,
)
from socialdesk.store import echoes, query
from socialdesk.store import outbox as store_outbox
from socialdesk.store import pages as store_pages
from socialdesk.store import threads as store_threads
from socialdesk.store import triage as store_triage
from socialdesk.store.db import transaction

__all__ = [
    "BUILTIN_VIEWS",
    "DEFAULT_QUERY",
    "Inbox",
    "Listing",
    "QueryError",
    "Sort",
    "ThreadDetail",
    "ThreadRow",
    "ViewSpec",
]

Sort = Literal["expires", "newest", "oldest"]
"""The listing orders (``store.threads.SORTS``); a front end may offer them by name."""
DEFAULT_QUERY = query.DEFAULT_QUERY
QueryError = query.QueryError
"""A query that does not parse (``start``/``end`` locate the fault for a search box)."""


@dataclass(frozen=True)
class ThreadRow:
    """One row of a thread list: the thread, its reply window now, and the unread marker."""

    thread: Thread
    window: Window
    unread: bool


@dataclass(frozen=True)
class Listing:
    """The first rows of a query, and how many threads match in all."""

    rows: list[ThreadRow]
    total: int
    """Threads matching the query (``len(rows)`` when ``truncated`` is false, or when the
    caller asked not to count)."""
    truncated: bool
    """Whether more threads match than ``rows`` holds (the limit cut the listing)."""


@dataclass(frozen=True)
class ViewSpec:
    """A named query: a built-in view, a tag, or a saved ``[views]`` entry."""

    key: str
    """Stable id: ``awaiting``, ``open``, ``snoozed``, ``done``, ``all``, ``tag:NAME``,
    ``view:NAME``."""
    title: str
    query: str
    kind: Literal["builtin", "tag", "saved"]


BUILTIN_VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("awaiting", "Awaiting reply", DEFAULT_QUERY, "builtin"),
    ViewSpec("open", "Open", "is:open", "builtin"),
    ViewSpec("snoozed", "Snoozed", "is:snoozed", "builtin"),
    ViewSpec("done", "Done", "is:done", "builtin"),
    ViewSpec("all", "All", "", "builtin"),
)


@dataclass(frozen=True)
class ThreadDetail:
    """Everything ``show`` and the thread pane need for one thread."""

    thread: Thread
    window: Window
    messages: list[Message]
    """Oldest first; only the newest ``limit`` of them when a limit was asked."""
    has_older: bool
    others: list[ThreadRow]
    """The customer's other threads on this page, newest first."""
    post: Post | None
    reply_targets: list[Message]
    """Comment threads: the customer comment a private reply answers by default (the newest;
    ``core.windows.private_target``), when there is one."""
    echoed: frozenset[str] = field(default_factory=frozenset)
    """Ids of ``messages`` sent from here and not read back by a sync yet (local echoes)."""
    pending_sends: list[OutboxEntry] = field(default_factory=list)
    """Sends of this thread still open: queued, sending, unknown, or failed unresolved."""
    rules: list[str] = field(default_factory=list)
    """Names of the rules that acted on this thread, most recent first (``core.rules``)."""
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    """Instagram gap markers, oldest first: messages between (after, before) are unreadable."""


class Inbox:
    """The read model of one page over one connection (see the module docstring)."""

    def __init__(self, ctx: AppContext, conn: sqlite3.Connection, page: PageConfig) -> None:
        self.ctx = ctx
        self.conn = conn
        self.page = page

    @property
    def human_agent(self) -> bool:
        return self.ctx.human_agent

    def now(self) -> datetime:
        return self.ctx.clock.now()

    # -- queries ---------------------------------------------------------------------------------

    def expand(self, text: str | None) -> str | None:
        """``text`` with its ``view:NAME`` terms replaced by the saved queries."""
        if text is None:
            return None
        return query.expand_views(text, self.ctx.config.views)

    def check_query(self, text: str) -> None:
        """:class:`~socialdesk.store.query.QueryError` (with ``start``/``end``) when ``text`` is
        not a valid query (``view:`` terms and ``page:`` names included)."""
        query.compile_query(
            self.expand(text),
            now=self.now(),
            human_agent=self.human_agent,
            pages=store_threads.known_pages(self.conn),
        )

    def view(self, name: str) -> ViewSpec:
        """The saved view ``name`` (``[views]``), or :class:`UsageError` naming the known ones."""
        saved = self.ctx.config.views.get(name)
        if saved is None:
            known = ", ".join(sorted(self.ctx.config.views)) or "none configured"
            raise UsageError(
                f"unknown view {name!r}",
                hint=f"saved views ([views] in the config): {known}",
                reason=Reason.VIEW_UNKNOWN,
            )
        return ViewSpec(f"view:{name}", name, saved, "saved")

    # -- listings --------------------------------------------------------------------------------

    def _rows(self, threads: Sequence[Thread], now: datetime) -> list[ThreadRow]:
        return [
            ThreadRow(t, window_for_conn(self.conn, t, now, self.human_agent), t.unread)
            for t in threads
        ]

    def threads(
        self,
        text: str | None,
        *,
        sort: str = "expires",
        limit: int | None = 50,
        count_all: bool = True,
    ) -> Listing:
        """The first ``limit`` threads of the query in ``sort`` order (``None``: all of them).

        ``count_all=False`` skips counting a cut listing (``total`` is then the rows shown):
        the inbox's first screen counts every view later, off the UI thread.
        """
        now = self.now()
        expanded = self.expand(text)
        found = store_threads.list_threads(
            self.conn,
            expanded,
            page_id=self.page.id,
            now=now,
            sort=sort,
            limit=None if limit is None else limit + 1,
            human_agent=self.human_agent,
        )
        truncated = limit is not None and len(found) > limit
        shown = found[:limit] if truncated and limit is not None else found
        total = self.count(text) if truncated and count_all else len(shown)
        return Listing(self._rows(shown, now), total, truncated)

    def count(self, text: str | None) -> int:
        """How many threads of the page match the query."""
        return store_threads.count_threads(
            self.conn,
            self.expand(text),
            page_id=self.page.id,
            now=self.now(),
            human_agent=self.human_agent,
        )

    def counts(self, views: Sequence[ViewSpec]) -> dict[str, int | None]:
        """How many threads each view holds, in one scan; ``None`` for a view whose query is
        not valid (a broken saved view must not blank the whole sidebar)."""
        good: list[ViewSpec] = []
        texts: list[str | None] = []
        out: dict[str, int | None] = {}
        for v in views:
            try:
                self.check_query(v.query)
            except UsageError:
                out[v.key] = None
                continue
            good.append(v)
            texts.append(self.expand(v.query))
        numbers = store_threads.count_each(
            self.conn, texts, page_id=self.page.id, now=self.now(), human_agent=self.human_agent
        )
        out.update({v.key: n for v, n in zip(good, numbers, strict=True)})
        return out

    def thread_numbers(self, text: str | None, *, sort: str = "expires") -> list[int]:
        """Every matching thread's number in ``sort`` order (for a virtual list; heavy on big
        stores: call it off the UI thread)."""
        return store_threads.thread_numbers(
            self.conn,
            self.expand(text),
            page_id=self.page.id,
            now=self.now(),
            sort=sort,
            human_agent=self.human_agent,
        )

    def rows_by_number(self, numbers: Sequence[int]) -> list[ThreadRow]:
        """The rows of these thread numbers, in the order given (unknown numbers left out)."""
        now = self.now()
        return self._rows(store_threads.threads_by_number(self.conn, numbers, now=now), now)

    def views(self) -> list[ViewSpec]:
        """Awaiting reply, Open, Snoozed, Done, All, each tag in use, then the saved views."""
        tags = [ViewSpec(f"tag:{t}", f"#{t}", f"tag:{t}", "tag") for t, _ in self.tags()]
        saved = [
            ViewSpec(f"view:{name}", name, text, "saved")
            for name, text in self.ctx.config.views.items()
        ]
        return [*BUILTIN_VIEWS, *tags, *saved]

    def in_view(self, numbers: Sequence[int], text: str | None) -> dict[int, bool]:
        """Per thread number: whether it matches the query (after an action: does it stay?)."""
        found = store_threads.matching_numbers(
            self.conn,
            self.expand(text),
            numbers,
            page_id=self.page.id,
            now=self.now(),
            human_agent=self.human_agent,
        )
        return {n: n in found for n in numbers}

    def page_title(self) -> str:
        """The Page's display name (from ``GET /me``), else its configured name."""
        return store_pages.page_name(self.conn, self.page.id) or self.page.name

    def tags(self) -> list[tuple[str, int]]:
        """Tags in use on this page with their thread counts, most used first."""
        return store_threads.tag_counts(self.conn, self.page.id)

    # -- one thread ------------------------------------------------------------------------------

    def resolve(self, ref: str | int) -> Thread:
        """The thread ``#N``, ``N`` or a Graph id names, on this page (UsageError otherwise)."""
        return store_threads.resolve_thread(
            self.conn, str(ref), page_id=self.page.id, now=self.now()
        )

    def thread(
        self, ref: str | int | Thread, *, limit: int | None = None, others: int = 10
    ) -> ThreadDetail:
        """One thread with its messages (the newest ``limit``), window, post, the customer's
        other threads, what a private reply may answer, and the sends not read back yet."""
        now = self.now()
        th = self.resolve(ref.number if isinstance(ref, Thread) else ref)
        window = window_for_conn(self.conn, th, now, self.human_agent)
        msgs = store_threads.get_messages(
            self.conn, th.id, limit=None if limit is None else limit + 1
        )
        has_older = limit is not None and len(msgs) > limit
        if has_older and limit is not None:
            msgs = msgs[-limit:]
        other_rows = self._rows(
            store_threads.customer_threads(self.conn, th, limit=others, now=now), now
        )
        post = store_threads.get_post(self.conn, th.post_id) if th.post_id else None
        targets: list[Message] = []
        if th.channel in (Channel.COMMENT, Channel.IG_COMMENT):
            # What a private reply answers by default, as the send will choose it.
            target = private_target(self.conn, th)
            if target is not None:
                targets = [target.comment]
        out_ids = [m.id for m in msgs if m.direction is Direction.OUT]
        return ThreadDetail(
            thread=th,
            window=window,
            messages=msgs,
            has_older=has_older,
            others=other_rows,
            post=post,
            reply_targets=targets,
            echoed=frozenset(echoes.pending_read_back(self.conn, out_ids)),
            pending_sends=self._pending_sends(th),
            rules=[name for name, _ in _thread_rules(self.conn, th.id)],
            gaps=store_threads.thread_gaps(self.conn, th.id) if th.gaps else [],
        )

    def _pending_sends(self, th: Thread) -> list[OutboxEntry]:
        open_states = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN)
        out: list[OutboxEntry] = []
        for rec in store_outbox.list_records(self.conn, thread_id=th.id, limit=20):
            entry = rec.entry
            if rec.resolution is not None:
                continue
            if entry.state in open_states or entry.state is OutboxState.FAILED:
                out.append(entry)
        return out

    def mark_seen(self, thread: Thread) -> None:
        """The operator saw ``thread``: its unread marker clears until the customer writes."""
        seen = thread.last_inbound_at or thread.last_message_at
        with transaction(self.conn):
            store_triage.mark_seen(self.conn, thread.id, seen)


def _thread_rules(conn: sqlite3.Connection, thread_id: str) -> list[tuple[str, int]]:
    # Imported on first use: the rules engine is not needed to paint a listing (the inbox's
    # first screen imports this module).
    from socialdesk.core.rules import thread_rules

    return thread_rules(conn, thread_id)
