"""Sync against its limits and against the usual script (PRODUCT.md §10, issues 3 and 11).

One sandbox holds 10,000 conversations and 1,000 posts (``--quick``: 200 and 20) built by
:mod:`benchmarks._syncdata` (a share of long threads with more than the 25 nested messages,
and busy posts with more than 25 comments). It is served on 127.0.0.1 by the real HTTP server
(``Sandbox.serve``, what ``socialdesk sandbox serve`` runs) with 50 ms of latency per request
and the 2 calls/s limit off. Every sync runs in its own process (:mod:`benchmarks._syncclient`)
so its peak memory is its own; calls are counted by the server.

- **Limits**: socialdesk's initial sync against the lower bound ceil(C/100) + ceil(P/100) +
  long threads + busy posts (bar: at most 5 more); no change (≤ 2 calls); 5, 10 and 250 changed
  threads (≤ 2 + ceil(k/100) + long threads); 5 threads with 40 new messages each (one more
  page each); new comments on 20 recent posts (no extra call); a ``--full`` re-walk.
- **Versus the usual script** (:mod:`benchmarks.bench_vs_sdk`, Meta's ``facebook-business``
  SDK): calls, wall time and peak memory of both, initial and incremental (5 changed threads),
  and the ratios peer ÷ socialdesk measured in the same run (bars: ≥ 20× fewer calls, ≥ 10×
  less wall time). Without the SDK installed the ratios say so (``passed`` None).
- **Paced**: with the 2 calls/s limit on (sandbox and client) on a smaller Page (1,000
  conversations + 100 posts; quick: 100 + 10), the wall time against the bound the limit
  imposes: (Conversations API calls - 1) / 2 seconds.

Run alone: ``python -m benchmarks.bench_sync [--quick]`` (or ``python -m benchmarks --only sync``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, at_least, at_most, info, median
from benchmarks._syncdata import T0, Data, new_sandbox, populate
from benchmarks.bench_vs_sdk import sdk_available
from benchmarks.figures import Figure
from socialdesk.sandbox import Sandbox

LATENCY_MS = 50.0
PAGE = 100
"""Items per page socialdesk asks for (the API's maximum for these edges)."""
CALLS_BAR = 20.0
WALL_BAR = 10.0


@dataclass
class Served:
    """A sandbox served on loopback, and what the clients need to reach it."""

    sb: Sandbox
    data: Data
    base_url: str
    env: dict[str, str]
    stop: Any


def serve(convs: int, posts: int, *, latency_ms: float = LATENCY_MS) -> Served:
    sb, page_id, token = new_sandbox()
    data = populate(sb, page_id, token, convs=convs, posts=posts)
    server = sb.serve(latency_ms=latency_ms)
    env = {**os.environ, "SOCIALDESK_BENCH_TOKEN": token, "PYTHONPATH": str(ROOT)}
    return Served(sb, data, server.base_url, env, server.shutdown)


def client_run(
    srv: Served, client: str, home: Path, *, full: bool = False, pace: bool = False
) -> dict[str, Any]:
    """One sync by ``client`` in a fresh process; adds the server's call counts."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks._syncclient",
        client,
        "--base-url",
        srv.base_url,
        "--page",
        srv.data.page_id,
        "--home",
        str(home),
        "--now",
        srv.sb.now().isoformat(),
    ]
    if full:
        cmd.append("--full")
    if pace:
        cmd.append("--pace")
    srv.sb.reset_counters()
    proc = subprocess.run(cmd, env=srv.env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{client} sync failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if out.get("failed"):
        raise RuntimeError(f"{client} sync: edges failed: {out['failed']}")
    out["server_calls"] = srv.sb.calls
    edges = srv.sb.calls_by_edge
    out["paced_calls"] = edges["GET conversations"] + edges["GET messages"]
    out["edges"] = ", ".join(f"{k.removeprefix('GET ')} {v}" for k, v in sorted(edges.items()))
    return out


def _change(srv: Served, rng: random.Random, k: int, *, each: int = 1) -> None:
    """``k`` conversations get ``each`` new customer messages (a minute later)."""
    srv.sb.advance(600)
    for uid in rng.sample(srv.data.users, k):
        for j in range(each):
            srv.sb.add_message(srv.data.page_id, uid, f"any news on my order? ({j})")
            srv.sb.advance(1)


def _stats(runs: list[dict[str, Any]], key: str) -> float:
    return median([float(r[key]) for r in runs])


def _ratio(peer: float, ours: float) -> float:
    return peer / ours if ours > 0 else float("nan")


def compare(
    convs: int, posts: int, *, latency_ms: float = LATENCY_MS, runs: int = 3, sdk_runs: int = 1
) -> list[Figure]:
    """Every figure of the module's first two parts (see the module docstring)."""
    srv = serve(convs, posts, latency_ms=latency_ms)
    data = srv.data
    size = f"{convs:,} conversations + {posts:,} posts, {latency_ms:g} ms latency"
    figs: list[Figure] = []
    sdk = sdk_available()
    tmp = Path(tempfile.mkdtemp(prefix="socialdesk-bench-sync-"))
    try:
        # -- initial: socialdesk (fresh home each run), then the peer -------------------------
        ours_init = [client_run(srv, "socialdesk", tmp / f"sd{i}") for i in range(runs)]
        home = tmp / f"sd{runs - 1}"
        calls = int(ours_init[0]["server_calls"])
        if any(int(r["server_calls"]) != calls for r in ours_init):
            raise RuntimeError(f"initial sync calls vary: {[r['server_calls'] for r in ours_init]}")
        lower = math.ceil(convs / PAGE) + math.ceil(posts / PAGE) + data.long_threads
        lower += data.busy_posts
        figs.append(
            at_most(
                "sync_initial_calls",
                calls,
                "calls",
                lower + 5,
                f"{size}; lower bound ceil(C/100)+ceil(P/100)+long threads"
                f" ({data.long_threads})+busy posts ({data.busy_posts}) = {lower}",
            )
        )
        figs.append(
            info(
                "sync_initial_calls_over_lower_bound",
                calls / lower,
                "x",
                f"{calls} calls / lower bound {lower}",
            )
        )
        ours_wall = _stats(ours_init, "seconds")
        figs.append(
            info("sync_initial_wall_s", ours_wall, "s", f"socialdesk, {size}, median of {runs}")
        )
        figs.append(
            info(
                "sync_initial_peak_rss_mb",
                _stats(ours_init, "peak_rss_mb"),
                "MB",
                f"socialdesk sync process, median of {runs}",
            )
        )
        peer_home = tmp / "sdk"
        peer_init: list[dict[str, Any]] = []
        if sdk is not None:
            for i in range(sdk_runs):
                h = peer_home if i == sdk_runs - 1 else tmp / f"sdk{i}"
                peer_init.append(client_run(srv, "sdk", h))
            got = (peer_init[-1]["messages"], peer_init[-1]["comments"])
            if got != (data.messages, data.comments):
                raise RuntimeError(
                    f"the SDK script stored {got}, the sandbox holds "
                    f"{(data.messages, data.comments)}"
                )
        figs += _peer_figures("initial", peer_init, calls, ours_wall, sdk, sdk_runs, size)

        # -- no change, then 5 changed threads (both clients, same changes) ----------------------
        rng = random.Random(3)
        nochange = []
        for _ in range(runs):
            srv.sb.advance(60)
            nochange.append(client_run(srv, "socialdesk", home))
        figs.append(
            at_most(
                "sync_nochange_calls",
                _stats(nochange, "server_calls"),
                "calls",
                2,
                f"nothing changed, median of {runs}; by edge: {nochange[-1]['edges']}",
            )
        )
        ours_inc: list[dict[str, Any]] = []
        peer_inc: list[dict[str, Any]] = []
        for _ in range(runs):
            _change(srv, rng, 5)
            ours_inc.append(client_run(srv, "socialdesk", home))
            if sdk is not None:
                peer_inc.append(client_run(srv, "sdk", peer_home))
        inc_calls = _stats(ours_inc, "server_calls")
        figs.append(
            at_most(
                "sync_incremental_calls",
                inc_calls,
                "calls",
                2 + 1,
                f"5 changed threads, bound 2+ceil(5/100); median of {runs};"
                f" {ours_inc[-1]['edges']}",
            )
        )
        inc_wall = _stats(ours_inc, "seconds")
        figs.append(
            info(
                "sync_incremental_wall_s",
                inc_wall,
                "s",
                f"socialdesk, 5 changed threads, median of {runs}",
            )
        )
        figs.append(
            info(
                "sync_incremental_peak_rss_mb",
                _stats(ours_inc, "peak_rss_mb"),
                "MB",
                "socialdesk sync process",
            )
        )
        figs += _peer_figures("incremental", peer_inc, inc_calls, inc_wall, sdk, runs, size)

        # -- more incremental shapes (socialdesk; call counts are deterministic) ----------------
        for label, k in (("small", 10), ("large", min(250, convs // 2))):
            _change(srv, rng, k)
            r = client_run(srv, "socialdesk", home)
            bound = 2 + math.ceil(k / PAGE)
            figs.append(
                at_most(
                    f"sync_changed_{label}_calls",
                    r["server_calls"],
                    "calls",
                    bound,
                    f"{k} changed threads, bound 2+ceil(k/100); {r['edges']}",
                )
            )
        _change(srv, rng, 5, each=40)
        r = client_run(srv, "socialdesk", home)
        figs.append(
            at_most(
                "sync_burst_calls",
                r["server_calls"],
                "calls",
                2 + 1 + 5,
                "5 threads with 40 new messages each (> 25 nested): one more page each;"
                f" {r['edges']}",
            )
        )
        srv.sb.advance(600)
        for pid in srv.sb.state.pages[data.page_id].posts[:20]:  # the newest, in the lookback
            srv.sb.add_comment(pid, srv.sb.add_user("Late commenter"), "still available?")
        r = client_run(srv, "socialdesk", home)
        figs.append(
            at_most(
                "sync_new_comments_calls",
                r["server_calls"],
                "calls",
                2,
                f"new comments on 20 recent posts: no extra call; {r['edges']}",
            )
        )
        srv.sb.advance(600)
        r = client_run(srv, "socialdesk", home, full=True)
        figs.append(
            info(
                "sync_full_rewalk_calls",
                r["server_calls"],
                "calls",
                f"--full re-walk, {r['seconds']:.1f} s",
            )
        )
    finally:
        srv.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return figs


def _peer_figures(
    phase: str,
    peer: list[dict[str, Any]],
    ours_calls: float,
    ours_wall: float,
    sdk: str | None,
    runs: int,
    size: str,
) -> list[Figure]:
    calls_name, wall_name = f"sync_{phase}_calls_ratio", f"sync_{phase}_wall_ratio"
    calls_bar, wall_bar = f">= {CALLS_BAR:g} x", f">= {WALL_BAR:g} x"
    if sdk is None:
        why = "facebook-business not installed (pip install -e '.[bench]'): not measured"
        return [
            Figure(calls_name, float("nan"), "x", calls_bar, None, why),
            Figure(wall_name, float("nan"), "x", wall_bar, None, why),
        ]
    calls = _stats(peer, "server_calls")
    wall = _stats(peer, "seconds")
    n = f"median of {len(peer)}" if len(peer) > 1 else "one run"
    out = [
        info(f"sdk_{phase}_calls", calls, "calls", f"facebook-business {sdk} script, {size}"),
        info(f"sdk_{phase}_wall_s", wall, "s", f"facebook-business script, {n}"),
        info(
            f"sdk_{phase}_peak_rss_mb",
            _stats(peer, "peak_rss_mb"),
            "MB",
            "facebook-business script process",
        ),
        at_least(
            calls_name,
            _ratio(calls, ours_calls),
            "x",
            CALLS_BAR,
            f"{calls:.0f} / {ours_calls:.0f} calls (peer ÷ socialdesk)",
        ),
        at_least(
            wall_name,
            _ratio(wall, ours_wall),
            "x",
            WALL_BAR,
            f"{wall:.1f} s / {ours_wall:.2f} s (peer ÷ socialdesk)",
        ),
    ]
    return out


def paced(convs: int, posts: int, *, runs: int) -> list[Figure]:
    """Wall time with the 2 calls/s limit on, against the bound it imposes."""
    start = time.monotonic()
    # A sandbox whose clock moves with real time (its 2 calls/s buckets refill as Meta's do).
    sb = Sandbox(clock=lambda: T0 + timedelta(seconds=time.monotonic() - start), rate_limit=True)
    sb.usage_budget = 10**9
    page_id = sb.add_page("Bench Shop")
    token = sb.issue_token(page_id)
    data = populate(sb, page_id, token, convs=convs, posts=posts)
    server = sb.serve(latency_ms=LATENCY_MS)
    srv = Served(
        sb,
        data,
        server.base_url,
        {**os.environ, "SOCIALDESK_BENCH_TOKEN": token, "PYTHONPATH": str(ROOT)},
        server.shutdown,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="socialdesk-bench-paced-") as tmp:
        try:
            for i in range(runs):
                results.append(client_run(srv, "socialdesk", Path(tmp) / f"h{i}", pace=True))
        finally:
            server.shutdown()
    wall = _stats(results, "seconds")
    n_paced = int(results[0]["paced_calls"])
    bound = max(0, n_paced - 1) / 2.0
    note = (
        f"{convs:,} conversations + {posts:,} posts, 2 calls/s on, {LATENCY_MS:g} ms latency;"
        f" {n_paced} Conversations API calls => >= {bound:.1f} s; "
        + (f"median of {runs}" if runs > 1 else "one run")
    )
    return [
        info("sync_paced_wall_s", wall, "s", note),
        info(
            "sync_paced_wall_over_bound",
            _ratio(wall, bound),
            "x",
            "wall ÷ the 2 calls/s bound (the pacer spaces calls 0.6 s apart: 1.2x by design)",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    """The module's figures (see the module docstring)."""
    if quick:
        figs = compare(200, 20, runs=1, sdk_runs=1)
        return figs + paced(100, 10, runs=1)
    figs = compare(10_000, 1_000, runs=3, sdk_runs=1)
    return figs + paced(1_000, 100, runs=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    figs = run(args.quick)
    print_table(figs)
    return 0 if all(f.passed is not False for f in figs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
