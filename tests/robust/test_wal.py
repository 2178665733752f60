"""The WAL does not grow without bound under a concurrent reader and writer.

``open_db`` sets ``wal_autocheckpoint`` and ``journal_size_limit``; with readers that keep
their transactions short (every socialdesk read is one statement or one snapshot), each
checkpoint lets the next writer start the WAL from the beginning, and ``journal_size_limit``
truncates the file back. The threshold is lowered here (256 pages instead of 16,384) so the
test writes 48 MB instead of gigabytes; the mechanism is the same. A reader that holds one
transaction open is the control: it starves the checkpoint, and the WAL grows with every write.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from socialdesk.store import db as store_db
from socialdesk.store.db import open_db, transaction

PAGES = 256
ROW = b"x" * 4000
ROUNDS = 600
ROWS_PER_ROUND = 20  # ~80 KB a commit, ~48 MB in all


@pytest.fixture
def small_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_db, "WAL_CHECKPOINT_PAGES", PAGES)
    # Scaled down with the interval: the control's reader is waited for once per 2 MiB.
    monkeypatch.setattr(store_db, "_CHECKPOINT_WAIT_MS", 50)


def _wal(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0


def _write_while_reading(path: Path, *, long_reader: bool, stop_above: int | None = None) -> int:
    """The largest WAL seen while a writer commits ROUNDS times (or until the WAL is larger than
    ``stop_above``) and a reader reads."""
    writer = open_db(path)
    writer.execute("CREATE TABLE IF NOT EXISTS blob (id INTEGER PRIMARY KEY, data BLOB)")
    reader = open_db(path)
    stop = threading.Event()

    def read() -> None:
        if long_reader:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM blob").fetchone()
            stop.wait()
            reader.execute("COMMIT")
            return
        while not stop.is_set():  # short reads, one after the other, as socialdesk's are
            reader.execute("SELECT max(id) FROM blob").fetchone()

    thread = threading.Thread(target=read)
    thread.start()
    largest = 0
    try:
        for _ in range(ROUNDS):
            with transaction(writer):
                writer.executemany("INSERT INTO blob (data) VALUES (?)", [(ROW,)] * ROWS_PER_ROUND)
            largest = max(largest, _wal(path))
            if stop_above is not None and largest > stop_above:
                break
    finally:
        stop.set()
        thread.join()
        reader.close()
        writer.close()
    return largest


def test_wal_stays_bounded_with_a_concurrent_reader(
    tmp_path: Path, small_checkpoints: None
) -> None:
    """48 MB written past a reader that is always reading: the WAL stays within a few
    checkpoint intervals (it reached 50 MB before the starved checkpoints were forced), and
    closing the last connection checkpoints and removes it."""
    path = tmp_path / "s.db"
    largest = _write_while_reading(path, long_reader=False)
    limit = PAGES * 4096
    assert largest <= 8 * limit, f"WAL reached {largest} bytes"
    assert _wal(path) == 0  # checkpointed on close


def test_control_a_reader_holding_a_snapshot_starves_the_checkpoint(
    tmp_path: Path, small_checkpoints: None
) -> None:
    """The measurement can fail: with one long read transaction the WAL takes every write, to
    twice the bound the test above allows (the writes stop there: the rest of the 48 MB, a
    second of growing the file, showed nothing more)."""
    path = tmp_path / "s.db"
    bound = 16 * PAGES * 4096
    largest = _write_while_reading(path, long_reader=True, stop_above=bound)
    assert largest > bound


def test_open_db_sets_the_checkpoint_pragmas(tmp_path: Path) -> None:
    """The real settings: autocheckpoint every 16,384 pages, WAL truncated back to 64 MiB."""
    conn = open_db(tmp_path / "s.db")
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 16384
    assert conn.execute("PRAGMA journal_size_limit").fetchone()[0] == 64 * 1024 * 1024
    conn.close()
