"""Operator state export/import: round trip, strict validation, no token in the export."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from socialdesk.errors import UsageError
from socialdesk.models import Status
from socialdesk.paths import resolve_paths
from socialdesk.store import state_io, threads, triage
from socialdesk.store import watermarks as wm
from tests.support.builders import PAGE, T0, at, conv, db, load, msg

CONVS = [
    conv("t1", [msg("a1", 1, "in", "hello")]),
    conv("t2", [msg("b1", 2, "in", "refund?"), msg("b2", 3, "out", "sure")]),
]


def populated() -> sqlite3.Connection:
    """A database with every kind of operator state."""
    conn = db()
    load(conn, [CONVS[0]])
    load(conn, [CONVS[1]])
    triage.add_tags(conn, "t1", ["vip", "ünïcode"], now=at(5))
    triage.set_note(conn, "t1", 'line one\nline two "quoted"', now=at(6))
    triage.set_status(conn, "t2", Status.DONE, now=at(7))
    triage.set_status(conn, "t1", Status.SNOOZED, now=at(8), snoozed_until=at(500))
    conn.execute(
        "INSERT INTO outbox (page_id, thread_id, kind, text, state, origin, created_at,"
        " started_at, finished_at, message_id) VALUES (?, 't2', 'dm_response', 'sure', 'sent',"
        " 'reply', 10, 11, 12, 'b2')",
        (PAGE,),
    )
    conn.execute(
        "INSERT INTO outbox_review (outbox_id, resolution, resolved_at) VALUES (1, 'dropped', 13)"
    )
    wm.set_watermark(conn, PAGE, "conversations", at=at(3), id="t2", now=at(9))
    return conn


def export(conn: sqlite3.Connection) -> str:
    buf = io.StringIO()
    state_io.export_state(conn, buf, now=T0)
    return buf.getvalue()


def rows_of(text: str) -> list[str]:
    return text.splitlines()[1:]


def test_round_trip_into_a_fresh_database() -> None:
    """Export, import into an empty database, re-sync the cache: the same state and numbers."""
    src = populated()
    dumped = export(src)
    lines = dumped.splitlines()
    header = json.loads(lines[0])
    assert (header["type"], header["format"], header["version"]) == (
        "header",
        "socialdesk-state",
        1,
    )
    types = {json.loads(line)["type"] for line in lines[1:]}
    assert types == set(state_io.TABLES)

    dst = db()
    n = state_io.import_state(dst, io.StringIO(dumped))
    assert n == len(lines) - 1
    assert rows_of(export(dst)) == rows_of(dumped)
    # The cache comes back with the next sync; the operator state is kept.
    load(dst, list(reversed(CONVS)))
    t1 = threads.resolve_thread(dst, "#1", now=at(9))
    t2 = threads.resolve_thread(dst, "#2", now=at(9))
    assert (t1.id, t1.status, t1.tags, t1.note) == (
        "t1",
        Status.SNOOZED,
        ("vip", "ünïcode"),
        'line one\nline two "quoted"',
    )
    assert (t2.id, t2.status) == ("t2", Status.DONE)
    assert rows_of(export(dst)) == rows_of(dumped)


def test_import_is_idempotent_and_renumbers_displaced_threads() -> None:
    """Importing twice changes nothing; a thread whose number is taken gets a fresh one."""
    dumped = export(populated())
    dst = db()
    load(dst, [conv("t9", [msg("z", 0)])])  # t9 holds #1 here
    state_io.import_state(dst, io.StringIO(dumped))
    state_io.import_state(dst, io.StringIO(dumped))
    nums = dict(dst.execute("SELECT thread_id, number FROM thread_numbers").fetchall())
    assert nums == {"t1": 1, "t2": 2, "t9": 3}


def test_export_never_contains_a_token(tmp_path: Path) -> None:
    """The stored page token appears nowhere in an export (nor any token/secret field)."""
    from socialdesk import secrets

    token = "EAAGtokenSECRET1234567890abcdef"
    secrets.store_token(resolve_paths(tmp_path), PAGE, token, use_keyring=False)
    dumped = export(populated())
    assert token not in dumped
    for line in dumped.splitlines():
        keys = json.loads(line).keys()
        assert not any("token" in k or "secret" in k for k in keys)


def bad_file(*objs: object, header: bool = True) -> io.StringIO:
    head = [{"type": "header", "format": "socialdesk-state", "version": 1}] if header else []
    return io.StringIO("".join(json.dumps(o) + "\n" for o in [*head, *objs]))


GOOD_TAG = {"type": "thread_tag", "thread_id": "t1", "page_id": PAGE, "tag": "a", "created_at": 1}


@pytest.mark.parametrize(
    ("inp", "message"),
    [
        (bad_file(GOOD_TAG, {"type": "nope"}), "line 3: unknown type 'nope'"),
        (
            bad_file({**GOOD_TAG, "colour": "red"}),
            "line 2: unknown field 'colour' for type 'thread_tag'",
        ),
        (bad_file({**GOOD_TAG, "created_at": "yesterday"}), "line 2: field 'created_at'"),
        (bad_file({**GOOD_TAG, "created_at": True}), "line 2: field 'created_at'"),
        (bad_file({**GOOD_TAG, "tag": None}), "line 2: field 'tag'"),
        (
            bad_file({k: v for k, v in GOOD_TAG.items() if k != "tag"}),
            "line 2: type 'thread_tag' lacks field 'tag'",
        ),
        (bad_file(GOOD_TAG, header=False), "line 1: missing the socialdesk-state header"),
        (
            io.StringIO('{"type": "header", "format": "socialdesk-state", "version": 9}\n'),
            "line 1: unsupported format version 9",
        ),
        (io.StringIO(bad_file(GOOD_TAG).getvalue() + "{not json\n"), "line 3: not valid JSON"),
        (io.StringIO(bad_file().getvalue() + "[1, 2]\n"), "line 2: not a JSON object"),
        (io.StringIO(""), "the state file is empty"),
    ],
)
def test_import_validates_every_line(inp: io.StringIO, message: str) -> None:
    """A bad line is a usage error naming its line number, and nothing is imported."""
    conn = db()
    with pytest.raises(UsageError) as err:
        state_io.import_state(conn, inp)
    assert err.value.message.startswith(message)
    assert conn.execute("SELECT count(*) FROM thread_tags").fetchone()[0] == 0


def test_export_is_ascii_and_round_trips_hostile_text() -> None:
    """Notes with C1/bidi/line-separator/ESC characters are escaped in the file, kept exactly."""
    hostile = "evil\u009b31m \u202eegnahc\u202c\u2028next\u2029\u0085\x1b[2J é 😀"
    src = db()
    load(src, [CONVS[0]])
    triage.set_note(src, "t1", hostile, now=at(6))
    dumped = export(src)
    assert dumped.isascii()
    for ch in ("\u009b", "\u202e", "\u2028", "\u2029", "\u0085", "\x1b"):
        assert ch not in dumped
    dst = db()
    state_io.import_state(dst, io.StringIO(dumped))
    note = dst.execute("SELECT note FROM thread_state WHERE thread_id = 't1'").fetchone()[0]
    assert note == hostile
    assert rows_of(export(dst)) == rows_of(dumped)
