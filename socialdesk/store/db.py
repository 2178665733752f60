"""Opening the SQLite database: pragmas, migrations, file mode.

Called by every store module's caller (core services and tests) through :func:`open_db`. One
connection per unit of work; connections are not shared across threads.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from socialdesk.errors import StoreError
from socialdesk.paths import make_private_dir

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_param(value: str) -> str:
    """Every ``str`` bound to a statement: lone surrogates become U+FFFD.

    sqlite3 encodes parameters as strict UTF-8, so one lone surrogate (a JSON ``"\\ud800"``
    that got past the api layer, a non-UTF-8 byte in a command-line argument) would raise
    UnicodeEncodeError and abort the whole sync or command, every run. The API parser already
    replaces them; this is the store's own guard. ASCII strings return at once (cheap).
    """
    if value.isascii():
        return value
    return _LONE_SURROGATE.sub("\ufffd", value)


# Registering an adapter for ``str`` makes sqlite3 call it for every text parameter of every
# connection in the process (only socialdesk's own store uses sqlite3 here).
sqlite3.register_adapter(str, _text_param)

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 32 * 1024
WAL_CHECKPOINT_PAGES = 16384


def open_db(
    path: Path | str, *, migrate: bool = True, now: datetime | None = None
) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) and migrate the database at ``path``.

    ``":memory:"`` opens a private in-memory database (tests). ``now`` dates the migrations
    applied by this call (see :func:`socialdesk.store.migrations.migrate`).
    """
    memory = str(path) == ":memory:"
    if not memory:
        p = Path(path)
        make_private_dir(p.parent)
        if not p.exists():
            # Create it 0600 before SQLite does: it holds customers' messages.
            fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not memory:
        conn.execute("PRAGMA journal_mode = WAL")
        # Checkpoint every ~64 MiB of WAL instead of every 4 MiB: a synced page of random Graph
        # ids dirties thousands of index pages, and checkpointing (with its fsyncs) after every
        # page of results cost a third of the ingest time. The WAL file is truncated back after.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_PAGES * 4096}")
    # Cache rows can be re-fetched, so NORMAL is enough; sends switch to FULL (see transaction).
    conn.execute("PRAGMA synchronous = NORMAL")
    # 32 MiB of page cache (default 2 MiB): random Graph ids make each synced page touch pages
    # all over the messages id index, and listing 100k threads sorts the whole threads table.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    if migrate:
        from socialdesk.store.migrations import migrate as run_migrations

        run_migrations(conn, now=now)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE … COMMIT`` (rolled back on any exception).

    ``durable=True`` commits with ``synchronous=FULL`` so that the commit survives power loss,
    not only a crash: the outbox uses it for the intent recorded before a send.
    """
    if durable:
        conn.execute("PRAGMA synchronous = FULL")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if durable:
            conn.execute("PRAGMA synchronous = NORMAL")


@contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Make a group of statements atomic, whether or not the caller already opened a transaction.

    Inside a transaction it uses a SAVEPOINT (rolled back alone on error); outside one it is a
    :func:`transaction` (``BEGIN IMMEDIATE``, so the write lock is taken up front).
    """
    if not conn.in_transaction:
        with transaction(conn):
            yield conn
        return
    conn.execute("SAVEPOINT socialdesk_atomic")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO socialdesk_atomic")
        conn.execute("RELEASE socialdesk_atomic")
        raise
    conn.execute("RELEASE socialdesk_atomic")
