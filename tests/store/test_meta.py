"""store.meta: this database's identity and keys."""

from __future__ import annotations

from socialdesk.store import meta
from socialdesk.store.db import open_db


def test_identity_and_keys_are_made_once_and_differ_per_database() -> None:
    """db_id, plan_key and token_key are created on first use, then stay; another db differs."""
    conn = open_db(":memory:")
    first = meta.db_id(conn)
    assert first == meta.db_id(conn) and len(first) == 32
    assert meta.plan_key(conn) == meta.plan_key(conn) and len(meta.plan_key(conn)) == 32
    assert meta.token_key(conn) == meta.token_key(conn) != meta.plan_key(conn)
    other = open_db(":memory:")
    assert meta.db_id(other) != first and meta.plan_key(other) != meta.plan_key(conn)
