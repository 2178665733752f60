"""Migration m008: private replies written before it answered their thread's top-level comment."""

from __future__ import annotations

from pathlib import Path

from socialdesk.store import outbox
from socialdesk.store.db import open_db
from socialdesk.store.migrations import migrate
from socialdesk.store.schema import MIGRATIONS


def test_old_private_replies_answer_the_top_level_comment(tmp_path: Path) -> None:
    """comment_id = thread_id for comment_private rows, NULL for the others; the ledger then
    holds the old row under that comment."""
    conn = open_db(tmp_path / "old.db", migrate=False)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER)"
    )
    before = [name for name, _ in MIGRATIONS].index("m008_private_reply_per_comment")
    for name, script in MIGRATIONS[:before]:
        conn.executescript(script)
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (name,))
    for kind in ("comment_private", "comment_public", "dm_response"):
        conn.execute(
            "INSERT INTO outbox (page_id, thread_id, kind, text, state, created_at)"
            " VALUES ('1', ?, ?, 'x', 'sent', 0)",
            (f"t_{kind}", kind),
        )
    assert "m008_private_reply_per_comment" in migrate(conn)
    got = conn.execute("SELECT kind, comment_id FROM outbox ORDER BY id").fetchall()
    assert [tuple(r) for r in got] == [
        ("comment_private", "t_comment_private"),
        ("comment_public", None),
        ("dm_response", None),
    ]
    assert outbox.private_reply_used(conn, "t_comment_private")
    assert not outbox.private_reply_used(conn, "t_comment_public")
