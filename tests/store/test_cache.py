"""Cache upserts: idempotence, derived thread columns, placeholders, comments, auto-reopen."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from socialdesk.models import Attachment, Channel, Person, Status
from socialdesk.store import cache, threads, triage
from socialdesk.store.db import transaction
from tests.support.builders import PAGE, T0, at, conv, db, load, msg, post


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def row(conn: sqlite3.Connection, thread_id: str) -> sqlite3.Row:
    r = conn.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)).fetchone()
    assert r is not None
    return r  # type: ignore[no-any-return]


def ts(minutes: float) -> int:
    return int(at(minutes).timestamp())


def test_reupsert_is_idempotent() -> None:
    """Upserting the same page twice stores each row once and reports the second as seen."""
    conn = db()
    c = conv("t1", [msg("m1", 1, "in", "hello"), msg("m2", 2, "out", "hi"), msg("m3", 3)])
    with transaction(conn):
        first = cache.upsert_conversations(conn, PAGE, [c], now=T0)
    with transaction(conn):
        second = cache.upsert_conversations(conn, PAGE, [c], now=T0)
    assert first == cache.UpsertResult(threads_new=1, messages_new=3, messages_seen=0)
    assert second == cache.UpsertResult(threads_new=0, messages_new=0, messages_seen=3)
    assert count(conn, "messages") == 3
    assert count(conn, "messages_fts_docsize") == 3
    assert count(conn, "thread_numbers") == 1
    assert count(conn, "thread_state") == 1


def test_duplicates_across_pages_and_within_a_page() -> None:
    """A message repeated in the same batch or across batches is stored once."""
    conn = db()
    m1, m2 = msg("m1", 1, "in", "a"), msg("m2", 2, "in", "b")
    with transaction(conn):
        r1 = cache.upsert_conversations(
            conn, PAGE, [conv("t1", [m1, m2]), conv("t1", [m2])], now=T0
        )
    with transaction(conn):
        r2 = cache.upsert_conversations(conn, PAGE, [conv("t1", [m2, msg("m3", 3)])], now=T0)
    assert (r1.messages_new, r1.threads_new) == (2, 1)
    assert (r2.messages_new, r2.messages_seen, r2.threads_new) == (1, 1, 0)
    assert count(conn, "messages") == 3


def test_out_of_order_conversation_keeps_newest_state() -> None:
    """An older copy of a conversation reappearing later does not roll its state back."""
    conn = db()
    new = conv("t1", [msg("m1", 1), msg("m2", 5, "out", "answered")])
    old = conv("t1", [msg("m1", 1)])
    load(conn, [new])
    load(conn, [old])
    r = row(conn, "t1")
    assert r["graph_updated_at"] == ts(5)
    assert r["awaiting_reply"] == 0
    assert r["snippet"] == "answered"
    assert r["last_message_at"] == ts(5)


HISTORIES = [
    # (history as (direction, minute), awaiting, request minute, last in, last out)
    ([("in", 1)], True, 1, 1, None),
    ([("in", 1), ("in", 2)], True, 1, 2, None),
    ([("in", 1), ("out", 2)], False, None, 1, 2),
    ([("in", 1), ("out", 2), ("in", 3), ("in", 4)], True, 3, 4, 2),
    ([("out", 1)], False, None, None, 1),
    ([("out", 1), ("in", 2)], True, 2, 2, 1),
    # Same second: the reply counts as after the message it answers.
    ([("in", 1), ("out", 1)], False, None, 1, 1),
    ([("in", 1), ("out", 2), ("in", 2)], False, None, 2, 2),
]


@pytest.mark.parametrize(("history", "awaiting", "request_min", "last_in", "last_out"), HISTORIES)
def test_derived_columns(
    history: list[tuple[str, int]],
    awaiting: bool,
    request_min: int | None,
    last_in: int | None,
    last_out: int | None,
) -> None:
    """awaiting_reply, request_at, last_inbound/outbound_at follow the message history."""
    conn = db()
    msgs = [msg(f"m{i}", minute, d, f"text {i}") for i, (d, minute) in enumerate(history)]
    load(conn, [conv("t1", msgs)])
    r = row(conn, "t1")
    assert bool(r["awaiting_reply"]) is awaiting
    assert r["request_at"] == (ts(request_min) if request_min is not None else None)
    assert r["last_inbound_at"] == (ts(last_in) if last_in is not None else None)
    assert r["last_outbound_at"] == (ts(last_out) if last_out is not None else None)
    assert r["last_message_at"] == ts(max(m for _, m in history))


def test_derived_columns_follow_messages_arriving_in_pieces() -> None:
    """An extra page of older messages and a later reply both update the thread correctly."""
    conn = db()
    load(conn, [conv("t1", [msg("m3", 3, "in", "third")])])
    with transaction(conn):
        extra = cache.upsert_messages(
            conn, PAGE, "t1", Channel.DM, [msg("m2", 2, "out"), msg("m1", 1)], now=T0
        )
    assert (extra.messages_new, extra.threads_new) == (2, 0)
    assert row(conn, "t1")["request_at"] == ts(3)
    load(conn, [conv("t1", [msg("m4", 4, "out", "done!"), msg("m3", 3, "in", "third")])])
    r = row(conn, "t1")
    assert (r["awaiting_reply"], r["request_at"], r["snippet"]) == (0, None, "done!")


@pytest.mark.parametrize(
    ("text", "attachments", "snippet"),
    [
        ("hello\n  world", (), "hello world"),
        ("", (Attachment("image", url="https://cdn/x.jpg"),), "[image]"),
        ("", (Attachment("sticker", url="https://cdn/s.png"),), "[sticker]"),
        ("", (Attachment("file", name="invoice.pdf"),), "[file: invoice.pdf]"),
        ("", (Attachment("image"), Attachment("video")), "[image] [video]"),
        ("", (Attachment("unsupported"),), "[unsupported message]"),
        ("", (Attachment("share", name="A product"),), "[share: A product]"),
        ("look", (Attachment("image"),), "look"),
    ],
)
def test_snippet_and_placeholders(
    text: str, attachments: tuple[Attachment, ...], snippet: str
) -> None:
    """The snippet is the newest text on one line, or bracketed attachment placeholders."""
    conn = db()
    load(
        conn,
        [
            conv(
                "t1",
                [msg("m0", 0, "in", "older"), msg("m1", 1, "in", text, attachments=attachments)],
            )
        ],
    )
    assert row(conn, "t1")["snippet"] == snippet


def test_attachments_are_kept() -> None:
    """Every attachment kind and field is stored and read back, never dropped."""
    conn = db()
    atts = (
        Attachment("image", url="https://cdn/a.jpg", mime_type="image/jpeg"),
        Attachment("sticker", url="https://cdn/s.png"),
        Attachment("share", url="https://shop/p/1", name="Red shoes"),
        Attachment("reaction", name="❤"),
        Attachment("brand_new_kind"),
    )
    load(conn, [conv("t1", [msg("m1", 1, "in", "", attachments=atts)])])
    (back,) = threads.get_messages(conn, "t1")
    assert back.attachments == atts


def test_long_snippet_is_truncated() -> None:
    """A long text is cut to SNIPPET_MAX characters with an ellipsis."""
    conn = db()
    load(conn, [conv("t1", [msg("m1", 1, "in", "x" * 1000)])])
    snip = row(conn, "t1")["snippet"]
    assert len(snip) == cache.SNIPPET_MAX and snip.endswith("…")


def test_numbers_assigned_once_and_never_reused() -> None:
    """New threads get increasing numbers; re-upserts keep them; deleted numbers are not reused."""
    conn = db()
    load(conn, [conv("t2", [msg("b", 2)]), conv("t1", [msg("a", 1)])])
    nums = dict(conn.execute("SELECT thread_id, number FROM thread_numbers").fetchall())
    assert nums == {"t1": 1, "t2": 2}  # chronological within a batch
    load(conn, [conv("t1", [msg("a", 1), msg("c", 3)])])
    conn.execute("DELETE FROM thread_numbers WHERE thread_id = 't2'")
    load(conn, [conv("t3", [msg("d", 4)])])
    nums = dict(conn.execute("SELECT thread_id, number FROM thread_numbers").fetchall())
    assert nums == {"t1": 1, "t3": 3}


def test_customer_and_state_rows() -> None:
    """A DM's customer is the conversation's participant; the new thread is open."""
    conn = db()
    load(conn, [conv("t1", [msg("m1", 1)], customer=Person("u9", "Zoë"))])
    r = row(conn, "t1")
    assert (r["customer_id"], r["customer_name"], r["channel"]) == ("u9", "Zoë", "dm")
    assert conn.execute("SELECT status FROM thread_state").fetchone()[0] == "open"
    assert conn.execute("SELECT name FROM customers WHERE id = 'u9'").fetchone()[0] == "Zoë"


@pytest.mark.parametrize("status", [Status.DONE, Status.SNOOZED])
def test_new_inbound_reopens(status: Status) -> None:
    """A done or snoozed thread with a new inbound message is reopened and it is logged."""
    conn = db()
    load(conn, [conv("t1", [msg("m1", 1), msg("m2", 2, "out")])])
    until = at(10_000) if status is Status.SNOOZED else None
    triage.set_status(conn, "t1", status, now=at(3), snoozed_until=until)
    with transaction(conn):
        r = cache.upsert_conversations(
            conn, PAGE, [conv("t1", [msg("m3", 5, "in", "again")])], now=at(6)
        )
    assert r.reopened == 1
    st = conn.execute("SELECT status, snoozed_until FROM thread_state").fetchone()
    assert tuple(st) == ("open", None)
    log = conn.execute("SELECT action, at FROM triage_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(log) == ("auto_reopen", ts(6))


def test_no_reopen_without_new_inbound_after_status_change() -> None:
    """Seen messages, outbound messages and backfilled older inbound messages do not reopen."""
    conn = db()
    load(conn, [conv("t1", [msg("m1", 1), msg("m2", 2, "out")])])
    triage.set_status(conn, "t1", Status.DONE, now=at(10))
    load(conn, [conv("t1", [msg("m1", 1), msg("m2", 2, "out")])])  # seen
    load(conn, [conv("t1", [msg("m3", 11, "out", "follow-up")])])  # outbound
    with transaction(conn):
        r = cache.upsert_messages(conn, PAGE, "t1", "dm", [msg("m0", 0)], now=at(12))  # backfill
    assert r.reopened == 0
    assert conn.execute("SELECT status FROM thread_state").fetchone()[0] == "done"


def test_upsert_has_no_commit_of_its_own() -> None:
    """Rolled back with the caller's transaction: nothing of the page stays."""
    conn = db()
    with pytest.raises(RuntimeError), transaction(conn):
        cache.upsert_conversations(conn, PAGE, [conv("t1", [msg("m1", 1)])], now=T0)
        raise RuntimeError("crash before the watermark")
    assert count(conn, "threads") == count(conn, "messages") == count(conn, "thread_numbers") == 0


def test_via_socialdesk_flag() -> None:
    """An outbound message whose id an outbox row recorded is flagged as sent by socialdesk."""
    conn = db()
    conn.execute(
        "INSERT INTO outbox (page_id, thread_id, kind, text, state, created_at, message_id)"
        " VALUES (?, 't1', 'dm_response', 'hi', 'sent', 0, 'm2')",
        (PAGE,),
    )
    load(conn, [conv("t1", [msg("m1", 1), msg("m2", 2, "out", "hi"), msg("m3", 3, "out")])])
    flags = dict(conn.execute("SELECT id, via_socialdesk FROM messages").fetchall())
    assert flags == {"m1": 0, "m2": 1, "m3": 0}


def test_comments_become_threads() -> None:
    """Each top-level comment is a thread holding its replies; the post text is attached."""
    conn = db()
    bob = Person("u2", "Bob")
    comments = [
        msg("p1_c1", 1, "in", "Is this in stock?"),
        msg("p1_c2", 2, "out", "Yes!", parent="p1_c1"),
        msg("p1_c3", 3, "in", "thanks", parent="p1_c1"),
        msg("p1_c4", 4, "in", "price?", author=bob),
    ]
    with transaction(conn):
        r = cache.upsert_posts(conn, PAGE, [post("p1", "New shoes!", comments)], now=T0)
    assert (r.threads_new, r.messages_new) == (2, 4)
    t1 = threads.get_thread(conn, "p1_c1", now=T0)
    assert t1 is not None
    assert (t1.channel, t1.post_id, t1.post_message) == (Channel.COMMENT, "p1", "New shoes!")
    assert t1.customer == Person("u1", "Ann Lee")
    assert t1.awaiting_reply and t1.request_at == at(3)
    assert [m.id for m in threads.get_messages(conn, "p1_c1")] == ["p1_c1", "p1_c2", "p1_c3"]
    t2 = threads.get_thread(conn, "p1_c4", now=T0)
    assert t2 is not None and t2.customer == bob


def test_reply_before_its_top_comment() -> None:
    """A reply seen before its top-level comment starts the thread; the root fixes it later."""
    conn = db()
    bob = Person("u2", "Bob")
    reply = msg("p1_c2", 2, "in", "me too", parent="p1_c1", author=bob)
    nested = msg("p1_c3", 3, "in", "and me", parent="p1_c2", author=bob)  # reply to a reply
    with transaction(conn):
        cache.upsert_posts(conn, PAGE, [post("p1", "x", [reply])], now=T0)
    with transaction(conn):
        cache.upsert_posts(conn, PAGE, [post("p1", "x", [nested])], now=T0)
    t = threads.get_thread(conn, "p1_c1", now=T0)
    assert t is not None and t.customer == bob
    assert (
        conn.execute("SELECT thread_id FROM messages WHERE id = 'p1_c3'").fetchone()[0] == "p1_c1"
    )
    with transaction(conn):
        cache.upsert_posts(
            conn, PAGE, [post("p1", "x", [msg("p1_c1", 1, "in", "q", hidden=True)])], now=T0
        )
    t = threads.get_thread(conn, "p1_c1", now=T0)
    assert t is not None and t.customer == Person("u1", "Ann Lee") and t.is_hidden


def _changes(conn: sqlite3.Connection, fn: Callable[[], object]) -> int:
    before = conn.total_changes
    with transaction(conn):
        fn()
    return conn.total_changes - before


def test_reupserting_unchanged_data_writes_no_row() -> None:
    """Re-upserting identical posts and conversations changes 0 rows (no write-lock churn)."""
    conn = db()
    posts = [
        post(
            f"p{p}",
            "a post",
            [msg(f"p{p}c{c}", -c, "in", "hi", thread=f"p{p}c{c}") for c in range(5)]
            + [msg(f"p{p}r", 1, "out", "thanks", thread=f"p{p}c0", parent=f"p{p}c0")],
        )
        for p in range(3)
    ]
    convs = [
        conv("t1", [msg("m1", 1, "in", "hello"), msg("m2", 2, "out", "hi")]),
        conv("t2", [msg("m3", 3, "in", "", attachments=[Attachment(kind="image")])]),
    ]
    assert _changes(conn, lambda: cache.upsert_posts(conn, PAGE, posts, now=T0)) > 0
    assert _changes(conn, lambda: cache.upsert_conversations(conn, PAGE, convs, now=T0)) > 0
    assert _changes(conn, lambda: cache.upsert_posts(conn, PAGE, posts, now=at(5))) == 0
    assert _changes(conn, lambda: cache.upsert_conversations(conn, PAGE, convs, now=at(5))) == 0
    assert (
        _changes(
            conn,
            lambda: cache.upsert_messages(
                conn, PAGE, "t1", Channel.DM, [msg("m1", 1, "in", "hello")], now=T0
            ),
        )
        == 0
    )


def test_derived_columns_follow_real_changes_after_a_noop_reupsert() -> None:
    """After an unchanged re-upsert, a new message, an edit and a hide still update the thread."""
    conn = db()
    c = conv("t1", [msg("m1", 1, "in", "hello"), msg("m2", 2, "out", "hi")])
    top = msg("c1", 0, "in", "question", thread="c1")
    with transaction(conn):
        cache.upsert_conversations(conn, PAGE, [c], now=T0)
        cache.upsert_posts(conn, PAGE, [post("p1", "x", [top])], now=T0)
    with transaction(conn):
        cache.upsert_conversations(conn, PAGE, [c], now=T0)
    r = row(conn, "t1")
    assert (r["awaiting_reply"], r["request_at"], r["snippet"]) == (0, None, "hi")

    c2 = conv("t1", [msg("m3", 3, "in", "again"), msg("m2", 2, "out", "hi")])
    with transaction(conn):
        cache.upsert_conversations(conn, PAGE, [c2], now=T0)
    r = row(conn, "t1")
    assert (r["awaiting_reply"], r["request_at"], r["last_message_at"], r["snippet"]) == (
        1,
        ts(3),
        ts(3),
        "again",
    )
    assert (r["last_inbound_at"], r["last_outbound_at"]) == (ts(3), ts(2))

    edited = conv("t1", [msg("m3", 3, "in", "edited")])
    hidden = msg("c1", 0, "in", "question", thread="c1", hidden=True)
    with transaction(conn):
        cache.upsert_conversations(conn, PAGE, [edited], now=T0)
        cache.upsert_posts(conn, PAGE, [post("p1", "x", [hidden])], now=T0)
    assert row(conn, "t1")["snippet"] == "edited"
    assert row(conn, "c1")["is_hidden"] == 1
