"""Benchmark of the rules (issue 14): a run with nothing new, the after-sync overhead, a replay.

Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/bench_rules.py            # full sizes
    nice -n 10 .venv/bin/python benchmarks/bench_rules.py --quick    # small sizes, a smoke run

Figures (``run(quick) -> list[Figure]``, ``benchmarks/figures.py``):

- ``rules_run_nothing_new_ms``: one ``rules run`` (three rules, one live and sending) when no
  customer message arrived since the last run, on the 1,000,000-message store
  (``benchmarks/gen_store.py``, 100,000 threads; generated once and kept in the temp dir),
  median of several runs; bar ≤ 50 ms. It includes the outbox start-up a sending rule needs
  (no unknown rows: no HTTP call) and the run's bookkeeping (run row, watermark).
- ``rules_after_sync_overhead_pct``: the rules' after-sync step (``core.rules.after_sync``:
  reading rules.toml, then a run with nothing new) as a share of a no-op sync of a demo
  sandbox page through the in-process transport (no network latency at all: the harshest
  comparison; a real no-op sync waits for two HTTP round trips); medians; bar ≤ 10 %.
- ``rules_replay_7d_s``: ``rules test away --since 7d`` (``core.rules.replay``) over a store of
  10,000 threads whose messages all fall in the last 7 days; bar ≤ 5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402

from benchmarks.figures import Figure  # noqa: E402
from benchmarks.gen_store import PAGE_ID, generate  # noqa: E402
from socialdesk.api.client import GraphClient  # noqa: E402
from socialdesk.config import Config, PageConfig, StatsConfig  # noqa: E402
from socialdesk.core.clock import FixedClock  # noqa: E402
from socialdesk.core.rules import engine  # noqa: E402
from socialdesk.core.rules.evaluate import Env  # noqa: E402
from socialdesk.core.rules.model import parse_rules  # noqa: E402
from socialdesk.core.rules.replay import replay  # noqa: E402
from socialdesk.store.db import open_db  # noqa: E402

HOURS = "Mon-Fri 09:00-17:00"
RULES = """
[settings]
pace_seconds = 0

[templates.away]
text = ["Hi {first_name}, we're closed now.", "Thanks {first_name}, we're away.",
        "Hello {first_name}, back soon."]

[[rule]]
name  = "spam"
state = "live"
query = 'is:comment said:"bit.ly"'
tag   = ["spam"]
stop  = true

[[rule]]
name     = "away"
state    = "live"
query    = "is:dm is:unanswered"
hours    = "closed"
reply    = "away"
cooldown = "12h"

[[rule]]
name  = "price"
query = "said:price is:unanswered"
tag   = ["price"]
"""


def _config() -> Config:
    cfg = Config().with_page(PageConfig(name="bench", id=PAGE_ID))
    return dataclasses.replace(cfg, stats=StatsConfig(timezone="UTC", business_hours=HOURS))


def _store(path: Path, threads: int, messages: int, days: int) -> datetime:
    """Generate unless a store of this size exists; its ``now``."""
    if path.exists():
        conn = open_db(path)
        count = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        last = conn.execute("SELECT MAX(finished_at) FROM sync_log").fetchone()[0]
        conn.close()
        if count == messages and last is not None:
            return datetime.fromtimestamp(last, tz=UTC)
    res = generate(path, threads=threads, messages=messages, days=days)
    return datetime.fromtimestamp(res.now, tz=UTC)


def _offline_client() -> GraphClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no HTTP call expected: {request.url.path}")

    return GraphClient("bench-token", transport=httpx.MockTransport(refuse), pace=False)


def bench_nothing_new(path: Path, now: datetime, runs: int) -> float:
    """Median ms of a run with nothing new (after a first run has set the watermark)."""
    cfg = _config()
    rs = parse_rules(RULES, Path("rules.toml"), config=cfg)
    clock = FixedClock(now)
    client = _offline_client()

    def env_for(t: datetime) -> Env:
        return engine.make_env(rs, page_id=PAGE_ID, now=t, config=cfg)

    conn = open_db(path)
    engine.run_rules(conn, client, rs, env_for, page_id=PAGE_ID, page_name="Bench", clock=clock)
    times: list[float] = []
    for _ in range(runs):
        clock.advance(seconds=60)
        t0 = time.perf_counter()
        rep = engine.run_rules(
            conn, client, rs, env_for, page_id=PAGE_ID, page_name="Bench", clock=clock
        )
        times.append((time.perf_counter() - t0) * 1000)
        assert rep.candidates == 0
    conn.close()
    client.close()
    return statistics.median(times)


def bench_after_sync(runs: int) -> tuple[float, float]:
    """(median ms of a no-op sync, median ms of the after-sync rules step) on a demo page."""
    from socialdesk.core import rules as core_rules
    from socialdesk.core.context import AppContext
    from socialdesk.core.syncing import sync_round
    from socialdesk.paths import resolve_paths
    from socialdesk.sandbox import build_demo

    sb, page_id, token = build_demo(seed=7, threads=60)
    sb.rate_limit = False
    with tempfile.TemporaryDirectory() as tmp:
        paths = resolve_paths(Path(tmp) / "home")
        paths.ensure()
        page = PageConfig(name="demo", id=page_id)
        cfg = dataclasses.replace(
            Config().with_page(page), stats=StatsConfig(timezone="UTC", business_hours=HOURS)
        )
        (paths.config_dir / "rules.toml").write_text(
            RULES.replace("pace_seconds = 0", "pace_seconds = 0\nafter_sync = true")
        )
        ctx = AppContext(paths, cfg, FixedClock(sb.now()), transport=sb.transport())
        ctx._clients[page_id] = GraphClient(token, transport=sb.transport(), pace=False)
        conn = ctx.connect()
        first = sync_round(ctx, conn, page)
        core_rules.after_sync(ctx, conn, page, first, forced=False)
        syncs: list[float] = []
        afters: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            report = sync_round(ctx, conn, page)
            t1 = time.perf_counter()
            run = core_rules.after_sync(ctx, conn, page, report, forced=False)
            t2 = time.perf_counter()
            assert run is not None and run.candidates == 0
            syncs.append((t1 - t0) * 1000)
            afters.append((t2 - t1) * 1000)
        conn.close()
        ctx.close()
    return statistics.median(syncs), statistics.median(afters)


def bench_replay(path: Path, now: datetime) -> float:
    """Seconds of a 7-day replay of the away rule."""
    cfg = _config()
    rs = parse_rules(RULES, Path("rules.toml"), config=cfg)
    env = engine.make_env(rs, page_id=PAGE_ID, now=now, config=cfg)
    conn = open_db(path)
    t0 = time.perf_counter()
    rep = replay(
        conn,
        env,
        rs.rule("away"),
        page_id=PAGE_ID,
        start=now - timedelta(days=7),
        end=now,
        lag=60,
    )
    seconds = time.perf_counter() - t0
    conn.close()
    assert rep.ticks > 0
    return seconds


def run(quick: bool) -> list[Figure]:
    """The figures (quick: small stores, fewer runs; the bars are for the full sizes)."""
    tmp = Path(tempfile.gettempdir())
    big = (20_000, 200_000) if quick else (100_000, 1_000_000)
    big_path = tmp / f"socialdesk-rules-bench-{big[1]}.db"
    now = _store(big_path, big[0], big[1], 365)
    nothing = bench_nothing_new(big_path, now, 5 if quick else 15)
    sync_ms, after_ms = bench_after_sync(5 if quick else 15)
    pct = 100.0 * after_ms / sync_ms
    rp_size = (2_000, 20_000) if quick else (10_000, 100_000)
    rp_path = tmp / f"socialdesk-rules-replay-{rp_size[0]}.db"
    rp_now = _store(rp_path, rp_size[0], rp_size[1], 7)
    rp_s = bench_replay(rp_path, rp_now)
    size = f"{big[1]:,} messages / {big[0]:,} threads"
    return [
        Figure(
            "rules_run_nothing_new_ms",
            round(nothing, 2),
            "ms",
            "<= 50 ms",
            nothing <= 50,
            f"3 rules (1 sending), {size}, median",
        ),
        Figure(
            "rules_after_sync_overhead_pct",
            round(pct, 1),
            "%",
            "<= 10 %",
            pct <= 10,
            f"after-sync step {after_ms:.2f} ms vs no-op in-process sync {sync_ms:.2f} ms",
        ),
        Figure(
            "rules_replay_7d_s",
            round(rp_s, 3),
            "s",
            "<= 5 s",
            rp_s <= 5,
            f"away rule, 7 days, {rp_size[0]:,} threads / {rp_size[1]:,} messages",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    figures = run(args.quick)
    for f in figures:
        mark = "ok" if f.passed else ("FAIL" if f.passed is False else "")
        print(f"{f.name:<32} {f.value:>10} {f.unit:<3} bar {f.bar:<9} {mark:<4} {f.note}")
    return 0 if all(f.passed is not False for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
