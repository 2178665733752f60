"""Search and listing speed over a large store (PRODUCT.md §10: search top 50 of 1M messages).

Generates (or reuses) a store with ``benchmarks/gen_store.py`` and times
:func:`socialdesk.store.threads.list_threads` for free-text queries (SQLite FTS5), filters and
the default inbox listing, each as the median of several runs after one warm-up::

    .venv/bin/python benchmarks/bench_search.py --db /tmp/big.db \
        --threads 100000 --messages 1000000

Prints one line per query: median and worst time in milliseconds and the number of threads
returned (top 50). Bar: ≤ 50 ms for free-text search.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchmarks.gen_store import PAGE_ID, generate  # noqa: E402
from socialdesk.store.db import open_db  # noqa: E402
from socialdesk.store.threads import list_threads  # noqa: E402

QUERIES: tuple[tuple[str, str | None, str], ...] = (
    ("free word (common)", "delivery", "newest"),
    ("free word (rare)", "bestilling", "newest"),
    ("quoted phrase", '"price order"', "newest"),
    ("free word, oldest", "delivery", "oldest"),
    ("two words OR", "refund OR zamówienie", "newest"),
    ("word + filters", "price is:dm is:awaiting", "expires"),
    ("default listing", None, "expires"),
    ("tag + age filter", "tag:vip OR older:1h", "oldest"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="/tmp/socialdesk-bench-big.db")
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    now = datetime.now(UTC).replace(microsecond=0)
    path = Path(args.db)
    if args.regenerate or not path.exists():
        print(f"generating {args.messages:,} messages in {args.threads:,} threads …", flush=True)
        generate(path, threads=args.threads, messages=args.messages, now=now)
    conn = open_db(path)
    total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    print(f"store: {total:,} messages, {path}")
    for label, query, sort in QUERIES:
        list_threads(conn, query, page_id=PAGE_ID, now=now, sort=sort, limit=50)  # warm-up
        times: list[float] = []
        found = 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            found = len(list_threads(conn, query, page_id=PAGE_ID, now=now, sort=sort, limit=50))
            times.append((time.perf_counter() - t0) * 1000)
        print(
            f"{label:<22} {query!s:<28} median {statistics.median(times):7.1f} ms"
            f"  worst {max(times):7.1f} ms  ({found} threads)"
        )


if __name__ == "__main__":
    main()
