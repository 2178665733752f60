"""``stats`` over the big store (PRODUCT.md §10: ≤ 1 s over 1M messages).

Uses the suite's shared store (:func:`benchmarks._common.big_store`: 100k threads / 1M
messages) and times :func:`socialdesk.core.stats.compute_stats` for ``--days 1`` (the cron
case, yesterday) and ``--days 30``, in Europe/Warsaw with business hours on, each on a fresh
connection: the first (cold-ish) run and the median of the next ones. The start-up of
``socialdesk stats`` as a process is in :mod:`benchmarks.bench_startup`.

Run alone: ``python -m benchmarks.bench_stats [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import at_most, big_store, info, median, size_note
from benchmarks.figures import Figure
from socialdesk.core.stats import compute_stats, resolve_period
from socialdesk.store.db import open_db

TZ = "Europe/Warsaw"
HOURS = "Mon-Fri 09:00-17:00"
BAR_MS = 1000.0


def run(quick: bool) -> list[Figure]:
    """First and median compute times for 1 and 30 days."""
    store = big_store(quick)
    runs = 3 if quick else 5
    today = store.now.astimezone(ZoneInfo(TZ)).date()
    figs: list[Figure] = []
    for days in (1, 30):
        period = resolve_period(today=today, days=days)
        times: list[float] = []
        for _ in range(runs + 1):
            conn = open_db(store.path)
            t0 = time.perf_counter()
            compute_stats(
                conn, store.page_id, period, now=store.now, timezone=TZ, business_hours=HOURS
            )
            times.append((time.perf_counter() - t0) * 1000)
            conn.close()
        note = f"--days {days}, {TZ}, business hours on, {size_note(store)}, median of {runs}"
        figs.append(at_most(f"stats_{days}d_ms", median(times[1:]), "ms", BAR_MS, note))
        figs.append(info(f"stats_{days}d_first_ms", times[0], "ms", "the first run"))
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
