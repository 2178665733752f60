"""Search and listing speed over the big store (PRODUCT.md §10: search top 50 of 1M messages).

Uses the suite's shared store (:func:`benchmarks._common.big_store`: 100k threads / 1M messages
from :mod:`benchmarks.gen_store`, whose texts follow Zipf's law) and times
:func:`socialdesk.store.threads.list_threads` with ``limit=50`` for free-text queries (SQLite
FTS5) on a common, a middling and a rare word, a phrase, ``OR``, a word with filters, plus the
default inbox listing; each the median of several runs after one warm-up. The number of
messages holding each word is in the figure's note. Bar: ≤ 50 ms for free-text search (the
worst query is the headline figure ``search_top50_worst_ms``).

Run alone: ``python -m benchmarks.bench_search [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import at_most, big_store, info, median, size_note, timed_ms
from benchmarks.figures import Figure
from benchmarks.gen_store import word
from socialdesk.core.inbox import Sort
from socialdesk.store.db import open_db
from socialdesk.store.threads import list_threads

BAR_MS = 50.0
COMMON, MIDDLE, RARE = word(3), word(100), word(10_000)
QUERIES: tuple[tuple[str, str | None, Sort], ...] = (
    ("search_common_word_ms", COMMON, "newest"),
    ("search_middle_word_ms", MIDDLE, "newest"),
    ("search_rare_word_ms", RARE, "newest"),
    ("search_common_word_oldest_ms", COMMON, "oldest"),
    ("search_phrase_ms", f'"{word(1)} {word(5)}"', "newest"),
    ("search_or_ms", f"{MIDDLE} OR {word(200)}", "newest"),
    ("search_word_filters_ms", f"{word(20)} is:dm is:awaiting", "expires"),
)
"""(figure, query, sort): free-text searches (bar 50 ms)."""
LISTINGS: tuple[tuple[str, str | None, Sort], ...] = (
    ("list_default_ms", None, "expires"),
    ("list_tag_age_ms", "tag:vip OR older:1h", "oldest"),
)


def _holding(conn: object, text: str) -> int:
    """How many messages the FTS index says hold ``text``."""
    q = text if text.startswith('"') else f'"{text}"'
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", (q,)
    ).fetchone()
    return int(row[0])


def run(quick: bool) -> list[Figure]:
    """One figure per query, then the worst search."""
    store = big_store(quick)
    runs = 5 if quick else 7
    conn = open_db(store.path)
    figs: list[Figure] = []
    worst = 0.0
    try:
        for name, query, sort in QUERIES + LISTINGS:
            found: list[int] = []

            def once(q: str | None = query, s: Sort = sort, found: list[int] = found) -> None:
                rows = list_threads(conn, q, page_id=store.page_id, now=store.now, sort=s, limit=50)
                found.append(len(rows))

            ms = median(timed_ms(once, runs))
            what = f"`{query or '(default)'}` sorted {sort}, {found[-1]} threads"
            if query is not None and name.startswith("search_") and "is:" not in query:
                held = _holding(conn, query.split(" OR ")[0])
                what += f"; {held:,} messages hold `{query.split(' OR ')[0]}`"
            note = f"{what}; {size_note(store)}, median of {runs}"
            if name.startswith("search_"):
                worst = max(worst, ms)
            figs.append(info(name, ms, "ms", note))
    finally:
        conn.close()
    figs.insert(
        0,
        at_most(
            "search_top50_worst_ms",
            worst,
            "ms",
            BAR_MS,
            f"slowest of the {len(QUERIES)} searches below, top 50, {size_note(store)}",
        ),
    )
    return figs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    print_table(run(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
