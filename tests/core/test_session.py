"""core.session: the per-command context (page lookup, lazily opened database)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from socialdesk.config import PageConfig, load_config, save_config
from socialdesk.core.session import Session
from socialdesk.models import Conversation, Direction, Message, Person
from socialdesk.paths import resolve_paths
from socialdesk.store import cache, threads
from socialdesk.store.db import open_db, transaction

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _conversation(conv_id: str, page_id: str, user: str) -> Conversation:
    customer = Person(id=user, name="Ann")
    msg = Message(
        id=f"m_{conv_id}",
        thread_id=conv_id,
        direction=Direction.IN,
        author=customer,
        text="hello",
        created_at=NOW,
    )
    return Conversation(
        id=conv_id,
        page_id=page_id,
        updated_at=NOW,
        customer=customer,
        messages=(msg,),
        message_count=1,
    )


def test_configured_page_names_make_page_queries_work(isolated_home: Path) -> None:
    """A database synced without the page's name (demo, inbox) still answers page:NAME."""
    paths = resolve_paths()
    paths.ensure()
    cfg = load_config(paths).with_page(PageConfig(name="shop", id="111"), make_default=True)
    cfg = cfg.with_page(PageConfig(name="other", id="222"))
    save_config(paths, cfg)
    conn = open_db(paths.db_file)
    with transaction(conn):
        cache.upsert_conversations(conn, "111", [_conversation("t_1", "111", "9")], now=NOW)
        cache.upsert_conversations(conn, "222", [_conversation("t_2", "222", "8")], now=NOW)
    conn.close()
    with Session.open() as session:
        found = threads.list_threads(session.db, "page:SHOP", page_id=None, now=NOW)
        assert [t.id for t in found] == ["t_1"]
    with Session.open() as session:
        before = session.db.total_changes
        assert [
            t.id for t in threads.list_threads(session.db, "page:other", page_id=None, now=NOW)
        ] == ["t_2"]
        assert session.db.total_changes == before  # names already stored: nothing written
