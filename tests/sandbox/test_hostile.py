"""The hostile corpus: what it covers, and build_demo(hostile=True) serving it intact."""

from __future__ import annotations

import httpx

from socialdesk.sandbox import build_demo
from socialdesk.sandbox.hostile import ATTACHMENT_NAMES, CORPUS, NAMES

from .conftest import BASE, NOW, V


def test_corpus_covers_every_control_and_invisible() -> None:
    """Every C0/C1 control, the tag block, U+206A-206F, bidi, zero-width, fillers are in it."""
    joined = "".join(CORPUS)
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        assert chr(code) in joined, hex(code)
    for code in [*range(0xE0000, 0xE0080), *range(0x206A, 0x2070)]:
        assert chr(code) in joined, hex(code)
    for ch in "\u202e\u202d\u2066\u2067\u2068\u2069\u200b\u200d\u2060\ufeff\u00ad\u034f\u3164":
        assert ch in joined, hex(ord(ch))
    assert "[@click=app.quit]x[/]" in CORPUS
    assert any(s.startswith("\x1b]8;;") for s in CORPUS)  # OSC 8 hyperlink
    assert any("\x1b]52;" in s for s in CORPUS)  # OSC 52 clipboard
    assert any(s.startswith("\x1bP") for s in CORPUS)  # DCS
    assert any(s.startswith("\x1b_") for s in CORPUS)  # APC
    assert "\x1b[" in CORPUS and "\x1b" in CORPUS  # truncated sequences
    assert sum(1 for n in NAMES if len(n) == 4096) == 2
    assert all(isinstance(s, str) and s for s in CORPUS)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for s in CORPUS for c in s)


def test_hostile_demo_serves_the_corpus_intact() -> None:
    """Names, DM texts, post texts, comment texts and attachment names round-trip exactly."""
    sb, page, token = build_demo(seed=0, threads=12, now=NOW, hostile=True, rate_limit=False)
    client = httpx.Client(
        transport=sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    names: set[str] = set()
    texts: set[str] = set()
    attachments: set[str] = set()
    url: str | None = (
        f"{V}/{page}/conversations?limit=25&fields=participants,"
        "messages.limit(100){message,attachments{name}}"
    )
    while url:
        body = client.get(url).json()
        assert body.get("data") is not None, body
        for conv in body["data"]:
            names.update(p["name"] for p in conv["participants"]["data"])
            for msg in conv["messages"]["data"]:
                texts.add(msg["message"])
                for att in msg.get("attachments", {}).get("data", []):
                    attachments.add(att["name"])
        url = body.get("paging", {}).get("next")
    assert set(NAMES) <= names
    assert set(CORPUS) <= texts
    assert set(ATTACHMENT_NAMES) <= attachments
    posts: set[str] = set()
    comments: set[str] = set()
    url = f"{V}/{page}/feed?limit=25&fields=message,comments.limit(100){{message}}"
    while url:
        feed = client.get(url).json()
        for post in feed["data"]:
            posts.add(post.get("message", ""))
            comments.update(c["message"] for c in post.get("comments", {}).get("data", []))
        url = feed.get("paging", {}).get("next")
    assert set(CORPUS[: len(CORPUS) // 2]) <= posts
    assert set(CORPUS) <= comments


def test_plain_demo_has_no_corpus() -> None:
    """Without hostile=True the demo keeps only its one hostile fixture customer."""
    sb, _, _ = build_demo(seed=0, threads=12, now=NOW)
    names = {u.name for u in sb.state.users.values()}
    assert not set(NAMES[1:]) & names
