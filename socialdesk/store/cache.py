"""Upserts of fetched Graph data into the cache tables, and the derived thread columns.

Called by ``core.sync`` once per fetched page of results. These functions never commit on their
own: the caller wraps a fetched page *and* the watermark it advances in one
``store.db.transaction()`` (PRODUCT.md §4). Called outside a transaction they still run
atomically (``store.db.atomic``).

Everything is keyed by Graph ids (``INSERT … ON CONFLICT DO UPDATE``), so messages repeated across
pages or runs, and a conversation that reappears out of order, are harmless.

After each upsert the derived columns of the *touched* threads only are recomputed from
``messages``:

- ``last_message_at`` / ``last_inbound_at`` / ``last_outbound_at``: newest message of each kind;
- ``awaiting_reply``: the newest message is inbound. Messages in the same second are ordered
  outbound-after-inbound (a reply cannot precede what it answers), so an inbound and an outbound
  at the same second count as answered;
- ``request_at``: the first inbound message after the last outbound one (``NULL`` when answered);
- ``snippet``: the newest message's text, or a bracketed placeholder such as ``[image]``,
  ``[sticker]`` or ``[file: invoice.pdf]`` when it only holds attachments;
- ``is_hidden`` of a comment thread: whether its top-level comment is hidden.

New threads get a local number and an ``open`` state row. A ``done`` or ``snoozed`` thread that
receives an inbound message never stored before, created at or after its last status change, is
reopened and the reopening is logged as ``auto_reopen`` in ``triage_log``.

The lookups sync plans its calls with live here too (:func:`known_ids`, :func:`change_tokens`,
:func:`comment_totals`), so ``core.sync`` holds no SQL. Posts keep their kind (``post`` or
``reel``) and Graph's comment count at the last complete walk; comments keep Graph's
``can_reply_privately`` and ``private_reply_conversation`` (:func:`private_reply_facts`, for the
once-only rule in core).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk.models import Attachment, Channel, Conversation, Direction, Message, Post
from socialdesk.store.db import atomic
from socialdesk.store.pages import upsert_page as upsert_page  # one helper (store.pages)

SNIPPET_MAX = 240
"""Longest stored snippet, in characters."""


@dataclass(frozen=True)
class UpsertResult:
    """What one upsert call changed."""

    threads_new: int = 0
    """Threads seen for the first time."""
    messages_new: int = 0
    """Messages (or comments) not stored before."""
    messages_seen: int = 0
    """Messages already stored (updated in place when their content changed)."""
    reopened: int = 0
    """Done or snoozed threads moved back to open by new inbound messages."""

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.threads_new + other.threads_new,
            self.messages_new + other.messages_new,
            self.messages_seen + other.messages_seen,
            self.reopened + other.reopened,
        )


@dataclass
class _ThreadRow:
    """A thread as one batch describes it, before it is merged with what is stored."""

    id: str
    channel: str
    customer_id: str = ""
    customer_name: str = ""
    customer_username: str = ""
    customer_strong: bool = True
    """False when the customer is only a guess (a reply's author without the top comment)."""
    post_id: str | None = None
    graph_updated_at: int | None = None
    message_count: int | None = None


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def attachments_json(attachments: Sequence[Attachment]) -> str:
    """The ``messages.attachments`` JSON for a message's attachments (``None`` fields omitted)."""
    if not attachments:
        return "[]"
    out: list[dict[str, str]] = []
    for a in attachments:
        d = {"kind": a.kind}
        if a.url is not None:
            d["url"] = a.url
        if a.name is not None:
            d["name"] = a.name
        if a.mime_type is not None:
            d["mime_type"] = a.mime_type
        out.append(d)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def parse_attachments(raw: str | None) -> tuple[Attachment, ...]:
    """The inverse of :func:`attachments_json`; tolerant of rows written by older versions."""
    if not raw:
        return ()
    try:
        data = json.loads(raw)
    except ValueError:
        return (Attachment(kind="unsupported"),)
    if not isinstance(data, list):
        return ()
    out: list[Attachment] = []
    for d in data:
        if not isinstance(d, dict):
            continue

        def s(key: str, d: dict[str, Any] = d) -> str | None:
            v = d.get(key)
            return v if isinstance(v, str) else None

        out.append(
            Attachment(
                kind=s("kind") or "attachment",
                url=s("url"),
                name=s("name"),
                mime_type=s("mime_type"),
            )
        )
    return tuple(out)


def placeholder(att: Attachment) -> str:
    """Synthetic, bracketed text standing for an attachment in snippets and listings."""
    kind = att.kind or "attachment"
    if kind == "unsupported":
        return "[unsupported message]"
    if att.name and kind in ("file", "share", "reaction"):
        return f"[{kind}: {att.name}]"
    return f"[{kind}]"


def snippet_for(text: str, attachments: Sequence[Attachment]) -> str:
    """The snippet of a message: its text on one line, else its attachments' placeholders."""
    body = " ".join(text.split())
    if not body:
        body = " ".join(placeholder(a) for a in attachments)
    if len(body) > SNIPPET_MAX:
        body = body[: SNIPPET_MAX - 1] + "…"
    return body


def _json_ids(ids: Iterable[str]) -> str:
    return json.dumps(list(ids))


def _existing(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    rows = conn.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (_json_ids(ids),),
    )
    return {r[0] for r in rows}


_LOOKUP_TABLES = frozenset({"messages", "posts", "threads"})


def known_ids(conn: sqlite3.Connection, table: str, ids: Iterable[str]) -> set[str]:
    """The subset of ``ids`` already stored in ``table`` (``messages``, ``posts``, ``threads``)."""
    if table not in _LOOKUP_TABLES:
        raise ValueError(f"no id lookup for table {table!r}")
    return _existing(conn, table, list(dict.fromkeys(ids)))


def change_tokens(
    conn: sqlite3.Connection, conversation_ids: Sequence[str]
) -> dict[str, tuple[int | None, int | None]]:
    """Stored (``graph_updated_at``, ``message_count``) of the given conversations."""
    if not conversation_ids:
        return {}
    rows = conn.execute(
        "SELECT id, graph_updated_at, message_count FROM threads"
        " WHERE id IN (SELECT value FROM json_each(?))",
        (_json_ids(conversation_ids),),
    )
    return {str(r[0]): (r[1], r[2]) for r in rows}


def message_counts(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> dict[str, int]:
    """Messages stored per thread (threads without any are absent)."""
    if not thread_ids:
        return {}
    rows = conn.execute(
        "SELECT thread_id, COUNT(*) FROM messages"
        " WHERE thread_id IN (SELECT value FROM json_each(?)) GROUP BY thread_id",
        (_json_ids(thread_ids),),
    )
    return {str(r[0]): int(r[1]) for r in rows}


def mark_stale(conn: sqlite3.Connection, conversation_ids: Sequence[str]) -> None:
    """Forget the change token of conversations stored with items skipped as unreadable.

    The next sync then reads them again instead of trusting (``updated_time``,
    ``message_count``), so a glitch that hid a message heals by itself.
    """
    if conversation_ids:
        conn.execute(
            "UPDATE threads SET graph_updated_at = NULL"
            " WHERE id IN (SELECT value FROM json_each(?)) AND graph_updated_at IS NOT NULL",
            (_json_ids(conversation_ids),),
        )


def comment_totals(conn: sqlite3.Connection, post_ids: Sequence[str]) -> dict[str, int | None]:
    """Graph's comment count at the last complete walk of each stored post (None: never)."""
    if not post_ids:
        return {}
    rows = conn.execute(
        "SELECT id, comments_total FROM posts WHERE id IN (SELECT value FROM json_each(?))",
        (_json_ids(post_ids),),
    )
    return {str(r[0]): r[1] for r in rows}


def set_comment_totals(conn: sqlite3.Connection, totals: Mapping[str, int]) -> None:
    """Record the comment counts of posts whose comments were just read in full."""
    conn.executemany(
        "UPDATE posts SET comments_total = ? WHERE id = ? AND comments_total IS NOT ?",
        [(total, pid, total) for pid, total in totals.items()],
    )


@dataclass(frozen=True)
class PrivateReplyFacts:
    """What Graph last said about private replies to one comment."""

    can_reply_privately: bool | None
    """``None`` when Graph did not report it."""
    conversation_id: str | None
    """The conversation a private reply opened (from socialdesk or anywhere else)."""

    @property
    def answered_elsewhere(self) -> bool:
        """Graph shows a private reply already made to this comment."""
        return self.conversation_id is not None


def private_reply_facts(conn: sqlite3.Connection, comment_id: str) -> PrivateReplyFacts | None:
    """The stored private-reply facts of a comment (``None`` when the comment is unknown)."""
    row = conn.execute(
        "SELECT can_reply_privately, private_reply_conversation FROM messages WHERE id = ?",
        (comment_id,),
    ).fetchone()
    if row is None:
        return None
    return PrivateReplyFacts(
        can_reply_privately=None if row[0] is None else bool(row[0]),
        conversation_id=row[1],
    )


# Each merged column, as the DO UPDATE computes it; the same expressions guard the update, so a
# thread whose stored row already holds these values is not rewritten (PRODUCT.md §4: a sync
# with nothing new must not write, as it holds the write lock on every poll).
_THREAD_MERGE = {
    "customer_id": """CASE WHEN excluded.customer_id <> ''
                        AND (:strong OR threads.customer_id = '')
                       THEN excluded.customer_id ELSE threads.customer_id END""",
    "customer_name": """CASE WHEN excluded.customer_name <> ''
                          AND (:strong OR threads.customer_name = '')
                         THEN excluded.customer_name ELSE threads.customer_name END""",
    "customer_username": """CASE WHEN excluded.customer_username <> ''
                          AND (:strong OR threads.customer_username = '')
                         THEN excluded.customer_username ELSE threads.customer_username END""",
    "post_id": "COALESCE(excluded.post_id, threads.post_id)",
    "message_count": """CASE WHEN excluded.graph_updated_at IS NOT NULL
                          AND excluded.graph_updated_at >= COALESCE(threads.graph_updated_at, 0)
                         THEN COALESCE(excluded.message_count, threads.message_count)
                         ELSE threads.message_count END""",
    "graph_updated_at": """CASE WHEN excluded.graph_updated_at IS NOT NULL
                             AND excluded.graph_updated_at >= COALESCE(threads.graph_updated_at, 0)
                            THEN excluded.graph_updated_at ELSE threads.graph_updated_at END""",
}

_UPSERT_THREAD = f"""
INSERT INTO threads (id, page_id, channel, customer_id, customer_name, customer_username,
                     post_id, graph_updated_at, message_count, last_message_at)
VALUES (:id, :page_id, :channel, :customer_id, :customer_name, :customer_username, :post_id,
        :graph_updated_at, :message_count, COALESCE(:graph_updated_at, 0))
ON CONFLICT (id) DO UPDATE SET
    {", ".join(f"{col} = {expr}" for col, expr in _THREAD_MERGE.items())}
WHERE ({", ".join(f"threads.{col}" for col in _THREAD_MERGE)})
      IS NOT ({", ".join(_THREAD_MERGE.values())})
"""

# One statement for the whole batch, not executemany: FTS5 flushes its pending terms at every
# statement boundary, so row-by-row inserts through the FTS trigger are ~4x slower.
_INSERT_MESSAGES = """
INSERT INTO messages (id, thread_id, page_id, direction, author_id, author_name, text,
                      attachments, parent_id, is_hidden, created_at, can_reply_privately,
                      private_reply_conversation, author_username)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
       json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
       json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'),
       json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'),
       json_extract(value, '$[12]'), json_extract(value, '$[13]')
FROM json_each(?)
"""

# Only rewrite a stored message when something changed: an UPDATE naming `text` fires the FTS
# trigger even when the value is the same.
_UPDATE_MESSAGE = """
UPDATE messages SET
    author_name = CASE WHEN :author_name <> '' THEN :author_name ELSE author_name END,
    text = :text, attachments = :attachments, is_hidden = :is_hidden,
    parent_id = COALESCE(:parent_id, parent_id),
    can_reply_privately = COALESCE(:can_reply, can_reply_privately),
    private_reply_conversation = COALESCE(:reply_conv, private_reply_conversation)
WHERE id = :id AND (text IS NOT :text OR attachments IS NOT :attachments
                    OR is_hidden IS NOT :is_hidden
                    OR (:author_name <> '' AND author_name IS NOT :author_name)
                    OR (:can_reply IS NOT NULL AND can_reply_privately IS NOT :can_reply)
                    OR (:reply_conv IS NOT NULL
                        AND private_reply_conversation IS NOT :reply_conv))
"""

_UPSERT_CUSTOMER = """
INSERT INTO customers (page_id, id, name, username, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (page_id, id) DO UPDATE SET name = excluded.name, username = excluded.username,
                                        updated_at = excluded.updated_at
WHERE excluded.name <> ''
  AND (customers.name, customers.username) IS NOT (excluded.name, excluded.username)
"""

# The derived columns are computed once in a FROM subquery and written only where they differ
# from what is stored: re-fetching a window of unchanged threads then writes nothing.
_DERIVE_TIMES = """
UPDATE threads SET last_message_at = d.last_at, last_inbound_at = d.in_at,
                   last_outbound_at = d.out_at
FROM (SELECT t.id,
             COALESCE((SELECT MAX(created_at) FROM messages m WHERE m.thread_id = t.id),
                      t.graph_updated_at, t.last_message_at) AS last_at,
             (SELECT MAX(created_at) FROM messages m
              WHERE m.thread_id = t.id AND m.direction = 'in') AS in_at,
             (SELECT MAX(created_at) FROM messages m
              WHERE m.thread_id = t.id AND m.direction = 'out') AS out_at
      FROM threads t WHERE t.id IN (SELECT value FROM json_each(?))) AS d
WHERE threads.id = d.id
  AND (threads.last_message_at, threads.last_inbound_at, threads.last_outbound_at)
      IS NOT (d.last_at, d.in_at, d.out_at)
"""

# Reads the times _DERIVE_TIMES has just written.
_DERIVE_AWAITING = """
UPDATE threads SET awaiting_reply = d.awaiting, request_at = d.request_at, is_hidden = d.hidden
FROM (SELECT a.id, a.awaiting, a.hidden,
             CASE WHEN a.awaiting
                  THEN (SELECT MIN(created_at) FROM messages m
                        WHERE m.thread_id = a.id AND m.direction = 'in'
                          AND m.created_at > COALESCE(a.last_outbound_at, -1))
             END AS request_at
      FROM (SELECT t.id, t.last_outbound_at,
                   (t.last_inbound_at IS NOT NULL
                    AND (t.last_outbound_at IS NULL OR t.last_inbound_at > t.last_outbound_at))
                       AS awaiting,
                   CASE WHEN t.channel IN ('dm', 'ig_dm') THEN t.is_hidden
                        ELSE COALESCE((SELECT is_hidden FROM messages m WHERE m.id = t.id),
                                      t.is_hidden) END AS hidden
            FROM threads t WHERE t.id IN (SELECT value FROM json_each(?))) AS a) AS d
WHERE threads.id = d.id
  AND (threads.awaiting_reply, threads.request_at, threads.is_hidden)
      IS NOT (d.awaiting, d.request_at, d.hidden)
"""

# The newest messages of each thread (several when they share the second): picked in Python
# by (direction, id), "out" after "in" as in the awaiting rule. Served by messages_thread_created.
_NEWEST = """
SELECT t.id, m.direction, m.id, m.text, m.attachments
FROM threads t JOIN messages m ON m.thread_id = t.id AND m.created_at = t.last_message_at
WHERE t.id IN (SELECT value FROM json_each(?))
"""


def _message_row(m: Message, thread_id: str, page_id: str) -> list[Any]:
    # StrEnum and bool serialise as their JSON values; json_extract turns them back into
    # TEXT and INTEGER.
    return [
        m.id,
        thread_id,
        page_id,
        m.direction,
        m.author.id,
        m.author.name,
        m.text,
        attachments_json(m.attachments) if m.attachments else "[]",
        m.parent_id,
        m.is_hidden,
        int(m.created_at.timestamp()),
        None if m.can_reply_privately is None else int(m.can_reply_privately),
        m.private_reply_conversation,
        m.author.username,
    ]


def _ingest(
    conn: sqlite3.Connection,
    page_id: str,
    threads: Sequence[_ThreadRow],
    messages: Sequence[tuple[Message, str]],
    *,
    now: datetime,
) -> UpsertResult:
    """Store threads and (message, thread id) pairs, then recompute what depends on them."""
    now_s = _ts(now)
    thread_ids = list(dict.fromkeys(t.id for t in threads))
    with atomic(conn):
        conn.execute(
            "INSERT OR IGNORE INTO pages (id, name, updated_at) VALUES (?, '', ?)",
            (page_id, now_s),
        )
        known_threads = _existing(conn, "threads", thread_ids)
        conn.executemany(
            _UPSERT_THREAD,
            [
                {
                    "id": t.id,
                    "page_id": page_id,
                    "channel": t.channel,
                    "customer_id": t.customer_id,
                    "customer_name": t.customer_name,
                    "customer_username": t.customer_username,
                    "strong": int(t.customer_strong),
                    "post_id": t.post_id,
                    "graph_updated_at": t.graph_updated_at,
                    "message_count": t.message_count,
                }
                for t in threads
            ],
        )
        customers = {
            t.customer_id: (t.customer_name, t.customer_username)
            for t in threads
            if t.customer_id and t.customer_name
        }
        for m, _ in messages:
            if m.direction is Direction.IN and m.author.id and m.author.name:
                customers.setdefault(m.author.id, (m.author.name, m.author.username))
        conn.executemany(
            _UPSERT_CUSTOMER,
            [(page_id, cid, name, user, now_s) for cid, (name, user) in customers.items()],
        )

        # Duplicates inside one batch: the last copy wins, as a later page would.
        unique: dict[str, tuple[Message, str]] = {}
        for m, tid in messages:
            unique[m.id] = (m, tid)
        seen = _existing(conn, "messages", list(unique))
        if seen:
            # A message read back confirms its local echo (store.echoes): never a second row.
            conn.execute(
                "DELETE FROM message_echoes WHERE message_id IN (SELECT value FROM json_each(?))",
                (_json_ids(seen),),
            )
        fresh = [
            _message_row(m, tid, page_id) for mid, (m, tid) in unique.items() if mid not in seen
        ]
        if fresh:
            conn.execute(
                _INSERT_MESSAGES, (json.dumps(fresh, ensure_ascii=False, separators=(",", ":")),)
            )
        if seen:
            conn.executemany(
                _UPDATE_MESSAGE,
                [
                    {
                        "id": m.id,
                        "author_name": m.author.name,
                        "text": m.text,
                        "attachments": attachments_json(m.attachments),
                        "is_hidden": int(m.is_hidden),
                        "parent_id": m.parent_id,
                        "can_reply": (
                            None if m.can_reply_privately is None else int(m.can_reply_privately)
                        ),
                        "reply_conv": m.private_reply_conversation,
                    }
                    for mid, (m, _) in unique.items()
                    if mid in seen
                ],
            )

        touched = list(dict.fromkeys([*thread_ids, *(tid for _, tid in unique.values())]))
        touched_json = _json_ids(touched)
        conn.execute(
            "UPDATE messages SET via_socialdesk = 1 WHERE via_socialdesk = 0 AND id IN ("
            " SELECT message_id FROM outbox WHERE message_id IS NOT NULL"
            " AND thread_id IN (SELECT value FROM json_each(?)))",
            (touched_json,),
        )
        conn.execute(_DERIVE_TIMES, (touched_json,))
        conn.execute(_DERIVE_AWAITING, (touched_json,))
        newest: dict[str, tuple[str, str, str, str]] = {}
        for tid, direction, mid, text, att in conn.execute(_NEWEST, (touched_json,)):
            best = newest.get(tid)
            if best is None or (direction, mid) > best[:2]:
                newest[tid] = (direction, mid, text, att)
        conn.executemany(
            "UPDATE threads SET snippet = ? WHERE id = ? AND snippet IS NOT ?",
            [
                (s, tid, s)
                for tid, (_, _, text, att) in newest.items()
                for s in (snippet_for(text, parse_attachments(att)),)
            ],
        )
        # Numbers in first-activity order, so a batch of new threads reads chronologically.
        conn.execute(
            "INSERT OR IGNORE INTO thread_numbers (thread_id, page_id)"
            " SELECT id, page_id FROM threads WHERE id IN (SELECT value FROM json_each(?))"
            " AND id NOT IN (SELECT thread_id FROM thread_numbers)"
            " ORDER BY last_message_at, id",
            (touched_json,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO thread_state (thread_id, page_id, status, updated_at)"
            " SELECT id, page_id, 'open', ? FROM threads"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (now_s, touched_json),
        )
        reopened = _reopen(conn, fresh, now_s)
    return UpsertResult(
        threads_new=len([t for t in thread_ids if t not in known_threads]),
        messages_new=len(fresh),
        messages_seen=len(seen),
        reopened=reopened,
    )


def _reopen(conn: sqlite3.Connection, fresh: Sequence[list[Any]], now_s: int) -> int:
    """Reopen done/snoozed threads that got inbound messages newer than their status change.

    ``fresh`` holds the rows of messages stored for the first time (see :func:`_message_row`).
    """
    newest_in: dict[str, int] = {}
    for row in fresh:
        if row[3] == "in":
            tid, ts = row[1], row[10]
            if ts > newest_in.get(tid, -1):
                newest_in[tid] = ts
    if not newest_in:
        return 0
    candidates = conn.execute(
        "SELECT thread_id, status, COALESCE(status_at, 0) FROM thread_state"
        " WHERE status IN ('done', 'snoozed') AND thread_id IN (SELECT value FROM json_each(?))",
        (_json_ids(newest_in),),
    ).fetchall()
    reopen = [(tid, status) for tid, status, at in candidates if newest_in[tid] >= at]
    if not reopen:
        return 0
    conn.executemany(
        "UPDATE thread_state SET status = 'open', snoozed_until = NULL, status_at = ?,"
        " updated_at = ? WHERE thread_id = ?",
        [(now_s, now_s, tid) for tid, _ in reopen],
    )
    conn.executemany(
        "INSERT INTO triage_log (thread_id, page_id, action, detail, at)"
        " SELECT thread_id, page_id, 'auto_reopen', ?, ? FROM thread_state WHERE thread_id = ?",
        [(f"was {status}", now_s, tid) for tid, status in reopen],
    )
    return len(reopen)


def upsert_conversations(
    conn: sqlite3.Connection, page_id: str, convs: Sequence[Conversation], *, now: datetime
) -> UpsertResult:
    """Store conversations (threads of channel ``dm``, or ``ig_dm`` for Instagram ones) with
    their inlined messages."""
    threads = [
        _ThreadRow(
            id=c.id,
            channel=c.channel.value,
            customer_id=c.customer.id,
            customer_name=c.customer.name,
            customer_username=c.customer.username,
            graph_updated_at=_ts(c.updated_at),
            message_count=c.message_count,
        )
        for c in convs
    ]
    # The conversation id is the thread, whatever thread id the parser put on a message.
    messages = [(m, c.id) for c in convs for m in c.messages]
    return _ingest(conn, page_id, threads, messages, now=now)


def upsert_messages(
    conn: sqlite3.Connection,
    page_id: str,
    thread_id: str,
    channel: Channel | str,
    msgs: Sequence[Message],
    *,
    now: datetime,
) -> UpsertResult:
    """Store further messages of one thread (an extra page of a long conversation or comment)."""
    first_in = next((m for m in reversed(msgs) if m.direction is Direction.IN), None)
    thread = _ThreadRow(
        id=thread_id,
        channel=Channel(channel).value,
        customer_id=first_in.author.id if first_in else "",
        customer_name=first_in.author.name if first_in else "",
        customer_username=first_in.author.username if first_in else "",
        customer_strong=False,
    )
    return _ingest(conn, page_id, [thread], [(m, thread_id) for m in msgs], now=now)


def upsert_posts(
    conn: sqlite3.Connection, page_id: str, posts: Sequence[Post], *, now: datetime
) -> UpsertResult:
    """Store posts and their comments; each top-level comment with its replies is one thread."""
    with atomic(conn):
        conn.executemany(
            "INSERT INTO posts (id, page_id, message, permalink, created_at, updated_at, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " message = excluded.message, permalink = COALESCE(excluded.permalink, permalink),"
            " updated_at = COALESCE(excluded.updated_at, updated_at), kind = excluded.kind"
            # An unchanged post is not rewritten (every sync re-reads the lookback window).
            " WHERE (posts.message, posts.permalink, posts.updated_at, posts.kind)"
            " IS NOT (excluded.message, COALESCE(excluded.permalink, posts.permalink),"
            " COALESCE(excluded.updated_at, posts.updated_at), excluded.kind)",
            [
                (
                    p.id,
                    page_id,
                    p.message,
                    p.permalink,
                    _ts(p.created_at),
                    _ts(p.updated_at) if p.updated_at else None,
                    p.kind,
                )
                for p in posts
            ],
        )
        comments = {m.id: (m, p.id) for p in posts for m in p.comments}
        channels = {p.id: p.channel.value for p in posts}
        roots = _comment_roots(conn, comments)
        threads: dict[str, _ThreadRow] = {}
        pairs: list[tuple[Message, str]] = []
        # Oldest first, so that the first inbound author seen is the thread's opener.
        for m, post_id in sorted(comments.values(), key=lambda mp: mp[0].created_at):
            tid = roots[m.id]
            row = threads.get(tid)
            if row is None:
                row = threads[tid] = _ThreadRow(
                    id=tid, channel=channels[post_id], post_id=post_id, customer_strong=False
                )
            if m.direction is Direction.IN:
                if m.id == tid:
                    row.customer_id, row.customer_name = m.author.id, m.author.name
                    row.customer_username = m.author.username
                    row.customer_strong = True
                elif not row.customer_id:
                    row.customer_id, row.customer_name = m.author.id, m.author.name
                    row.customer_username = m.author.username
            pairs.append((m, tid))
        return _ingest(conn, page_id, list(threads.values()), pairs, now=now)


def _comment_roots(
    conn: sqlite3.Connection, comments: dict[str, tuple[Message, str]]
) -> dict[str, str]:
    """Map each comment id to its thread: the top-level comment it ultimately answers."""
    parent = {mid: m.thread_id or mid for mid, (m, _) in comments.items()}
    unknown = {p for p in parent.values() if p not in parent}
    if unknown:
        # A reply whose parent is itself a stored reply: follow the stored thread id.
        for mid, tid in conn.execute(
            "SELECT id, thread_id FROM messages WHERE id IN (SELECT value FROM json_each(?))",
            (_json_ids(unknown),),
        ):
            parent[mid] = tid
    roots: dict[str, str] = {}
    for mid in comments:
        tid = parent[mid]
        for _ in range(8):  # bounded: Graph nests comments two levels deep
            nxt = parent.get(tid, tid)
            if nxt == tid:
                break
            tid = nxt
        roots[mid] = tid
    return roots


# ---- Instagram -------------------------------------------------------------------------------


def ig_change_tokens(
    conn: sqlite3.Connection, thread_ids: Sequence[str]
) -> dict[str, tuple[int | None, str | None]]:
    """Stored (``graph_updated_at``, newest message id) of Instagram threads: their change
    token, as Instagram threads have no ``message_count``."""
    if not thread_ids:
        return {}
    rows = conn.execute(
        "SELECT t.id, t.graph_updated_at,"
        " (SELECT m.id FROM messages m WHERE m.thread_id = t.id"
        "  ORDER BY m.created_at DESC, m.direction DESC, m.id DESC LIMIT 1)"
        " FROM threads t WHERE t.id IN (SELECT value FROM json_each(?))",
        (_json_ids(thread_ids),),
    )
    return {str(r[0]): (r[1], r[2]) for r in rows}


def newest_times(conn: sqlite3.Connection, thread_ids: Sequence[str]) -> dict[str, int]:
    """The newest stored message time of each thread (threads without messages are absent)."""
    if not thread_ids:
        return {}
    rows = conn.execute(
        "SELECT thread_id, MAX(created_at) FROM messages"
        " WHERE thread_id IN (SELECT value FROM json_each(?)) GROUP BY thread_id",
        (_json_ids(thread_ids),),
    )
    return {str(r[0]): int(r[1]) for r in rows}


def record_gaps(
    conn: sqlite3.Connection,
    page_id: str,
    gaps: Sequence[tuple[str, datetime, datetime]],
    *,
    now: datetime,
) -> None:
    """Mark (thread, newest held, oldest read) gaps: messages between them are unreadable."""
    conn.executemany(
        "INSERT OR IGNORE INTO thread_gaps (thread_id, page_id, after_at, before_at, found_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(tid, page_id, _ts(after), _ts(before), _ts(now)) for tid, after, before in gaps],
    )
