"""A socialdesk home with a configured page and cached threads, built without the network.

Used by the robustness tests that run real commands (tag/done crowds, damaged databases,
full disks). The threads go in through ``store.cache`` exactly as a sync stores them.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialdesk.models import Conversation, Direction, Message, Person
from socialdesk.store.cache import upsert_conversations, upsert_page
from socialdesk.store.db import open_db, transaction

PAGE_ID = "1000"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def conversation(i: int, *, messages: int = 3) -> Conversation:
    """Thread ``t_<i>``: a customer's messages (the last one awaiting a reply)."""
    cust = Person(f"{10**15 + i}", f"Customer {i}")
    msgs = tuple(
        Message(
            id=f"m_{i}_{j}",
            thread_id=f"t_{i}",
            direction=Direction.IN,
            author=cust,
            text=f"hello {i}/{j}: is my order shipped? " + "x" * 40,
            created_at=T0 + timedelta(minutes=i * 7 + j),
        )
        for j in reversed(range(messages))
    )
    return Conversation(
        id=f"t_{i}", page_id=PAGE_ID, updated_at=msgs[0].created_at, customer=cust, messages=msgs
    )


def seed_home(home: Path, threads: int, *, messages: int = 3) -> Path:
    """Write ``config.toml`` (page ``shop``) and a database holding ``threads`` threads."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'default_page = "shop"\n[pages.shop]\nid = "{PAGE_ID}"\n')
    db = home / "socialdesk.db"
    conn = open_db(db, now=T0)
    try:
        with transaction(conn):
            # The name a command would record on its first run (so none of them writes it).
            upsert_page(conn, PAGE_ID, "shop", now=T0)
        for start in range(0, threads, 100):
            batch = [
                conversation(i, messages=messages) for i in range(start, min(threads, start + 100))
            ]
            with transaction(conn):
                upsert_conversations(conn, PAGE_ID, batch, now=T0)
    finally:
        conn.close()
    return db


def thread_numbers(db: Path) -> dict[str, int]:
    """Graph thread id → local number."""
    conn = sqlite3.connect(db)
    try:
        return {
            tid: num for num, tid in conn.execute("SELECT number, thread_id FROM thread_numbers")
        }
    finally:
        conn.close()
