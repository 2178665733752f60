"""Measure the store's ingest rate and list latency (numbers recorded in the README).

Run from the repository root::

    .venv/bin/python benchmarks/bench_store_ingest.py [--convs 4000] [--per-conv 25]

Ingest goes through ``store.cache.upsert_conversations`` exactly as ``core.sync`` calls it: one
transaction per page of 100 conversations, on a WAL file database, with FTS5 maintenance,
derived thread columns and auto-reopen checks included. Message ids are random-looking, as
Graph's are. Then ``list`` (default query, each sort) is timed over the resulting threads.
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

from socialdesk.models import Attachment, Conversation, Direction, Message, Person
from socialdesk.store.cache import upsert_conversations
from socialdesk.store.db import open_db, transaction
from socialdesk.store.threads import list_threads

PAGE = "1000"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--convs", type=int, default=4000)
    ap.add_argument("--per-conv", type=int, default=25)
    args = ap.parse_args()
    pages = [
        [conversation(i, args.per_conv) for i in range(k, min(k + 100, args.convs))]
        for k in range(0, args.convs, 100)
    ]
    with tempfile.TemporaryDirectory() as d:
        conn = open_db(Path(d) / "bench.db")
        start = time.perf_counter()
        for page in pages:
            with transaction(conn):
                upsert_conversations(conn, PAGE, page, now=T0)
        elapsed = time.perf_counter() - start
        total = args.convs * args.per_conv
        print(f"ingest (new): {total} messages in {elapsed:.2f} s = {total / elapsed:,.0f} msg/s")
        start = time.perf_counter()
        for page in pages[:10]:
            with transaction(conn):
                upsert_conversations(conn, PAGE, page, now=T0)
        again = sum(len(p) for p in pages[:10]) * args.per_conv
        elapsed = time.perf_counter() - start
        print(f"ingest (already stored): {again / elapsed:,.0f} msg/s")
        now = T0 + timedelta(minutes=args.convs * 7)
        for sort in ("expires", "newest", "oldest"):
            start = time.perf_counter()
            list_threads(conn, None, page_id=PAGE, now=now, sort=sort)
            ms = (time.perf_counter() - start) * 1000
            print(f"list (default query, sort={sort}) over {args.convs} threads: {ms:.1f} ms")
        conn.close()


if __name__ == "__main__":
    main()
