"""The query language: a table of queries against a small fixture, errors, injection attempts."""

from __future__ import annotations

import contextlib
import functools
import random
import re
import sqlite3
import unicodedata
from datetime import datetime, timedelta

import pytest

from socialdesk.core.windows import window_for_conn
from socialdesk.errors import UsageError
from socialdesk.models import (
    Attachment,
    Channel,
    Message,
    Person,
    SendKind,
    Status,
    Thread,
    WindowKind,
)
from socialdesk.store import cache, outbox, threads, triage
from socialdesk.store.db import transaction
from socialdesk.store.query import (
    CLOSES_SQL,
    And,
    Not,
    Or,
    QueryError,
    Term,
    compile_query,
    expand_views,
    parse_duration,
    parse_query,
)
from tests.support.builders import PAGE, PAGE2, T0, at, conv, db, load, msg, post

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
    ("(is:dm", "unclosed '(' at position 1", "^"),
    ("is:dm)", "unmatched ')' at position 6", "     ^"),
    ("is:dm ()", "empty parentheses at position 7", "      ^^"),
    ("is:dm NOT", "nothing to negate after 'NOT' at position 7", "      ^^^"),
    ("(a OR )", "'OR' needs a term on each side at position 4", "   ^^"),
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


def _shape(node: object) -> object:
    if isinstance(node, Term):
        return (node.kind, node.key, node.value, node.negated)
    if isinstance(node, Not):
        return ("NOT", _shape(node.child))
    assert isinstance(node, And | Or)
    return (type(node).__name__.upper(), [_shape(c) for c in node.children])


def test_parse_shapes() -> None:
    """OR binds tighter than the implicit AND; negation and quoting are recorded."""
    q = parse_query('is:dm -tag:x OR "a b" from:"Ann Lee"')
    assert _shape(q.root) == (
        "AND",
        [
            ("filter", "is", "dm", False),
            ("OR", [("filter", "tag", "x", True), ("phrase", "", "a b", False)]),
            ("filter", "from", "Ann Lee", False),
        ],
    )


def test_not_and_parentheses_parse() -> None:
    """NOT and -( ) negate, parentheses group, and a ( or ) inside a word stays text."""
    q = parse_query("(tag:a OR tag:b) NOT (is:dm older:1d) -(x y) NEAR(")
    assert _shape(q.root) == (
        "AND",
        [
            ("OR", [("filter", "tag", "a", False), ("filter", "tag", "b", False)]),
            (
                "NOT",
                ("AND", [("filter", "is", "dm", False), ("filter", "older", "1d", False)]),
            ),
            ("NOT", ("AND", [("word", "", "x", False), ("word", "", "y", False)])),
            ("word", "", "NEAR(", False),
        ],
    )
    assert _shape(parse_query("a OR (b c)").root) == (
        "OR",
        [("word", "", "a", False), ("AND", [("word", "", "b", False), ("word", "", "c", False)])],
    )


NOT_CASES = [
    ("NOT hello", ALL - {"t5", "t6"}),
    ("-(hello OR refund)", ALL - {"t2", "t3", "t5", "t6"}),
    ("(is:done OR is:snoozed) NOT refund", {"t4"} - {"t2", "t3"}),
    ("NOT NOT hello", {"t5", "t6"}),
    ("(hello)", {"t5", "t6"}),
    ('"(hello)"', {"t5", "t6"}),
]


@pytest.mark.parametrize(("query", "expected"), NOT_CASES)
def test_not_and_parentheses_select(
    fixture_db: sqlite3.Connection, query: str, expected: set[str]
) -> None:
    """NOT and parentheses select what their meaning says, as list and count."""
    found = threads.list_threads(fixture_db, query, page_id=None, now=NOW, limit=None)
    assert {t.id for t in found} == expected
    assert threads.count_threads(fixture_db, query, page_id=None, now=NOW) == len(expected)


def test_unknown_page_is_an_error(fixture_db: sqlite3.Connection) -> None:
    """page:NAME naming no stored page is an error pointing at the term, as --page is."""
    with pytest.raises(QueryError) as err:
        threads.list_threads(fixture_db, "hello page:first", page_id=None, now=NOW)
    assert err.value.message == "unknown page 'first' at position 7"
    assert "Second Shop" in (err.value.hint or "") and (err.value.start, err.value.end) == (6, 16)
    with pytest.raises(QueryError):
        threads.count_threads(fixture_db, "-page:nope", page_id=None, now=NOW)


def test_saved_views_expand() -> None:
    """view:NAME stands for the saved query in parentheses; -view: negates all of it."""
    views = {"urgent": "is:awaiting expires:<2h", "vip": "tag:vip OR from:Jack", "all": ""}
    assert expand_views("view:urgent is:dm", views) == "(is:awaiting expires:<2h) is:dm"
    assert expand_views("-view:vip", views) == "-(tag:vip OR from:Jack)"
    assert expand_views("view:all is:dm", views).strip() == "is:dm"
    assert expand_views('"view:urgent"', views) == '"view:urgent"'
    with pytest.raises(QueryError, match="unknown view 'nope'") as err:
        expand_views("is:dm view:nope", views)
    assert "urgent" in (err.value.hint or "")
    with pytest.raises(QueryError, match="not a valid query"):
        expand_views("view:bad", {"bad": "is:nothing"})
    with pytest.raises(QueryError, match="too deeply"):
        expand_views("view:a", {"a": "view:b", "b": "view:a"})


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


def _expiring(
    conn: sqlite3.Connection, query: str, now_min: float, *, human_agent: bool = False
) -> set[str]:
    c = compile_query(query, now=at(now_min), human_agent=human_agent)
    sql = f"SELECT t.id FROM threads t JOIN thread_state s ON s.thread_id = t.id WHERE {c.where}"
    return {r[0] for r in conn.execute(sql, c.params)}


def test_expires_sql_follows_the_window_rules() -> None:
    """expires: sees DM 24 h, human agent 7 d, comment 7 d from the comment, and no window."""
    conn = db()
    load(conn, [conv("d1", [msg("d1a", 0, "in", "hi")]), conv("d2", [msg("d2a", 0, "out", "x")])])
    with transaction(conn):
        cache.upsert_posts(conn, PAGE, [post("p9", "sale", [msg("p9_c1", 0, "in", "hey")])], now=T0)
    day = 24 * 60
    assert _expiring(conn, "expires:<1d", 60) == {"d1"}
    assert _expiring(conn, "expires:<1d", day + 1) == set()
    assert _expiring(conn, "expires:<1d", 6 * day + 60) == {"p9_c1"}
    assert _expiring(conn, "expires:<7d", day + 1, human_agent=True) == {"d1", "p9_c1"}
    assert _expiring(conn, "expires:<30d", 7 * day, human_agent=True) == set()
    assert _expiring(conn, "-expires:<30d", 0) == {"d2"}  # no inbound message: no window


# ---- text plans against a brute-force evaluation --------------------------------------------

_VOCAB = ("order", "price", "café", "cafe", "Zamówienie", "refund", "size", "hello", "x-ray")
_PLAN_QUERIES = (
    "",
    "order",
    "cafe",
    "zamowienie",
    "-order",
    "order OR refund",
    "-price OR size",
    '"price order"',
    '-"price order"',
    "hello is:awaiting",
    "order -refund is:open",
    "price tag:vip OR refund",
    "size newer:3h",
    '"x-ray" is:done',
    'order "refund size" -hello',
    "expires:<1d",
    "expires:>2d OR is:done",
    "-expires:<3d order",
    "is:comment expires:<6d",
    "is:dm OR -expires:>5h",
    "NOT (order OR refund)",
    "(price -size) OR hello",
    "-(is:done OR order) expires:<2d",
    "NOT price NOT (size OR is:open)",
)


def _fold(text: str) -> list[str]:
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )
    return re.findall(r"[^\W_]+", plain)


def _closes(conn: sqlite3.Connection, rows: dict[str, Thread]) -> dict[str, datetime | None]:
    """When each thread's expiring window closes at NOW, by what ``list``/``show`` display."""
    out: dict[str, datetime | None] = {}
    for tid, th in rows.items():
        w = window_for_conn(conn, th, NOW, False)
        out[tid] = w.closes_at if w.kind is not WindowKind.PUBLIC else None
    return out


def _brute(
    threads_msgs: dict[str, list[str]],
    rows: dict[str, Thread],
    text: str,
    closes: dict[str, datetime | None],
) -> set[str]:
    """The thread ids matching ``text`` by the module docstring, evaluated in Python."""
    q = parse_query(text)

    def has(tid: str, value: str) -> bool:
        want = _fold(value)
        for body in threads_msgs[tid]:
            toks = _fold(body)
            if any(toks[i : i + len(want)] == want for i in range(len(toks) - len(want) + 1)):
                return True
        return False

    def term(tid: str, t: Term) -> bool:
        th = rows[tid]
        if t.kind in ("word", "phrase"):
            ok = has(tid, t.value)
        elif t.key == "is" and t.value == "awaiting":
            ok = th.awaiting_reply
        elif t.key == "is" and t.value == "open":
            ok = th.status is Status.OPEN
        elif t.key == "is" and t.value == "done":
            ok = th.status is Status.DONE
        elif t.key == "is" and t.value in ("dm", "comment"):
            ok = th.channel.value == t.value
        elif t.key == "tag":
            ok = t.value in th.tags
        elif t.key == "expires":
            body = t.value.lstrip("<>")
            limit = NOW + timedelta(seconds=parse_duration(body))
            at_ = closes[tid]
            ok = at_ is not None and (at_ > limit if t.value.startswith(">") else at_ <= limit)
        elif t.key == "newer":
            ref = th.request_at or th.last_message_at
            ok = ref >= NOW - timedelta(seconds=parse_duration(t.value))
        else:
            raise AssertionError(t)
        return ok

    return {tid for tid in rows if q.matches(functools.partial(term, tid))}


def _reference_order(
    found: list[Thread], sort: str, closes: dict[str, datetime | None]
) -> list[str]:
    if sort == "newest":
        key = sorted(found, key=lambda t: (-t.last_message_at.timestamp(), -t.number))
    elif sort == "oldest":
        key = sorted(found, key=lambda t: ((t.request_at or t.last_message_at), t.number))
    else:

        def k(t: Thread) -> tuple[int, float, float, int]:
            end = closes[t.id]
            return (
                end is None,
                end.timestamp() if end else 0.0,
                -t.last_message_at.timestamp(),
                t.number,
            )

        key = sorted(found, key=k)
    return [t.id for t in key]


@pytest.fixture(scope="module")
def random_db() -> tuple[sqlite3.Connection, dict[str, list[str]]]:
    """Forty DM and 24 comment threads with random texts from a small vocabulary, states, tags,
    times (either side of every window) and private replies in every outbox state."""
    rng = random.Random(7)
    conn = db()
    convs = []
    texts: dict[str, list[str]] = {}
    for i in range(40):
        cust = person(f"c{i}", f"Customer {i}")
        msgs = []
        start = rng.randrange(-4000, 590, 300)  # coarse, so threads tie on times
        for j in range(rng.randint(1, 4)):
            body = " ".join(rng.choice(_VOCAB) for _ in range(rng.randint(1, 5)))
            direction = "in" if j == 0 or rng.random() < 0.6 else "out"
            # Equal times on purpose: the sorts' tie-breaks are compared too.
            minutes = min(start + j * rng.choice((0, 5)), 599)
            msgs.append(msg(f"r{i}_{j}", minutes, direction, body, author=cust))
        texts[f"rt{i}"] = [m.text for m in msgs]
        convs.append(conv(f"rt{i}", msgs, customer=cust))
    load(conn, convs)
    posts = []
    states = ("queued", "sending", "sent", "unknown", "failed")
    for i in range(24):
        cust = person(f"k{i}", f"Commenter {i}")
        top = f"p{i}_c0"
        # 0, 3: a customer's comment; 1: its top comment never fetched (the thread is known
        # from replies); 2: the page's own comment.
        shape = i % 4
        start = rng.randrange(-12000, 590, 300)  # 7 days = 10080 minutes before NOW
        comments: list[Message] = []
        for j in range(rng.randint(2 if shape == 1 else 1, 4)):
            body = " ".join(rng.choice(_VOCAB) for _ in range(rng.randint(1, 5)))
            minutes = min(start + j * rng.choice((0, 60, 3000)), 599)
            if j == 0:
                if shape != 1:
                    d = "out" if shape == 2 else "in"
                    comments.append(msg(top, minutes, d, body, author=cust if d == "in" else None))
                continue
            d = "in" if rng.random() < 0.6 else "out"
            comments.append(
                msg(f"p{i}_c{j}", minutes, d, body, author=cust if d == "in" else None, parent=top)
            )
        texts[top] = [m.text for m in comments]
        posts.append(post(f"p{i}", "a post", comments, minutes=-13000))
    with transaction(conn):
        cache.upsert_posts(conn, PAGE, posts, now=NOW)
        for i in range(0, 24, 2):
            # A private reply answers one comment: the newest customer comment, or the top one.
            inbound = [m for m in posts[i].comments if m.direction.value == "in"]
            newest = max(inbound, key=lambda m: (m.created_at, m.id)).id if inbound else None
            private = bool(i % 6) and newest is not None
            oid = outbox.enqueue(
                conn,
                page_id=PAGE,
                thread_id=f"p{i}_c0",
                kind=SendKind.COMMENT_PRIVATE if private else SendKind.COMMENT_PUBLIC,
                text="hi",
                now=NOW,
                comment_id=(newest if i % 4 else f"p{i}_c0") if private else None,
            )
            # Failed rows: every other one refused by the platform (10900…: in the ledger).
            conn.execute(
                "UPDATE outbox SET state = ?, refused = ? WHERE id = ?",
                (states[i % 5], int(i % 4 == 0), oid),
            )
    with transaction(conn):
        for i in range(0, 40, 3):
            triage.set_status(conn, f"rt{i}", Status.DONE, now=NOW)
        for i in range(0, 40, 4):
            triage.add_tags(conn, f"rt{i}", ["vip"], now=NOW)
    return conn, texts


def test_random_db_covers_every_comment_case(
    random_db: tuple[sqlite3.Connection, dict[str, list[str]]],
) -> None:
    """The comment threads include open, expired, used and missing-top-comment windows."""
    conn, _ = random_db
    rows = {t.id: t for t in threads.list_threads(conn, "", page_id=PAGE, now=NOW, limit=None)}
    comments = {tid: t for tid, t in rows.items() if t.channel is Channel.COMMENT}
    kinds = {window_for_conn(conn, t, NOW, False).kind for t in comments.values()}
    assert kinds == {WindowKind.PRIVATE_REPLY, WindowKind.PUBLIC}
    stored = {r[0] for r in conn.execute("SELECT id FROM messages")}
    assert any(outbox.private_reply_used(conn, mid) for mid in stored)
    assert any(tid not in stored for tid in comments)
    # Within 7 days of the newest customer comment, but its private reply used: public.
    assert any(
        t.last_inbound_at is not None
        and t.last_inbound_at + timedelta(days=7) > NOW
        and window_for_conn(conn, t, NOW, False).kind is WindowKind.PUBLIC
        for t in comments.values()
    )
    # Another comment of the thread answered privately: the newest one keeps its own.
    assert any(
        t.id != newest.comment_id
        and outbox.private_reply_used(conn, t.id)
        and window_for_conn(conn, t, NOW, False).kind is WindowKind.PRIVATE_REPLY
        for t in comments.values()
        if (newest := threads.private_reply_state(conn, t.id)) is not None
    )


@pytest.mark.parametrize("human_agent", [False, True])
@pytest.mark.parametrize("later_min", [0, 600, 3000, 9000, 11000])
def test_closes_sql_equals_window_for_conn(
    random_db: tuple[sqlite3.Connection, dict[str, list[str]]], human_agent: bool, later_min: int
) -> None:
    """For every thread and several times, CLOSES_SQL is the closes_at that list/show display."""
    conn, _ = random_db
    now = NOW + timedelta(minutes=later_min)
    got = {
        r[0]: r[1]
        for r in conn.execute(
            f"SELECT t.id, {CLOSES_SQL} FROM threads t",
            {"qnow": int(now.timestamp()), "qha": int(human_agent)},
        )
    }
    rows = threads.list_threads(conn, "", page_id=None, now=now, limit=None)
    assert len(rows) == len(got) == 64
    for t in rows:
        w = window_for_conn(conn, t, now, human_agent)
        want = w.closes_at if w.kind is not WindowKind.PUBLIC else None
        assert got[t.id] == (int(want.timestamp()) if want else None), t.id


@pytest.mark.parametrize("plan", ["in", "probe", "set"])
def test_every_text_plan_selects_what_brute_force_selects(
    random_db: tuple[sqlite3.Connection, dict[str, list[str]]], plan: str
) -> None:
    """Each text plan (in, probe, set) selects the threads a Python evaluation of the query does."""
    conn, texts = random_db
    rows = {t.id: t for t in threads.list_threads(conn, "", page_id=PAGE, now=NOW, limit=None)}
    closes = _closes(conn, rows)
    for text in _PLAN_QUERIES:
        c = compile_query(text, now=NOW, text_plan=lambda _m: plan)  # type: ignore[arg-type,return-value]
        got = {
            r[0]
            for r in conn.execute(
                "SELECT t.id FROM threads t JOIN thread_state s ON s.thread_id = t.id"
                f" WHERE {c.where}",
                c.params,
            )
        }
        assert got == _brute(texts, rows, text, closes), text


@pytest.mark.parametrize("forced", ["", "probe", "set"])
@pytest.mark.parametrize("sort", ["expires", "newest", "oldest"])
def test_listing_order_and_limits_match_brute_force(
    random_db: tuple[sqlite3.Connection, dict[str, list[str]]],
    sort: str,
    forced: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """list_threads returns the brute-force set in the documented order, at every limit and plan."""
    conn, texts = random_db
    rows = {t.id: t for t in threads.list_threads(conn, "", page_id=PAGE, now=NOW, limit=None)}
    if forced:
        # Make every text term "common": walks use the forced plan, full sorts the rowid set.
        monkeypatch.setattr(threads, "IN_US_PER_MATCH", 1e12)
        monkeypatch.setattr(threads, "SET_MIN_MATCHES", 1)
        if forced == "probe":
            monkeypatch.setattr(threads, "SET_CHECK_US", 1e12)
        else:
            monkeypatch.setattr(threads, "PROBE_US", {"word": 1e12, "phrase": 1e12})
    closes = _closes(conn, rows)
    for text in _PLAN_QUERIES:
        found = [rows[i] for i in _brute(texts, rows, text, closes)]
        want = _reference_order(found, sort, closes)
        for limit in (None, 0, 1, 3, 7, 50):
            got = threads.list_threads(conn, text, page_id=PAGE, now=NOW, sort=sort, limit=limit)
            expect = want if limit is None else want[:limit]
            assert [t.id for t in got] == expect, (text, sort, limit)
        every = threads.list_threads(conn, text, page_id=None, now=NOW, sort=sort, limit=5)
        assert [t.id for t in every] == want[:5], (text, sort)


def test_oldest_sort_merges_its_parts_even_for_unusual_rows() -> None:
    """The oldest sort merges awaiting, answered and (request_at without awaiting) threads."""
    conn = db()
    load(
        conn,
        [
            conv("o1", [msg("o1a", 10, "in", "hello")]),
            conv("o2", [msg("o2a", 5, "in", "hello"), msg("o2b", 30, "out", "hi")]),
            conv("o3", [msg("o3a", 20, "in", "hello")]),
            conv("o4", [msg("o4a", 1, "in", "hello"), msg("o4b", 40, "out", "bye")]),
        ],
    )
    # A row the store never writes (request_at while not awaiting) must still be listed.
    with transaction(conn):
        conn.execute(
            "UPDATE threads SET request_at = ? WHERE id = 'o4'", (int(at(15).timestamp()),)
        )
    for query in ("", "hello"):
        for limit in (1, 2, 3, 4, 50):
            got = threads.list_threads(
                conn, query, page_id=PAGE, now=NOW, sort="oldest", limit=limit
            )
            assert [t.id for t in got] == ["o1", "o4", "o3", "o2"][:limit], (query, limit)


def test_walk_planner_materialises_a_fully_counted_phrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walking, a phrase costlier to look up per match uses the rowid set, unless count capped."""
    monkeypatch.setattr(threads, "IN_US_PER_MATCH", 1e6)  # as if `in` cost what it does at 1M
    conn = db()
    load(
        conn,
        [
            conv(
                f"w{i}",
                [msg(f"w{i}_{j}", j, "in", "price order" if j == 0 else "x") for j in range(10)],
            )
            for i in range(3)
        ],
    )
    counts: dict[str, int] = {}
    plan = threads._text_planner(conn, walk=True, limit=50, counts=counts)
    assert plan('text : "price order"') == "set"
    assert counts == {'text : "price order"': 3}
    counts['text : "price order"'] = threads.MATCH_CAP
    assert plan('text : "price order"') != "set"


def test_listing_counts_each_text_term_once(fixture_db: sqlite3.Connection) -> None:
    """The parts of one expires/oldest listing share one FTS match count per term."""
    statements: list[str] = []
    fixture_db.set_trace_callback(statements.append)
    try:
        for sort in ("expires", "oldest"):
            statements.clear()
            threads.list_threads(fixture_db, "order", page_id=PAGE, now=NOW, sort=sort, limit=50)
            assert (
                sum("SELECT count(*) FROM (SELECT 1 FROM messages_fts" in x for x in statements)
                == 1
            ), sort
    finally:
        fixture_db.set_trace_callback(None)
