"""The peer of the sync benchmark: "the usual script", written with Meta's official SDK.

The script a developer writes from the ``facebook-business`` docs to keep a copy of a Page's
inbox: list the Page's conversations (``Page.get_conversations``), list each conversation's
messages (``UnifiedThread.get_messages``), then the feed (``Page.get_feed``) and each post's
comments (``PagePost.get_comments``), letting the SDK's ``Cursor`` follow paging with the API's
default page sizes, and save everything to a JSON file. Run again, it loads that file, walks
the same listings and fetches messages (comments) only for conversations (posts) whose
``updated_time`` moved: the straightforward incremental sync. It does not pace itself.

The SDK is pointed at the sandbox by its session's ``GRAPH`` base URL (it sends the token as the
``access_token`` parameter, which the sandbox accepts). It is a benchmark-only dependency (the
``bench`` extra: ``pip install -e '.[bench]'``), never a runtime one.

:func:`sdk_sync` is run in a child process by :mod:`benchmarks._syncclient` for
:mod:`benchmarks.bench_sync`, which compares it with socialdesk's sync over the same loopback
sandbox. ``main`` runs that comparison alone at a chosen size::

    python -m benchmarks.bench_vs_sdk [--convs 500] [--posts 50] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

MESSAGE_FIELDS = ["id", "created_time", "from", "to", "message", "attachments", "sticker"]
COMMENT_FIELDS = ["id", "created_time", "from", "message", "parent", "attachment", "is_hidden"]
STORE = "sdk_store.json"


def sdk_available() -> str | None:
    """The SDK's version, or None when it is not installed."""
    try:
        import facebook_business
    except ImportError:
        return None
    return str(getattr(facebook_business, "__version__", "?"))


def sdk_sync(base_url: str, token: str, page_id: str, home: Path) -> dict[str, int]:
    """One run of the usual script (initial when ``home`` holds no store yet, else incremental)."""
    from facebook_business.adobjects.page import Page
    from facebook_business.adobjects.pagepost import (
        PagePost,
    )
    from facebook_business.adobjects.unifiedthread import (
        UnifiedThread,
    )
    from facebook_business.api import FacebookAdsApi

    # The SDK's field lists for a thread's messages predate `from`/`message`/…; it warns and
    # sends them anyway (the API and the sandbox accept them).
    warnings.filterwarnings("ignore", category=UserWarning, module="facebook_business")
    api = FacebookAdsApi.init(access_token=token, api_version="v26.0", crash_log=False)
    api._session.GRAPH = base_url  # the one switch needed to talk to the sandbox
    path = home / STORE
    store: dict[str, dict[str, Any]] = (
        json.loads(path.read_text(encoding="utf-8"))
        if path.exists()
        else {"conversations": {}, "posts": {}}
    )
    page = Page(page_id)
    fetched_messages = fetched_comments = 0
    for conv in page.get_conversations(fields=["id", "updated_time"]):
        known = store["conversations"].get(conv["id"])
        if known is not None and known["updated_time"] == conv["updated_time"]:
            continue
        messages = [
            m.export_all_data()
            for m in UnifiedThread(conv["id"]).get_messages(fields=MESSAGE_FIELDS)
        ]
        fetched_messages += len(messages)
        store["conversations"][conv["id"]] = {
            "updated_time": conv["updated_time"],
            "messages": messages,
        }
    for post in page.get_feed(fields=["id", "message", "created_time", "updated_time"]):
        known = store["posts"].get(post["id"])
        if known is not None and known["updated_time"] == post.get("updated_time"):
            continue
        comments = [
            c.export_all_data()
            for c in PagePost(post["id"]).get_comments(
                fields=COMMENT_FIELDS, params={"filter": "stream"}
            )
        ]
        fetched_comments += len(comments)
        store["posts"][post["id"]] = {
            "updated_time": post.get("updated_time"),
            "message": post.get("message"),
            "comments": comments,
        }
    path.write_text(json.dumps(store), encoding="utf-8")
    return {
        "conversations": len(store["conversations"]),
        "posts": len(store["posts"]),
        "messages": sum(len(c["messages"]) for c in store["conversations"].values()),
        "comments": sum(len(p["comments"]) for p in store["posts"].values()),
        "fetched_messages": fetched_messages,
        "fetched_comments": fetched_comments,
    }


def main(argv: list[str] | None = None) -> int:
    """The socialdesk-versus-SDK comparison alone, at a chosen size."""
    ap = argparse.ArgumentParser(description="socialdesk sync vs the facebook-business SDK")
    ap.add_argument("--convs", type=int, default=500)
    ap.add_argument("--posts", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    if sdk_available() is None:
        print("this benchmark needs the SDK: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    from benchmarks.bench_sync import compare

    for f in compare(args.convs, args.posts, latency_ms=args.latency_ms, runs=args.runs):
        print(f"{f.name:<40} {f.value:>10g} {f.unit:<6} {f.bar or '':<12} {f.note}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
