""" "database is locked" never reaches the user: twenty `tag`/`done` processes at once on one
home, also while another process holds the write lock for longer than the old 5 s timeout.

The long writer holds the lock a margin past that old timeout (sqlite3's default), not a fixed
8 s: every one of the twenty must have been waiting for the lock for more than 5 s when it is
released, so the margin is what the last of them takes to reach its first write. That is
measured, on the machine as loaded as it is, by a free run of the same crowd on another home
(an upper bound: there the writes and what follows them compete for the CPU as well), doubled;
0.5 s at least. A control connection with the old timeout, started with the crowd, must fail.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from socialdesk.store.db import BUSY_TIMEOUT_MS
from tests.robust.crowd import Result, run_crowd
from tests.robust.homes import seed_home, thread_numbers

OLD_TIMEOUT_S = 5.0
"""sqlite3.connect's default timeout: what a connection opened without the busy timeout waits."""
MIN_MARGIN_S = 0.5
"""The least the hold exceeds the old timeout by (the free crowd takes ~0.15 s on idle cores)."""


def _crowd_argvs(numbers: list[int]) -> list[list[str]]:
    # Each thread gets a tag and a `done` from two processes running at the same moment.
    return [["cli", "tag", str(n), f"+vip{n}"] for n in numbers] + [
        ["cli", "done", str(n)] for n in numbers
    ]


def _check(db: Path, numbers: list[int], results: list[Result]) -> None:
    problems = [(r.returncode, r.stderr.strip()) for r in results if r.returncode != 0]
    assert problems == []
    assert not any("locked" in r.stderr for r in results)
    conn = sqlite3.connect(db)
    by_number = {num: tid for tid, num in thread_numbers(db).items()}
    for n in numbers:
        tid = by_number[n]
        tags = {
            r[0] for r in conn.execute("SELECT tag FROM thread_tags WHERE thread_id = ?", (tid,))
        }
        assert tags == {f"vip{n}"}, n
        status = conn.execute("SELECT status FROM thread_state WHERE thread_id = ?", (tid,))
        assert status.fetchone()[0] == "done", n
    conn.close()


def test_twenty_tag_and_done_processes_at_once(tmp_path: Path, isolated_home: Path) -> None:
    """10 `tag` and 10 `done` processes on the same 10 threads, released together: all exit 0
    and every tag and status is there."""
    db = seed_home(isolated_home, 10)
    numbers = sorted(thread_numbers(db).values())
    results = run_crowd(
        _crowd_argvs(numbers), tmp_path, env={"SOCIALDESK_HOME": str(isolated_home)}
    )
    _check(db, numbers, results)


def _free_crowd_seconds(work: Path) -> float:
    """From release to the last exit, for the same crowd on a home of its own, unhindered."""
    home = work / "free-home"
    db = seed_home(home, 10)
    numbers = sorted(thread_numbers(db).values())
    released: list[float] = []
    results = run_crowd(
        _crowd_argvs(numbers),
        work,
        env={"SOCIALDESK_HOME": str(home)},
        on_release=lambda: released.append(time.monotonic()),
    )
    took = time.monotonic() - released[0]
    _check(db, numbers, results)
    return took


@pytest.mark.slow  # holds the lock past 5 s: started first, so the other worker is never idle
def test_crowd_waits_for_a_long_writer(tmp_path: Path, isolated_home: Path) -> None:
    """While another process holds the write lock for over 5 s (a long import or sync page),
    the twenty commands wait for it instead of failing with "database is locked", and a
    connection with the old 5 s timeout, started with them, does fail."""
    hold_s = OLD_TIMEOUT_S + max(MIN_MARGIN_S, 2 * _free_crowd_seconds(tmp_path))
    assert hold_s * 1000 < BUSY_TIMEOUT_MS  # the hold must stay within what socialdesk waits
    db = seed_home(isolated_home, 10)
    numbers = sorted(thread_numbers(db).values())
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    # Held from the moment the crowd starts until hold_s later.
    release = threading.Timer(hold_s, lambda: holder.execute("COMMIT"))
    control: list[sqlite3.OperationalError] = []

    def old_timeout_write() -> None:
        conn = sqlite3.connect(db, timeout=OLD_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            control.append(exc)
        finally:
            conn.close()

    control_thread = threading.Thread(target=old_timeout_write)

    def on_release() -> None:
        release.start()
        control_thread.start()

    try:
        results = run_crowd(
            _crowd_argvs(numbers),
            tmp_path,
            env={"SOCIALDESK_HOME": str(isolated_home)},
            on_release=on_release,
        )
    finally:
        release.join()
        control_thread.join()
        holder.close()
    assert [str(exc) for exc in control] == ["database is locked"]
    _check(db, numbers, results)
