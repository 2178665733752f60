"""The inbox's one door to the application layer: reading threads, triage, replies, sync, stats.

Called by :mod:`socialdesk.tui.app` and its screens (from thread workers, except the two cheap
reads the first screen needs: :meth:`Gateway.threads` and :meth:`Gateway.rows_by_number`). No
other ``tui`` module imports ``socialdesk.core``, and nothing in ``tui`` imports the store, the
API client, ``sqlite3`` or ``httpx`` (tests/test_layers.py, tests/tui/test_boundaries.py).

Every use case is the one the CLI calls: listings, counts, views and one thread come from
:class:`socialdesk.core.inbox.Inbox`; done/reopen/snooze/tag/note/hide and undo from
:mod:`socialdesk.core.triage`; the compose box from :mod:`socialdesk.core.replying`; the
background sync from :func:`socialdesk.core.syncing.sync_round` and its ``WatchPolicy``;
the stats screen from :func:`socialdesk.core.stats.compute_stats`. What this module adds is
only what a long-lived, multi-threaded front end needs around them:

- connections: the thread that opened the gateway keeps one; every call from another thread
  (a Textual worker) opens its own short-lived one through :meth:`AppContext.connect` (SQLite
  connections are not shared across threads here);
- the Graph client is the context's one client per Page, shared by sync and sends (the Page's
  pacing and usage headers are per Page);
- an action's result as the screen wants it: one line for the operator, the thread numbers
  that changed, and whether each still matches the view it was taken in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from socialdesk.core.context import AppContext
from socialdesk.core.inbox import (
    BUILTIN_VIEWS,
    Inbox,
    Listing,
    QueryError,
    Sort,
    ThreadRow,
    ViewSpec,
)
from socialdesk.core.inbox import ThreadDetail as CoreThreadDetail
from socialdesk.core.replying import ReplyOutcome, ReplyPreview, ReplyRequest
from socialdesk.models import Status, SyncProgress, SyncReport, Thread

if TYPE_CHECKING:
    from socialdesk.config import Config, PageConfig
    from socialdesk.core import triage
    from socialdesk.core.clock import Clock
    from socialdesk.core.stats import StatsReport
    from socialdesk.core.syncing import WatchPolicy
    from socialdesk.core.triage import UndoToken

__all__ = [
    "BUILTIN_VIEWS",
    "ActionResult",
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
    "UndoToken",
    "ViewSpec",
]


@dataclass(frozen=True)
class ThreadDetail(CoreThreadDetail):
    """The core's thread detail, with what the pane needs to page and cache it."""

    limit: int = 50
    """How many messages were asked for (``[`` loads as many more)."""
    loaded_at: datetime | None = None


@dataclass(frozen=True)
class ActionResult:
    """What one triage action did, as the inbox shows it."""

    message: str
    """One line for the operator (thread numbers and tags only: no customer text)."""
    changed: tuple[int, ...]
    """Numbers of the threads that changed."""
    undo: UndoToken | None
    still_in_view: dict[int, bool] = field(default_factory=dict)
    """Per changed thread: whether it still matches the view the action was taken in."""
    warnings: tuple[str, ...] = ()
    """What the operator should know (a snooze that wakes after the reply window closes)."""


@dataclass(frozen=True)
class HeaderState:
    """The header's facts: page, last sync, headroom, failed edges."""

    page: str
    last_sync_at: datetime | None
    failed: tuple[tuple[str, str], ...]
    """``(edge, error)`` of edges whose latest sync failed (error redacted by the store)."""
    headroom: int | None
    """100 minus the highest usage percentage of the latest response (None: not known yet)."""


_VERBS = {
    "done": "done",
    "reopen": "reopened",
    "snooze": "snoozed",
    "tag": "tagged",
    "note": "note on",
    "hide": "hidden",
    "unhide": "unhidden",
}


def _numbers(threads: Sequence[Thread]) -> str:
    return ", ".join(f"#{t.number}" for t in threads)


class Gateway:
    """The inbox's calls into the application layer for one Page (module docstring)."""

    def __init__(self, ctx: AppContext, page: PageConfig) -> None:
        self.ctx = ctx
        self.page = page
        self.config: Config = ctx.config
        self.clock: Clock = ctx.clock
        self.human_agent = ctx.human_agent
        self._owner = threading.get_ident()
        self._conn = ctx.connect()
        self._send_lock = threading.Lock()

    @classmethod
    def open(cls, home: str | None = None, *, page: str | None = None) -> Gateway:
        """The gateway for ``page`` (default: the configured default page) under ``home``
        (tests build an :class:`AppContext` with a clock and a transport and call the class)."""
        ctx = AppContext.open(home)
        try:
            return cls(ctx, ctx.page(page))
        except BaseException:
            ctx.close()
            raise

    def close(self) -> None:
        """Close the Graph client and the UI thread's connection."""
        self.ctx.close()
        self._conn.close()

    # -- connections ---------------------------------------------------------------------------

    @contextmanager
    def _inbox(self) -> Iterator[Inbox]:
        """The read model over the calling thread's connection for one unit of work."""
        if threading.get_ident() == self._owner:
            yield Inbox(self.ctx, self._conn, self.page)
            return
        conn = self.ctx.connect()
        try:
            yield Inbox(self.ctx, conn, self.page)
        finally:
            conn.close()

    def route_logging_to_file(self) -> None:
        """While the app runs, logging goes to ``<data>/logs/inbox.log`` (redacted), never to
        the terminal: Textual draws there, and a log line would break the screen."""
        from socialdesk.core.logfile import route_logging_to_file

        route_logging_to_file(self.ctx.paths, "inbox.log")

    def token_check(self) -> None:
        """:class:`AuthError` naming the fix when the page has no token (before the UI opens)."""
        self.ctx.token(self.page)

    @property
    def page_title(self) -> str:
        """The Page's display name (else its config name), cleaned by the caller."""
        with self._inbox() as inbox:
            return inbox.page_title()

    def now(self) -> datetime:
        return self.clock.now()

    # -- read model ------------------------------------------------------------------------------

    def threads(self, query: str | None, *, sort: Sort = "expires", limit: int = 50) -> Listing:
        """The first ``limit`` threads of ``query`` in ``sort`` order (not counted: the first
        screen paints these rows on the UI thread; the counts come from a worker)."""
        with self._inbox() as inbox:
            return inbox.threads(query, sort=sort, limit=limit, count_all=False)

    def thread_numbers(self, query: str | None, *, sort: Sort = "expires") -> list[int]:
        """Every matching thread's number, in ``sort`` order (heavy: from a worker only)."""
        with self._inbox() as inbox:
            return inbox.thread_numbers(query, sort=sort)

    def rows_by_number(self, numbers: Sequence[int]) -> list[ThreadRow]:
        """The rows of these thread numbers, in the order given (unknown numbers left out)."""
        with self._inbox() as inbox:
            return inbox.rows_by_number(numbers)

    def row(self, number: int) -> ThreadRow | None:
        """One row by thread number."""
        rows = self.rows_by_number([number])
        return rows[0] if rows else None

    def resolve(self, ref: str) -> ThreadRow:
        """The thread ``#N``, ``N`` or a Graph id names (UsageError when unknown)."""
        with self._inbox() as inbox:
            th = inbox.resolve(ref)
            return inbox.rows_by_number([th.number])[0]

    def views(self) -> list[ViewSpec]:
        """Awaiting reply, Open, Snoozed, Done, All, each tag, then the saved ``[views]``."""
        with self._inbox() as inbox:
            return inbox.views()

    def counts(self, views: Sequence[ViewSpec]) -> dict[str, int | None]:
        """How many threads each view holds, in one scan. ``None``: its query is bad."""
        with self._inbox() as inbox:
            return inbox.counts(views)

    def tags(self) -> list[tuple[str, int]]:
        """Tags in use on this page with their thread counts, most used first."""
        with self._inbox() as inbox:
            return inbox.tags()

    def check_query(self, text: str) -> None:
        """:class:`QueryError` (with ``start``/``end``) when ``text`` is not a valid query."""
        with self._inbox() as inbox:
            inbox.check_query(text)

    def thread(self, number: int, *, limit: int = 50) -> ThreadDetail:
        """The thread pane's data: the newest ``limit`` messages and the rest of the context."""
        with self._inbox() as inbox:
            d = inbox.thread(number, limit=limit, others=6)
        return ThreadDetail(
            thread=d.thread,
            window=d.window,
            messages=d.messages,
            has_older=d.has_older,
            others=d.others,
            post=d.post,
            reply_targets=d.reply_targets,
            echoed=d.echoed,
            pending_sends=d.pending_sends,
            gaps=d.gaps,
            limit=limit,
            loaded_at=self.now(),
        )

    def mark_seen(self, thread: Thread) -> None:
        """The operator opened (or answered) ``thread``: its unread marker clears (stored)."""
        with self._inbox() as inbox:
            inbox.mark_seen(thread)

    # -- triage with undo ------------------------------------------------------------------------

    def _act(
        self,
        numbers: Sequence[int],
        action: Callable[[Inbox, list[Thread]], triage.TriageResult],
        view_query: str | None,
    ) -> ActionResult:
        from socialdesk.core import triage

        with self._inbox() as inbox:
            threads = triage.resolve_all(
                inbox.conn, [str(n) for n in numbers], page_id=self.page.id, now=self.now()
            )
            result = action(inbox, threads)
            return self._result(inbox, result, threads, view_query)

    def _result(
        self,
        inbox: Inbox,
        result: triage.TriageResult,
        asked: Sequence[Thread],
        view_query: str | None,
    ) -> ActionResult:
        changed = tuple(t.number for t in result.changed)
        still = inbox.in_view(changed, view_query) if view_query is not None else {}
        verb = _VERBS.get(result.action, result.action)
        if result.action == "undo":
            message = f"undone: {_numbers(result.changed)}"
        elif not changed:
            message = f"{verb} {_numbers(asked)}: nothing to change"
        else:
            message = f"{verb} {_numbers(result.changed)}"
            details = [d for o in result.outcomes if o.changed for d in o.detail]
            if details:
                message += " " + " ".join(dict.fromkeys(details))
            if result.until is not None:
                message += f" until {result.until.strftime('%a %Y-%m-%d %H:%M')} UTC"
        return ActionResult(message, changed, result.undo, still, tuple(result.warnings))

    def done(self, numbers: Sequence[int], *, view_query: str | None = None) -> ActionResult:
        """Mark threads done (the same core call as ``socialdesk done``)."""
        from socialdesk.core import triage

        return self._act(
            numbers,
            lambda inbox, ths: triage.set_status(inbox.conn, ths, Status.DONE, now=self.now()),
            view_query,
        )

    def reopen(self, numbers: Sequence[int], *, view_query: str | None = None) -> ActionResult:
        """Reopen threads."""
        from socialdesk.core import triage

        return self._act(
            numbers,
            lambda inbox, ths: triage.set_status(inbox.conn, ths, Status.OPEN, now=self.now()),
            view_query,
        )

    def snooze(
        self, numbers: Sequence[int], until: datetime, *, view_query: str | None = None
    ) -> ActionResult:
        """Snooze threads until ``until`` (warns when one wakes after its window closes)."""
        from socialdesk.core import triage

        return self._act(
            numbers,
            lambda inbox, ths: triage.set_status(
                inbox.conn,
                ths,
                Status.SNOOZED,
                now=self.now(),
                until=until,
                human_agent=self.human_agent,
            ),
            view_query,
        )

    def tag(
        self,
        numbers: Sequence[int],
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        *,
        view_query: str | None = None,
    ) -> ActionResult:
        """Add and remove tags (normalised by the store; UsageError for an invalid tag)."""
        from socialdesk.core import triage

        return self._act(
            numbers,
            lambda inbox, ths: triage.tag(inbox.conn, ths, add=add, remove=remove, now=self.now()),
            view_query,
        )

    def note(self, number: int, text: str, *, view_query: str | None = None) -> ActionResult:
        """Set (empty text: clear) the thread's note."""
        from socialdesk.core import triage

        return self._act(
            [number],
            lambda inbox, ths: triage.note(inbox.conn, ths[0], text, now=self.now()),
            view_query,
        )

    def set_hidden(
        self, number: int, hidden: bool, *, view_query: str | None = None
    ) -> ActionResult:
        """Hide or unhide a comment thread on Facebook (an API call), then locally."""
        from socialdesk.core import triage

        return self._act(
            [number],
            lambda inbox, ths: triage.set_hidden(
                inbox.conn, self.ctx.client(self.page), ths[0], hidden, now=self.now()
            ),
            view_query,
        )

    def undo(self, token: UndoToken, *, view_query: str | None = None) -> ActionResult:
        """Put back the state before ``token``'s action (a hide is undone by the opposite call;
        an undone ``done`` no longer counts as done that day in stats)."""
        from socialdesk.core import triage

        with self._inbox() as inbox:
            client = self.ctx.client(self.page) if token.hidden_before is not None else None
            result = triage.undo(inbox.conn, token, now=self.now(), client=client)
            return self._result(inbox, result, result.changed, view_query)

    def parse_snooze(self, text: str) -> datetime:
        """A snooze time typed by the operator (``2h``, ``tomorrow 9:00``, ``mon``, ISO…)."""
        from socialdesk.core import triage
        from socialdesk.core.timezones import load_timezone

        tz = load_timezone(self.config.stats.timezone)
        return triage.parse_when(text, now=self.now(), tz=tz)

    # -- replying --------------------------------------------------------------------------------

    def templates(self) -> list[str]:
        """Names of the configured templates."""
        return sorted(self.config.templates)

    def render_template(self, name: str, number: int) -> str:
        """Template ``name`` for this thread's customer (name and Page filled in)."""
        from socialdesk.core import replying

        with self._inbox() as inbox:
            th = inbox.resolve(number)
            return replying.reply_text(
                self.ctx, inbox.conn, self.page, th, ReplyRequest(template=name)
            )

    def preview(self, number: int, req: ReplyRequest) -> ReplyPreview:
        """What :meth:`send` would do now, without any network call."""
        from socialdesk.core import replying

        with self._inbox() as inbox:
            th = inbox.resolve(number)
            return replying.preview(self.ctx, inbox.conn, self.page, th, req, now=self.now())

    def send(self, number: int, req: ReplyRequest) -> ReplyOutcome:
        """Send through the outbox, exactly as ``socialdesk reply`` does; never raises for an
        outcome the operator must see (refused, failed, unknown)."""
        from socialdesk.core import replying

        with self._send_lock, self._inbox() as inbox:
            th = inbox.resolve(number)
            # keep_sender=False: between sends the inbox is not a sender, so another process's
            # recovery never waits for an inbox that is only open.
            outcome = replying.send(self.ctx, inbox.conn, self.page, th, req, keep_sender=False)
            if outcome.state == "sent":
                inbox.mark_seen(outcome.thread or th)
            return outcome

    def settle_outbox(self) -> list[str]:
        """At start: recover and read back the sends of a process that died mid-send (an
        inbox killed while sending, like a killed ``reply``); what the operator should hear."""
        from socialdesk.core import replying

        with self._send_lock, self._inbox() as inbox:
            report = replying.settle_outbox(self.ctx, inbox.conn, self.page)
        notes = report.notices()
        if report.pending:
            noun = "send is" if report.pending == 1 else "sends are"
            notes.append(
                f"outbox: {report.pending} earlier {noun} not confirmed yet"
                " (see `socialdesk outbox`)"
            )
        return notes

    # -- sync, header, stats ---------------------------------------------------------------------

    def watch_policy(self) -> WatchPolicy:
        """The background sync's policy, seeded from the Page's last 24 h of rounds."""
        from socialdesk.core.syncing import watch_policy

        with self._inbox() as inbox:
            return watch_policy(
                inbox.conn,
                self.page.id,
                poll_seconds=float(self.config.sync.poll_seconds),
                clock=self.clock,
            )

    def sync_round(
        self, *, full: bool = False, progress: Callable[[SyncProgress], None] | None = None
    ) -> SyncReport:
        """One sync of the page under the page's sync lock (skipped if a cron sync holds it).

        Raises the round's failure (the header shows it); a partial round raises the failure
        of the edges that failed, after the others were stored.
        """
        from socialdesk.core.syncing import failure, sync_round

        with self._inbox() as inbox:
            report = sync_round(
                self.ctx, inbox.conn, self.page, full=full, progress=progress, lock_wait_s=0.5
            )
        error = failure(report)
        if error is not None:
            raise error
        return report

    def header_state(self) -> HeaderState:
        """Last successful sync, failed edges and headroom, for the header."""
        from socialdesk.core.health import current_usage, edge_states, headroom

        live = self.ctx.client(self.page).usage
        with self._inbox() as inbox:
            states = edge_states(inbox.conn, self.page.id)
            title = inbox.page_title()
            usage = current_usage(inbox.conn, self.page.id, live, now=self.now())
        oks = [s.last_ok_at for s in states if s.last_ok_at is not None]
        failed = tuple((s.edge, s.error or "failed") for s in states if s.ok is False)
        return HeaderState(title, max(oks) if oks else None, failed, headroom(usage))

    def stats(self, days: int = 30) -> StatsReport:
        """The last ``days`` days (today included) and the badge estimate (0.5-1.3 s on 1M
        messages: call it from a worker)."""
        from socialdesk.core.stats import compute_stats, last_days
        from socialdesk.core.timezones import load_timezone

        now = self.now()
        tz = load_timezone(self.config.stats.timezone)
        with self._inbox() as inbox:
            return compute_stats(
                inbox.conn,
                self.page.id,
                last_days(now.astimezone(tz).date(), days),
                now=now,
                timezone=tz,
                business_hours=self.config.stats.business_hours,
            )
