"""SIGKILL during ``socialdesk sync``: the database stays intact and the next runs converge.

A real CLI process (``socialdesk sync --json``, ``tests.support.kill_events``: it announces
each commit) syncs from a loopback sandbox with 20 ms latency and is killed with SIGKILL at
four points of the work, one run after the other on the same home; then a run is let finish.
The points (each checked to have landed where it was aimed, from what the database holds):

1. inside the first page of conversations' transaction (its rows written, nothing committed);
2. inside the second page's transaction (the first page committed, the walk unfinished);
3. at a random instant of the feed's walk (comment calls in flight, no post committed yet);
4. inside the feed's watermark transaction (the posts committed, the walk not recorded done).

After every kill ``PRAGMA integrity_check`` must say ok, and the final state must equal a clean,
uninterrupted sync of the same sandbox and hold exactly the sandbox's threads and messages
(nothing lost, nothing twice). ``benchmarks/soak_sync_kill.py`` is the long version: hundreds
of kills after random sleeps.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest

from socialdesk.store.db import open_db
from tests.support.kill_events import Announcing, cli
from tests.support.sync_proc import integrity, sync_env
from tests.support.sync_world import (
    T0,
    World,
    db_threads,
    dump,
    make_world,
    populate,
    sandbox_threads,
)

SYNC = ("sync", "--json")


def stored(db: Path, conversations: set[str]) -> tuple[int, int]:
    """(conversation messages, posts) committed in ``db``."""
    conn = sqlite3.connect(db)
    try:
        threads = db_threads(conn)
        posts = int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])
    finally:
        conn.close()
    return sum(len(m) for t, m in threads.items() if t in conversations), posts


@pytest.mark.slow
def test_sigkill_at_four_points_of_a_sync_then_resume_converges(tmp_path: Path) -> None:
    """Four SIGKILLs inside the work: integrity ok every time; resuming equals a clean run."""
    world: World = make_world(tmp_path, name="clean")
    # Two pages of conversations (100 a page) and a feed whose 24 busy posts each need one more
    # comments call: at 20 ms a call the feed's walk takes >= 0.5 s, room for kill 3.
    populate(world.sb, world.page_id, convs=150, posts=24, busy_every=1, long_every=100)
    world.sb.usage_budget = 10**6  # no usage-driven slowdown across the runs
    truth = sandbox_threads(world.sb, world.page_id)
    conversations = set(world.sb.state.pages[world.page_id].conversations)
    conv_messages = sum(len(m) for t, m in truth.items() if t in conversations)
    server = world.sb.serve(latency_ms=20)
    home = tmp_path / "home-killed"
    db = home / "socialdesk.db"
    env = sync_env(home, server.base_url, world.token)
    rng = random.Random(20261120)
    child: Announcing | None = None
    try:
        # 1. Inside the first page's transaction: the walk has committed nothing.
        child = Announcing(cli(*SYNC, now=T0), env=env, hold_at="_store_conversations")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert integrity(db) == "ok"
        assert stored(db, conversations) == (0, 0)

        # 2. Inside the second page's transaction: only the first page is there.
        child = Announcing(cli(*SYNC, now=T0), env=env, hold_at="_store_conversations:2")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert integrity(db) == "ok"
        got, posts = stored(db, conversations)
        assert 0 < got < conv_messages and posts == 0, (got, posts)

        # 3. A random instant of the feed's walk: the conversations edge is recorded (the
        # first `_record`), the feed's one page commits only after its 25+ calls (>= 0.5 s).
        child = Announcing(cli(*SYNC, now=T0), env=env)
        assert child.wait_for("_record") is not None, child.finish()
        time.sleep(rng.uniform(0.0, 0.15))
        assert child.kill()
        assert integrity(db) == "ok"
        assert stored(db, conversations) == (conv_messages, 0)

        # 4. Inside the feed's watermark transaction: the posts are committed, the walk that
        # stored them is not recorded as done (the next run walks the feed again).
        child = Announcing(cli(*SYNC, now=T0), env=env, hold_at="sync_feed")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert integrity(db) == "ok"
        assert stored(db, conversations) == (conv_messages, 24)

        # Nobody kills this one.
        child = Announcing(cli(*SYNC, now=T0), env=env)
        code, err = child.finish()
        assert code == 0, err
        child = None
    finally:
        if child is not None:
            child.close()
        server.shutdown()
    # The reference: the same sandbox synced in-process by the same sync, never interrupted.
    world.sync()
    assert integrity(db) == "ok"
    killed = open_db(db)
    try:
        assert dump(killed) == dump(world.conn)
        assert db_threads(killed) == truth
    finally:
        killed.close()
        world.conn.close()
