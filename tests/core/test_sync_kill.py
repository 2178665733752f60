"""SIGKILL during ``socialdesk sync``: the database stays intact and the next runs converge.

A real ``python -m socialdesk sync`` process syncs from a loopback sandbox with latency and is
killed with SIGKILL at random points three times; then a run is let finish. After every kill
``PRAGMA integrity_check`` must say ok, and the final state must equal a clean, uninterrupted
sync of the same sandbox. (benchmarks/soak_sync_kill.py is the long version: hundreds of kills.)
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from socialdesk.store.db import open_db
from tests.support.sync_proc import integrity, spawn_sync
from tests.support.sync_world import World, db_threads, dump, make_world, populate, sandbox_threads


@pytest.mark.slow
def test_sigkill_mid_sync_three_times_then_resume_converges(tmp_path: Path) -> None:
    """Three SIGKILLs at random points: integrity ok every time; resuming equals a clean run."""
    world: World = make_world(tmp_path, name="unused")
    # The CLI paces Conversations API calls (2/s), so the work that gives the kills room to land
    # is mostly in the feed: 24 busy posts each need one extra comments call.
    populate(world.sb, world.page_id, convs=150, posts=24, busy_every=1, long_every=100)
    world.sb.usage_budget = 10**6  # no usage-driven slowdown across the runs
    server = world.sb.serve(latency_ms=20)
    home = tmp_path / "home-killed"
    db = home / "socialdesk.db"
    rng = random.Random(20261120)
    kills = 0
    try:
        # Measure one complete run's duration on a scratch home to place the kills inside it.
        t0 = time.monotonic()
        probe = spawn_sync(tmp_path / "home-probe", server.base_url, world.token)
        assert probe.wait(timeout=120) == 0, probe.stderr.read() if probe.stderr else ""
        full_run = time.monotonic() - t0
        for _ in range(3):
            proc = spawn_sync(home, server.base_url, world.token)
            time.sleep(rng.uniform(0.35, max(0.4, full_run * 0.9)))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            if db.exists():
                assert integrity(db) == "ok"
        # Nobody kills this one: it may skip the pacing (the sandbox's rate limit is off).
        final = spawn_sync(home, server.base_url, world.token, paced=False)
        _out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
    finally:
        server.shutdown()
    assert kills >= 1, "every run finished before its kill: the sandbox latency is too low"
    assert integrity(db) == "ok"
    killed = open_db(db)
    clean = open_db(tmp_path / "home-probe" / "socialdesk.db")
    try:
        assert dump(killed) == dump(clean)
        assert db_threads(killed) == sandbox_threads(world.sb, world.page_id)
    finally:
        killed.close()
        clean.close()
        world.conn.close()
