"""Export and import of operator state as JSON lines (``state export`` / ``state import``).

Called by core and the CLI. Operator state is what cannot be re-fetched from the Graph API
(PRODUCT.md §2, notmuch's dump): local numbers, status/snooze/note, tags, the triage log, the
outbox and the sync watermarks. The cache (threads, messages, customers, posts) is not exported.

Format: the first line is a header ``{"type": "header", "format": "socialdesk-state",
"version": 1, "exported_at": <unix seconds>}``; every further line is one row
``{"type": <type>, <column>: <value>, ...}`` with the types of :data:`TABLES`. Import checks
every line before writing anything (unknown type or field, a missing required field, a wrong
value type: :class:`UsageError` naming the line), then upserts all rows in one transaction:
imported rows replace rows with the same key. No token is ever in the database, so none can
be in an export.

:func:`rescue_state` is the same export from a damaged database (``state export`` falls back
to it): whatever SQLite can still read, table by table and row by row, with a report of what
could not be read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from socialdesk.errors import UsageError
from socialdesk.store.db import atomic

FORMAT = "socialdesk-state"
VERSION = 1

TABLES: dict[str, str] = {
    "thread_number": "thread_numbers",
    "thread_state": "thread_state",
    "thread_tag": "thread_tags",
    "triage_log": "triage_log",
    "outbox": "outbox",
    "outbox_review": "outbox_review",
    "watermark": "watermarks",
}
"""Line type → table. Columns are read from the schema, so added columns travel too."""


@dataclass(frozen=True)
class _Column:
    name: str
    type: str
    """``INTEGER`` or ``TEXT``."""
    required: bool
    """NOT NULL without a default."""
    nullable: bool


def _columns(conn: sqlite3.Connection, table: str) -> list[_Column]:
    cols: list[_Column] = []
    for _cid, name, decl, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})"):
        # An INTEGER PRIMARY KEY (rowid alias) is NOT NULL in practice; TEXT keys too.
        nullable = not notnull and not pk
        required = (bool(notnull) or bool(pk)) and default is None
        cols.append(
            _Column(name, "INTEGER" if "INT" in decl.upper() else "TEXT", required, nullable)
        )
    return cols


def _header(now: datetime) -> str:
    header = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "exported_at": int(now.timestamp()),
    }
    return json.dumps(header) + "\n"


def _line(kind: str, names: list[str], row: tuple[Any, ...]) -> str:
    obj: dict[str, Any] = {"type": kind}
    obj.update(zip(names, row, strict=True))
    # ASCII only: a C1, bidi or line-separator character in a note must not reach a
    # terminal that `cat`s the export raw. json.loads restores it exactly.
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n"


def export_state(conn: sqlite3.Connection, out: TextIO, *, now: datetime) -> int:
    """Write the header and every operator-state row to ``out``; return the number of rows."""
    # One read transaction, so the export is a consistent snapshot even while a sync writes.
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        out.write(_header(now))
        count = 0
        for kind, table in TABLES.items():
            names = [c.name for c in _columns(conn, table)]
            order = ", ".join(names)
            for row in conn.execute(f"SELECT {order} FROM {table} ORDER BY {order}"):
                out.write(_line(kind, names, tuple(row)))
                count += 1
    finally:
        if own:
            conn.execute("COMMIT")
    return count


# --- rescue from a damaged database ----------------------------------------------------------


@dataclass(frozen=True)
class RescueReport:
    """What :func:`rescue_state` could and could not read."""

    rows: int
    """Rows written."""
    problems: tuple[str, ...]
    """One line per part that could not be read (a missing table, a damaged range of rows)."""


def _open_for_rescue(path: Path) -> sqlite3.Connection:
    """``path`` opened read-only, never written (no migration, no WAL switch, no checkpoint).

    ``mode=ro`` still needs the ``-shm`` file; when that cannot be created (a read-only home)
    ``immutable=1`` reads the main file alone.
    """
    last: sqlite3.Error | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True)
            # Without it SQLite refuses a file shorter than its header says (a truncated copy)
            # before reading anything; the connection is read-only, so nothing can be written.
            conn.execute("PRAGMA writable_schema = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
    assert last is not None
    raise last


def _first_readable_rowid(conn: sqlite3.Connection, table: str, start: int) -> int | None:
    """The smallest rowid >= ``start`` from which rows can be read again, else None."""

    def readable(at: int) -> int | None:
        try:
            row = conn.execute(
                f"SELECT rowid FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1", (at,)
            ).fetchone()
        except sqlite3.DatabaseError:
            return -1
        return None if row is None else int(row[0])

    # Gallop past the damage (reading from `start` failed), then narrow down to the first
    # position that reads again, so the readable rows just after the damage are kept.
    bad, step = start, 1
    while True:
        at = start + step
        if readable(at) != -1:
            break
        bad, step = at, step * 2
        if step > 2**62:
            return None
    low, high = bad + 1, at
    while low < high:
        mid = (low + high) // 2
        if readable(mid) == -1:
            low = mid + 1
        else:
            high = mid
    found = readable(low)
    return None if found is None or found == -1 else found


def _rescue_table(
    conn: sqlite3.Connection, table: str, names: list[str], problems: list[str]
) -> Iterator[tuple[Any, ...]]:
    cols = ", ".join(names)
    last: int | None = None
    while True:
        where, params = ("WHERE rowid > ?", (last,)) if last is not None else ("", ())
        try:
            for row in conn.execute(
                f"SELECT rowid, {cols} FROM {table} {where} ORDER BY rowid", params
            ):
                last = int(row[0])
                yield tuple(row[1:])
            return
        except sqlite3.DatabaseError as exc:
            start = (last or 0) + 1
            resume = _first_readable_rowid(conn, table, start)
            end = "the end" if resume is None else f"{resume - 1}"
            problems.append(f"{table}: rows {start} to {end} could not be read ({exc})")
            if resume is None:
                return
            last = resume - 1


def rescue_state(path: Path, out: TextIO, *, now: datetime) -> RescueReport:
    """Export whatever operator state SQLite can still read from a damaged database at
    ``path``, table by table and row by row, in the format of :func:`export_state`.

    The file is opened read-only and never written. Rows are read in rowid order straight
    from each table (no index, which may be the damaged part); past a damaged range the
    read resumes at the next readable row. Each part that could not be read is named in the
    report's ``problems``.
    """
    problems: list[str] = []
    out.write(_header(now))
    try:
        conn = _open_for_rescue(path)
    except sqlite3.Error as exc:
        return RescueReport(0, (f"{path}: nothing could be read ({exc})",))
    count = 0
    try:
        for kind, table in TABLES.items():
            try:
                names = [c.name for c in _columns(conn, table)]
            except sqlite3.DatabaseError as exc:
                problems.append(f"{table}: its columns could not be read ({exc})")
                continue
            if not names:
                problems.append(f"{table}: not found in the database")
                continue
            for row in _rescue_table(conn, table, names, problems):
                out.write(_line(kind, names, row))
                count += 1
    finally:
        conn.close()
    return RescueReport(count, tuple(problems))


def _check_value(col: _Column, value: Any) -> bool:
    if value is None:
        return col.nullable
    if col.type == "INTEGER":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _parse(conn: sqlite3.Connection, inp: TextIO) -> list[tuple[str, dict[str, Any]]]:
    schema = {kind: {c.name: c for c in _columns(conn, t)} for kind, t in TABLES.items()}
    rows: list[tuple[str, dict[str, Any]]] = []
    saw_header = False
    for lineno, line in enumerate(inp, start=1):
        if not line.strip():
            continue

        def bad(msg: str, lineno: int = lineno) -> UsageError:
            return UsageError(
                f"line {lineno}: {msg}",
                hint="the file must be a `socialdesk state export`; nothing was imported",
            )

        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise bad("not valid JSON") from None
        if not isinstance(obj, dict):
            raise bad("not a JSON object")
        kind = obj.get("type")
        if not saw_header:
            if kind != "header" or obj.get("format") != FORMAT:
                raise bad("missing the socialdesk-state header")
            if obj.get("version") != VERSION:
                raise bad(f"unsupported format version {obj.get('version')!r} (expected {VERSION})")
            saw_header = True
            continue
        if not isinstance(kind, str) or kind not in schema:
            raise bad(f"unknown type {kind!r}")
        cols = schema[kind]
        fields = {k: v for k, v in obj.items() if k != "type"}
        for name, value in fields.items():
            col = cols.get(name)
            if col is None:
                raise bad(f"unknown field {name!r} for type {kind!r}")
            if not _check_value(col, value):
                raise bad(f"field {name!r} of type {kind!r} has a wrong value {value!r}")
        missing = [c.name for c in cols.values() if c.required and c.name not in fields]
        if missing:
            raise bad(f"type {kind!r} lacks field {missing[0]!r}")
        rows.append((kind, fields))
    if not saw_header:
        raise UsageError("the state file is empty", hint="pass a `socialdesk state export` file")
    return rows


def import_state(conn: sqlite3.Connection, inp: TextIO) -> int:
    """Validate every line of ``inp``, then upsert all rows in one transaction; return the count.

    A local number imported for a thread replaces the thread's current number, and takes the
    number away from any other thread holding it (that thread gets a fresh number).
    """
    rows = _parse(conn, inp)
    with atomic(conn):
        for kind, fields in rows:
            table = TABLES[kind]
            names = list(fields)
            if kind == "thread_number":
                conn.execute(
                    "DELETE FROM thread_numbers WHERE number = ? OR thread_id = ?",
                    (fields.get("number"), fields.get("thread_id")),
                )
            cols = ", ".join(names)
            marks = ", ".join(f":{n}" for n in names)
            conn.execute(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})", fields)
        # A cached thread whose number was taken by an imported row gets a fresh one now.
        conn.execute(
            "INSERT INTO thread_numbers (thread_id, page_id)"
            " SELECT id, page_id FROM threads"
            " WHERE id NOT IN (SELECT thread_id FROM thread_numbers) ORDER BY last_message_at, id"
        )
    return len(rows)
