"""The schema as migrations build it: exact tables, columns, indexes; file pragmas and mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from socialdesk.store.db import open_db
from socialdesk.store.migrations import applied, migrate, pending
from socialdesk.store.schema import MIGRATIONS

EXPECTED_TABLES: dict[str, tuple[str, ...]] = {
    "customers": ("page_id", "id", "name", "updated_at", "username"),
    "messages": (
        "id",
        "thread_id",
        "page_id",
        "direction",
        "author_id",
        "author_name",
        "text",
        "attachments",
        "parent_id",
        "is_hidden",
        "created_at",
        "via_socialdesk",
        "can_reply_privately",
        "private_reply_conversation",
        "author_username",
    ),
    "messages_fts": ("text", "author_name"),
    "messages_fts_config": ("k", "v"),
    "messages_fts_data": ("id", "block"),
    "messages_fts_docsize": ("id", "sz"),
    "messages_fts_idx": ("segid", "term", "pgno"),
    "outbox": (
        "id",
        "page_id",
        "thread_id",
        "kind",
        "text",
        "state",
        "origin",
        "batch",
        "created_at",
        "started_at",
        "finished_at",
        "message_id",
        "error",
        "done_on_sent",
        "refused",
        "comment_id",
    ),
    "message_echoes": ("message_id", "thread_id", "page_id", "outbox_id", "echoed_at"),
    "token_pages": ("fingerprint", "page_id", "name", "seen_at"),
    "pages": (
        "id",
        "name",
        "updated_at",
        "display_name",
        "ig_user_id",
        "ig_username",
        "ig_source",
        "ig_checked_at",
    ),
    "posts": (
        "id",
        "page_id",
        "message",
        "permalink",
        "created_at",
        "updated_at",
        "kind",
        "comments_total",
    ),
    "schema_migrations": ("name", "applied_at"),
    "sqlite_sequence": ("name", "seq"),
    "sync_log": (
        "id",
        "page_id",
        "edge",
        "started_at",
        "finished_at",
        "ok",
        "calls",
        "error",
        "hint",
        "reason",
        "exit_code",
        "skipped_items",
        "problems",
        "usage",
    ),
    "thread_numbers": ("number", "thread_id", "page_id"),
    "thread_state": (
        "thread_id",
        "page_id",
        "status",
        "snoozed_until",
        "note",
        "done_at",
        "updated_at",
        "status_at",
        "seen_at",
    ),
    "thread_tags": ("thread_id", "page_id", "tag", "created_at"),
    "threads": (
        "id",
        "page_id",
        "channel",
        "customer_id",
        "customer_name",
        "post_id",
        "graph_updated_at",
        "message_count",
        "last_message_at",
        "last_inbound_at",
        "last_outbound_at",
        "awaiting_reply",
        "request_at",
        "snippet",
        "is_hidden",
        "customer_username",
    ),
    "thread_gaps": ("thread_id", "page_id", "after_at", "before_at", "found_at"),
    "triage_log": ("id", "thread_id", "page_id", "action", "detail", "at", "undone_at"),
    "outbox_meta": ("key", "value"),
    "outbox_review": ("outbox_id", "absent_at", "resolution", "resolved_at"),
    "watermarks": ("page_id", "edge", "key", "value_at", "value_id", "updated_at"),
    # m007_rules (issue 14)
    "rule_versions": ("page_id", "rule", "digest", "state", "since"),
    "rule_runs": (
        "id",
        "page_id",
        "trigger",
        "started_at",
        "finished_at",
        "candidates",
        "fired",
        "sent",
        "would",
        "skipped",
        "failed",
        "stopped",
    ),
    "rule_events": (
        "id",
        "run_id",
        "page_id",
        "rule",
        "thread_id",
        "customer_key",
        "anchor_id",
        "once_key",
        "outcome",
        "reason",
        "actions",
        "outbox_id",
        "at",
    ),
    "rules_state": (
        "page_id",
        "watermark",
        "paused_at",
        "paused_by",
        "pause_reason",
        "paused_until",
    ),
    "rule_pending": ("page_id", "rule", "thread_id", "expires_at"),
}

EXPECTED_INDEXES = {
    "messages_page_created",
    "messages_private_replied",
    "messages_thread_created",
    "outbox_comment",
    "outbox_state",
    "outbox_thread",
    "posts_page_created",
    "sync_log_page_edge",
    "thread_state_status",
    "thread_tags_tag",
    "threads_awaiting",
    "threads_customer",
    "threads_page_last",
    "triage_log_page_at",
    # m007_rules (issue 14)
    "outbox_message",
    "rule_events_customer",
    "rule_events_rule",
    "rule_events_thread",
    "rule_ledger",
}

EXPECTED_TRIGGERS = {"messages_fts_ad", "messages_fts_ai", "messages_fts_au"}


def test_blank_database_gets_exact_schema(tmp_path: Path) -> None:
    """A blank database migrates to exactly the expected tables, columns, indexes, triggers."""
    conn = open_db(tmp_path / "s.db")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    got = {t: tuple(r[1] for r in conn.execute(f"PRAGMA table_info('{t}')")) for t in tables}
    assert got == EXPECTED_TABLES
    indexes = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_autoindex%'"
        )
    }
    assert indexes == EXPECTED_INDEXES
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == EXPECTED_TRIGGERS
    assert applied(conn) == [name for name, _ in MIGRATIONS]
    assert pending(conn) == []


def test_file_database_pragmas_and_mode(tmp_path: Path) -> None:
    """A file database is WAL, has foreign keys on, passes integrity_check and is mode 0600."""
    path = tmp_path / "data" / "socialdesk.db"
    conn = open_db(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    """Re-opening a migrated database applies nothing and keeps the data."""
    path = tmp_path / "s.db"
    conn = open_db(path)
    conn.execute("INSERT INTO pages (id, name, updated_at) VALUES ('1', 'x', 0)")
    conn.close()
    conn = open_db(path)
    assert migrate(conn) == []
    assert conn.execute("SELECT name FROM pages").fetchone()[0] == "x"
