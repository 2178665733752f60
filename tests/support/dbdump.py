"""``dump``: the logical content of a socialdesk database's cache and thread statuses, for
equality checks between a clean sync and one that was interrupted, faulted or killed. Shared by
the sync tests and ``benchmarks/soak_sync_kill.py``.
"""

from __future__ import annotations

import sqlite3
from typing import Any


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The logical content of the cache tables and thread statuses, for equality checks."""
    return {
        "threads": [
            tuple(r)
            for r in conn.execute(
                "SELECT id, page_id, channel, customer_id, customer_name, post_id,"
                " graph_updated_at, message_count, last_message_at, last_inbound_at,"
                " last_outbound_at, awaiting_reply, request_at, snippet, is_hidden"
                " FROM threads ORDER BY id"
            )
        ],
        "messages": [
            tuple(r)
            for r in conn.execute(
                "SELECT id, thread_id, page_id, direction, author_id, author_name, text,"
                " attachments, parent_id, is_hidden, created_at FROM messages ORDER BY id"
            )
        ],
        "posts": [
            tuple(r)
            for r in conn.execute("SELECT id, page_id, message, created_at FROM posts ORDER BY id")
        ],
        "status": [
            tuple(r)
            for r in conn.execute("SELECT thread_id, status FROM thread_state ORDER BY thread_id")
        ],
    }
