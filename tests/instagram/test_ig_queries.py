"""The Instagram channels in the query language and the customer's other threads."""

from __future__ import annotations

import pytest

from socialdesk.sandbox import Sandbox
from socialdesk.store import threads as store_threads

from .conftest import IgWorld


def _channels(w: IgWorld, query: str) -> list[str]:
    found = store_threads.list_threads(w.conn, query, page_id=w.page_id, now=w.sb.now(), limit=None)
    return sorted(t.channel.value for t in found)


@pytest.fixture
def synced(igw: IgWorld) -> IgWorld:
    fb_user = igw.sb.add_user("Ola Nowak")
    igw.sb.add_message(igw.page_id, fb_user, "hej", at=igw.sb.now())
    igw.sync()
    return igw


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("is:ig", ["ig_comment", "ig_dm", "ig_dm"]),
        ("is:instagram", ["ig_comment", "ig_dm", "ig_dm"]),
        ("is:ig_dm", ["ig_dm", "ig_dm"]),
        ("is:ig_comment", ["ig_comment"]),
        ("is:dm", ["dm"]),
        ("is:facebook", ["dm"]),
        ("-is:ig", ["dm"]),
        ("from:jane.doe", ["ig_comment", "ig_dm"]),
        ("from:@kuba_knits", ["ig_dm"]),
        ("is:gap", []),
    ],
)
def test_instagram_terms(synced: IgWorld, query: str, expected: list[str]) -> None:
    assert _channels(synced, query) == expected


def test_other_threads_stay_on_one_platform(synced: IgWorld) -> None:
    sb: Sandbox = synced.sb
    conv = sb.conversation_id(synced.page_id, synced.jane)
    th = store_threads.get_thread(synced.conn, conv, now=sb.now())
    assert th is not None
    others = store_threads.customer_threads(synced.conn, th, now=sb.now())
    assert [t.channel.value for t in others] == ["ig_comment"]
