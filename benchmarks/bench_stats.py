"""Benchmark of ``stats`` (PRODUCT.md §10: ≤ 1 s over 1M messages; CLI start to exit ≤ 300 ms).

Run from the repository root::

    .venv/bin/python benchmarks/bench_stats.py                # 1M messages (generated once, kept)
    .venv/bin/python benchmarks/bench_stats.py --messages 200000 --threads 20000

It generates (or reuses) a store with ``benchmarks/gen_store.py``, then prints:

- the in-process compute time of :func:`socialdesk.core.stats.compute_stats` for ``--days 1``
  (the cron case, yesterday) and ``--days 30``, in Europe/Warsaw with business hours on,
  median of several runs on a warm cache (plus the first, cold-ish run);
- the wall time of ``socialdesk stats --format csv`` as a fresh process on a small store
  (1,000 threads / 10,000 messages), median of several runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchmarks.gen_store import PAGE_ID, generate  # noqa: E402
from socialdesk.core.stats import compute_stats, resolve_period  # noqa: E402
from socialdesk.store.db import open_db  # noqa: E402

TZ = "Europe/Warsaw"
HOURS = "Mon-Fri 09:00-17:00"


def _store(path: Path, threads: int, messages: int, days: int) -> datetime:
    """Generate the store unless one with the same size exists; return its ``now``."""
    if path.exists():
        conn = open_db(path)
        count = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        last = conn.execute("SELECT MAX(finished_at) FROM sync_log").fetchone()[0]
        conn.close()
        if count == messages and last is not None:
            return datetime.fromtimestamp(last, tz=UTC)
    res = generate(path, threads=threads, messages=messages, days=days)
    print(f"generated {res.messages:,} messages / {res.threads:,} threads in {res.seconds:.1f} s")
    return datetime.fromtimestamp(res.now, tz=UTC)


def bench_compute(path: Path, now: datetime, days: int, runs: int) -> tuple[float, float]:
    """(first run, median of the next ``runs``) in ms of compute_stats over ``days`` days."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(TZ)).date()
    period = resolve_period(today=today, days=days)
    times: list[float] = []
    for _ in range(runs + 1):
        conn = open_db(path)
        t0 = time.perf_counter()
        compute_stats(conn, PAGE_ID, period, now=now, timezone=TZ, business_hours=HOURS)
        times.append((time.perf_counter() - t0) * 1000)
        conn.close()
    return times[0], statistics.median(times[1:])


def bench_cli(runs: int) -> float:
    """Median wall ms of ``socialdesk stats --format csv`` in a fresh process, small store."""
    with tempfile.TemporaryDirectory() as home:
        res = generate(Path(home) / "socialdesk.db", threads=1000, messages=10000, days=30)
        (Path(home) / "config.toml").write_text(
            f'default_page = "bench"\n[pages.bench]\nid = "{res.page_id}"\n'
            f'[stats]\ntimezone = "{TZ}"\nbusiness_hours = "{HOURS}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "SOCIALDESK_HOME": home}
        cmd = [sys.executable, "-m", "socialdesk", "stats", "--format", "csv"]
        times: list[float] = []
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
            times.append((time.perf_counter() - t0) * 1000)
            if proc.returncode != 0:
                raise SystemExit(f"stats failed: {proc.stderr}")
        return statistics.median(times[1:])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description="stats benchmark")
    ap.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "socialdesk-bench-1m.db"))
    ap.add_argument("--threads", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    path = Path(args.db)
    now = _store(path, args.threads, args.messages, args.days)
    print(f"store: {path} ({args.messages:,} messages, {args.threads:,} threads,"
          f" {args.days} days), timezone {TZ}, business hours {HOURS!r}")  # fmt: skip
    for days in (1, 30):
        first, median = bench_compute(path, now, days, args.runs)
        verdict = "ok" if median <= 1000 else "OVER 1 s"
        print(f"compute --days {days:>2}: median {median:7.1f} ms (first run {first:7.1f} ms)"
              f" [{verdict}]")  # fmt: skip
    wall = bench_cli(args.runs)
    verdict = "ok" if wall <= 300 else "over 300 ms"
    print(f"CLI `socialdesk stats --format csv`, 10k-message store: median wall {wall:.0f} ms"
          f" [{verdict}]")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
