"""Incremental sync of the Page's linked Instagram account: DMs and comments (issue 13).

Called by ``core.sync`` (two edges of the same round, each failing on its own) when the Page
has a linked Instagram account stored by discovery (``core.instagram``: ``init``, ``pages``,
``doctor``, ``demo``); a Page without one makes no Instagram call. The call plan is
docs/INSTAGRAM_API.md's "Client call bounds":

- **DMs** (edge ``ig_conversations``): ``/{page}/conversations?platform=instagram``, newest
  first, 15 threads a page with their 20 newest messages nested (never more: only the 20
  newest have details), stopped at the stored watermark. Instagram threads have no
  ``message_count``, so a thread's change token is ``updated_time`` + its newest message id.
  A known thread whose 20 returned messages include none we hold got more than 20 messages
  since the last sync: the messages in between cannot be read, ever, so a **gap marker** is
  stored (``show`` prints it) instead of a silently incomplete thread. No call beyond the
  listing is ever made for history.
- **Comments** (edge ``ig_media``): ``/{ig-user}/media`` with ``comments_count`` (the lookback
  window; all media on ``--full`` and the daily deep sweep), then the comments (with replies
  nested) of **only** the media whose ``comments_count`` differs from the stored one. The
  stored count is Graph's count, recorded only after a complete read.
- **Pacing**: Instagram's Conversations API calls have their own 2 calls/s lane per Instagram
  account (``api.pacer.LANES``).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from socialdesk.api import graph_ig
from socialdesk.api.client import GraphClient
from socialdesk.models import (
    IG_DETAIL_HORIZON,
    Conversation,
    InstagramAccount,
    ItemProblem,
    Message,
    Post,
    SyncProgress,
    SyncStage,
)
from socialdesk.store import cache, watermarks
from socialdesk.store.db import transaction

EDGE_IG_CONVERSATIONS = "ig_conversations"
EDGE_IG_MEDIA = "ig_media"
HOLD_KEY = "hold"
"""Key of the DM watermark row counting the runs held back by an unreadable thread."""
HOLD_RUNS = 3
"""Runs that re-walk past an unreadable thread before the watermark moves on anyway (it is
reported each time; a permanently broken item must not make every sync walk everything)."""
EDGE_IG_MEDIA_DEEP = "ig_media_deep"
"""Watermark of the last listing of *all* media (``--full`` or the daily sweep)."""

__all__ = [
    "EDGE_IG_CONVERSATIONS",
    "EDGE_IG_MEDIA",
    "IgRun",
]


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


class IgRun:
    """One round's Instagram walks, with their counters (``SyncReport.instagram``)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        client: GraphClient,
        page_id: str,
        account: InstagramAccount,
        now: datetime,
        full: bool,
        problems: Callable[[], list[ItemProblem]],
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self.conn = conn
        self.client = client
        self.page_id = page_id
        self.account = account
        self.now = now
        self.full = full
        self._problems = problems
        self.progress = progress
        self.counts: dict[str, int] = {
            "threads": 0,
            "messages": 0,
            "gaps": 0,
            "media": 0,
            "media_reread": 0,
            "comments": 0,
            "reopened": 0,
        }
        self._ticks: dict[SyncStage, int] = {}

    def _tick(self, stage: SyncStage, add: int) -> None:
        done = self._ticks.get(stage, 0) + add
        self._ticks[stage] = done
        if self.progress is not None:
            self.progress(SyncProgress(stage, done))

    # ---- DMs -------------------------------------------------------------------------------

    def sync_dms(self) -> None:
        """Walk the Instagram listing from the newest thread down to the watermark."""
        conn = self.conn
        stored = watermarks.get_watermark(conn, self.page_id, EDGE_IG_CONVERSATIONS)
        old_at = None if self.full or stored is None or stored.at is None else _ts(stored.at)
        newest: int | None = None
        clean = True
        walk = graph_ig.iter_ig_conversations(self.client, self.page_id, self.account.id)
        for batch in walk:
            self._problems().extend(batch.problems)
            if any(p.edge == graph_ig.EDGE_IG_CONVERSATIONS for p in batch.problems):
                clean = False  # an unreadable thread: the watermark waits for it
            tokens = cache.ig_change_tokens(conn, [c.id for c in batch])
            changed: list[Conversation] = []
            reached = False
            for conv in batch:
                at = _ts(conv.updated_at)
                newest = at if newest is None else max(newest, at)
                token = tokens.get(conv.id)
                head = conv.messages[0].id if conv.messages else None
                unchanged = token is not None and token == (at, head)
                if old_at is not None and at <= old_at and unchanged:
                    reached = True  # the rest of this page is still looked at (order undocumented)
                    continue
                if not unchanged or self.full:
                    changed.append(conv)
            self._store_threads(changed, batch.problems)
            self._tick(SyncStage.IG_CONVERSATIONS, len(batch))
            if reached:
                break
        hold = watermarks.get_watermark(conn, self.page_id, EDGE_IG_CONVERSATIONS, HOLD_KEY)
        held = int(hold.id) if hold is not None and hold.id and hold.id.isdigit() else 0
        with transaction(conn):
            if not clean and held + 1 < HOLD_RUNS:
                # An unreadable thread: the next walks reach it again before moving on.
                watermarks.set_watermark(
                    conn, self.page_id, EDGE_IG_CONVERSATIONS, key=HOLD_KEY,
                    id=str(held + 1), now=self.now,
                )  # fmt: skip
                return
            if hold is not None:
                watermarks.clear_watermark(conn, self.page_id, EDGE_IG_CONVERSATIONS, HOLD_KEY)
            if newest is not None and (old_at is None or newest > old_at):
                watermarks.set_watermark(
                    conn,
                    self.page_id,
                    EDGE_IG_CONVERSATIONS,
                    at=datetime.fromtimestamp(newest, tz=UTC),
                    now=self.now,
                )

    def _store_threads(self, convs: list[Conversation], problems: list[ItemProblem]) -> None:
        """Write one page of changed threads, with a gap marker where > 20 messages came."""
        if not convs:
            return
        conn = self.conn
        known = cache.known_ids(conn, "messages", [m.id for c in convs for m in c.messages])
        newest_held = cache.newest_times(conn, [c.id for c in convs])
        gaps: list[tuple[str, datetime, datetime]] = []
        for conv in convs:
            held_at = newest_held.get(conv.id)
            if held_at is None or not conv.messages:
                continue  # a new thread: history older than 20 messages is simply not there
            full_window = len(conv.messages) >= IG_DETAIL_HORIZON or conv.messages_next
            if full_window and not any(m.id in known for m in conv.messages):
                oldest = min(m.created_at for m in conv.messages)
                if _ts(oldest) > held_at:
                    gaps.append((conv.id, datetime.fromtimestamp(held_at, tz=UTC), oldest))
        stale = {p.parent for p in problems if p.parent}
        with transaction(conn):
            result = cache.upsert_conversations(conn, self.page_id, convs, now=self.now)
            cache.record_gaps(conn, self.page_id, gaps, now=self.now)
            cache.mark_stale(conn, [c.id for c in convs if c.id in stale])
        self.counts["threads"] += len(convs)
        self.counts["messages"] += result.messages_new
        self.counts["gaps"] += len(gaps)
        self.counts["reopened"] += result.reopened

    # ---- media and comments ----------------------------------------------------------------

    def sync_media(self, since: datetime | None, deep: bool, started: datetime) -> None:
        """List media with ``comments_count``; re-read comments only where the count moved."""
        conn = self.conn
        walk = graph_ig.iter_ig_media(self.client, self.page_id, self.account.id, since=since)
        for batch in walk:
            self._problems().extend(batch.problems)
            totals = cache.comment_totals(conn, [m.id for m in batch])
            media: list[Post] = []
            counts: dict[str, int] = {}
            for item in batch:
                count = item.comment_total
                stored = totals.get(item.id)
                if count is None:
                    media.append(item)
                    continue
                # No comments now and none held: nothing to read, even on --full.
                empty = count == 0 and stored in (None, 0)
                due = not empty and (self.full or stored != count)
                if not due:
                    media.append(item)
                    if stored is None:
                        counts[item.id] = count
                    continue
                comments, complete = self._read_comments(item)
                media.append(dataclasses.replace(item, comments=tuple(comments)))
                self.counts["media_reread"] += 1
                if complete:
                    counts[item.id] = count  # Graph's count, not the number read
            with transaction(conn):
                result = cache.upsert_posts(conn, self.page_id, media, now=self.now)
                cache.set_comment_totals(conn, counts)
            self.counts["media"] += len(batch)
            self.counts["comments"] += result.messages_new
            self.counts["reopened"] += result.reopened
            self._tick(SyncStage.IG_MEDIA, len(batch))
            if since is not None and any(m.created_at < since for m in batch):
                break  # a time-based next link may drop its bound: stop by ourselves
        with transaction(conn):
            watermarks.set_watermark(conn, self.page_id, EDGE_IG_MEDIA, at=started, now=self.now)
            if deep:
                watermarks.set_watermark(
                    conn, self.page_id, EDGE_IG_MEDIA_DEEP, at=started, now=self.now
                )

    def _read_comments(self, media: Post) -> tuple[list[Message], bool]:
        out: list[Message] = []
        complete = True
        for batch in graph_ig.iter_ig_comments(self.client, self.account, media):
            if batch.problems:
                complete = False
                self._problems().extend(batch.problems)
            out.extend(batch)
            self._tick(SyncStage.IG_COMMENTS, len(batch))
        return out, complete
