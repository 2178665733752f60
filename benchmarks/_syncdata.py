"""Shared sandbox data for the sync benchmarks (bench_sync.py, bench_vs_sdk.py, soak_sync_kill.py).

``populate`` fills a frozen-clock sandbox deterministically: short conversations, a share of long
ones (more messages than the 25 nested), posts with a few comment threads and a share of busy
posts (more than 25 comments). ``dump`` (from tests/core/dbdump.py) is the logical content of
the cache for equality checks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialdesk.sandbox import Sandbox

# One `dump` for the tests and the soak (tests/core/dbdump.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.dbdump import dump

__all__ = ["Data", "dump", "new_sandbox", "populate"]

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Data:
    """What ``populate`` created."""

    page_id: str
    token: str
    users: list[str] = field(default_factory=list)
    long_threads: int = 0
    busy_posts: int = 0
    messages: int = 0
    comments: int = 0


def new_sandbox(*, seed: int = 0) -> tuple[Sandbox, str, str]:
    """A frozen-clock sandbox with rate limits off and one page; returns (sandbox, page, token)."""
    sb = Sandbox(rate_limit=False, seed=seed)
    sb.usage_budget = 10**9  # usage headers stay low: benchmarks measure calls, not throttling
    sb.set_time(T0)
    page_id = sb.add_page("Bench Shop")
    return sb, page_id, sb.issue_token(page_id)


def populate(
    sb: Sandbox,
    page_id: str,
    token: str,
    *,
    convs: int,
    posts: int,
    long_every: int = 40,
    busy_every: int = 10,
) -> Data:
    """Conversations of 2-4 messages, every ``long_every``-th one 26-90 messages; posts with 3
    comment threads, every ``busy_every``-th one 30-80 comments. Posts come at 600 a year (the
    most ``/feed`` returns per GRAPH_API.md fact 10), so a 28-day lookback holds ~46 of them."""
    data = Data(page_id, token)
    for i in range(convs):
        uid = sb.add_user(f"Customer {i}")
        data.users.append(uid)
        long = long_every > 0 and i % long_every == 0
        n = 26 + (i * 7) % 65 if long else 2 + i % 3
        start = T0 - timedelta(minutes=5 + i * 3, seconds=30 * n)
        for j in range(n):
            sb.add_message(
                page_id,
                uid,
                f"message {j} of conversation {i}",
                at=start + timedelta(seconds=30 * j),
                from_page=j % 2 == 1,
            )
        data.messages += n
        data.long_threads += int(long)
    for p in range(posts):
        created = T0 - timedelta(days=365 * p / 600, hours=1)
        pid = sb.add_post(page_id, f"post {p}", at=created)
        busy = busy_every > 0 and p % busy_every == 0
        n = 30 + (p * 11) % 51 if busy else 3
        for c in range(n):
            author = sb.add_user(f"Commenter {p}.{c}")
            at = created + timedelta(minutes=c + 1)
            cid = sb.add_comment(pid, author, f"comment {c} on post {p}", at=at)
            data.comments += 1
            if c % 3 == 0:
                sb.add_comment(
                    pid, None, f"reply {c}", at=at + timedelta(seconds=20), parent_id=cid
                )
                data.comments += 1
        data.busy_posts += int(busy)
    return data
