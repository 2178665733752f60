"""Support for the stats tests (no tests here): scripted thread histories inserted through SQL
into a real SQLite store.

Used by tests/core/test_stats*.py, tests/store/test_stats*.py and tests/cli/test_stats_cli.py.
The derived thread columns are computed exactly as ``store.cache`` defines them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

PAGE = "1234567890"
WARSAW = ZoneInfo("Europe/Warsaw")


def w(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    """Unix seconds of a Europe/Warsaw wall-clock time."""
    return int(datetime(y, mo, d, h, mi, s, tzinfo=WARSAW).timestamp())


def add_thread(
    conn: sqlite3.Connection,
    thread_id: str,
    channel: str,
    messages: Sequence[tuple[str, int]],
    *,
    page_id: str = PAGE,
    via_socialdesk: bool = True,
) -> None:
    """Insert a thread and its ``(direction, unix_seconds)`` messages, with derived columns."""
    conn.execute(
        "INSERT OR IGNORE INTO pages (id, name, updated_at) VALUES (?, 'Shop', 0)", (page_id,)
    )
    ins = [t for d, t in messages if d == "in"]
    outs = [t for d, t in messages if d == "out"]
    last_in = max(ins) if ins else None
    last_out = max(outs) if outs else None
    awaiting = last_in is not None and (last_out is None or last_in > last_out)
    request_at = min(t for t in ins if last_out is None or t > last_out) if awaiting else None
    conn.execute(
        "INSERT INTO threads (id, page_id, channel, customer_id, customer_name, last_message_at,"
        " last_inbound_at, last_outbound_at, awaiting_reply, request_at)"
        " VALUES (?, ?, ?, 'c', 'Customer', ?, ?, ?, ?, ?)",
        (
            thread_id,
            page_id,
            channel,
            max(t for _, t in messages),
            last_in,
            last_out,
            int(awaiting),
            request_at,
        ),
    )
    conn.executemany(
        "INSERT INTO messages (id, thread_id, page_id, direction, author_id, text, created_at,"
        " via_socialdesk) VALUES (?, ?, ?, ?, ?, 'hello', ?, ?)",
        [
            (
                f"{thread_id}_m{i}",
                thread_id,
                page_id,
                d,
                page_id if d == "out" else "c",
                t,
                int(via_socialdesk and d == "out"),
            )
            for i, (d, t) in enumerate(messages)
        ],
    )


def add_done(conn: sqlite3.Connection, thread_id: str, at: int, *, page_id: str = PAGE) -> None:
    """Log a ``done`` triage action."""
    conn.execute(
        "INSERT INTO triage_log (thread_id, page_id, action, at) VALUES (?, ?, 'done', ?)",
        (thread_id, page_id, at),
    )


def add_sync(conn: sqlite3.Connection, finished_at: int, *, page_id: str = PAGE) -> None:
    """Log a successful sync of both edges."""
    for edge in ("conversations", "feed"):
        conn.execute(
            "INSERT INTO sync_log (page_id, edge, started_at, finished_at, ok)"
            " VALUES (?, ?, ?, ?, 1)",
            (page_id, edge, finished_at - 1, finished_at),
        )


def scripted_day(conn: sqlite3.Connection) -> None:
    """The hand-computed history of Tuesday 2026-03-10 (Europe/Warsaw) used by several tests.

    DMs: A two requests (09:00 + a second inbound 09:02, answered 09:05; 12:00 answered 12:20);
    B 10:00 answered the next day 11:00 (25 h); C 15:00 never answered; D 16:50 answered
    elsewhere 17:40; E at local midnight 00:00 answered 00:01; F 23:59:59 the day before,
    answered 00:00:30. Comments: G 11:00 answered 11:20; H 14:00 + 14:05, never answered.
    Done: A twice on the 10th, G at 23:30 on the 10th, C at 00:30 on the 11th (23:30 UTC on
    the 10th), D on the 11th.
    """
    add_thread(conn, "A", "dm", [("in", w(2026, 3, 10, 9)), ("in", w(2026, 3, 10, 9, 2)),
                                 ("out", w(2026, 3, 10, 9, 5)), ("in", w(2026, 3, 10, 12)),
                                 ("out", w(2026, 3, 10, 12, 20))])  # fmt: skip
    add_thread(conn, "B", "dm", [("in", w(2026, 3, 10, 10)), ("out", w(2026, 3, 11, 11))])
    add_thread(conn, "C", "dm", [("in", w(2026, 3, 10, 15))])
    add_thread(
        conn,
        "D",
        "dm",
        [("in", w(2026, 3, 10, 16, 50)), ("out", w(2026, 3, 10, 17, 40))],
        via_socialdesk=False,
    )
    add_thread(conn, "E", "dm", [("in", w(2026, 3, 10, 0)), ("out", w(2026, 3, 10, 0, 1))])
    add_thread(
        conn, "F", "dm", [("in", w(2026, 3, 9, 23, 59, 59)), ("out", w(2026, 3, 10, 0, 0, 30))]
    )
    add_thread(conn, "G", "comment", [("in", w(2026, 3, 10, 11)), ("out", w(2026, 3, 10, 11, 20))])
    add_thread(conn, "H", "comment", [("in", w(2026, 3, 10, 14)), ("in", w(2026, 3, 10, 14, 5))])
    add_done(conn, "A", w(2026, 3, 10, 13))
    add_done(conn, "A", w(2026, 3, 10, 13, 5))
    add_done(conn, "G", w(2026, 3, 10, 23, 30))
    add_done(conn, "C", w(2026, 3, 11, 0, 30))
    add_done(conn, "D", w(2026, 3, 11, 9))
