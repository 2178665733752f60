"""Thread lookup, listing sorts and limits, messages, and listing speed at 100k threads."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from socialdesk.errors import UsageError
from socialdesk.models import Person, Status
from socialdesk.store import cache, threads, triage
from socialdesk.store.db import transaction
from tests.support.builders import PAGE, PAGE2, T0, at, conv, db, load, msg

NOW = at(600)


@pytest.fixture
def conn() -> sqlite3.Connection:
    """Four threads: t1..t3 on PAGE, t4 on PAGE2; t1 and t3 from the same customer."""
    c = db()
    ann, bob = Person("u1", "Ann"), Person("u2", "Bob")
    # One batch each, so the numbers are 1, 2, 3 (within a batch they follow activity time).
    load(c, [conv("t1", [msg("a1", 100, author=ann)], customer=ann)])  # closes at 1540
    load(c, [conv("t2", [msg("b1", -500, author=bob)], customer=bob)])  # closes at 940
    load(c, [conv("t3", [msg("c1", 550, author=ann), msg("c2", 560, "out")], customer=ann)])
    load(c, [conv("t4", [msg("d1", 10)])], page_id=PAGE2)
    with transaction(c):
        cache.upsert_page(c, PAGE2, "Other Page", now=T0)
    return c


def test_resolve_by_hash_number_and_graph_id(conn: sqlite3.Connection) -> None:
    """#N, N and the Graph id all name the same thread."""
    t = threads.resolve_thread(conn, "#2", now=NOW)
    assert t.id == "t2" and t.number == 2
    assert threads.resolve_thread(conn, "2", now=NOW).id == "t2"
    assert threads.resolve_thread(conn, " t2 ", now=NOW).number == 2


def test_resolve_unknown(conn: sqlite3.Connection) -> None:
    """An unknown thread is a usage error pointing at `socialdesk list`."""
    for ref in ("#42", "42"):
        with pytest.raises(UsageError) as err:
            threads.resolve_thread(conn, ref, now=NOW)
        assert err.value.message == "no thread #42"
        assert "socialdesk list" in (err.value.hint or "")
    with pytest.raises(UsageError, match="no thread 'bad\\\\x1b'"):
        threads.resolve_thread(conn, "bad\x1b", now=NOW)
    with pytest.raises(UsageError):
        threads.resolve_thread(conn, "#t1", now=NOW)


def test_resolve_other_page(conn: sqlite3.Connection) -> None:
    """A thread of another page is refused, naming the page it belongs to."""
    with pytest.raises(UsageError) as err:
        threads.resolve_thread(conn, "#4", page_id=PAGE, now=NOW)
    assert err.value.message == f"thread #4 belongs to page Other Page ({PAGE2})"
    assert threads.resolve_thread(conn, "#4", page_id=PAGE2, now=NOW).id == "t4"


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("expires", ["t2", "t1", "t3"]),  # t3 answered: its window still closes last
        ("newest", ["t3", "t1", "t2"]),
        ("oldest", ["t2", "t1", "t3"]),
    ],
)
def test_sorts(conn: sqlite3.Connection, sort: str, order: list[str]) -> None:
    """Each sort orders the listing as documented."""
    found = threads.list_threads(conn, "", page_id=PAGE, now=NOW, sort=sort)
    assert [t.id for t in found] == order


def test_expires_sort_puts_closed_windows_last(conn: sqlite3.Connection) -> None:
    """Threads without an open window come after every thread with one."""
    later = at(100 + 24 * 60 + 1)  # t1 and t2 closed, t3 open
    found = threads.list_threads(conn, "", page_id=PAGE, now=later, sort="expires")
    assert [t.id for t in found] == ["t3", "t1", "t2"]


def test_limit_and_bad_sort(conn: sqlite3.Connection) -> None:
    """The limit caps the listing; an unknown sort is a usage error."""
    assert len(threads.list_threads(conn, "", page_id=None, now=NOW, limit=2)) == 2
    with pytest.raises(UsageError, match="unknown sort 'size'"):
        threads.list_threads(conn, "", page_id=None, now=NOW, sort="size")


def test_thread_fields(conn: sqlite3.Connection) -> None:
    """A listed thread carries number, customer, tags, note, status and derived times."""
    triage.add_tags(conn, "t1", ["vip", "b-tag"], now=T0)
    triage.set_note(conn, "t1", "call back", now=T0)
    t = threads.resolve_thread(conn, "#1", now=NOW)
    assert (t.number, t.customer, t.tags, t.note) == (
        1,
        Person("u1", "Ann"),
        ("b-tag", "vip"),
        "call back",
    )
    assert (t.status, t.awaiting_reply, t.request_at, t.last_inbound_at) == (
        Status.OPEN,
        True,
        at(100),
        at(100),
    )


def test_expired_snooze_reads_as_open(conn: sqlite3.Connection) -> None:
    """A snooze that has run out shows as open even before wake_snoozed runs."""
    triage.set_status(conn, "t1", Status.SNOOZED, now=T0, snoozed_until=at(300))
    assert threads.resolve_thread(conn, "#1", now=at(200)).status is Status.SNOOZED
    assert threads.resolve_thread(conn, "#1", now=at(300)).status is Status.OPEN
    assert "t1" in {t.id for t in threads.list_threads(conn, "is:open", page_id=PAGE, now=at(300))}


def test_get_messages_oldest_first_with_limit(conn: sqlite3.Connection) -> None:
    """Messages come oldest first; a limit keeps the newest ones."""
    load(conn, [conv("t1", [msg("a0", 50, "out", "first"), msg("a2", 150, "in", "last")])])
    assert [m.id for m in threads.get_messages(conn, "t1")] == ["a0", "a1", "a2"]
    assert [m.id for m in threads.get_messages(conn, "t1", limit=2)] == ["a1", "a2"]


def test_customer_threads(conn: sqlite3.Connection) -> None:
    """A customer's other threads on the same page, newest first."""
    t1 = threads.resolve_thread(conn, "#1", now=NOW)
    assert [t.id for t in threads.customer_threads(conn, t1, now=NOW)] == ["t3"]


def test_default_listing_never_scans_messages(conn: sqlite3.Connection) -> None:
    """The default list query plan never scans messages (fast at any size)."""
    from socialdesk.store.query import compile_query

    compiled = compile_query(None, now=NOW)
    sql = (
        f"EXPLAIN QUERY PLAN {threads._SELECT} WHERE t.page_id = :page_id AND ({compiled.where})"
        f" ORDER BY {threads._ORDER['expires']} LIMIT 50"
    )
    plan = " ".join(str(r[3]) for r in conn.execute(sql, {**compiled.params, "page_id": PAGE}))
    # Comment windows probe the thread's privately answered comments (a partial index), read
    # the newest customer comment through the (thread_id, created_at) index and it by primary
    # key: never a scan of messages.
    assert "SCAN m" not in plan and "messages_fts" not in plan
    allowed = ("sqlite_autoindex_messages_1", "messages_thread_created", "messages_private_replied")
    assert plan.count("messages") == sum(plan.count(name) for name in allowed)


def test_expired_snooze_reads_as_open_for_every_reader(conn: sqlite3.Connection) -> None:
    """Every reader judges a snooze against the ``now`` it is given (never the wall clock)."""
    triage.set_status(
        conn,
        "t1",
        Status.SNOOZED,
        now=NOW - timedelta(hours=2),
        snoozed_until=NOW - timedelta(hours=1),
    )
    assert threads.resolve_thread(conn, "#1", now=NOW).status is Status.OPEN
    got = threads.get_thread(conn, "t1", now=NOW)
    assert got is not None and got.status is Status.OPEN
    earlier = NOW - timedelta(hours=1, minutes=30)
    assert threads.resolve_thread(conn, "#1", now=earlier).status is Status.SNOOZED
    triage.set_status(conn, "t1", Status.SNOOZED, now=NOW, snoozed_until=NOW + timedelta(hours=1))
    assert threads.resolve_thread(conn, "#1", now=NOW).status is Status.SNOOZED
