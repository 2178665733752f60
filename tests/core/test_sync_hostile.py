"""Hostile Graph text never stops a sync: lone surrogates are stored as U+FFFD (F1)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from socialdesk.api.surrogates import scrub
from socialdesk.store.db import open_db, transaction
from socialdesk.store.threads import get_messages
from tests.support.sync_world import make_world

LONE = json.loads('"Lone\\ud800Sur"')
"""What Python makes of the JSON string ``"Lone\\ud800Sur"``: a str with a lone surrogate."""


def test_sync_stores_lone_surrogates_as_replacement_characters(tmp_path: Path) -> None:
    """A customer name, message, post and comment holding lone surrogates sync; U+FFFD stored."""
    world = make_world(tmp_path)
    sb = world.sb
    uid = sb.add_user(LONE)
    sb.add_message(world.page_id, uid, "hi \udfff there \ud83d")
    post = sb.add_post(world.page_id, "post \udc00")
    sb.add_comment(post, sb.add_user("Com\ud801menter"), "comment \ud800")
    report = world.sync()
    assert report.conversations == 1
    conv_id = sb.conversation_id(world.page_id, uid)
    name = world.conn.execute(
        "SELECT customer_name FROM threads WHERE id = ?", (conv_id,)
    ).fetchone()[0]
    assert name == "Lone\ufffdSur"
    [message] = get_messages(world.conn, conv_id)
    assert message.text == "hi \ufffd there \ufffd"
    texts = {r[0] for r in world.conn.execute("SELECT text FROM messages")}
    assert "comment \ufffd" in texts
    assert world.conn.execute("SELECT message FROM posts").fetchone()[0] == "post \ufffd"
    # A second run (the one that used to fail forever) is fine too.
    world.sync()
    world.conn.close()


def test_store_replaces_lone_surrogates_on_its_own(tmp_path: Path) -> None:
    """Even a lone surrogate that bypassed the api layer is bound as U+FFFD, not an error."""
    conn = open_db(tmp_path / "db" / "socialdesk.db")
    with transaction(conn):
        conn.execute(
            "INSERT INTO pages (id, name, updated_at) VALUES (?, ?, 0)", ("p1", "Shop\udc9b")
        )
    assert conn.execute("SELECT name FROM pages").fetchone()[0] == "Shop\ufffd"
    conn.close()


def test_scrub_keeps_valid_text_and_pairs() -> None:
    """Valid text (emoji, accents) is untouched; only lone surrogates change."""
    assert scrub("plain") == "plain"
    assert scrub("é 😀 \ufffd") == "é 😀 \ufffd"
    assert scrub("\ud83d\ude00") == "\ufffd\ufffd"  # two lone halves in a str are still lone
    assert scrub(LONE).encode("utf-8") == "Lone\ufffdSur".encode()


def test_open_db_creates_its_directory_0700(tmp_path: Path) -> None:
    """A new data directory (and a missing parent) is created 0700; the database file 0600."""
    path = tmp_path / "a" / "b" / "socialdesk.db"
    open_db(path).close()
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
