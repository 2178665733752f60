"""One sync run in a fresh process, for :mod:`benchmarks.bench_sync` (peak memory per client).

``python -m benchmarks._syncclient socialdesk|sdk --base-url URL --page ID --home DIR --now ISO``
syncs the Page served at ``URL`` into ``DIR`` (socialdesk: ``core.sync.sync_page`` into
``DIR/socialdesk.db``; sdk: :func:`benchmarks.bench_vs_sdk.sdk_sync` into a JSON file), then
prints one JSON line: ``seconds`` (the sync alone, imports excluded), ``peak_rss_mb`` (the
process's peak resident memory, imports included: what the client costs) and what was stored.
The token comes from ``$SOCIALDESK_BENCH_TOKEN`` (never the command line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import peak_rss_mb


def _socialdesk(
    base_url: str, token: str, page_id: str, home: Path, now: datetime, full: bool, pace: bool
) -> dict[str, Any]:
    from socialdesk.api.client import GraphClient
    from socialdesk.core.clock import FixedClock
    from socialdesk.core.sync import sync_page
    from socialdesk.paths import Paths
    from socialdesk.store.db import open_db

    conn = open_db(home / "socialdesk.db")
    with GraphClient(token, base_url=base_url, pace=pace) as client:
        t0 = time.perf_counter()
        report = sync_page(
            conn,
            client,
            page_id,
            paths=Paths(home, home),
            clock=FixedClock(now),
            full=full,
            deadline_s=None,
        )
        seconds = time.perf_counter() - t0
    conn.close()
    return {
        "seconds": seconds,
        "calls": report.calls,
        "messenger_calls": report.messenger_calls,
        "conversations": report.conversations,
        "messages": report.messages,
        "posts": report.posts,
        "comments": report.comments,
        "failed": [e.edge for e in report.failed_edges],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("client", choices=("socialdesk", "sdk"))
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--page", required=True)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--now", required=True, help="ISO time: the sandbox's clock")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--pace", action="store_true", help="socialdesk: 2 calls/s pacing on")
    args = ap.parse_args(argv)
    token = os.environ["SOCIALDESK_BENCH_TOKEN"]
    args.home.mkdir(parents=True, exist_ok=True)
    if args.client == "socialdesk":
        out = _socialdesk(
            args.base_url,
            token,
            args.page,
            args.home,
            datetime.fromisoformat(args.now),
            args.full,
            args.pace,
        )
    else:
        # The SDK's modules are imported before the clock starts (as socialdesk's are).
        import facebook_business.adobjects.page
        import facebook_business.adobjects.pagepost
        import facebook_business.adobjects.unifiedthread
        import facebook_business.api  # noqa: F401

        from benchmarks.bench_vs_sdk import sdk_sync

        t0 = time.perf_counter()
        out = dict(sdk_sync(args.base_url, token, args.page, args.home))
        out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
