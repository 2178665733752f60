"""Incremental sync of one Page: Messenger conversations and Page comments into SQLite.

Called by ``socialdesk sync`` (cli/cmd_sync.py), the inbox's background poll and ``demo``. It
owns the *call plan* (PRODUCT.md §4, GRAPH_API.md §2-§3, research/PERF_RELIABILITY.md §1.6-§1.7);
the HTTP details live in ``socialdesk.api`` and the SQL in ``socialdesk.store``.

The guarantees:

- **Fewest calls.** Conversations come with their newest messages in one nested call per page of
  conversations, walked from the newest and stopped at the stored watermark; a long thread pages
  its older messages only until it reaches a message we already hold. Comments come from one
  nested feed sweep over the posts of the lookback window (all posts on ``full`` and on the
  periodic deep sweep), following a post's comment pages only until a known comment.
- **Nothing committed is lost.** Each HTTP page of results is written in one transaction. The
  conversations watermark is written only once a walk has reached the old watermark (or the
  end), so a crash mid-walk makes the next run re-walk from the newest: rows already committed
  are recognised by their change token (``updated_time``, ``message_count``) and cost no write.
  Upserts are keyed by Graph ids, so duplicates across pages or runs are harmless.
- **One at a time.** The per-page sync lock keeps the inbox's poll and a cron job apart.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from socialdesk.api import graph
from socialdesk.errors import SocialdeskError
from socialdesk.models import Channel, Conversation, Message, Post, SyncReport
from socialdesk.store import cache, triage, watermarks
from socialdesk.store.db import transaction
from socialdesk.store.lock import sync_lock

__all__ = ["EDGE_CONVERSATIONS", "EDGE_FEED", "EDGE_FEED_DEEP", "ProgressFn", "sync_page"]

EDGE_CONVERSATIONS = "conversations"
EDGE_FEED = "feed"
EDGE_FEED_DEEP = "feed_deep"
"""Watermark of the last complete sweep over *all* posts (``--full`` or the periodic sweep)."""

ProgressFn = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: stage is ``conversations``, ``messages``, ``feed`` or
``comments``; ``total`` is ``None`` when unknown (conversations have no count up front)."""

FOLLOW_PAGE_SIZE = 100
"""Page size when following a long thread's (or busy post's) older messages."""

_CHUNK = 500
"""Ids per ``IN (…)`` lookup: far below SQLite's variable limit on every supported build."""


class _Clock(Protocol):
    def now(self) -> datetime: ...


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _known_ids(conn: sqlite3.Connection, table: str, ids: Iterable[str]) -> set[str]:
    """The subset of ``ids`` already stored in ``table`` (``messages`` or ``posts``)."""
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", tuple(chunk))
        found.update(str(r[0]) for r in rows)
    return found


def _change_tokens(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, tuple[int | None, int | None]]:
    """Stored (``graph_updated_at``, ``message_count``) of the given conversations."""
    tokens: dict[str, tuple[int | None, int | None]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id, graph_updated_at, message_count FROM threads WHERE id IN ({marks})",
            tuple(chunk),
        )
        for r in rows:
            tokens[str(r[0])] = (r[1], r[2])
    return tokens


def _unchanged(conv: Conversation, token: tuple[int | None, int | None] | None) -> bool:
    """Whether the stored change token says this conversation holds nothing new."""
    if token is None or token[0] != _ts(conv.updated_at):
        return False
    return conv.message_count is None or token[1] == conv.message_count


def _widen(link: str, size: int) -> str:
    """``link`` asking for ``size`` items per page.

    A nested edge's ``next`` link keeps the nested ``limit`` (25); the cursor does not depend on
    it, so the older messages of a long thread are read 100 at a time instead.
    """
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "limit"]
    query.append(("limit", str(size)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _wm_at(wm: watermarks.Watermark | None) -> int | None:
    """The time value of a stored watermark, in epoch seconds (``None`` when unset)."""
    if wm is None or wm.at is None:
        return None
    return _ts(wm.at)


class _Run:
    """The state of one sync run: the report counters and the shared collaborators."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        client: Any,
        page_id: str,
        now: datetime,
        full: bool,
        progress: ProgressFn | None,
    ) -> None:
        self.conn = conn
        self.client = client
        self.page_id = page_id
        self.now = now
        self.full = full
        self.progress = progress
        self.conversations = 0
        self.messages = 0
        self.posts = 0
        self.comments = 0
        self.reopened = 0

    def tick(self, stage: str, done: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def _widen(self, link: str, edge: str) -> str:
        # Respect a page size the client had to halve after a code-1 "reduce the data" error.
        sizes = getattr(self.client, "page_size", {})
        return _widen(link, min(FOLLOW_PAGE_SIZE, int(sizes.get(edge, FOLLOW_PAGE_SIZE))))

    # ---- conversations ---------------------------------------------------------------------

    def _extra_messages(self, conv: Conversation, known: set[str]) -> list[Message]:
        """Older messages of a long thread, paged only until one we already hold."""
        if conv.messages_next is None or any(m.id in known for m in conv.messages):
            return []

        extra: list[Message] = []
        conv = dataclasses.replace(conv, messages_next=self._widen(conv.messages_next, "messages"))
        for batch in graph.iter_more_messages(self.client, conv):
            extra.extend(batch)
            if _known_ids(self.conn, "messages", [m.id for m in batch]):
                break
        return extra

    def sync_conversations(self) -> None:

        conn = self.conn
        old_at = (
            None
            if self.full
            else _wm_at(watermarks.get_watermark(conn, self.page_id, EDGE_CONVERSATIONS))
        )
        newest: int | None = None
        seen = 0
        reached_watermark = False
        for page in graph.iter_conversations(self.client, self.page_id):
            seen += len(page)
            tokens = _change_tokens(conn, [c.id for c in page])
            changed: list[Conversation] = []
            for conv in page:
                at = _ts(conv.updated_at)
                newest = at if newest is None else max(newest, at)
                unchanged = _unchanged(conv, tokens.get(conv.id))
                if old_at is not None and at <= old_at and unchanged:
                    # Everything older than this was committed by a walk that completed. The
                    # order is not documented, so the rest of this page (already fetched, free)
                    # is still looked at: a newer conversation listed after this one is kept.
                    reached_watermark = True
                    continue
                if not unchanged or self.full:
                    changed.append(conv)
            self._store_conversations(changed)
            if reached_watermark:
                with transaction(conn):
                    self._advance_conversations(newest)
                break
            self.tick("conversations", seen, None)
        else:
            if newest is not None:
                with transaction(conn):
                    self._advance_conversations(newest)
        self.tick("conversations", seen, seen)

    def _advance_conversations(self, newest: int | None) -> None:

        if newest is None:
            return
        current = _wm_at(watermarks.get_watermark(self.conn, self.page_id, EDGE_CONVERSATIONS))
        if current is not None and current >= newest:
            return  # never move it backwards (a conversation can reappear out of order)
        value = newest
        watermarks.set_watermark(
            self.conn,
            self.page_id,
            EDGE_CONVERSATIONS,
            at=datetime.fromtimestamp(value, tz=UTC),
            now=self.now,
        )

    def _store_conversations(self, convs: list[Conversation]) -> None:
        """Fetch what long threads miss, then write the whole HTTP page in one transaction."""
        if not convs:
            return

        conn = self.conn
        known = _known_ids(conn, "messages", [m.id for c in convs for m in c.messages])
        extras: dict[str, list[Message]] = {}
        for conv in convs:
            more = self._extra_messages(conv, known)
            if more:
                extras[conv.id] = more
                self.tick("messages", len(more), None)
        with transaction(conn):
            result = cache.upsert_conversations(conn, self.page_id, convs, now=self.now)
            for conv_id, msgs in extras.items():
                unique = list({m.id: m for m in msgs}.values())
                result += cache.upsert_messages(
                    conn, self.page_id, conv_id, Channel.DM, unique, now=self.now
                )
        self.conversations += len(convs)
        self.messages += result.messages_new
        self.reopened += result.reopened

    # ---- comments --------------------------------------------------------------------------

    def _extra_comments(self, post: Post, known: set[str]) -> list[Message]:
        """Older comments of a busy post, paged only until one we already hold."""
        if post.comments_next is None or any(c.id in known for c in post.comments):
            return []

        extra: list[Message] = []
        post = dataclasses.replace(post, comments_next=self._widen(post.comments_next, "comments"))
        for batch in graph.iter_more_comments(self.client, self.page_id, post):
            extra.extend(batch)
            if _known_ids(self.conn, "messages", [c.id for c in batch]):
                break
        return extra

    def sync_feed(self, since: datetime | None, deep: bool, started: datetime) -> None:

        conn = self.conn
        seen = 0
        for page in graph.iter_feed(self.client, self.page_id, since=since):
            seen += len(page)
            known = _known_ids(conn, "messages", [c.id for p in page for c in p.comments])
            posts: list[Post] = []
            for post in page:
                more = self._extra_comments(post, known)
                if more:
                    self.tick("comments", len(more), None)
                    merged = {c.id: c for c in (*post.comments, *more)}
                    post = dataclasses.replace(post, comments=tuple(merged.values()))
                posts.append(post)
            if posts:
                known_posts = _known_ids(conn, "posts", [p.id for p in posts])
                known_all = _known_ids(conn, "messages", [c.id for p in posts for c in p.comments])
                active = [
                    p
                    for p in posts
                    if p.id not in known_posts or any(c.id not in known_all for c in p.comments)
                ]
                # Every post of the page is upserted, unchanged ones included: the store writes
                # only rows that differ (posts, threads, derived columns, messages), and this
                # keeps edits and hidden flags current for free.
                with transaction(conn):
                    result = cache.upsert_posts(conn, self.page_id, posts, now=self.now)
                self.posts += len(active)
                self.comments += result.messages_new
                self.reopened += result.reopened
            self.tick("feed", seen, None)
        with transaction(conn):
            self._advance_feed(started, deep)
        self.tick("feed", seen, seen)

    def _advance_feed(self, started: datetime, deep: bool) -> None:

        watermarks.set_watermark(self.conn, self.page_id, EDGE_FEED, at=started, now=self.now)
        if deep:
            watermarks.set_watermark(
                self.conn, self.page_id, EDGE_FEED_DEEP, at=started, now=self.now
            )


def _record(
    conn: sqlite3.Connection,
    page_id: str,
    edge: str,
    started: datetime,
    finished: datetime,
    *,
    ok: bool,
    calls: int,
    error: str | None = None,
) -> None:

    if conn.in_transaction:  # a failed page left its transaction open only if the store did
        conn.execute("ROLLBACK")
    with transaction(conn):
        watermarks.record_sync(
            conn,
            page_id,
            edge,
            started_at=started,
            finished_at=finished,
            ok=ok,
            calls=calls,
            error=error,
        )


def _deep_sweep_due(conn: sqlite3.Connection, page_id: str, now: datetime, hours: float) -> bool:

    last = _wm_at(watermarks.get_watermark(conn, page_id, EDGE_FEED_DEEP))
    return last is None or now.timestamp() - last >= hours * 3600


def sync_page(
    conn: sqlite3.Connection,
    client: Any,
    page_id: str,
    *,
    paths: Any,
    now: datetime | None = None,
    clock: _Clock | None = None,
    full: bool = False,
    lookback_days: int = 28,
    deep_sweep_hours: float = 24,
    progress: ProgressFn | None = None,
    lock_wait_s: float = 10.0,
) -> SyncReport:
    """Sync one Page's conversations and comments into the database; return what it did.

    ``client`` is a ``socialdesk.api.client.GraphClient`` (its ``calls`` counter gives the
    report's call count). ``paths`` locates the per-page lock file. ``clock`` (or a fixed
    ``now``) dates the rows and decides the lookback window and whether the deep sweep is due.

    When another sync of the same page holds the lock for longer than ``lock_wait_s`` the
    report comes back with ``skipped=True``. A ``GraphError`` (or any ``SocialdeskError``)
    propagates after its edge is recorded as failed in ``sync_log``; pages already committed
    stay committed and the next run resumes.
    """

    def current() -> datetime:
        if clock is not None:
            return clock.now()
        return now if now is not None else datetime.now(UTC)

    t0 = time.monotonic()
    with sync_lock(paths, page_id, wait_s=lock_wait_s) as acquired:
        if not acquired:
            return SyncReport(
                page_id=page_id,
                full=full,
                skipped=True,
                duration_s=time.monotonic() - t0,
                errors=("another sync of this page is running; skipped",),
            )
        return _sync_locked(
            conn, client, page_id, current, full, lookback_days, deep_sweep_hours, progress, t0
        )


def _sync_locked(
    conn: sqlite3.Connection,
    client: Any,
    page_id: str,
    current: Callable[[], datetime],
    full: bool,
    lookback_days: int,
    deep_sweep_hours: float,
    progress: ProgressFn | None,
    t0: float,
) -> SyncReport:

    calls0 = int(client.calls)
    started = current()
    run = _Run(conn, client, page_id, started, full, progress)

    def guarded(edge: str, step: Callable[[], None]) -> None:
        edge_started = current()
        edge_calls0 = int(client.calls)
        try:
            step()
        except (SocialdeskError, sqlite3.Error, OSError) as exc:
            # Record the failure for `doctor`, then let the caller map it to an exit code.
            _record(
                conn,
                page_id,
                edge,
                edge_started,
                current(),
                ok=False,
                calls=int(client.calls) - edge_calls0,
                error=str(exc) or type(exc).__name__,
            )
            raise
        _record(
            conn,
            page_id,
            edge,
            edge_started,
            current(),
            ok=True,
            calls=int(client.calls) - edge_calls0,
        )

    guarded(EDGE_CONVERSATIONS, run.sync_conversations)
    deep = full or _deep_sweep_due(conn, page_id, started, deep_sweep_hours)
    since = None if deep else started - timedelta(days=lookback_days)
    guarded(EDGE_FEED, lambda: run.sync_feed(since, deep, started))

    with transaction(conn):
        # Expired snoozes return to open; they are not "reopened by new inbound" in the report.
        triage.wake_snoozed(conn, current())

    return SyncReport(
        page_id=page_id,
        full=full,
        conversations=run.conversations,
        messages=run.messages,
        posts=run.posts,
        comments=run.comments,
        calls=int(client.calls) - calls0,
        duration_s=time.monotonic() - t0,
        reopened=run.reopened,
    )
