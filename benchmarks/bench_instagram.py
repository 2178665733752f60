"""Instagram sync call counts against the bounds of docs/INSTAGRAM_API.md "Client call bounds".

Builds an in-process sandbox Page with a linked Instagram account (T DM threads, M media of
which half carry comments, a few with more than 50 top-level comments), rate limits and pacing
off, discovers the account as ``init`` does and measures the Instagram edges of
``core.sync.sync_page`` (the Messenger edges of the same rounds are not counted here):

1. initial sync: ``ig_conversations`` ≤ ceil(T/15) + 1 and ``ig_media`` ≤ ceil(M/50) + 1 +
   Σ over media with comments of ceil(top-level comments/50) (media without comments: none);
2. nothing changed: 1 listing page + ceil(M_w/50) media pages (M_w: media of the lookback
   window; no comment read);
3. k threads with new messages and c media with new comments: ≤ ceil(k/15) + 1 listing pages and
   ceil(M_w/50) + Σ over the c media of ceil(top-level/50) (the other media are not re-read);
4. a burst of 30 messages into one thread: one gap marker, no extra call.

Run:  .venv/bin/python benchmarks/bench_instagram.py [--threads 300] [--media 200]
Exit status 1 when a bound is not met.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import Figure
from socialdesk.api.client import GraphClient
from socialdesk.core import instagram
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.models import SyncReport
from socialdesk.paths import Paths
from socialdesk.sandbox import Sandbox
from socialdesk.store.db import open_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ig_calls(report: SyncReport, edge: str) -> int:
    return next(e.calls for e in report.edges if e.edge == edge)


def measure(threads: int, media: int) -> list[Figure]:
    sb = Sandbox(rate_limit=False, seed=5, usage_budget=None)
    sb.set_time(T0)
    page = sb.add_page("Bench Shop")
    ig = sb.add_instagram(page, "bench_shop")
    token = sb.issue_token(page)
    users = [sb.add_ig_user(f"user_{i}") for i in range(threads)]
    for i, uid in enumerate(users):
        for j in range(3):
            at = T0 - timedelta(hours=2 + i, minutes=10 - j)
            sb.add_message(page, uid, f"q {j}", at=at, from_page=j == 1)
    media_ids: list[str] = []
    tops: dict[str, int] = {}
    for m in range(media):
        mid = sb.add_ig_media(ig, f"post {m}", at=T0 - timedelta(days=1 + m % 20, minutes=m))
        media_ids.append(mid)
        if m % 2 == 0:
            n = 60 if m % 20 == 0 else 3
            tops[mid] = n
            for c in range(n):
                cid = sb.add_ig_comment(
                    mid, users[c % len(users)], f"c {c}", at=T0 - timedelta(hours=20, minutes=c)
                )
                if c % 3 == 0:
                    sb.add_ig_comment(
                        mid, None, "thanks!", at=T0 - timedelta(hours=19), parent_id=cid
                    )
    home = Path(tempfile.mkdtemp(prefix="bench-ig-"))
    paths = Paths(home, home)
    conn = open_db(home / "socialdesk.db")
    client = GraphClient(token, transport=sb.transport(), pace=False, sleep=lambda s: None)
    instagram.discover(conn, client, page, now=sb.now())
    figures: list[Figure] = []

    def run(label: str, dm_bound: int, media_bound: int, **kw: object) -> None:
        t0 = time.perf_counter()
        report = sync_page(conn, client, page, paths=paths, clock=FixedClock(sb.now()), **kw)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
        dm, md = _ig_calls(report, "ig_conversations"), _ig_calls(report, "ig_media")
        bound = dm_bound + media_bound
        figures.append(
            Figure(
                f"ig_sync_{label}_calls",
                dm + md,
                "calls",
                f"<= {bound}",
                dm <= dm_bound and md <= media_bound,
                f"{threads} IG threads, {media} media; DMs {dm} (<= {dm_bound}), media+comments"
                f" {md} (<= {media_bound}); {elapsed:.2f} s; {report.instagram}",
            )
        )

    def pages_of(n: int) -> int:
        return math.ceil(n / 50)

    listing = pages_of(media) + 1  # every media of the lookback window, plus the stop page
    run(
        "initial",
        math.ceil(threads / 15) + 1,
        listing + sum(pages_of(n) for n in tops.values()),
        full=True,
    )
    sb.advance(60)
    run("idle", 1, listing)
    k, changed = 20, media_ids[0:10:2]
    sb.advance(600)
    for uid in users[:: max(1, threads // k)][:k]:
        sb.add_message(page, uid, "any news?", at=sb.now())
        sb.advance(1)
    for mid in changed:
        sb.add_ig_comment(mid, users[0], "new one", at=sb.now())
    run("changed", math.ceil(k / 15) + 1, listing + sum(pages_of(tops[m] + 1) for m in changed))
    sb.advance(600)
    for i in range(30):
        sb.add_message(page, users[1], f"burst {i}", at=sb.now() + timedelta(seconds=i))
    sb.advance(60)
    run("burst", 2, listing)
    gaps = conn.execute("SELECT COUNT(*) FROM thread_gaps").fetchone()[0]
    figures.append(Figure("ig_gap_markers_after_burst", gaps, "gaps", "== 1", gaps == 1))
    client.close()
    conn.close()
    return figures


def run(quick: bool) -> list[Figure]:
    """The benchmark suite's entry point (smaller account when ``quick``)."""
    return measure(60, 40) if quick else measure(300, 200)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--threads", type=int, default=300)
    ap.add_argument("--media", type=int, default=200)
    args = ap.parse_args(argv)
    figures = measure(args.threads, args.media)
    for f in figures:
        verdict = "" if f.passed is None else (" ok" if f.passed else " EXCEEDED")
        print(f"{f.name:<32} {f.value:>6g} {f.unit} (bar {f.bar}){verdict}  {f.note}")
    return 0 if all(f.passed is not False for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
