"""Opening the SQLite database: pragmas, migrations, file mode, and storage errors.

Called by every store module's caller (core services and tests) through :func:`open_db`. One
connection per unit of work; connections are not shared across threads.

Errors of the file or the machine (a damaged or truncated file, a full disk, a read-only home,
a missing directory, a lock held too long) become :class:`StoreFailure` errors that name the
file and the fix, with a machine ``reason`` (issue 9: "storage errors say what and where"),
instead of a bare ``sqlite3.DatabaseError``.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from socialdesk.errors import StoreError
from socialdesk.paths import make_private_dir
from socialdesk.sanitize import replace_surrogates


def _text_param(value: str) -> str:
    """Every ``str`` bound to a statement: lone surrogates become U+FFFD.

    sqlite3 encodes parameters as strict UTF-8, so one lone surrogate (a JSON ``"\\ud800"``
    that got past the api layer, a non-UTF-8 byte in a command-line argument) would raise
    UnicodeEncodeError and abort the whole sync or command, every run. The API parser already
    replaces them; this is the store's own guard. ASCII strings return at once (cheap).
    """
    return replace_surrogates(value)


# Registering an adapter for ``str`` makes sqlite3 call it for every text parameter of every
# connection in the process (only socialdesk's own store uses sqlite3 here).
sqlite3.register_adapter(str, _text_param)

BUSY_TIMEOUT_MS = 30_000
"""How long a statement waits for another process's write lock before giving up. Writers hold
it for milliseconds (one synced page, one triage change), so 30 s only runs out when something
is stuck; twenty `tag`/`done` processes at once queue well within it."""
CACHE_KIB = 32 * 1024
WAL_CHECKPOINT_PAGES = 16384


# --- storage errors --------------------------------------------------------------------------


class StoreFailure(StoreError, sqlite3.OperationalError):
    """A database failure caused by the file or the machine, not by socialdesk's SQL: the disk
    is full, the file is damaged, read-only, missing or held by another process too long.

    It names the file, says how to fix it (``hint``) and carries a machine ``reason``:
    ``corrupt``, ``disk_full``, ``read_only``, ``cant_open``, ``io_error``, ``busy``,
    ``permission``. It is also a :class:`sqlite3.OperationalError`, so code that catches SQLite
    errors (a sync recording a failed step, doctor) still does.
    """

    def __init__(
        self,
        message: str,
        hint: str | None,
        *,
        reason: str,
        path: str,
        sqlite_errorname: str | None = None,
        sqlite_errorcode: int | None = None,
    ) -> None:
        super().__init__(message, hint, reason=reason)
        self.path = path
        self.sqlite_errorname = sqlite_errorname or ""
        self.sqlite_errorcode = sqlite_errorcode or 0


_REASONS: dict[int, str] = {
    sqlite3.SQLITE_PERM: "permission",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_IOERR: "io_error",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_FULL: "disk_full",
    sqlite3.SQLITE_CANTOPEN: "cant_open",
    sqlite3.SQLITE_PROTOCOL: "busy",
    sqlite3.SQLITE_AUTH: "permission",
    sqlite3.SQLITE_NOTADB: "corrupt",
}


def _reason(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _REASONS.get(code & 0xFF)
    text = str(exc).lower()  # errors raised without a code (rare): go by SQLite's wording
    for words, reason in (
        ("database or disk is full", "disk_full"),
        ("file is not a database", "corrupt"),
        ("malformed", "corrupt"),
        ("readonly database", "read_only"),
        ("unable to open database", "cant_open"),
        ("database is locked", "busy"),
        ("disk i/o error", "io_error"),
    ):
        if words in text:
            return reason
    return None


def is_environmental(exc: BaseException) -> bool:
    """Whether ``exc`` is a SQLite error caused by the file or the machine (see StoreFailure)."""
    return isinstance(exc, StoreFailure) or (
        isinstance(exc, sqlite3.Error) and _reason(exc) is not None
    )


def _describe(reason: str, path: str, detail: str, errorname: str | None) -> tuple[str, str]:
    folder = str(Path(path).parent)
    if reason == "corrupt":
        return (
            f"the database {path} is damaged ({detail})",
            "run `socialdesk doctor`; `socialdesk state export FILE` rescues the tags, notes "
            f"and outbox it can still read; then move {path} away (the next sync refetches "
            "the messages) or restore it from a backup",
        )
    if reason == "disk_full":
        return (
            f"cannot write the database {path}: the disk is full ({detail})",
            f"free space on the disk holding {folder} and run the command again; the change "
            "that failed was rolled back and nothing already saved was lost",
        )
    if reason == "read_only":
        return (
            f"the database {path} is read-only for socialdesk ({detail})",
            f"make {path} and {folder} writable by you (see `ls -la {folder}`), or set "
            "SOCIALDESK_HOME to a writable directory",
        )
    if reason in ("cant_open", "permission"):
        if not Path(folder).is_dir():
            why = f"the directory {folder} does not exist"
        elif not os.access(folder, os.W_OK | os.X_OK):
            why = f"the directory {folder} is not writable by you"
        else:
            why = detail
        return (
            f"cannot open the database {path}: {why}",
            f"check {folder} (it must exist and be yours), or set SOCIALDESK_HOME to a "
            "directory you own",
        )
    if reason == "busy":
        return (
            f"the database {path} is locked by another process ({detail}; socialdesk waits "
            f"up to {BUSY_TIMEOUT_MS // 1000} s for a lock)",
            f"run the command again; if it keeps happening, `fuser {path}` shows which process "
            "holds it",
        )
    if _nearly_full(folder):
        return (
            f"cannot write the database {path}: the disk is full ({detail}, "
            f"{errorname or 'SQLITE_IOERR'})",
            f"free space on the disk holding {folder} and run the command again; the change "
            "that failed was rolled back and nothing already saved was lost",
        )
    return (
        f"reading or writing the database {path} failed ({detail}, {errorname or 'SQLITE_IOERR'})",
        "check the disk (free space, `dmesg`), then run `socialdesk doctor`",
    )


def _nearly_full(folder: str) -> bool:
    """Whether the file system holding ``folder`` has under 1 MiB left for the user.

    SQLite reports some failed writes on a full disk (its shared-memory index, a WAL frame)
    as a plain I/O error; asking the file system tells the two apart.
    """
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1024 * 1024


def store_failure(exc: sqlite3.Error, path: Path | str) -> StoreFailure | None:
    """``exc`` as a :class:`StoreFailure` naming ``path``, or None if it is not environmental."""
    if isinstance(exc, StoreFailure):
        return exc
    reason = _reason(exc)
    if reason is None:
        return None
    errorname = getattr(exc, "sqlite_errorname", None)
    message, hint = _describe(reason, str(path), str(exc), errorname)
    code = getattr(exc, "sqlite_errorcode", None)
    if reason == "io_error" and "the disk is full" in message:
        reason = "disk_full"
    return StoreFailure(
        message,
        hint,
        reason=reason,
        path=str(path),
        sqlite_errorname=errorname,
        sqlite_errorcode=code if isinstance(code, int) else None,
    )


class Connection(sqlite3.Connection):
    """What :func:`open_db` returns: a :class:`sqlite3.Connection` that knows its file.

    Statements run at the C speed of sqlite3 (no per-statement wrapper: that cost a quarter
    of the ingest rate). Environmental errors become :class:`StoreFailure` where they matter:
    opening and migrating (:func:`open_db`), and every write (:func:`transaction`,
    :func:`atomic`). A read outside a transaction that hits a damaged page raises the plain
    SQLite error; front ends map what escapes with :func:`store_failure`.
    """

    path: str = ""
    wal_retry_at: int = 0
    """WAL size at which :func:`_limit_wal` tries again after a checkpoint it could not finish."""

    def translate(self, exc: sqlite3.Error) -> sqlite3.Error:
        """``exc`` as a StoreFailure naming this database, or ``exc`` if not environmental."""
        failure = store_failure(exc, self.path or ":memory:")
        return exc if failure is None else failure


def _translate(conn: sqlite3.Connection, exc: BaseException) -> BaseException:
    if not isinstance(exc, sqlite3.Error) or isinstance(exc, StoreFailure):
        return exc
    if isinstance(conn, Connection):
        return conn.translate(exc)
    return store_failure(exc, _db_path(conn)) or exc


def _db_path(conn: sqlite3.Connection) -> str:
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "the database"
    return str(row[2]) if row is not None and row[2] else ":memory:"


def _prepare_file(p: Path) -> None:
    """Create the directory (0700) and the file (0600) SQLite would create with the umask's mode."""
    try:
        make_private_dir(p.parent)
        if not p.exists():
            # Create it 0600 before SQLite does: it holds customers' messages.
            fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as exc:
        where = exc.filename or p
        raise StoreFailure(
            f"cannot create the database {p}: {where}: {exc.strerror or exc}",
            "check that the directory exists and is yours and the disk has space, or set "
            "SOCIALDESK_HOME to a directory you own",
            reason="disk_full" if exc.errno == errno.ENOSPC else "cant_open",
            path=str(p),
        ) from None


def open_db(
    path: Path | str, *, migrate: bool = True, now: datetime | None = None
) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) and migrate the database at ``path``.

    ``":memory:"`` opens a private in-memory database (tests). ``now`` dates the migrations
    applied by this call (see :func:`socialdesk.store.migrations.migrate`). Failures of the file
    or the machine are :class:`StoreFailure` errors naming the file and the fix; a database
    written by a newer socialdesk is a :class:`StoreError` (reason ``newer_schema``).
    """
    memory = str(path) == ":memory:"
    if not memory:
        _prepare_file(Path(path))
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            factory=Connection,
        )
    except sqlite3.Error as exc:
        raise store_failure(exc, path) or StoreError(
            f"cannot open the database {path}: {exc}", reason="cant_open"
        ) from exc
    assert isinstance(conn, Connection)
    conn.path = "" if memory else str(path)
    try:
        _configure(conn, memory=memory)
        if migrate:
            from socialdesk.store.migrations import migrate as run_migrations

            run_migrations(conn, now=now)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, StoreError):
            raise conn.translate(exc) from exc
        raise
    return conn


def _configure(conn: Connection, *, memory: bool) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not memory:
        _enable_wal(conn)
        # Checkpoint every ~64 MiB of WAL instead of every 4 MiB: a synced page of random Graph
        # ids dirties thousands of index pages, and checkpointing (with its fsyncs) after every
        # page of results cost a third of the ingest time. The WAL file is truncated back after
        # (journal_size_limit); tests/robust/test_wal.py shows it stays bounded.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_PAGES * 4096}")
    # Cache rows can be re-fetched, so NORMAL is enough; sends switch to FULL (see transaction).
    conn.execute("PRAGMA synchronous = NORMAL")
    # 32 MiB of page cache (default 2 MiB): random Graph ids make each synced page touch pages
    # all over the messages id index, and listing 100k threads sorts the whole threads table.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


_WAL_ATTEMPTS = 300
_WAL_PAUSE_S = 0.1


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (once per file; a no-op read afterwards).

    The switch needs a moment alone with the file, and SQLite answers "database is locked" at
    once instead of calling the busy handler when other connections are opening the same
    fresh file: twenty processes on a new home hit it. Retry for up to the busy timeout.
    """
    for _ in range(_WAL_ATTEMPTS):
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if _reason(exc) != "busy":
                raise
        time.sleep(_WAL_PAUSE_S)
    conn.execute("PRAGMA journal_mode = WAL")  # last try: its error is the one reported


_CHECKPOINT_WAIT_MS = 250


def _limit_wal(conn: sqlite3.Connection) -> None:
    """Checkpoint and truncate the WAL when the automatic checkpoints are being starved.

    The automatic (passive) checkpoint copies pages back but cannot restart the WAL while any
    reader still uses it, and with readers always busy (the inbox polling, a cron `stats`, a
    sync) the file grows with every write (tests/robust/test_wal.py). Past twice the
    autocheckpoint size, a TRUNCATE checkpoint waits (briefly, never the full busy timeout)
    for the current readers to finish; new readers meanwhile read the main file.
    """
    if not isinstance(conn, Connection) or not conn.path:
        return
    try:
        size = os.stat(f"{conn.path}-wal").st_size
    except OSError:
        return
    if size <= max(2 * WAL_CHECKPOINT_PAGES * 4096, conn.wal_retry_at):
        return
    conn.execute(f"PRAGMA busy_timeout = {_CHECKPOINT_WAIT_MS}")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:
        busy = 1
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # A reader that keeps one transaction open cannot be waited out: try again only after
    # another two checkpoint intervals, so such a reader costs one short wait per 128 MiB
    # written, not one per commit.
    conn.wal_retry_at = size + 2 * WAL_CHECKPOINT_PAGES * 4096 if busy else 0


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open; never mask the error being handled.

    SQLite itself rolls back on some errors (a full disk, an I/O error), and a ROLLBACK
    then would raise "no transaction is active" over the error that matters.
    """
    if not conn.in_transaction:
        return
    with suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


@contextmanager
def transaction(conn: sqlite3.Connection, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE … COMMIT`` (rolled back on any exception, a failed COMMIT too).

    A full disk, a damaged file, a read-only home or a lock held too long inside the block is
    re-raised as a :class:`StoreFailure` naming the file and the fix.

    ``durable=True`` commits with ``synchronous=FULL`` so that the commit survives power loss,
    not only a crash: the outbox uses it for the intent recorded before a send.
    """
    if durable:
        conn.execute("PRAGMA synchronous = FULL")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
            _limit_wal(conn)
        except BaseException as exc:
            _rollback_quietly(conn)
            translated = _translate(conn, exc)
            if translated is not exc:
                raise translated from exc
            raise
    finally:
        if durable:
            with suppress(sqlite3.Error):
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
    try:
        conn.execute("SAVEPOINT socialdesk_atomic")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK TO socialdesk_atomic")
                    conn.execute("RELEASE socialdesk_atomic")
            raise
        conn.execute("RELEASE socialdesk_atomic")
    except sqlite3.Error as exc:
        translated = _translate(conn, exc)
        if translated is not exc:
            raise translated from exc
        raise
