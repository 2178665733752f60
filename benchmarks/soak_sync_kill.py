"""Soak: SIGKILL ``socialdesk sync`` hundreds of times; the database must stay intact and converge.

The long version of tests/core/test_sync_kill.py (research/PERF_RELIABILITY.md §11 goal 7). A
loopback sandbox with latency serves a page; a real ``python -m socialdesk sync`` process is
started and killed with SIGKILL at a uniformly random point of a run, over and over, while
customers keep writing between some of the runs. After every kill ``PRAGMA integrity_check`` must
be ok. At the end one run is let finish, and its cache must equal a clean, uninterrupted sync of
the same sandbox.

Run:  .venv/bin/python benchmarks/soak_sync_kill.py [--kills 200] [--latency-ms 20] [--seed 1]
Exit status 1 on any integrity failure or divergence.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks, tests.support

from benchmarks._syncdata import dump, new_sandbox, populate
from socialdesk.api.client import GraphClient
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.paths import Paths
from socialdesk.store.db import open_db
from tests.support.sync_proc import integrity, spawn_sync


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="SIGKILL soak of socialdesk sync")
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--convs", type=int, default=300)
    ap.add_argument("--posts", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    sb, page_id, token = new_sandbox(seed=args.seed)
    # Busy posts put most of a run's calls in the feed, which the client does not pace.
    data = populate(sb, page_id, token, convs=args.convs, posts=args.posts, busy_every=1)
    server = sb.serve(latency_ms=args.latency_ms)
    work = Path(tempfile.mkdtemp(prefix="soak-sync-kill-"))
    home = work / "killed"
    db = home / "socialdesk.db"
    landed = finished = bad = 0
    try:
        t0 = time.monotonic()
        probe = spawn_sync(work / "probe", server.base_url, token)
        if probe.wait(timeout=300) != 0:
            print("the probe run failed:", probe.stderr.read().decode() if probe.stderr else "")
            return 1
        run_s = time.monotonic() - t0
        print(f"a first sync takes {run_s:.2f} s; {args.kills} runs follow, each killed at a")
        print("uniformly random point of its expected duration (half of them --full re-walks)")
        # Expected duration per kind of run, learnt from the runs that finished.
        expected = {True: run_s, False: run_s}
        started = time.monotonic()
        for i in range(args.kills):
            if i % 10 == 9:  # customers keep writing: later runs are incremental walks too
                for uid in rng.sample(data.users, 3):
                    sb.add_message(page_id, uid, f"message during the soak {i}")
                sb.add_comment(sb.state.pages[page_id].posts[0], sb.add_user("Soaker"), f"c{i}")
                sb.advance(30)
            full = rng.random() < 0.5
            t_run = time.monotonic()
            proc = spawn_sync(home, server.base_url, token, full=full)
            time.sleep(rng.uniform(0.0, expected[full]))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                landed += 1
            else:
                finished += 1
                took = time.monotonic() - t_run
                expected[full] = max(0.3, 0.5 * expected[full] + 0.5 * took)
            proc.wait(timeout=60)
            if db.exists():
                verdict = integrity(db)
                if verdict != "ok":
                    bad += 1
                    print(f"kill {i}: integrity_check says {verdict!r}")
            if i % 50 == 49:
                print(f"  {i + 1} runs: {landed} killed mid-run, {finished} finished, {bad} bad")
        final = spawn_sync(home, server.base_url, token)
        _, err = final.communicate(timeout=300)
        if final.returncode != 0:
            print("the final run failed:", err.decode())
            return 1
        soak_s = time.monotonic() - started
    finally:
        server.shutdown()

    clean_dir = work / "clean"
    clean = open_db(clean_dir / "socialdesk.db")
    with GraphClient(token, transport=sb.transport(), pace=False) as client:
        clock = FixedClock(sb.now())
        sync_page(clean, client, page_id, paths=Paths(clean_dir, clean_dir), clock=clock)
    killed = open_db(db)
    same = dump(killed) == dump(clean)
    n_threads = killed.execute("SELECT count(*) FROM threads").fetchone()[0]
    killed.close()
    clean.close()
    print(
        f"{args.kills} runs in {soak_s:.0f} s: {landed} SIGKILLed mid-run, {finished} finished "
        f"first; integrity_check ok after {args.kills - bad}/{args.kills}; final state "
        f"{'EQUALS' if same else 'DIFFERS FROM'} a clean sync ({n_threads} threads)"
    )
    return 0 if same and bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
