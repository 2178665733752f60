"""Local echoes: a message the outbox sent, recorded in its thread before any sync reads it back.

Called by ``core.outbox`` in the transaction that confirms a send, so ``show`` has the message
and ``list`` stops offering the thread as awaiting at once. The message goes into ``messages``
through ``store.cache.upsert_messages`` under the Graph id the API returned, so the derived
thread columns follow and the sync that later reads the same id back updates that row instead of
adding a second one. ``message_echoes`` remembers which messages are still waiting for that
read-back; ``store.cache`` deletes a row there whenever a sync sees the message again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from socialdesk.models import Channel, Direction, Message, Person, epoch
from socialdesk.store import cache
from socialdesk.store.db import atomic


def record_echo(
    conn: sqlite3.Connection,
    *,
    page_id: str,
    thread_id: str,
    channel: Channel,
    message_id: str,
    text: str,
    author: Person,
    outbox_id: int,
    now: datetime,
) -> bool:
    """Store the sent message in its thread, pending read-back; ``False`` if already stored.

    A message a sync has already read back (a sync ran between the send and this call) is left
    as the sync stored it: there is nothing to echo.
    """
    with atomic(conn):
        if conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone():
            return False
        msg = Message(
            id=message_id,
            thread_id=thread_id,
            direction=Direction.OUT,
            author=author,
            text=text,
            created_at=now,
            parent_id=thread_id if channel in (Channel.COMMENT, Channel.IG_COMMENT) else None,
        )
        cache.upsert_messages(conn, page_id, thread_id, channel, [msg], now=now)
        conn.execute(
            "INSERT OR REPLACE INTO message_echoes"
            " (message_id, thread_id, page_id, outbox_id, echoed_at) VALUES (?, ?, ?, ?, ?)",
            (message_id, thread_id, page_id, outbox_id, epoch(now)),
        )
    return True


def pending_read_back(conn: sqlite3.Connection, message_ids: Iterable[str]) -> set[str]:
    """Which of these messages are local echoes no sync has read back yet."""
    rows = conn.execute(
        "SELECT message_id FROM message_echoes"
        " WHERE message_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(message_ids)),),
    )
    return {str(r[0]) for r in rows}
