"""Sync call counts and time on a big page (issue 3, research/PERF_RELIABILITY.md §1.6-§1.7).

Builds an in-process sandbox with 10,000 conversations and 1,000 posts (a share of long threads
with more than the 25 nested messages, and busy posts with more than 25 comments), rate limits
and client pacing off, and measures ``core.sync.sync_page``:

1. initial sync: calls vs the bound ceil(C/100) + ceil(P/100) + (long threads + busy posts) + 5;
2. a second sync with no changes: ≤ 2 calls;
3. k changed threads (k = 10, 250): ≤ 2 + ceil(k/100) + (changed threads with > 25 new);
4. 5 threads with 40 new messages each (one extra page each), new comments on 20 recent posts
   (no extra call), and a ``--full`` re-walk.

Run:  .venv/bin/python benchmarks/bench_sync.py [--convs 10000] [--posts 1000]
Exit status 1 when a bound is not met.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._syncdata import new_sandbox, populate
from socialdesk.api.client import GraphClient
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.paths import Paths
from socialdesk.store.db import open_db


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--convs", type=int, default=10_000)
    ap.add_argument("--posts", type=int, default=1_000)
    args = ap.parse_args(argv)
    C, P = args.convs, args.posts

    t = time.perf_counter()
    sb, page_id, token = new_sandbox()
    data = populate(sb, page_id, token, convs=C, posts=P)
    print(
        f"sandbox: {C} conversations ({data.messages} messages, {data.long_threads} long), "
        f"{P} posts ({data.comments} comments, {data.busy_posts} busy); "
        f"built in {time.perf_counter() - t:.1f} s"
    )
    home = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    paths = Paths(home, home)
    conn = open_db(home / "socialdesk.db")
    client = GraphClient(token, transport=sb.transport(), pace=False, sleep=lambda s: None)
    ok = True

    def run(label: str, bound: int | None, **kw: object) -> None:
        nonlocal ok
        sb.reset_counters()
        t0 = time.perf_counter()
        clock = FixedClock(sb.now())
        report = sync_page(conn, client, page_id, paths=paths, clock=clock, **kw)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
        verdict = ""
        if bound is not None:
            passed = report.calls <= bound
            ok = ok and passed
            verdict = f" (bound {bound}: {'ok' if passed else 'EXCEEDED'})"
        edges = ", ".join(f"{k} {v}" for k, v in sorted(sb.calls_by_edge.items()))
        print(
            f"{label:<28} {report.calls:>5} calls{verdict}; {elapsed:6.2f} s; "
            f"{report.conversations} conv, {report.messages} msgs, {report.posts} posts, "
            f"{report.comments} comments  [{edges}]"
        )

    extra = data.long_threads + data.busy_posts
    run("initial sync", math.ceil(C / 100) + math.ceil(P / 100) + extra + 5)
    sb.advance(60)
    run("no changes", 2)
    rng = random.Random(3)
    for k in (10, 250):
        sb.advance(600)
        for uid in rng.sample(data.users, k):
            sb.add_message(page_id, uid, "any news on my order?")
            sb.advance(1)
        run(f"{k} changed threads", 2 + math.ceil(k / 100))
    sb.advance(600)
    for uid in rng.sample(data.users, 5):  # bursts longer than the 25 nested messages
        for j in range(40):
            sb.add_message(page_id, uid, f"burst {j}")
            sb.advance(1)
    run("5 threads with 40 new each", 2 + 1 + 5)
    sb.advance(600)
    recent = sb.state.pages[page_id].posts[:20]  # the newest posts (inside the lookback)
    for pid in recent:
        sb.add_comment(pid, sb.add_user("Late commenter"), "still available?")
    run("new comments on 20 posts", 2)
    sb.advance(600)
    run("full re-walk (--full)", None, full=True)
    rows = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
    msgs = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    print(f"database: {rows} threads, {msgs} messages; {home / 'socialdesk.db'}")
    client.close()
    conn.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
