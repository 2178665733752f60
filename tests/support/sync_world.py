"""A frozen-clock sandbox page and a database to sync it into: the world of the sync tests.

Used by tests/core/test_sync*.py (and the sync soaks): ``make_world`` builds the sandbox and
the database, ``populate`` fills the sandbox deterministically, ``sandbox_threads`` and
``db_threads`` give the truth and what was stored, ``bound_initial`` the call bound.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from socialdesk.api.client import GraphClient
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.models import SyncReport
from socialdesk.paths import Paths
from socialdesk.sandbox import Sandbox
from socialdesk.store.db import open_db
from tests.support.dbdump import dump

__all__ = [
    "FOLDER_CALLS",
    "IDLE_CALLS",
    "T0",
    "Population",
    "World",
    "bound_initial",
    "db_threads",
    "dump",
    "make_world",
    "populate",
    "sandbox_threads",
]

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Population:
    """What ``populate`` put in the sandbox (user ids in conversation order, long threads…)."""

    users: list[str] = field(default_factory=list)
    long_users: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    long_posts: list[str] = field(default_factory=list)


def populate(
    sb: Sandbox,
    page_id: str,
    *,
    convs: int,
    posts: int,
    long_every: int = 0,
    long_len: int = 40,
    busy_every: int = 0,
    busy_len: int = 40,
    now: datetime = T0,
) -> Population:
    """Fill the sandbox deterministically: conversations of 2-4 messages (every ``long_every``-th
    one ``long_len`` messages), posts with a few comment threads (every ``busy_every``-th post
    ``busy_len`` comments). All activity is before ``now``; posts fall inside a 20-day span."""
    pop = Population()
    for i in range(convs):
        uid = sb.add_user(f"Customer {i}")
        pop.users.append(uid)
        long = long_every and i % long_every == 0
        n = long_len if long else 2 + i % 3
        start = now - timedelta(hours=1 + i * 2, minutes=n)
        for j in range(n):
            sb.add_message(
                page_id,
                uid,
                f"message {j} of conversation {i}",
                at=start + timedelta(seconds=30 * j),
                from_page=j % 2 == 1,
            )
        if long:
            pop.long_users.append(uid)
    for p in range(posts):
        created = now - timedelta(days=20 * p / max(1, posts), hours=1)
        pid = sb.add_post(page_id, f"post {p}", at=created)
        pop.posts.append(pid)
        busy = busy_every and p % busy_every == 0
        n = busy_len if busy else 3
        for c in range(n):
            author = sb.add_user(f"Commenter {p}.{c}")
            cid = sb.add_comment(
                pid, author, f"comment {c} on post {p}", at=created + timedelta(minutes=c + 1)
            )
            if c % 3 == 0:
                sb.add_comment(
                    pid,
                    None,
                    f"reply to {c}",
                    at=created + timedelta(minutes=c + 1, seconds=20),
                    parent_id=cid,
                )
        if busy:
            pop.long_posts.append(pid)
    return pop


@dataclass
class World:
    """A frozen-clock sandbox with one page, and a database to sync it into."""

    sb: Sandbox
    page_id: str
    token: str
    paths: Paths
    conn: sqlite3.Connection
    sleeps: list[float] = field(default_factory=list)
    page_sizes: dict[str, int] = field(default_factory=dict)
    """Edge → page size each client starts with, as if halvings had made it remember them
    (``GraphClient.page_size``); empty: the client's own sizes."""

    def client(self, transport: httpx.BaseTransport | None = None) -> GraphClient:
        def sleep(seconds: float) -> None:
            # The fake sleep moves the sandbox clock, so throttling windows pass instantly.
            self.sleeps.append(seconds)
            self.sb.advance(seconds)

        client = GraphClient(
            self.token, transport=transport or self.sb.transport(), pace=False, sleep=sleep
        )
        client.page_size.update(self.page_sizes)
        return client

    def sync(self, transport: httpx.BaseTransport | None = None, **kw: Any) -> SyncReport:
        with self.client(transport) as client:
            return sync_page(
                self.conn,
                client,
                self.page_id,
                paths=self.paths,
                clock=FixedClock(self.sb.now()),
                **kw,
            )

    def other_db(self, name: str) -> World:
        """The same sandbox synced into a second, empty database (at the client's own page
        sizes: a reference that does not share this world's ``page_sizes``)."""
        d = self.paths.data_dir.parent / name
        paths = Paths(d, d)
        return World(self.sb, self.page_id, self.token, paths, open_db(d / "socialdesk.db"))


def make_world(tmp_path: Path, *, name: str = "a", seed: int = 0) -> World:
    sb = Sandbox(rate_limit=False, seed=seed)
    sb.set_time(T0)
    page_id = sb.add_page("Shop")
    token = sb.issue_token(page_id)
    d = tmp_path / name
    paths = Paths(d, d)
    return World(sb, page_id, token, paths, open_db(d / "socialdesk.db"))


def sandbox_threads(sb: Sandbox, page_id: str) -> dict[str, set[str]]:
    """Thread id → message ids, as the sandbox holds them (the truth a full import must equal)."""
    st = sb.state
    out: dict[str, set[str]] = {}
    for cid in st.pages[page_id].conversations:
        conv = st.conversations[cid]
        if conv.messages:
            out[cid] = {m.id for m in conv.messages}
    for pid in st.pages[page_id].posts:
        for comment_id in st.posts[pid].comments:
            c = st.comments[comment_id]
            out.setdefault(c.parent_id or c.id, set()).add(c.id)
    return out


def db_threads(conn: sqlite3.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for tid, mid in conn.execute("SELECT thread_id, id FROM messages"):
        out.setdefault(tid, set()).add(mid)
    return out


IDLE_CALLS = 4
"""A sync with nothing new: the inbox listing, the ``other`` folder, the feed, the Reels."""
FOLDER_CALLS = 3
"""Extra conversation folders read on the daily sweep: ``other``, ``spam``, ``page_done``."""


def bound_initial(convs: int, posts: int, long_threads: int) -> int:
    return math.ceil(convs / 100) + math.ceil(posts / 100) + long_threads + 5 + FOLDER_CALLS
