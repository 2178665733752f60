"""store.pages: config names, display names and the page a token fingerprint belongs to."""

from __future__ import annotations

from datetime import UTC, datetime

from socialdesk.store import pages
from socialdesk.store.db import open_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_page_name_prefers_display_name_and_falls_back_to_slug() -> None:
    """page_name: '' for an unknown page, the slug until a display name is set, then that name."""
    conn = open_db(":memory:")
    assert pages.page_name(conn, "9") == ""
    pages.upsert_page(conn, "9", "annas-shop", now=NOW)
    assert pages.page_name(conn, "9") == "annas-shop"
    pages.set_page_display_name(conn, "9", "   ", now=NOW)
    assert pages.page_name(conn, "9") == "annas-shop"
    pages.set_page_display_name(conn, "9", "Anna's Shop", now=NOW)
    assert pages.page_name(conn, "9") == "Anna's Shop"
    stored = pages.get_page(conn, "9")
    assert stored is not None and stored.name == "annas-shop"
    pages.set_page_display_name(conn, "10", "New Page", now=NOW)
    assert pages.page_name(conn, "10") == "New Page"
    assert pages.find_pages(conn, "ANNAS-SHOP") == ["9"] and pages.find_pages(conn, "10") == ["10"]


def test_stale_names_lists_only_what_differs() -> None:
    """Only configured names that differ from the stored ones are returned (usually none)."""
    conn = open_db(":memory:")
    pages.upsert_page(conn, "1", "shop", now=NOW)
    assert pages.stale_names(conn, [("1", "shop"), ("2", "other")]) == [("2", "other")]
    assert pages.stale_names(conn, [("1", "renamed")]) == [("1", "renamed")]


def test_token_page_is_remembered_by_fingerprint() -> None:
    """A token's page is found again by its fingerprint, and a second login replaces it."""
    conn = open_db(":memory:")
    assert pages.token_page(conn, "f1") is None
    pages.remember_token_page(conn, "f1", "111", "Shop", now=NOW)
    assert pages.token_page(conn, "f1") == ("111", "Shop")
    pages.remember_token_page(conn, "f1", "222", "Other", now=NOW)
    assert pages.token_page(conn, "f1") == ("222", "Other")
