"""The query language: a table of queries against a small fixture, errors, injection attempts."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta

import pytest

from socialdesk.errors import UsageError
from socialdesk.models import Attachment, Person, Status
from socialdesk.store import cache, threads, triage
from socialdesk.store.db import transaction
from socialdesk.store.query import (
    QueryError,
    compile_query,
    parse_duration,
    parse_query,
    window_closes_at,
)
from tests.store.builders import PAGE, PAGE2, T0, at, conv, db, load, msg, post

NOW = at(600)


def person(uid: str, name: str) -> Person:
    return Person(uid, name)


@pytest.fixture(scope="module")
def fixture_db() -> sqlite3.Connection:
    """Seven threads on two pages covering every filter."""
    conn = db()
    ann, bob, chloe = person("u1", "Ann Lee"), person("u2", "Bob"), person("u3", "Chloé Dubois")
    dan, eve, fay = person("u4", "Dan"), person("u5", "Eve"), person("u6", "Fay")
    mal = person("u7", "Mallory")
    load(
        conn,
        [
            conv("t1", [msg("a1", 590, "in", "Where is my order #123?", author=ann)], customer=ann),
            conv(
                "t2",
                [msg("b1", 0, "in", "refund please", author=bob), msg("b2", 10, "out", "sure")],
                customer=bob,
            ),
            conv("t3", [msg("c1", -780, "in", "café crème refund", author=chloe)], customer=chloe),
            conv("t5", [msg("e1", -3000, "in", "hello old", author=eve)], customer=eve),
            conv(
                "t7",
                [
                    msg(
                        "g1",
                        595,
                        "in",
                        '\'; DROP TABLE threads; -- and a "quoted" word',
                        author=mal,
                        attachments=(Attachment("image"),),
                    )
                ],
                customer=mal,
            ),
        ],
    )
    load(
        conn,
        [
            conv(
                "t6",
                [msg("f1", 500, "in", "hello other page", author=fay)],
                customer=fay,
                page_id=PAGE2,
            )
        ],
        page_id=PAGE2,
    )
    with transaction(conn):
        cache.upsert_posts(
            conn,
            PAGE,
            [
                post(
                    "p1",
                    "Our new shoes",
                    [msg("t4", 300, "in", "Love it! NEAR(x) AND *star*", author=dan)],
                )
            ],
            now=T0,
        )
        cache.upsert_page(conn, PAGE2, "Second Shop", now=T0)
        cache.upsert_page(conn, PAGE, "First Shop", now=T0)
    triage.add_tags(conn, "t1", ["VIP"], now=T0)
    triage.add_tags(conn, "t3", ["refund"], now=T0)
    triage.set_status(conn, "t2", Status.DONE, now=at(20))
    triage.set_status(conn, "t4", Status.SNOOZED, now=at(400), snoozed_until=at(10_000))
    return conn


ALL = {"t1", "t2", "t3", "t4", "t5", "t6", "t7"}

CASES: list[tuple[str | None, set[str]]] = [
    (None, {"t1", "t3", "t5", "t6", "t7"}),
    ("", ALL),
    ("is:dm", ALL - {"t4"}),
    ("is:comment", {"t4"}),
    ("IS:DM is:Comment", set()),
    ("is:done", {"t2"}),
    ("is:snoozed", {"t4"}),
    ("-is:open", {"t2", "t4"}),
    ("is:awaiting", ALL - {"t2"}),
    ("tag:vip", {"t1"}),
    ("tag:VIP", {"t1"}),
    ("-tag:vip", ALL - {"t1"}),
    ("tag:vip OR tag:refund", {"t1", "t3"}),
    ("is:dm is:done OR tag:vip", {"t1", "t2"}),
    ("from:bob", {"t2"}),
    ("from:chlo", {"t3"}),
    ("from:u5", {"t5"}),
    ('from:"Ann Lee"', {"t1"}),
    ('-from:"ann lee"', ALL - {"t1"}),
    ("from:%", set()),
    ("older:1h", {"t2", "t3", "t4", "t5", "t6"}),
    ("newer:1h", {"t1", "t7"}),
    ("older:1h30m", {"t2", "t3", "t4", "t5", "t6"}),
    ("expires:<2h", {"t3"}),
    ("expires:2h", {"t3"}),
    ("-expires:<2h", ALL - {"t3"}),
    ("expires:>1d", {"t4"}),
    ("refund", {"t2", "t3"}),
    ("REFUND", {"t2", "t3"}),
    ("cafe", {"t3"}),
    ("CAFÉ crème", {"t3"}),
    ('"my order"', {"t1"}),
    ('"order my"', set()),
    ("refund -is:done", {"t3"}),
    ("hello", {"t5", "t6"}),
    ("hello page:200", {"t6"}),
    ('page:"second shop"', {"t6"}),
    ("page:first", set()),
    ("page:100", ALL - {"t6"}),
    ("hello OR refund", {"t2", "t3", "t5", "t6"}),
    ("image", set()),  # placeholders are not message text
    # Injection attempts: all plain text.
    ("NEAR(", {"t4"}),
    ("AND", {"t4", "t7"}),
    ("*", {"t4"}),
    ("*star*", {"t4"}),
    ("'; DROP", {"t7"}),
    ("'; DROP TABLE threads;", {"t7"}),
    ("DROP --", set()),  # "--" is the negation of the text "-", which t7 contains
    ('a"b', set()),
    ("{text}:refund", set()),
    ('"quoted"', {"t7"}),
    ('"\'; DROP"', {"t7"}),
    ("and", {"t4", "t7"}),  # lower-case words are never operators
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_query_table(fixture_db: sqlite3.Connection, query: str | None, expected: set[str]) -> None:
    """Each query selects exactly the expected threads."""
    found = threads.list_threads(fixture_db, query, page_id=None, now=NOW, limit=None)
    assert {t.id for t in found} == expected
    assert threads.count_threads(fixture_db, query, page_id=None, now=NOW) == len(expected)


def test_injection_leaves_the_database_intact(fixture_db: sqlite3.Connection) -> None:
    """After every hostile query, the tables are all still there."""
    for q in ("'; DROP TABLE threads; --", '") OR 1=1 --', "NEAR(a b)", "text : x*", "a OR"):
        with contextlib.suppress(UsageError):
            threads.list_threads(fixture_db, q, page_id=None, now=NOW)
    assert fixture_db.execute("SELECT count(*) FROM threads").fetchone()[0] == 7


def test_human_agent_extends_dm_windows(fixture_db: sqlite3.Connection) -> None:
    """With human_agent on, a DM past 24 h still has a window for 7 days."""
    q = "expires:<5d"
    without = threads.list_threads(fixture_db, q, page_id=None, now=NOW, limit=None)
    with_ha = threads.list_threads(
        fixture_db, q, page_id=None, now=NOW, limit=None, human_agent=True
    )
    assert {t.id for t in without} == {"t1", "t2", "t3", "t6", "t7"}
    assert {t.id for t in with_ha} == {"t1", "t2", "t3", "t5", "t6", "t7"}


def test_page_id_restricts_listing(fixture_db: sqlite3.Connection) -> None:
    """list_threads with a page_id never returns another page's threads."""
    found = threads.list_threads(fixture_db, "", page_id=PAGE2, now=NOW)
    assert [t.id for t in found] == ["t6"]


BAD = [
    ("is:foo", "unknown filter 'is:foo' at position 1", "^^^^^^"),
    ("is:open bogus:1", "unknown filter 'bogus:1' at position 9", "        ^^^^^^^"),
    ("older:2x", "bad duration in 'older:2x' at position 1", "^^^^^^^^"),
    ("newer:h", "bad duration in 'newer:h' at position 1", "^"),
    ("expires:soon", "bad window in 'expires:soon' at position 1", "^"),
    ("OR is:dm", "'OR' needs a term on each side at position 1", "^^"),
    ("is:dm OR", "'OR' needs a term on each side at position 7", "      ^^"),
    ("is:dm OR OR is:done", "'OR' needs a term on each side at position 10", "         ^^"),
    ("is:dm -", "nothing to negate after '-' at position 7", "      ^"),
    ("tag:", "'tag:' needs a value at position 1", "^"),
    ('is:dm "open', "unterminated quote at position 7", "      ^"),
    ('"', "unterminated quote at position 1", "^"),
    ("text:foo", "unknown filter 'text:foo' at position 1", "^"),
    ("re:hello", "unknown filter 're:hello' at position 1", "^"),
]


@pytest.mark.parametrize(("query", "message", "want_caret"), BAD)
def test_bad_query_points_at_the_term(query: str, message: str, want_caret: str) -> None:
    """A bad query is a UsageError naming the term; its span is kept; the hint is one line."""
    with pytest.raises(QueryError) as err:
        compile_query(query, now=NOW)
    assert isinstance(err.value, UsageError)
    assert err.value.message == message
    assert err.value.hint and "\n" not in err.value.hint
    assert err.value.query == query
    caret = " " * err.value.start + "^" * (err.value.end - err.value.start)
    assert caret.startswith(want_caret)


def test_unknown_filter_hint_suggests_quoting() -> None:
    """An unknown filter's hint says how to search the same text."""
    with pytest.raises(UsageError) as err:
        compile_query("re:hello", now=NOW)
    assert '"re:hello"' in (err.value.hint or "")


def test_parse_shapes() -> None:
    """OR binds tighter than the implicit AND; negation and quoting are recorded."""
    q = parse_query('is:dm -tag:x OR "a b" from:"Ann Lee"')
    shapes = [[(t.kind, t.key, t.value, t.negated) for t in g] for g in q.groups]
    assert shapes == [
        [("filter", "is", "dm", False)],
        [("filter", "tag", "x", True), ("phrase", "", "a b", False)],
        [("filter", "from", "Ann Lee", False)],
    ]


def test_user_text_is_only_bound() -> None:
    """No user text ever appears in the SQL string; it travels as parameters."""
    hostile = "'; DROP TABLE x; -- \" NEAR("
    compiled = compile_query(f'{hostile} from:"{hostile[:5]}" tag:zz', now=NOW)
    assert "DROP" not in compiled.where and "zz" not in compiled.where
    assert any("DROP" in str(v) for v in compiled.params.values())


def test_durations() -> None:
    """Durations add up their parts; malformed ones are refused."""
    assert parse_duration("90m") == 5400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2w") == 14 * 86400
    for bad in ("", "h", "2", "2y", "-2h", "2h-"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_window_closes_at_matches_rules() -> None:
    """The Python twin of the window SQL: DM 24 h, human agent 7 d, comment 7 d, else None."""
    li = T0
    assert window_closes_at("dm", li, T0 + timedelta(hours=1)) == li + timedelta(hours=24)
    assert window_closes_at("dm", li, T0 + timedelta(hours=25)) is None
    assert window_closes_at("dm", li, T0 + timedelta(hours=25), human_agent=True) == li + timedelta(
        days=7
    )
    assert window_closes_at("comment", li, T0 + timedelta(days=6)) == li + timedelta(days=7)
    assert window_closes_at("comment", li, T0 + timedelta(days=8)) is None
    assert window_closes_at("dm", None, T0) is None
