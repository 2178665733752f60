"""Generate a realistic socialdesk database fast, for benchmarks (stats, list, search, inbox).

Called by ``benchmarks/bench_stats.py`` (and free for any other benchmark) as
:func:`generate`, or from the shell::

    .venv/bin/python benchmarks/gen_store.py /tmp/big.db \
        --threads 100000 --messages 1000000 --days 365

Threads (70 % Messenger conversations, 30 % comment threads) start uniformly over the last
``days`` days before ``now``; each is a sequence of customer bursts (1–3 inbound messages) and
page replies after a log-normal delay (minutes to days; a share never answered); some threads
are marked done. Rows go straight into :func:`socialdesk.store.db.open_db`'s schema with
``executemany`` (the FTS triggers are suspended and the index rebuilt once at the end), with the
derived thread columns computed as ``store.cache`` would, plus a ``sync_log`` row at ``now``.
Texts are 2-12 words drawn from a Zipf-distributed vocabulary (:data:`WORDS`, :func:`word`).
Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from socialdesk.store.db import open_db

PAGE_ID = "100000000000001"

# The vocabulary: real shop-inbox words first (English, Polish, Latvian, Norwegian, Russian, in
# rough order of use), then pronounceable made-up words, drawn with Zipf's law (the frequency of
# the word of rank r is proportional to 1 / r ** ZIPF_S), as words are in real text. With 1M
# messages of 2-12 words, the commonest word is in about half the messages, rank 100 in about
# 1 %, rank 10,000 in a few dozen: search is measured for rare and common words both.
_REAL = [
    "hi",
    "the",
    "is",
    "thanks",
    "price",
    "order",
    "you",
    "delivery",
    "size",
    "please",
    "when",
    "hello",
    "can",
    "do",
    "have",
    "refund",
    "today",
    "shop",
    "open",
    "where",
    "available",
    "still",
    "my",
    "it",
    "ok",
    "dzień",
    "dobry",
    "cena",
    "zamówienie",
    "paldies",
    "pasūtījums",
    "hei",
    "pris",
    "bestilling",
    "привет",
    "цена",
    "заказ",
    "color",
    "black",
    "white",
    "shipping",
    "address",
    "tomorrow",
    "week",
    "paid",
    "payment",
    "card",
    "cash",
    "return",
    "exchange",
    "broken",
    "wrong",
    "small",
    "large",
    "medium",
    "photo",
    "link",
    "stock",
]
_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "de", "gu", "ho", "ji", "bo", "fe",
)  # fmt: skip
VOCAB_SIZE = 50_000
ZIPF_S = 1.1


def _made_up(rank: int) -> str:
    """A deterministic pronounceable word for a vocabulary rank past the real words."""
    out = []
    n = rank
    while True:
        out.append(_SYLLABLES[n % len(_SYLLABLES)])
        n //= len(_SYLLABLES)
        if n == 0:
            break
    return "".join(out) + "x"  # the suffix keeps them apart from real words


WORDS: tuple[str, ...] = tuple(_REAL) + tuple(_made_up(r) for r in range(len(_REAL), VOCAB_SIZE))
_CUM_WEIGHTS: list[float] = []
_acc = 0.0
for _rank in range(1, VOCAB_SIZE + 1):
    _acc += _rank**-ZIPF_S
    _CUM_WEIGHTS.append(_acc)


def word(rank: int) -> str:
    """The word of Zipf rank ``rank`` (1 is the commonest)."""
    return WORDS[rank - 1]


@dataclass(frozen=True)
class GenResult:
    """What :func:`generate` wrote."""

    path: Path
    page_id: str
    threads: int
    messages: int
    now: int
    seconds: float


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=_CUM_WEIGHTS, k=rng.randint(2, 12)))


def generate(
    path: Path | str,
    *,
    threads: int = 1000,
    messages: int = 10000,
    days: int = 365,
    now: datetime | None = None,
    seed: int = 0,
    page_id: str = PAGE_ID,
) -> GenResult:
    """Write a new database at ``path`` (replaced if it exists) and return what it holds."""
    started = time.perf_counter()
    p = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(str(p) + suffix).unlink(missing_ok=True)
    rng = random.Random(seed)
    now_ts = int((now or datetime.now(UTC)).timestamp())
    span = days * 86400
    conn = open_db(p)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO pages (id, name, updated_at) VALUES (?, ?, ?)", (page_id, "Bench shop", now_ts)
    )
    per_thread = max(1.0, messages / max(threads, 1))
    thread_rows: list[tuple[object, ...]] = []
    msg_rows: list[tuple[object, ...]] = []
    state_rows: list[tuple[object, ...]] = []
    log_rows: list[tuple[object, ...]] = []
    total = 0
    for t in range(threads):
        remaining_threads = threads - t
        want = max(1, round((messages - total) / remaining_threads)) if t else round(per_thread)
        want = max(1, min(want, messages - total - (remaining_threads - 1)))
        channel = "dm" if rng.random() < 0.7 else "comment"
        tid = f"t_{t}" if channel == "dm" else f"{page_id}_{t}"
        customer = f"u{rng.randrange(threads * 2)}"
        at = now_ts - rng.randrange(span)
        # Spread the thread's messages over the time left before now.
        room = max(60, now_ts - at)
        step = room / (want + 1)
        direction = "in"
        burst = rng.randint(1, 3)
        last_in: int | None = None
        last_out: int | None = None
        request_at: int | None = None
        # Most threads end answered; comments are left unanswered more often.
        answered = rng.random() < (0.9 if channel == "dm" else 0.7)
        for i in range(want):
            prev_dir = str(msg_rows[-1][3]) if i else ""
            if i == want - 1 and i > 0 and answered:
                direction = "out"
            if direction == "in":
                at += rng.randint(5, 120) if i else 0
            else:
                delay = int(math.exp(rng.gauss(6.5, 2.0)))  # median ~11 min, long tail
                at += min(delay, int(step) + 60)
            at = min(at, now_ts)
            msg_rows.append(
                (
                    f"m_{t}_{i}",
                    tid,
                    page_id,
                    direction,
                    page_id if direction == "out" else customer,
                    "Bench shop" if direction == "out" else f"Customer {customer}",
                    _text(rng),
                    at,
                )
            )
            if direction == "in":
                if prev_dir != "in":
                    request_at = at
                last_in = at
                burst -= 1
                if burst == 0:
                    direction = "out"
            else:
                last_out = at
                request_at = None
                direction = "in"
                burst = rng.randint(1, 3)
                at += int(rng.expovariate(1 / max(step, 60)))
        total += want
        last_at = max(x for x in (last_in, last_out) if x is not None)
        awaiting = last_in is not None and (last_out is None or last_in > last_out)
        thread_rows.append(
            (
                tid,
                page_id,
                channel,
                customer,
                f"Customer {customer}",
                f"{page_id}_post{t % 500}" if channel == "comment" else None,
                last_at,
                last_in,
                last_out,
                int(awaiting),
                request_at if awaiting else None,
                "…",
            )
        )
        done = not awaiting and rng.random() < 0.3
        state_rows.append(
            (tid, page_id, "done" if done else "open", last_at if done else None, last_at)
        )
        if done:
            log_rows.append((tid, page_id, "done", last_at + rng.randint(0, 3600)))
    conn.executemany(
        "INSERT INTO threads (id, page_id, channel, customer_id, customer_name, post_id,"
        " last_message_at, last_inbound_at, last_outbound_at, awaiting_reply, request_at,"
        " snippet) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        thread_rows,
    )
    conn.executemany(
        "INSERT INTO thread_numbers (thread_id, page_id) VALUES (?, ?)",
        [(r[0], r[1]) for r in thread_rows],
    )
    conn.executemany(
        "INSERT INTO messages (id, thread_id, page_id, direction, author_id, author_name, text,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        msg_rows,
    )
    conn.executemany(
        "INSERT INTO thread_state (thread_id, page_id, status, done_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        state_rows,
    )
    conn.executemany(
        "INSERT INTO triage_log (thread_id, page_id, action, at) VALUES (?, ?, ?, ?)", log_rows
    )
    for edge in ("conversations", "feed"):
        conn.execute(
            "INSERT INTO sync_log (page_id, edge, started_at, finished_at, ok, calls)"
            " VALUES (?, ?, ?, ?, 1, 1)",
            (page_id, edge, now_ts - 5, now_ts),
        )
    conn.execute("COMMIT")
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.close()
    return GenResult(p, page_id, threads, len(msg_rows), now_ts, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("path")
    ap.add_argument("--threads", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    res = generate(
        args.path, threads=args.threads, messages=args.messages, days=args.days, seed=args.seed
    )
    print(
        f"{res.path}: {res.threads} threads, {res.messages} messages over {args.days} days"
        f" in {res.seconds:.1f} s (page {res.page_id})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
