"""Migration m004: the string-encoded outbox effects of older databases become columns."""

from __future__ import annotations

from pathlib import Path

from socialdesk.store.db import open_db
from socialdesk.store.migrations import migrate
from socialdesk.store.schema import MIGRATIONS


def test_old_effect_strings_become_columns(tmp_path: Path) -> None:
    """batch '…+done' → done_on_sent, error 'refused by the API: …' → refused + the message."""
    conn = open_db(tmp_path / "old.db", migrate=False)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER)"
    )
    for name, script in MIGRATIONS[:3]:
        conn.executescript(script)
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (name,))
    rows = [
        ("ack:abc+done", "sent", None),
        ("reply+done", "sent", None),
        ("ack:def", "failed", "refused by the API: (#551) This person isn't available"),
        (None, "failed", "timeout"),
    ]
    for batch, state, error in rows:
        conn.execute(
            "INSERT INTO outbox (page_id, thread_id, kind, text, state, batch, created_at, error)"
            " VALUES ('1', 't', 'dm_response', 'x', ?, ?, 0, ?)",
            (state, batch, error),
        )
    assert migrate(conn)[0] == "m004_app_layer"
    got = conn.execute(
        "SELECT batch, done_on_sent, refused, error FROM outbox ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in got] == [
        ("ack:abc", 1, 0, None),
        ("reply", 1, 0, None),
        ("ack:def", 0, 1, "(#551) This person isn't available"),
        (None, 0, 0, "timeout"),
    ]
