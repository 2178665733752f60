"""socialdesk's sync versus "the usual script" written with Meta's official SDK, over loopback.

The sandbox is served on 127.0.0.1 with a fixed latency per request (default 50 ms, about a
real round trip to graph.facebook.com) and holds the same data for both: 500 conversations (a
share longer than 25 messages) and 50 posts (a share with more than 25 comments).

- **socialdesk**: ``core.sync.sync_page`` with the product's client (pacing on: at most 2
  Conversations API calls per second, as Meta enforces), then once more with pacing off.
- **SDK script**: the straightforward sync the ``facebook-business`` docs lead to: list the
  Page's conversations (``Page.get_conversations``), then ``UnifiedThread.get_messages`` for each
  one, then the feed (``Page.get_feed``) and ``PagePost.get_comments`` for each post, letting the
  SDK's ``Cursor`` follow paging. It asks for the fields needed to store the same data. The SDK
  is pointed at the sandbox by setting its session's ``GRAPH`` base URL (the SDK sends the token
  as the ``access_token`` parameter, which the sandbox accepts). It does not pace itself; the
  report adds what its Conversations API calls would need at Meta's 2 calls/s.

The SDK is a benchmark-only dependency, never a runtime one::

    .venv/bin/pip install facebook-business      # or: pip install --target DIR facebook-business
    .venv/bin/python benchmarks/bench_vs_sdk.py [--convs 500] [--posts 50] [--latency-ms 50]

(with ``--target DIR``, run with ``PYTHONPATH=DIR``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._syncdata import new_sandbox, populate
from socialdesk.api.client import GraphClient
from socialdesk.core.clock import SystemClock
from socialdesk.core.sync import sync_page
from socialdesk.paths import Paths
from socialdesk.store.db import open_db

MESSAGE_FIELDS = ["id", "created_time", "from", "to", "message", "attachments", "sticker"]
COMMENT_FIELDS = ["id", "created_time", "from", "message", "parent", "attachment", "is_hidden"]


def sdk_sync(base_url: str, token: str, page_id: str) -> dict[str, Any]:
    """The usual script: one messages listing per conversation, one comments listing per post."""
    from facebook_business.adobjects.page import Page  # type: ignore[import-not-found]
    from facebook_business.adobjects.pagepost import PagePost  # type: ignore[import-not-found]
    from facebook_business.adobjects.unifiedthread import (  # type: ignore[import-not-found]
        UnifiedThread,
    )
    from facebook_business.api import FacebookAdsApi  # type: ignore[import-not-found]

    # The SDK's field lists for a thread's messages predate `from`/`message`/…; it warns and
    # sends them anyway (the API and the sandbox accept them).
    warnings.filterwarnings("ignore", category=UserWarning, module="facebook_business")
    api = FacebookAdsApi.init(access_token=token, api_version="v26.0", crash_log=False)
    api._session.GRAPH = base_url  # the one switch needed to talk to the sandbox
    page = Page(page_id)
    messages = comments = n_convs = n_posts = 0
    t0 = time.perf_counter()
    for conv in page.get_conversations(fields=["id", "updated_time"]):
        n_convs += 1
        thread = UnifiedThread(conv["id"])
        for _msg in thread.get_messages(fields=MESSAGE_FIELDS):
            messages += 1
    for post in page.get_feed(fields=["id", "message", "created_time", "updated_time"]):
        n_posts += 1
        for _comment in PagePost(post["id"]).get_comments(
            fields=COMMENT_FIELDS, params={"filter": "stream"}
        ):
            comments += 1
    return {
        "seconds": time.perf_counter() - t0,
        "conversations": n_convs,
        "messages": messages,
        "posts": n_posts,
        "comments": comments,
    }


def ours(base_url: str, token: str, page_id: str, *, pace: bool) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-vs-sdk-"))
    conn = open_db(home / "socialdesk.db")
    with GraphClient(token, base_url=base_url, pace=pace) as client:
        t0 = time.perf_counter()
        report = sync_page(conn, client, page_id, paths=Paths(home, home), clock=SystemClock())
        seconds = time.perf_counter() - t0
    msgs = conn.execute("SELECT count(*) FROM messages WHERE thread_id LIKE 't_%'").fetchone()[0]
    cmts = conn.execute("SELECT count(*) FROM messages WHERE thread_id NOT LIKE 't_%'").fetchone()
    conn.close()
    return {
        "seconds": seconds,
        "calls": report.calls,
        "conversations": report.conversations,
        "messages": msgs,
        "posts": report.posts,
        "comments": cmts[0],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="socialdesk sync vs the facebook-business SDK")
    ap.add_argument("--convs", type=int, default=500)
    ap.add_argument("--posts", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    args = ap.parse_args(argv)
    try:
        import facebook_business  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        print("this benchmark needs the SDK: pip install facebook-business", file=sys.stderr)
        return 2

    sb, page_id, token = new_sandbox()
    data = populate(sb, page_id, token, convs=args.convs, posts=args.posts)
    server = sb.serve(latency_ms=args.latency_ms)
    print(
        f"sandbox at {server.base_url}, {args.latency_ms:g} ms per request: "
        f"{args.convs} conversations ({data.messages} messages, {data.long_threads} long), "
        f"{args.posts} posts ({data.comments} comments, {data.busy_posts} busy)"
    )
    rows: list[tuple[str, int, float, int, int, float | None]] = []
    try:
        for pace in (True, False):
            sb.reset_counters()
            r = ours(server.base_url, token, page_id, pace=pace)
            label = "socialdesk sync" + (" (paced 2/s)" if pace else " (pacing off)")
            rows.append((label, sb.calls, r["seconds"], r["messages"], r["comments"], None))
            assert sb.calls == r["calls"]
        sb.reset_counters()
        s = sdk_sync(server.base_url, token, page_id)
        conv_calls = sb.calls_by_edge["GET conversations"] + sb.calls_by_edge["GET messages"]
        rows.append(
            (
                "facebook-business script",
                sb.calls,
                s["seconds"],
                s["messages"],
                s["comments"],
                conv_calls / 2.0,
            )
        )
        sdk_edges = dict(sb.calls_by_edge)
    finally:
        server.shutdown()
    print(f"{'':<30}{'calls':>7}{'wall s':>9}{'messages':>10}{'comments':>10}  at 2 calls/s")
    for label, calls, secs, msgs, cmts, paced in rows:
        extra = f"  ≥ {paced:.0f} s" if paced is not None else ""
        print(f"{label:<30}{calls:>7}{secs:>9.1f}{msgs:>10}{cmts:>10}{extra}")
    print(f"SDK script calls by edge: {sdk_edges}")
    ratio = rows[2][1] / rows[0][1]
    print(f"the SDK script makes {ratio:.0f}x the calls of socialdesk for the same data")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
