"""Reading threads: lookup by ``#N`` / number / Graph id, listing with a query, messages.

Called by core services and the CLI (``list``, ``show``, every command that names a thread).
Threads come back as :class:`socialdesk.models.Thread` (cache row joined with operator state).
Listing reads ``threads``, ``thread_state``, ``thread_numbers``, ``thread_tags`` and ``posts``,
and never scans ``messages`` (unless the query searches text): the reply window of a recent
comment thread reads its top-level comment by primary key. So it stays fast with 100k threads.

Free-text search (PRODUCT.md §10: top 50 of 1M messages ≤ 50 ms) picks a plan per text term
(:data:`socialdesk.store.query.TextPlan`) from how many messages the term matches, counted by
FTS5 up to :data:`MATCH_CAP`: a rare term becomes the set of its threads; a common one is
tested per thread, while threads are walked in sort order through ``threads_page_last`` until
``limit`` rows are found (``newest``, and the part of ``expires`` without an open window), or
against its rowid set materialised once (otherwise). The ``expires`` sort is run in its two
parts (open windows, closing soonest first; then the rest, newest first), so the second part,
which holds almost every thread, is an index walk too. The ``oldest`` sort (one page, with a
limit) is three index walks merged in Python: awaiting threads by ``request_at``
(``threads_awaiting``), threads without ``request_at`` by ``last_message_at``
(``threads_page_last``), and the never-written remainder. A walk may also use the ``set``
plan when the term's matches were all counted (a phrase: each probe reads positions).
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk.errors import Reason, UsageError
from socialdesk.models import Channel, Direction, Message, Person, Post, Status, Thread, utc
from socialdesk.store.cache import parse_attachments
from socialdesk.store.outbox import ledger_condition
from socialdesk.store.query import CLOSES_SQL, TextPlan, compile_query

SORTS = ("expires", "newest", "oldest")

_CHUNK = 500
"""Numbers per ``json_each`` lookup (bounded, so one statement stays small)."""

_SELECT = """
SELECT t.id, t.page_id, t.channel, t.customer_id, t.customer_name, t.post_id,
       t.last_message_at, t.last_inbound_at, t.awaiting_reply, t.request_at, t.snippet,
       t.is_hidden, s.status, s.snoozed_until, s.note, s.seen_at, n.number,
       p.message AS post_message,
       (SELECT group_concat(g.tag, ' ') FROM thread_tags g WHERE g.thread_id = t.id) AS tags,
       t.customer_username,
       (SELECT COUNT(*) FROM thread_gaps x WHERE x.thread_id = t.id) AS gaps
FROM threads t
JOIN thread_state s ON s.thread_id = t.id
JOIN thread_numbers n ON n.thread_id = t.id
LEFT JOIN posts p ON p.id = t.post_id
"""

_ORDER = {
    "expires": f"({CLOSES_SQL}) IS NULL, {CLOSES_SQL}, t.last_message_at DESC, n.number",
    "newest": "t.last_message_at DESC, n.number DESC",
    "oldest": "COALESCE(t.request_at, t.last_message_at), n.number",
}


def _printable(ref: str) -> str:
    """The reference as typed, or its repr when it holds control characters."""
    return ref if ref.isprintable() else repr(ref)


def thread_from_row(row: sqlite3.Row, *, now: datetime) -> Thread:
    """Build a Thread from a row of ``_SELECT``; a snooze that has run out reads as open.

    ``now`` (the caller's clock: the store never reads the wall clock) decides whether a snooze
    has run out, so no reader can show an expired snooze as snoozed.
    """
    status = Status(row["status"])
    snoozed_until = utc(row["snoozed_until"]) if row["snoozed_until"] is not None else None
    if status is Status.SNOOZED and snoozed_until is not None and snoozed_until <= now:
        status = Status.OPEN
    return Thread(
        number=row["number"],
        id=row["id"],
        page_id=row["page_id"],
        channel=Channel(row["channel"]),
        status=status,
        customer=Person(row["customer_id"], row["customer_name"], row["customer_username"]),
        last_message_at=utc(row["last_message_at"]),
        awaiting_reply=bool(row["awaiting_reply"]),
        request_at=utc(row["request_at"]) if row["request_at"] is not None else None,
        last_inbound_at=(
            utc(row["last_inbound_at"]) if row["last_inbound_at"] is not None else None
        ),
        snippet=row["snippet"],
        tags=tuple(sorted(row["tags"].split(" "))) if row["tags"] else (),
        note=row["note"],
        snoozed_until=snoozed_until,
        post_id=row["post_id"],
        post_message=row["post_message"],
        is_hidden=bool(row["is_hidden"]),
        seen_at=utc(row["seen_at"]) if row["seen_at"] is not None else None,
        gaps=int(row["gaps"] or 0),
    )


def get_thread(conn: sqlite3.Connection, thread_id: str, *, now: datetime) -> Thread | None:
    """The thread with this Graph id, or ``None`` (``now``: see :func:`thread_from_row`)."""
    row = conn.execute(_SELECT + " WHERE t.id = ?", (thread_id,)).fetchone()
    return thread_from_row(row, now=now) if row is not None else None


def resolve_thread(
    conn: sqlite3.Connection,
    ref: str,
    *,
    page_id: str | None = None,
    now: datetime,
) -> Thread:
    """The thread named by ``#42``, ``42`` or a Graph id; :class:`UsageError` when unknown.

    With ``page_id``, a thread of another page is refused with a message naming its page.
    ``now`` decides whether a snooze has run out (see :func:`thread_from_row`). To look up a
    stored Graph id, use :func:`get_thread`.
    """
    ref_s = ref.strip()
    number = ref_s[1:] if ref_s.startswith("#") else ref_s
    row = None
    if number.isascii() and number.isdigit():
        row = conn.execute(_SELECT + " WHERE n.number = ?", (int(number),)).fetchone()
        label = f"#{int(number)}"
    else:
        label = _printable(ref_s)
    if row is None and not ref_s.startswith("#"):
        row = conn.execute(_SELECT + " WHERE t.id = ?", (ref_s,)).fetchone()
    if row is None:
        raise UsageError(
            f"no thread {label}",
            hint='run `socialdesk list` to see thread numbers (`socialdesk list ""` lists all)',
            reason=Reason.THREAD_UNKNOWN,
        )
    thread = thread_from_row(row, now=now)
    if page_id is not None and thread.page_id != page_id:
        raise UsageError(
            f"thread #{thread.number} belongs to page {page_label(conn, thread.page_id)}",
            hint=f"act on it as page {thread.page_id}",
            reason=Reason.THREAD_OTHER_PAGE,
        )
    return thread


def page_label(conn: sqlite3.Connection, page_id: str) -> str:
    """``name (id)`` of a stored page, or its id alone (printable: names may be odd)."""
    row = conn.execute("SELECT name FROM pages WHERE id = ?", (page_id,)).fetchone()
    if row is not None and row[0]:
        return f"{_printable(row[0])} ({page_id})"
    return page_id


_FTS_TOKEN = re.compile(r"[^\W_]+")
MATCH_CAP = 50_000
"""FTS matches are counted up to this many (counting 50k rowids takes ~2 ms)."""
IN_US_PER_MATCH = 1.5
"""Cost of the ``in`` plan: a ``messages`` lookup per FTS match (µs, measured)."""
SET_MIN_MATCHES = 20_000
"""Below this many matches, ``in`` beats materialising the rowid set for every thread."""
PROBE_US = {"word": 12.0, "phrase": 50.0}
"""Cost of one per-message FTS probe by rowid (µs, measured; a phrase reads positions)."""
SET_US_PER_MATCH = 0.2
"""Cost of materialising one FTS match into the ``set`` plan's rowid set (µs, measured)."""
SET_CHECK_US = 0.5
"""Cost of checking one message of a walked thread against that rowid set (µs, measured)."""


def _text_planner(
    conn: sqlite3.Connection, *, walk: bool, limit: int | None, counts: dict[str, int] | None = None
) -> Callable[[str], TextPlan]:
    """The plan chooser for :func:`compile_query`.

    ``walk``: threads are visited in index order and the visit stops after ``limit`` rows. The
    walk's cost is estimated as if matches were spread evenly over threads: ``limit / p``
    threads visited, ``p`` the share of threads with a match, each message of each probed
    (``probe``) or looked up in the materialised rowid set (``set``, only when every match was
    counted: then materialising costs about what counting did). ``counts`` caches match counts
    across the parts of one listing, which would otherwise count the same term again.
    """
    sizes: list[int] = []
    cache: dict[str, int] = {} if counts is None else counts

    def plan(match: str) -> TextPlan:
        if match not in cache:
            cache[match] = int(
                conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ?"
                    " LIMIT ?)",
                    (match, MATCH_CAP),
                ).fetchone()[0]
            )
        matches = cache[match]
        in_cost = matches * IN_US_PER_MATCH
        if walk and limit is not None and matches:
            if not sizes:
                # max(rowid) is a cheap stand-in for count(*) (one b-tree descent).
                sizes.extend(
                    int(conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0])
                    for t in ("messages", "threads")
                )
            n_messages, n_threads = max(sizes[0], matches, 1), max(sizes[1], 1)
            per_thread = n_messages / n_threads
            p = 1.0 - (1.0 - matches / n_messages) ** per_thread
            # The match string is `text : "..."`: more than one token after the column name is
            # a phrase (or a word FTS5 splits, like "e-mail", which is searched as one).
            phrase = len(_FTS_TOKEN.findall(match)) > 2
            probe = PROBE_US["phrase" if phrase else "word"]
            visited_messages = max(limit, 1) / max(p, 1e-9) * per_thread
            costs: dict[TextPlan, float] = {"in": in_cost, "probe": visited_messages * probe}
            if matches < MATCH_CAP:
                costs["set"] = matches * SET_US_PER_MATCH + visited_messages * SET_CHECK_US
            best = min(costs, key=lambda k: costs[k])
            if best != "in":
                return best
        return "set" if matches >= SET_MIN_MATCHES else "in"

    return plan


def known_pages(conn: sqlite3.Connection) -> list[str]:
    """Ids and names of the stored pages (what a ``page:`` term may name)."""
    out: list[str] = []
    for pid, name in conn.execute("SELECT id, name FROM pages"):
        out.append(str(pid))
        if name:
            out.append(str(name))
    return out


def _listing_sql(
    conn: sqlite3.Connection,
    query: str | None,
    *,
    page_id: str | None,
    now: datetime,
    human_agent: bool,
    text_plan: Callable[[str], TextPlan] | None = None,
) -> tuple[str, dict[str, Any]]:
    compiled = compile_query(
        query, now=now, human_agent=human_agent, text_plan=text_plan, pages=known_pages(conn)
    )
    params = dict(compiled.params)
    where = f"({compiled.where})"
    if page_id is not None:
        where = f"t.page_id = :page_id AND {where}"
        params["page_id"] = page_id
    return where, params


def list_threads(
    conn: sqlite3.Connection,
    query: str | None,
    *,
    page_id: str | None,
    now: datetime,
    sort: str = "expires",
    limit: int | None = 50,
    human_agent: bool = False,
) -> list[Thread]:
    """Threads matching ``query`` (``None``: open and awaiting reply; ``""``: all).

    Sorts: ``expires`` (open reply window closing soonest first, then threads without one,
    newest first), ``newest`` (latest message first), ``oldest`` (waiting longest first).
    ``page_id=None`` lists every page.
    """
    if sort not in _ORDER:
        raise UsageError(f"unknown sort '{sort}'", hint="use one of: " + ", ".join(SORTS))
    # threads_page_last gives last_message_at order only within one page.
    walkable = page_id is not None and limit is not None
    counts: dict[str, int] = {}

    def select(extra: str, order: str, part_limit: int | None, walk: bool) -> list[sqlite3.Row]:
        return _select(
            conn,
            query,
            extra,
            order,
            page_id=page_id,
            now=now,
            human_agent=human_agent,
            limit=part_limit,
            walk=walk,
            counts=counts,
        )

    if sort == "expires" and limit is not None:
        # The expires order is "open window, closing soonest" then "no open window, newest":
        # the same rows as one ORDER BY, but the second part can be walked by index.
        limit = max(0, limit)
        rows = select(
            f"({CLOSES_SQL}) IS NOT NULL",
            f"{CLOSES_SQL}, t.last_message_at DESC, n.number",
            limit,
            False,
        )
        if len(rows) < limit:
            rows += select(
                f"({CLOSES_SQL}) IS NULL",
                "t.last_message_at DESC, n.number",
                limit - len(rows),
                walkable,
            )
        return [thread_from_row(r, now=now) for r in rows]
    if sort == "oldest" and walkable and limit is not None:
        # The oldest key is request_at when set, else last_message_at: three disjoint parts,
        # each walked by an index (threads_awaiting, threads_page_last), then merged. Merging
        # the top ``limit`` of each part by the same key gives the top ``limit`` of the whole.
        limit = max(0, limit)
        parts = [
            select(
                "t.awaiting_reply = 1 AND t.request_at IS NOT NULL",
                "t.request_at, n.number",
                limit,
                True,
            ),
            # `+` keeps SQLite off a skip-scan of threads_awaiting; it walks threads_page_last.
            select("+t.request_at IS NULL", "t.last_message_at, n.number", limit, True),
            # Never written by the store (request_at is set only while awaiting), kept so the
            # parts cover every thread: awaiting_reply is 0 or 1 (store.cache derives it).
            select(
                "t.awaiting_reply = 0 AND t.request_at IS NOT NULL",
                "t.request_at, n.number",
                limit,
                True,
            ),
        ]
        merged = heapq.merge(*parts, key=_oldest_key)
        return [thread_from_row(r, now=now) for r in itertools.islice(merged, limit)]
    rows = select(
        "1", _ORDER[sort], None if limit is None else max(0, limit), walkable and sort == "newest"
    )
    return [thread_from_row(r, now=now) for r in rows]


def _oldest_key(row: sqlite3.Row) -> tuple[Any, int]:
    """The ``oldest`` sort key of a ``_SELECT`` row (``_ORDER["oldest"]`` in Python)."""
    at = row["request_at"] if row["request_at"] is not None else row["last_message_at"]
    return at, int(row["number"])


def _select(
    conn: sqlite3.Connection,
    query: str | None,
    extra: str,
    order: str,
    *,
    page_id: str | None,
    now: datetime,
    human_agent: bool,
    limit: int | None,
    walk: bool,
    counts: dict[str, int] | None = None,
) -> list[sqlite3.Row]:
    where, params = _listing_sql(
        conn,
        query,
        page_id=page_id,
        now=now,
        human_agent=human_agent,
        text_plan=_text_planner(conn, walk=walk, limit=limit, counts=counts),
    )
    sql = f"{_SELECT} WHERE {extra} AND {where} ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list(conn.execute(sql, params))


def count_threads(
    conn: sqlite3.Connection,
    query: str | None,
    *,
    page_id: str | None,
    now: datetime,
    human_agent: bool = False,
) -> int:
    """How many threads match ``query`` (same rules as :func:`list_threads`)."""
    where, params = _listing_sql(conn, query, page_id=page_id, now=now, human_agent=human_agent)
    sql = f"SELECT count(*) FROM threads t JOIN thread_state s ON s.thread_id = t.id WHERE {where}"
    return int(conn.execute(sql, params).fetchone()[0])


_MESSAGE_COLUMNS = (
    "id, thread_id, direction, author_id, author_name, text, attachments, parent_id, is_hidden,"
    " created_at, author_username"
)


def _messages(
    conn: sqlite3.Connection, where: str, params: tuple[Any, ...], limit: int | None
) -> list[Message]:
    # Same-second ties: inbound before outbound (see store.cache), then by id.
    sql = (
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE {where}"
        " ORDER BY created_at DESC, direction DESC, id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params = (*params, max(0, limit))
    rows = conn.execute(sql, params).fetchall()
    rows.reverse()
    return [
        Message(
            id=r["id"],
            thread_id=r["thread_id"],
            direction=Direction(r["direction"]),
            author=Person(r["author_id"], r["author_name"], r["author_username"]),
            text=r["text"],
            created_at=utc(r["created_at"]),
            attachments=parse_attachments(r["attachments"]),
            parent_id=r["parent_id"],
            is_hidden=bool(r["is_hidden"]),
        )
        for r in rows
    ]


def get_messages(
    conn: sqlite3.Connection, thread_id: str, *, limit: int | None = None
) -> list[Message]:
    """The thread's messages, oldest first; with ``limit``, only the newest ``limit`` of them."""
    return _messages(conn, "thread_id = ?", (thread_id,), limit)


def customer_threads(
    conn: sqlite3.Connection, thread: Thread, *, now: datetime, limit: int = 20
) -> list[Thread]:
    """The customer's other threads on the same page, newest first (for ``show``).

    Only threads of the same id space: a PSID (Messenger, Page comments) never matches an
    IG-scoped id (Instagram DMs and comments), as the two cannot be linked
    (INSTAGRAM_API.md §9). ``now``: see :func:`thread_from_row`.
    """
    if not thread.customer.id:
        return []
    ig = thread.channel.value.startswith("ig_")
    family = ("ig_dm", "ig_comment") if ig else ("dm", "comment")
    rows = conn.execute(
        _SELECT + " WHERE t.page_id = ? AND t.customer_id = ? AND t.id <> ?"
        " AND t.channel IN (?, ?) ORDER BY t.last_message_at DESC LIMIT ?",
        (thread.page_id, thread.customer.id, thread.id, *family, limit),
    )
    return [thread_from_row(r, now=now) for r in rows]


def thread_numbers(
    conn: sqlite3.Connection,
    query: str | None,
    *,
    page_id: str,
    now: datetime,
    sort: str = "expires",
    human_agent: bool = False,
) -> list[int]:
    """Every matching thread's number in ``sort`` order (the inbox's virtual list).

    One statement over the whole page (40-350 ms on 100k threads): callers run it off the UI
    thread and ask :func:`threads_by_number` for the rows on screen.
    """
    if sort not in _ORDER:
        raise UsageError(f"unknown sort '{sort}'", hint="use one of: " + ", ".join(SORTS))
    where, params = _listing_sql(conn, query, page_id=page_id, now=now, human_agent=human_agent)
    sql = (
        "SELECT n.number FROM threads t JOIN thread_state s ON s.thread_id = t.id"
        f" JOIN thread_numbers n ON n.thread_id = t.id WHERE {where} ORDER BY {_ORDER[sort]}"
    )
    return [int(r[0]) for r in conn.execute(sql, params)]


def threads_by_number(
    conn: sqlite3.Connection, numbers: Sequence[int], *, now: datetime
) -> list[Thread]:
    """The threads of these numbers, in the order given (unknown numbers are left out)."""
    found: dict[int, Thread] = {}
    for i in range(0, len(numbers), _CHUNK):
        chunk = json.dumps([int(n) for n in numbers[i : i + _CHUNK]])
        for r in conn.execute(
            _SELECT + " WHERE n.number IN (SELECT value FROM json_each(?))", (chunk,)
        ):
            th = thread_from_row(r, now=now)
            found[th.number] = th
    return [found[n] for n in numbers if n in found]


def matching_numbers(
    conn: sqlite3.Connection,
    query: str | None,
    numbers: Sequence[int],
    *,
    page_id: str,
    now: datetime,
    human_agent: bool = False,
) -> set[int]:
    """Which of these thread numbers match ``query`` (the inbox: does a thread stay in view)."""
    if not numbers:
        return set()
    where, params = _listing_sql(conn, query, page_id=page_id, now=now, human_agent=human_agent)
    params["wanted"] = json.dumps([int(n) for n in numbers])
    sql = (
        "SELECT n.number FROM threads t JOIN thread_state s ON s.thread_id = t.id"
        f" JOIN thread_numbers n ON n.thread_id = t.id WHERE {where}"
        " AND n.number IN (SELECT value FROM json_each(:wanted))"
    )
    return {int(r[0]) for r in conn.execute(sql, params)}


def count_each(
    conn: sqlite3.Connection,
    queries: Sequence[str | None],
    *,
    page_id: str,
    now: datetime,
    human_agent: bool = False,
) -> list[int]:
    """How many threads of the page each query matches, in one scan of the page's threads."""
    if not queries:
        return []
    pages = known_pages(conn)
    cases: list[str] = []
    params: dict[str, Any] = {"page_id": page_id}
    for i, query in enumerate(queries):
        compiled = compile_query(
            query, now=now, human_agent=human_agent, pages=pages, prefix=f"v{i}q"
        )
        params.update(compiled.params)
        cases.append(f"COALESCE(SUM(CASE WHEN ({compiled.where}) THEN 1 ELSE 0 END), 0)")
    sql = (
        f"SELECT {', '.join(cases)} FROM threads t JOIN thread_state s ON s.thread_id = t.id"
        " WHERE t.page_id = :page_id"
    )
    row = conn.execute(sql, params).fetchone()
    return [int(v) for v in row]


def tag_counts(conn: sqlite3.Connection, page_id: str) -> list[tuple[str, int]]:
    """Tags in use on the page with their thread counts, most used first."""
    rows = conn.execute(
        "SELECT tag, count(*) FROM thread_tags WHERE page_id = ?"
        " GROUP BY tag ORDER BY count(*) DESC, tag",
        (page_id,),
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def numbers_of(conn: sqlite3.Connection, thread_ids: Iterable[str]) -> dict[str, int]:
    """Local numbers of these thread ids (those without one are left out)."""
    ids = json.dumps(list(dict.fromkeys(thread_ids)))
    rows = conn.execute(
        "SELECT thread_id, number FROM thread_numbers"
        " WHERE thread_id IN (SELECT value FROM json_each(?))",
        (ids,),
    )
    return {str(r[0]): int(r[1]) for r in rows}


def get_message(conn: sqlite3.Connection, message_id: str) -> Message | None:
    """One stored message (or comment) by its Graph id."""
    rows = _messages(conn, "id = ?", (message_id,), None)
    return rows[0] if rows else None


def get_post(conn: sqlite3.Connection, post_id: str) -> Post | None:
    """One stored post (without its comments)."""
    r = conn.execute(
        "SELECT id, page_id, message, permalink, created_at, updated_at FROM posts WHERE id = ?",
        (post_id,),
    ).fetchone()
    if r is None:
        return None
    return Post(
        id=r["id"],
        page_id=r["page_id"],
        created_at=utc(r["created_at"]),
        message=r["message"],
        permalink=r["permalink"],
        updated_at=utc(r["updated_at"]) if r["updated_at"] is not None else None,
    )


def thread_channel(conn: sqlite3.Connection, thread_id: str) -> Channel | None:
    """The channel of a cached thread (``None`` when it is not cached)."""
    row = conn.execute("SELECT channel FROM threads WHERE id = ?", (thread_id,)).fetchone()
    return Channel(row[0]) if row is not None else None


def thread_customer(conn: sqlite3.Connection, thread_id: str) -> str | None:
    """The customer id of a cached thread (reconciling a private reply needs the commenter)."""
    row = conn.execute("SELECT customer_id FROM threads WHERE id = ?", (thread_id,)).fetchone()
    return str(row[0]) if row is not None and row[0] else None


def dm_thread_for(
    conn: sqlite3.Connection, page_id: str, customer_id: str, channel: str = "dm"
) -> str | None:
    """The DM thread (``dm``: Messenger, ``ig_dm``: Instagram) of this page with this
    customer, if it is cached."""
    row = conn.execute(
        "SELECT id FROM threads WHERE page_id = ? AND customer_id = ? AND channel = ?"
        " ORDER BY last_message_at DESC LIMIT 1",
        (page_id, customer_id, channel),
    ).fetchone()
    return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class PrivateReplyState:
    """One customer comment's private reply, as the window rule needs it (one query)."""

    comment_id: str
    created_at: datetime
    used: bool
    """The outbox ledger holds a private reply to it (``store.outbox.ledger_condition``)."""
    elsewhere: bool
    """Graph shows it answered privately (``private_reply_conversation``)."""


def private_reply_state(
    conn: sqlite3.Connection, thread_id: str, comment_id: str | None = None
) -> PrivateReplyState | None:
    """The state of ``comment_id`` (a customer comment of the thread), else of the thread's
    newest customer comment (``None``: no such comment stored)."""
    where, params = "m.thread_id = ? AND m.direction = 'in'", [thread_id]
    if comment_id is not None:
        where, params = where + " AND m.id = ?", [thread_id, comment_id]
    row = conn.execute(
        "SELECT m.id, m.created_at, m.private_reply_conversation IS NOT NULL,"
        f" EXISTS (SELECT 1 FROM outbox o WHERE o.comment_id = m.id AND {ledger_condition('o.')})"
        f" FROM messages m WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT 1",
        params,
    ).fetchone()
    if row is None:
        return None
    return PrivateReplyState(str(row[0]), utc(int(row[1])), bool(row[3]), bool(row[2]))


def comment_created_at(conn: sqlite3.Connection, thread_id: str) -> datetime | None:
    """The stored time of a comment thread's top-level comment (its id is the thread id)."""
    row = conn.execute("SELECT created_at FROM messages WHERE id = ?", (thread_id,)).fetchone()
    return utc(int(row[0])) if row is not None else None


def thread_gaps(conn: sqlite3.Connection, thread_id: str) -> list[tuple[datetime, datetime]]:
    """The thread's gap markers, oldest first: (newest held before, oldest read after)."""
    rows = conn.execute(
        "SELECT after_at, before_at FROM thread_gaps WHERE thread_id = ? ORDER BY before_at",
        (thread_id,),
    )
    return [(utc(int(a)), utc(int(b))) for a, b in rows]


def set_hidden_cached(conn: sqlite3.Connection, thread_id: str, hidden: bool) -> None:
    """Reflect a confirmed hide/unhide in the cached thread and its top-level comment (the next
    sync brings the same values back)."""
    conn.execute("UPDATE threads SET is_hidden = ? WHERE id = ?", (int(hidden), thread_id))
    conn.execute("UPDATE messages SET is_hidden = ? WHERE id = ?", (int(hidden), thread_id))
