"""Incremental sync of one Page: Messenger conversations, Page comments and Reels into SQLite.

Called through ``core.syncing.sync_round`` by ``socialdesk sync``, the inbox's background poll,
``demo`` and ``stats --sync``. It owns the *call plan* (PRODUCT.md §4, docs/GRAPH_API.md
"Client decisions", research/PERF_RELIABILITY.md §1.6-§1.7); the HTTP details live in
``socialdesk.api`` and the SQL in ``socialdesk.store``.

The guarantees:

- **Each edge on its own.** Conversations (the Messenger API), the feed and the Reels (the
  Pages API) are three edges. A persistent failure on one (no ``pages_messaging``, 1/99 without
  Advanced Access, a throttled or high-volume Page) is recorded with its cause and fix in the
  report and ``sync_log`` and the next edge still runs. Only failures that doom every edge (an
  invalid token, the sync's deadline, the database itself) stop the rest.
- **Fewest calls.** Conversations come with their newest messages in one nested call per page of
  conversations, walked from the newest and stopped at the stored watermark; a long thread pages
  its older messages only until it reaches a message we already hold (messages are newest
  first). Comments come from one nested call per page of posts (or Reels): the lookback window
  every time, all posts on ``full`` and on the periodic deep sweep.
- **No comment lost on ranked posts.** Graph may rank a post's comments whatever ``order`` asks,
  so a known comment in the first page says nothing about the rest. Each post remembers Graph's
  ``summary.total_count`` at the last walk that read all of its comments; a post whose count
  grew by *d* is paged until *d* comments we did not hold are found (0 calls when they are all
  among the nested first 25), and a count that shrank or an unknown comment with an unchanged
  count (a deletion hid an addition) means a complete walk. The bound is in docs/GRAPH_API.md.
- **One bad item never blocks sync.** Unreadable items (null ids, wrong types) are skipped and
  reported with their position; the good items of the page are stored. A conversation stored
  with a skipped message loses its change token, and the conversations watermark is held below
  the bad item for a few runs, so a transient glitch heals by itself.
- **Always ends.** Walks have page bounds (``api.paging``), requests a deadline and a size cap
  (``api.client``), and the whole sync an overall deadline (``deadline_s``).
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from socialdesk.api import graph
from socialdesk.api.client import GraphClient, WaitFn
from socialdesk.api.errors import DeadlineExceeded, TokenInvalid
from socialdesk.core import ig_sync
from socialdesk.core.clock import Clock
from socialdesk.errors import ExitCode, SocialdeskError
from socialdesk.models import (
    Channel,
    Conversation,
    EdgeResult,
    EdgeStatus,
    ItemProblem,
    Message,
    Post,
    SyncProgress,
    SyncReport,
    SyncStage,
)
from socialdesk.paths import Paths
from socialdesk.store import cache, triage, watermarks
from socialdesk.store import pages as store_pages
from socialdesk.store.db import transaction
from socialdesk.store.lock import sync_lock

__all__ = [
    "DEFAULT_DEADLINE_S",
    "EDGE_CONVERSATIONS",
    "EDGE_FEED",
    "EDGE_FEED_DEEP",
    "EDGE_REELS",
    "EDGE_REELS_DEEP",
    "ProgressFn",
    "Walk",
    "comment_walk",
    "sync_page",
]

EDGE_CONVERSATIONS = "conversations"
EDGE_FEED = "feed"
EDGE_REELS = "reels"
EDGE_FEED_DEEP = "feed_deep"
"""Watermark of the last complete sweep over *all* posts (``--full`` or the periodic sweep)."""
EDGE_REELS_DEEP = "reels_deep"
"""Watermark of the last complete sweep over all Reels."""
EDGE_FOLDERS_DEEP = "conversations_folders"
"""Watermark of the last read of the daily conversation folders (spam, Meta's Done)."""
EVERY_ROUND_FOLDERS: tuple[str | None, ...] = (None, "other")
"""Read every round: the default listing (Meta's inbox) and ``other`` (message requests: new
customers Meta filed away). The default listing leaves both ``other`` and ``spam`` out."""
DAILY_FOLDERS: tuple[str, ...] = ("spam", "page_done")
"""Read on the deep-sweep schedule (and ``--full``): Meta's spam filter, and threads marked
Done in Meta's inbox (a customer's new message brings those back to the inbox anyway; a Page
reply made there before marking it Done only shows in this folder)."""
HOLD_KEY = "hold"
"""Key of the conversations watermark that keeps the walk below an unreadable item."""
HOLD_RUNS = 3
"""Runs that re-read the pages around an unreadable conversation before giving up on it."""

DEFAULT_DEADLINE_S = 3600.0
"""A sync that runs longer than this stops with a clear error (what was read is kept)."""

ProgressFn = Callable[[SyncProgress], None]
"""Called with cumulative :class:`SyncProgress` events."""


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _wm_at(wm: watermarks.Watermark | None) -> int | None:
    """The time value of a stored watermark, in epoch seconds (``None`` when unset)."""
    if wm is None or wm.at is None:
        return None
    return _ts(wm.at)


def _unchanged(conv: Conversation, token: tuple[int | None, int | None] | None) -> bool:
    """Whether the stored change token says this conversation holds nothing new."""
    if token is None or token[0] != _ts(conv.updated_at):
        return False
    return conv.message_count is None or token[1] == conv.message_count


# ---- the comment plan ------------------------------------------------------------------------


class Walk(Enum):
    """How far a post's comments beyond the nested first page must be read."""

    NONE = "none"
    """The nested page holds everything new."""
    UNTIL = "until"
    """Until ``need`` comments we did not hold have been found (or the end)."""
    ALL = "all"
    """To the end."""


@dataclass(frozen=True)
class CommentPlan:
    walk: Walk
    need: int = 0
    """For ``UNTIL``: how many unknown comments the count says exist."""


def comment_walk(
    *, has_more: bool, total: int | None, stored_total: int | None, unknown_nested: int, full: bool
) -> CommentPlan:
    """The walk one post's comments need (pure: the rule docs/GRAPH_API.md states).

    Args:
        has_more: the nested comments carry a ``next`` link.
        total: Graph's ``summary.total_count`` now (``None``: not given).
        stored_total: that count at our last complete walk (``None``: never walked completely).
        unknown_nested: nested comments we do not hold.
        full: ``--full`` (every post is read to the end).
    """
    if not has_more:
        return CommentPlan(Walk.NONE)
    if full or stored_total is None:
        return CommentPlan(Walk.ALL)
    if total is None:
        # Without a count the order is all there is; known first comments prove nothing on a
        # ranked post, but with nothing unknown either there is no signal to act on.
        return CommentPlan(Walk.ALL if unknown_nested else Walk.NONE)
    grown = total - stored_total
    if grown > 0:
        if unknown_nested >= grown:
            return CommentPlan(Walk.NONE)
        return CommentPlan(Walk.UNTIL, grown)
    if grown == 0 and unknown_nested == 0:
        return CommentPlan(Walk.NONE)
    # Fewer comments than last time, or an unknown one at the same count: deletions hide what
    # was added, so only a complete walk can tell.
    return CommentPlan(Walk.ALL)


# ---- one run ---------------------------------------------------------------------------------


class _Run:
    """The state of one sync run: the report counters and the shared collaborators."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        client: GraphClient,
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
        self.reels = 0
        self.comments = 0
        self.reopened = 0
        self.problems: list[ItemProblem] = []
        """Items skipped by the edge currently running."""
        self._done: dict[SyncStage, int] = {}

    def tick(self, stage: SyncStage, add: int = 0, total: int | None = None) -> None:
        done = self._done.get(stage, 0) + add
        self._done[stage] = done
        if self.progress is not None:
            self.progress(SyncProgress(stage, done, total))

    # ---- conversations ---------------------------------------------------------------------

    def _extra_messages(self, conv: Conversation, known: set[str], held: int) -> list[Message]:
        """Older messages of a long thread, paged only as far as something can be missing.

        With ``message_count``: until the messages not stored make up the difference between
        Graph's count and what is held (a gap left by a skipped message is found too). Without
        it: until a page holds a message we already have (messages come newest first).
        """
        if conv.messages_next is None:
            return []
        unknown = sum(1 for m in conv.messages if m.id not in known)
        if conv.message_count is not None:
            missing = conv.message_count - held - unknown
            if missing <= 0:
                return []
        elif unknown < len(conv.messages):
            return []
        extra: list[Message] = []
        found = 0
        for batch in graph.iter_more_messages(self.client, conv):
            self.problems.extend(batch.problems)
            extra.extend(batch)
            self.tick(SyncStage.MESSAGES, len(batch))
            stored = cache.known_ids(self.conn, "messages", [m.id for m in batch])
            if conv.message_count is None:
                if stored:
                    break
                continue
            found += sum(1 for m in batch if m.id not in stored)
            if found >= missing:
                break
        return extra

    def sync_conversations(self, folders: Sequence[str | None]) -> None:
        """Walk each folder's listing (``None``: the default inbox) down to its watermark."""
        for folder in folders:
            self._sync_folder(folder)
        self.tick(SyncStage.CONVERSATIONS, 0, self._done.get(SyncStage.CONVERSATIONS, 0))

    def _sync_folder(self, folder: str | None) -> None:
        conn = self.conn
        key = "" if folder is None else f"folder:{folder}"
        hold_key = HOLD_KEY if folder is None else f"{HOLD_KEY}:{folder}"
        stored = watermarks.get_watermark(conn, self.page_id, EDGE_CONVERSATIONS, key)
        hold = watermarks.get_watermark(conn, self.page_id, EDGE_CONVERSATIONS, hold_key)
        old_at = None if self.full else _wm_at(stored)
        if old_at is not None and _wm_at(hold) is not None:
            old_at = min(old_at, _wm_at(hold) or old_at)
        newest: int | None = None
        oldest_good: int | None = None
        hold_at: int | None = None
        reached_watermark = False
        walk = graph.iter_conversations(
            self.client, self.page_id, folder=folder, max_pages=graph.CONVERSATION_MAX_PAGES
        )
        for batch in walk:
            tokens = cache.change_tokens(conn, [c.id for c in batch])
            changed: list[Conversation] = []
            for conv in batch:
                at = _ts(conv.updated_at)
                newest = at if newest is None else max(newest, at)
                oldest_good = at if oldest_good is None else min(oldest_good, at)
                unchanged = _unchanged(conv, tokens.get(conv.id))
                if old_at is not None and at <= old_at and unchanged:
                    # Everything older than this was committed by a walk that completed. The
                    # order is not documented, so the rest of this page (already fetched, free)
                    # is still looked at: a newer conversation listed after this one is kept.
                    reached_watermark = True
                    continue
                if not unchanged or self.full:
                    changed.append(conv)
            holds: list[int] = [] if hold_at is None else [hold_at]
            unreadable = [p for p in batch.problems if p.edge == graph.EDGE_CONVERSATIONS]
            if unreadable and oldest_good is not None:
                # The next walks must reach this page again: hold below its good items.
                holds.append(oldest_good - 1)
            self.problems.extend(batch.problems)
            holds.extend(self._store_conversations(changed, batch.problems))
            hold_at = min(holds) if holds else None
            self.tick(SyncStage.CONVERSATIONS, len(batch))
            if reached_watermark:
                break
        with transaction(conn):
            self._advance_conversations(newest, key)
            self._set_hold(hold, hold_at, hold_key)

    def _set_hold(
        self, previous: watermarks.Watermark | None, hold_at: int | None, key: str
    ) -> None:
        """Keep (or drop) the hold below unreadable items; give up after ``HOLD_RUNS`` runs."""
        if hold_at is None:
            if previous is not None:
                watermarks.clear_watermark(self.conn, self.page_id, EDGE_CONVERSATIONS, key)
            return
        left = HOLD_RUNS
        if previous is not None and previous.id is not None and previous.id.isdigit():
            left = int(previous.id) - 1
        if left <= 0:
            # Still unreadable after several runs: the item is reported, the walk moves on.
            watermarks.clear_watermark(self.conn, self.page_id, EDGE_CONVERSATIONS, key)
            return
        watermarks.set_watermark(
            self.conn,
            self.page_id,
            EDGE_CONVERSATIONS,
            key=key,
            at=datetime.fromtimestamp(hold_at, tz=UTC),
            id=str(left),
            now=self.now,
        )

    def _advance_conversations(self, newest: int | None, key: str) -> None:
        if newest is None:
            return
        current = _wm_at(watermarks.get_watermark(self.conn, self.page_id, EDGE_CONVERSATIONS, key))
        if current is not None and current >= newest:
            return  # never move it backwards (a conversation can reappear out of order)
        watermarks.set_watermark(
            self.conn,
            self.page_id,
            EDGE_CONVERSATIONS,
            key=key,
            at=datetime.fromtimestamp(newest, tz=UTC),
            now=self.now,
        )

    def _store_conversations(
        self, convs: list[Conversation], page_problems: Sequence[ItemProblem]
    ) -> list[int]:
        """Fetch what long threads miss, then write the whole HTTP page in one transaction.

        Returns the times (minus 1 s) of conversations stored with skipped messages.
        """
        if not convs:
            return []
        conn = self.conn
        known = cache.known_ids(conn, "messages", [m.id for c in convs for m in c.messages])
        held = cache.message_counts(conn, [c.id for c in convs])
        extras: dict[str, list[Message]] = {}
        with_problems = {p.parent for p in page_problems if p.parent}
        for conv in convs:
            before = len(self.problems)
            more = self._extra_messages(conv, known, held.get(conv.id, 0))
            if len(self.problems) > before:
                with_problems.add(conv.id)
            if more:
                extras[conv.id] = more
        stale = [c for c in convs if c.id in with_problems]
        with transaction(conn):
            result = cache.upsert_conversations(conn, self.page_id, convs, now=self.now)
            for conv_id, msgs in extras.items():
                unique = list({m.id: m for m in msgs}.values())
                result += cache.upsert_messages(
                    conn, self.page_id, conv_id, Channel.DM, unique, now=self.now
                )
            cache.mark_stale(conn, [c.id for c in stale])
        self.conversations += len(convs)
        self.messages += result.messages_new
        self.reopened += result.reopened
        return [_ts(c.updated_at) - 1 for c in stale]

    # ---- comments (feed and reels) ---------------------------------------------------------

    def _more_comments(
        self, post: Post, plan: CommentPlan, known: set[str]
    ) -> tuple[list[Message], bool]:
        """The comments the plan asks for beyond the nested page, and whether the walk was
        complete enough to record the post's count."""
        if plan.walk is Walk.NONE:
            return [], True
        found = sum(1 for c in post.comments if c.id not in known)
        extra: list[Message] = []
        complete = True
        for batch in graph.iter_more_comments(self.client, self.page_id, post):
            self.problems.extend(batch.problems)
            if batch.problems:
                complete = False
            extra.extend(batch)
            self.tick(SyncStage.COMMENTS, len(batch))
            if plan.walk is Walk.UNTIL:
                held = cache.known_ids(self.conn, "messages", [c.id for c in batch])
                found += sum(1 for c in batch if c.id not in held and c.id not in known)
                if found >= plan.need:
                    break
        return extra, complete

    def sync_posts(self, batches: Iterator[graph.Batch[Post]], stage: SyncStage) -> None:
        """Store posts (or Reels) page by page, walking each one's comments as its plan says."""
        conn = self.conn
        for batch in batches:
            self.problems.extend(batch.problems)
            bad_posts = {p.parent for p in batch.problems if p.parent}
            totals = cache.comment_totals(conn, [p.id for p in batch])
            known = cache.known_ids(conn, "messages", [c.id for p in batch for c in p.comments])
            posts: list[Post] = []
            complete: dict[str, int] = {}
            for post in batch:
                unknown = sum(1 for c in post.comments if c.id not in known)
                plan = comment_walk(
                    has_more=post.comments_next is not None,
                    total=post.comment_total,
                    stored_total=totals.get(post.id),
                    unknown_nested=unknown,
                    full=self.full,
                )
                more, whole = self._more_comments(post, plan, known)
                if more:
                    merged = {c.id: c for c in (*post.comments, *more)}
                    post = dataclasses.replace(post, comments=tuple(merged.values()))
                if whole and post.id not in bad_posts and post.comment_total is not None:
                    complete[post.id] = post.comment_total
                posts.append(post)
            if posts:
                known_posts = cache.known_ids(conn, "posts", [p.id for p in posts])
                known_all = cache.known_ids(
                    conn, "messages", [c.id for p in posts for c in p.comments]
                )
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
                    cache.set_comment_totals(conn, complete)
                if stage is SyncStage.REELS:
                    self.reels += len(active)
                else:
                    self.posts += len(active)
                self.comments += result.messages_new
                self.reopened += result.reopened
            self.tick(stage, len(batch))
        self.tick(stage, 0, self._done.get(stage, 0))

    def sync_feed(self, since: datetime | None, deep: bool, started: datetime) -> None:
        pages = graph.iter_feed(
            self.client, self.page_id, since=since, max_pages=graph.FEED_MAX_PAGES
        )
        self.sync_posts(_until_older(pages, since), SyncStage.FEED)
        with transaction(self.conn):
            self._advance(EDGE_FEED, EDGE_FEED_DEEP, started, deep)

    def sync_reels(self, since: datetime | None, deep: bool, started: datetime) -> None:
        self.sync_posts(self._reels_since(since), SyncStage.REELS)
        with transaction(self.conn):
            self._advance(EDGE_REELS, EDGE_REELS_DEEP, started, deep)

    def _reels_since(self, since: datetime | None) -> Iterator[graph.Batch[Post]]:
        """Reels newest first (cursor paging: ``since`` is not sent), stopped at ``since``."""
        reels = graph.iter_reels(self.client, self.page_id, max_pages=graph.FEED_MAX_PAGES)
        return _until_older(reels, since)

    def _advance(self, edge: str, deep_edge: str, started: datetime, deep: bool) -> None:
        watermarks.set_watermark(self.conn, self.page_id, edge, at=started, now=self.now)
        if deep:
            watermarks.set_watermark(self.conn, self.page_id, deep_edge, at=started, now=self.now)


def _until_older(
    pages: Iterator[graph.Batch[Post]], since: datetime | None
) -> Iterator[graph.Batch[Post]]:
    """The pages up to the first one holding a post created before ``since`` (all without).

    A time-based ``next`` link drops its ``since`` bound (docs/GRAPH_API.md §20.12), so a walk
    that followed it would go on to the oldest post: the client stops by itself. Posts come
    newest first; the rest of the page that crosses the line is kept (it is already paid for).
    """
    for batch in pages:
        yield batch
        if since is not None and any(p.created_at < since for p in batch):
            return


# ---- the edges and the report ----------------------------------------------------------------


def _deep_sweep_due(
    conn: sqlite3.Connection, page_id: str, edge: str, now: datetime, hours: float
) -> bool:
    last = _wm_at(watermarks.get_watermark(conn, page_id, edge))
    return last is None or now.timestamp() - last >= hours * 3600


def _dooms_the_rest(exc: BaseException) -> bool:
    """Failures every later edge would hit too: no point in calling again."""
    return isinstance(exc, TokenInvalid | DeadlineExceeded | sqlite3.Error | OSError)


def _failure(
    edge: str, exc: BaseException, calls: int, problems: Sequence[ItemProblem]
) -> EdgeResult:
    if isinstance(exc, SocialdeskError):
        return EdgeResult(
            edge,
            EdgeStatus.FAILED,
            calls=calls,
            error=str(exc) or type(exc).__name__,
            hint=exc.hint,
            reason=exc.reason,
            exit_code=int(exc.exit_code),
            problems=tuple(problems),
        )
    return EdgeResult(
        edge,
        EdgeStatus.FAILED,
        calls=calls,
        error=f"{type(exc).__name__}: {exc}",
        hint="check the disk and the database (`socialdesk doctor`), then sync again",
        reason="store",
        exit_code=int(ExitCode.FAILURE),
        problems=tuple(problems),
    )


def sync_page(
    conn: sqlite3.Connection,
    client: GraphClient,
    page_id: str,
    *,
    paths: Paths,
    clock: Clock,
    full: bool = False,
    lookback_days: int = 28,
    deep_sweep_hours: float = 24,
    progress: ProgressFn | None = None,
    lock_wait_s: float = 10.0,
    deadline_s: float | None = DEFAULT_DEADLINE_S,
    on_wait: WaitFn | None = None,
    reels: bool = True,
) -> SyncReport:
    """Sync one Page's conversations, comments and Reels into the database.

    ``clock`` dates the rows and decides the lookback window and whether the deep sweep is due.
    ``paths`` locates the per-page lock file. Each edge's outcome is in ``report.edges``
    (and ``sync_log``); edge failures are reported, never raised (``core.syncing`` turns the
    report into an exit code). ``deadline_s`` bounds the whole sync; ``on_wait`` hears every
    wait longer than pacing (throttles, retries). When another sync of the same page holds the
    lock for longer than ``lock_wait_s`` the report comes back with ``skipped=True``.
    """
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
        with client.operation("sync", deadline_s=deadline_s, on_wait=on_wait) as op:
            report = _sync_locked(
                conn, client, page_id, clock, full, lookback_days, deep_sweep_hours, progress,
                reels,
            )  # fmt: skip
        return dataclasses.replace(report, calls=op.calls, duration_s=time.monotonic() - t0)


def _sync_locked(
    conn: sqlite3.Connection,
    client: GraphClient,
    page_id: str,
    clock: Clock,
    full: bool,
    lookback_days: int,
    deep_sweep_hours: float,
    progress: ProgressFn | None,
    with_reels: bool,
) -> SyncReport:
    started = clock.now()
    run = _Run(conn, client, page_id, started, full, progress)
    results: list[EdgeResult] = []
    doom: EdgeResult | None = None
    messenger_calls = 0

    def guarded(edge: str, step: Callable[[], None]) -> None:
        nonlocal doom, messenger_calls
        edge_started = clock.now()
        run.problems = []
        if doom is not None:
            result = dataclasses.replace(
                doom, edge=edge, status=EdgeStatus.NOT_RUN, calls=0, problems=()
            )
            results.append(result)
            _record(conn, page_id, result, edge_started, clock.now(), client)
            return
        with client.operation(edge) as op:
            try:
                step()
            except (SocialdeskError, sqlite3.Error, OSError) as exc:
                result = _failure(edge, exc, op.calls, run.problems)
                if _dooms_the_rest(exc):
                    doom = result
            else:
                result = EdgeResult(
                    edge, EdgeStatus.OK, calls=op.calls, problems=tuple(run.problems)
                )
        if edge in (EDGE_CONVERSATIONS, ig_sync.EDGE_IG_CONVERSATIONS):
            # Instagram DM reads may spend the Page's Messenger budget too (INSTAGRAM_API.md
            # §14 q9, the sandbox's stricter answer): the watch policy counts them with it.
            messenger_calls += result.calls
        results.append(result)
        _record(conn, page_id, result, edge_started, clock.now(), client)

    folders_due = full or _deep_sweep_due(
        conn, page_id, EDGE_FOLDERS_DEEP, started, deep_sweep_hours
    )
    folders = [*EVERY_ROUND_FOLDERS, *(DAILY_FOLDERS if folders_due else ())]

    def conversations() -> None:
        run.sync_conversations(folders)
        if folders_due:
            with transaction(conn):
                watermarks.set_watermark(conn, page_id, EDGE_FOLDERS_DEEP, at=started, now=started)

    guarded(EDGE_CONVERSATIONS, conversations)
    since = started - timedelta(days=lookback_days)
    feed_deep = full or _deep_sweep_due(conn, page_id, EDGE_FEED_DEEP, started, deep_sweep_hours)
    guarded(EDGE_FEED, lambda: run.sync_feed(None if feed_deep else since, feed_deep, started))
    if with_reels:
        reels_deep = full or _deep_sweep_due(
            conn, page_id, EDGE_REELS_DEEP, started, deep_sweep_hours
        )
        guarded(
            EDGE_REELS, lambda: run.sync_reels(None if reels_deep else since, reels_deep, started)
        )

    ig_counts: dict[str, int] = {}
    account = store_pages.get_instagram(conn, page_id).account
    if account is not None:
        # The linked Instagram account (docs/INSTAGRAM_API.md): two more edges, each failing on
        # its own like the others; a Page without an account makes no Instagram call.
        ig = ig_sync.IgRun(
            conn, client, page_id, account, started, full, lambda: run.problems, progress
        )
        guarded(ig_sync.EDGE_IG_CONVERSATIONS, ig.sync_dms)
        media_deep = full or _deep_sweep_due(
            conn, page_id, ig_sync.EDGE_IG_MEDIA_DEEP, started, deep_sweep_hours
        )
        guarded(
            ig_sync.EDGE_IG_MEDIA,
            lambda: ig.sync_media(None if media_deep else since, media_deep, started),
        )
        ig_counts = ig.counts

    if doom is None or doom.reason not in ("store",):
        try:
            with transaction(conn):
                # Expired snoozes return to open; they are not "reopened by new inbound".
                triage.wake_snoozed(conn, clock.now())
        except sqlite3.Error:
            pass  # the failed edges already say the database is in trouble

    return SyncReport(
        page_id=page_id,
        full=full,
        conversations=run.conversations,
        messages=run.messages,
        posts=run.posts,
        comments=run.comments,
        reopened=run.reopened + ig_counts.get("reopened", 0),
        errors=tuple(f"{r.edge}: {r.error}" for r in results if not r.ok),
        edges=tuple(results),
        reels=run.reels,
        usage=client.usage,
        messenger_calls=messenger_calls,
        instagram=ig_counts,
    )


def _record(
    conn: sqlite3.Connection,
    page_id: str,
    result: EdgeResult,
    started: datetime,
    finished: datetime,
    client: GraphClient,
) -> None:
    """Log one edge's run in ``sync_log`` (best effort when the database itself failed)."""
    try:
        if conn.in_transaction:  # a failed page left its transaction open only if the store did
            conn.rollback()
        with transaction(conn):
            watermarks.record_sync(
                conn,
                page_id,
                result.edge,
                started_at=started,
                finished_at=finished,
                ok=result.ok,
                calls=result.calls,
                error=result.error,
                hint=result.hint,
                reason=result.reason,
                exit_code=result.exit_code,
                problems=[p.describe() for p in result.problems],
                usage=client.usage,
            )
    except sqlite3.Error:
        if result.reason != "store":
            raise
