""" "database is locked" never reaches the user: twenty `tag`/`done` processes at once on one
home, also while another process holds the write lock for longer than the old 5 s timeout."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from tests.robust.crowd import Result, run_crowd
from tests.robust.homes import seed_home, thread_numbers


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


def test_crowd_waits_for_a_long_writer(tmp_path: Path, isolated_home: Path) -> None:
    """While another process holds the write lock for 8 s (a long import or sync page), the
    twenty commands wait for it instead of failing with "database is locked"."""
    db = seed_home(isolated_home, 10)
    numbers = sorted(thread_numbers(db).values())
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    # Held from the moment the crowd starts until 8 s later.
    release = threading.Timer(8.0, lambda: holder.execute("COMMIT"))
    try:
        results = run_crowd(
            _crowd_argvs(numbers),
            tmp_path,
            env={"SOCIALDESK_HOME": str(isolated_home)},
            on_release=release.start,
        )
    finally:
        release.join()
        holder.close()
    _check(db, numbers, results)
