"""Watermarks and the sync log."""

from __future__ import annotations

import pytest

from socialdesk.store import watermarks as wm
from socialdesk.store.db import transaction
from tests.support.builders import PAGE, PAGE2, at, db


def test_watermark_round_trip_and_replace() -> None:
    """A watermark is absent, then stored, then replaced; keys and pages are separate."""
    conn = db()
    assert wm.get_watermark(conn, PAGE, "conversations") is None
    wm.set_watermark(conn, PAGE, "conversations", at=at(5), id="t9", now=at(6))
    wm.set_watermark(conn, PAGE, "comments", key="p1", at=at(1), now=at(6))
    got = wm.get_watermark(conn, PAGE, "conversations")
    assert got is not None and (got.at, got.id, got.updated_at) == (at(5), "t9", at(6))
    wm.set_watermark(conn, PAGE, "conversations", at=at(7), now=at(8))
    got = wm.get_watermark(conn, PAGE, "conversations")
    assert got is not None and (got.at, got.id) == (at(7), None)
    assert wm.get_watermark(conn, PAGE, "comments", "p1") is not None
    assert wm.get_watermark(conn, PAGE, "comments") is None
    assert wm.get_watermark(conn, PAGE2, "conversations") is None
    assert wm.clear_watermarks(conn, PAGE, "comments") == 1
    assert wm.clear_watermarks(conn, PAGE) == 1


def test_watermark_rolls_back_with_its_page() -> None:
    """A watermark set in a transaction that fails is not stored."""
    conn = db()
    with pytest.raises(RuntimeError), transaction(conn):
        wm.set_watermark(conn, PAGE, "conversations", at=at(5), now=at(6))
        raise RuntimeError
    assert wm.get_watermark(conn, PAGE, "conversations") is None


def test_last_syncs_per_edge() -> None:
    """last_syncs gives the latest run per edge and the latest success."""
    conn = db()
    wm.record_sync(
        conn, PAGE, "conversations", started_at=at(0), finished_at=at(1), ok=True, calls=3
    )
    wm.record_sync(
        conn,
        PAGE,
        "conversations",
        started_at=at(10),
        finished_at=at(11),
        ok=False,
        calls=1,
        error="throttled",
    )
    wm.record_sync(conn, PAGE, "feed", started_at=at(0), finished_at=at(2), ok=False, calls=1)
    wm.record_sync(conn, PAGE2, "feed", started_at=at(0), finished_at=at(2), ok=True, calls=1)
    runs = wm.last_syncs(conn, PAGE)
    assert set(runs) == {"conversations", "feed"}
    conv = runs["conversations"]
    assert (conv.ok, conv.error, conv.finished_at, conv.last_ok_at) == (
        False,
        "throttled",
        at(11),
        at(1),
    )
    assert runs["feed"].last_ok_at is None
