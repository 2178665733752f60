"""The store's ingest rate beside its ceiling, and list latency (PRODUCT.md §10: ≥ 50k msg/s).

Run alone: ``python -m benchmarks.bench_store_ingest [--quick] [--convs 4000] [--per-conv 25]``.

Ingest goes through ``store.cache.upsert_conversations`` exactly as ``core.sync`` calls it: one
transaction per page of 100 conversations, on a WAL file database, with FTS5 maintenance,
derived thread columns and auto-reopen checks included. Message ids are random-looking, as
Graph's are. Beside it, in alternating runs, the same rows go into a new file of the same
schema with a bare ``executemany`` (no logic: the ceiling SQLite sets), and the figure
``ingest_vs_bare_ratio`` is their quotient (above 1 when the store's one-statement batch
insert beats row-by-row ``executemany``, whose statements each flush FTS5's pending terms).
Then re-ingest of stored conversations and ``list`` (default query, each sort) is timed over
the resulting threads.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import at_least, info, median, timed_ms
from benchmarks.figures import Figure
from socialdesk.core.inbox import Sort
from socialdesk.models import Attachment, Conversation, Direction, Message, Person
from socialdesk.store.cache import upsert_conversations
from socialdesk.store.db import open_db, transaction
from socialdesk.store.threads import list_threads

PAGE = "1000"
BAR = 50_000.0
"""Messages per second (PRODUCT.md §10)."""
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _mid(i: int, j: int) -> str:
    return "m_" + hashlib.blake2b(f"{i}/{j}".encode(), digest_size=16).hexdigest()


def conversation(i: int, n: int) -> Conversation:
    cust = Person(f"{10**15 + i}", f"Customer {i}")
    page = Person(PAGE, "Shop")
    msgs = tuple(
        Message(
            id=_mid(i, j),
            thread_id=f"t_{i}",
            direction=Direction.IN if j % 3 else Direction.OUT,
            author=cust if j % 3 else page,
            text=f"hello, about order {i * 31 + j}: is it shipped yet? thanks",
            created_at=T0 + timedelta(minutes=i * 7 + j),
            attachments=(Attachment("image", url="https://cdn.example/x.jpg"),)
            if j % 10 == 0
            else (),
        )
        for j in reversed(range(n))
    )
    return Conversation(
        id=f"t_{i}", page_id=PAGE, updated_at=msgs[0].created_at, customer=cust, messages=msgs
    )


def _bare_rows(
    page: list[Conversation],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The same conversations as plain rows: (threads, messages)."""
    threads: list[tuple[object, ...]] = [
        (c.id, PAGE, "dm", c.customer.id, c.customer.name) for c in page
    ]
    msgs: list[tuple[object, ...]] = [
        (
            m.id,
            c.id,
            PAGE,
            m.direction.value,
            m.author.id,
            m.author.name,
            m.text,
            int(m.created_at.timestamp()),
        )
        for c in page
        for m in c.messages
    ]
    return threads, msgs


def ingest_once(pages: list[list[Conversation]], path: Path) -> float:
    """Seconds to store ``pages`` through ``upsert_conversations`` into a new file."""
    conn = open_db(path)
    start = time.perf_counter()
    for page in pages:
        with transaction(conn):
            upsert_conversations(conn, PAGE, page, now=T0)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bare_once(
    rows: list[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]], path: Path
) -> float:
    """Seconds to ``executemany`` the same rows into a new file of the same schema (the
    ceiling: same indexes, same FTS triggers, same transactions, no logic)."""
    conn = open_db(path)
    start = time.perf_counter()
    for threads, msgs in rows:
        with transaction(conn):
            conn.executemany(
                "INSERT INTO threads (id, page_id, channel, customer_id, customer_name)"
                " VALUES (?, ?, ?, ?, ?)",
                threads,
            )
            conn.executemany(
                "INSERT INTO messages (id, thread_id, page_id, direction, author_id,"
                " author_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                msgs,
            )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(quick: bool, *, convs: int | None = None, per_conv: int = 25) -> list[Figure]:
    """Ingest rate, the bare ``executemany`` ceiling, their ratio, re-ingest and list times."""
    n_convs = convs if convs is not None else (1000 if quick else 4000)
    runs = 3
    pages = [
        [conversation(i, per_conv) for i in range(k, min(k + 100, n_convs))]
        for k in range(0, n_convs, 100)
    ]
    rows = [_bare_rows(p) for p in pages]
    total = n_convs * per_conv
    ours: list[float] = []
    bare: list[float] = []
    figs: list[Figure] = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs):  # alternated, so load changes hit both alike
            db = Path(d) / f"ingest{i}.db"
            ours.append(total / ingest_once(pages, db))
            bare.append(total / bare_once(rows, Path(d) / f"bare{i}.db"))
            if i < runs - 1:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{d}/bare{i}.db{suffix}").unlink(missing_ok=True)
        size = f"{n_convs:,} conversations x {per_conv} messages, 100 per transaction"
        rate, ceiling = median(ours), median(bare)
        figs.append(
            at_least(
                "ingest_msgs_per_s",
                rate,
                "msg/s",
                BAR,
                f"store.cache.upsert_conversations, {size}, WAL, FTS; median of {runs}",
            )
        )
        figs.append(
            info(
                "ingest_bare_executemany_msgs_per_s",
                ceiling,
                "msg/s",
                "bare executemany of the same rows into the same schema",
            )
        )
        figs.append(
            info(
                "ingest_vs_bare_ratio",
                rate / ceiling,
                "x",
                "ingest ÷ bare executemany, same runs (1.0 = the ceiling)",
            )
        )
        conn = open_db(Path(d) / f"ingest{runs - 1}.db")
        again_pages = pages[:10]
        again = sum(len(p) for p in again_pages) * per_conv
        start = time.perf_counter()
        for page in again_pages:
            with transaction(conn):
                upsert_conversations(conn, PAGE, page, now=T0)
        figs.append(
            info(
                "ingest_already_stored_msgs_per_s",
                again / (time.perf_counter() - start),
                "msg/s",
                "the same conversations again (a re-walk)",
            )
        )
        now = T0 + timedelta(minutes=n_convs * 7)
        sorts: tuple[Sort, ...] = ("expires", "newest", "oldest")
        for sort in sorts:

            def listing(s: Sort = sort) -> None:
                list_threads(conn, None, page_id=PAGE, now=now, sort=s)

            ms = median(timed_ms(listing, runs))
            figs.append(
                info(
                    f"ingest_list_{sort}_ms",
                    ms,
                    "ms",
                    f"list (default query, sort={sort}) over {n_convs:,} threads",
                )
            )
        conn.close()
    return figs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--convs", type=int, default=None)
    ap.add_argument("--per-conv", type=int, default=25)
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    print_table(run(args.quick, convs=args.convs, per_conv=args.per_conv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
