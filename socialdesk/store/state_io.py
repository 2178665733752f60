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
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
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


def export_state(conn: sqlite3.Connection, out: TextIO, *, now: datetime) -> int:
    """Write the header and every operator-state row to ``out``; return the number of rows."""
    # One read transaction, so the export is a consistent snapshot even while a sync writes.
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        header = {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "exported_at": int(now.timestamp()),
        }
        out.write(json.dumps(header) + "\n")
        count = 0
        for kind, table in TABLES.items():
            names = [c.name for c in _columns(conn, table)]
            order = ", ".join(names)
            for row in conn.execute(f"SELECT {order} FROM {table} ORDER BY {order}"):
                obj: dict[str, Any] = {"type": kind}
                obj.update(zip(names, tuple(row), strict=True))
                # ASCII only: a C1, bidi or line-separator character in a note must not reach a
                # terminal that `cat`s the export raw. json.loads restores it exactly.
                out.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
                count += 1
    finally:
        if own:
            conn.execute("COMMIT")
    return count


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
        except ValueError:
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
