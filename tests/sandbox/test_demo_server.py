"""Demo data invariants and determinism, the activity timer, and the real loopback server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from socialdesk.sandbox import Activity, build_demo, serve_forever
from socialdesk.sandbox.demo import HOSTILE_NAME

from .conftest import NOW


def all_text(sb_state: object) -> str:
    """Every message and comment text of the demo, joined."""
    from socialdesk.sandbox.model import State

    assert isinstance(sb_state, State)
    texts = [m.text for m in sb_state.messages.values()]
    texts += [c.message for c in sb_state.comments.values()]
    texts += [u.name for u in sb_state.users.values()]
    return "\n".join(texts)


def test_demo_invariants() -> None:
    """≥ 60 threads, five languages, attachments, sticker, share, windows, brackets, hostile."""
    sb, page, token = build_demo(seed=0, now=NOW)
    st = sb.state
    convs = [st.conversations[c] for c in st.pages[page].conversations]
    top_comments = [c for c in st.comments.values() if c.parent_id is None]
    assert len(convs) >= 60 and len(convs) + len(top_comments) >= 80
    text = all_text(st)
    for sample in (
        "merino",
        "Dzień dobry",
        "Labdien",
        "Hei!",
        "Здравствуйте",
        "🧶",
        "[URGENT]",
        "[/b]",
    ):
        assert sample in text, sample
    for hostile in ("\x1b[2J", "\x1b]52;", "\x9b", "\u202e"):
        assert hostile in text and hostile in HOSTILE_NAME
    msgs = list(st.messages.values())
    assert any(m.sticker for m in msgs) and any(m.shares for m in msgs)
    mimes = {a["mime_type"] for m in msgs for a in m.attachments}
    assert {"image/jpeg", "application/pdf"} <= mimes
    ages = []
    for conv in convs:
        last = conv.last_user_message()
        assert last is not None
        ages.append(NOW - last.at)
    assert any(timedelta(hours=23, minutes=40) <= a < timedelta(hours=24) for a in ages)
    assert any(timedelta(hours=24) < a <= timedelta(hours=36) for a in ages)
    assert any(a >= timedelta(days=8) for a in ages)
    assert all(m.at <= NOW for m in msgs) and all(c.at <= NOW for c in st.comments.values())
    assert any(m.sender_id == page for m in msgs)  # answered elsewhere
    assert any(u.blocked for u in st.users.values())
    assert any(c.parent_id and c.from_id == page for c in st.comments.values())
    assert any(c.parent_id and c.from_id != page for c in st.comments.values())
    assert sb.deliveries(page) == []
    client = httpx.Client(transport=sb.transport(), base_url="https://graph.facebook.com")
    me = client.get("/v26.0/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "Nordic Knits", "id": page}


def test_demo_deterministic() -> None:
    """Same seed and now → identical ids, token and texts; another seed differs."""
    a, pa, ta = build_demo(seed=5, now=NOW)
    b, pb, tb = build_demo(seed=5, now=NOW)
    c, _, _ = build_demo(seed=6, now=NOW)
    assert (pa, ta) == (pb, tb)
    assert list(a.state.messages) == list(b.state.messages)
    assert all_text(a.state) == all_text(b.state)
    assert list(a.state.messages) != list(c.state.messages)


def test_demo_scales_to_thousands_of_threads() -> None:
    """threads=3000 builds with posts = threads // 10 (its speed is measured in benchmarks/)."""
    sb, page, _ = build_demo(seed=1, threads=3000, now=NOW)
    messenger = [c for c in sb.state.conversations.values() if c.platform == "messenger"]
    assert len(messenger) == 3000
    assert len(sb.state.pages[page].posts) == 300 + 1


def test_activity_tick_adds_customer_content() -> None:
    """An activity tick adds one customer message or comment stamped with the sandbox clock,
    and every third tick one Instagram DM or comment too."""
    sb, page, _ = build_demo(seed=2, now=NOW)
    sb.advance(60)

    def content() -> int:
        return len(sb.state.messages) + len(sb.state.comments) + len(sb.state.ig_comments)

    before = content()
    act = Activity(sb, 1.0, seed=3)
    for _ in range(6):
        act.tick()
    assert content() == before + 6 + 2
    newest = max(sb.state.messages.values(), key=lambda m: m.us)
    assert newest.at == NOW + timedelta(seconds=60)
    assert newest.sender_id != page


def test_real_server_round_trip() -> None:
    """The loopback server answers reads, paging, sends and ETags like the transport."""
    sb, page, token = build_demo(seed=0, now=datetime.now(UTC), rate_limit=False)
    with sb.serve(port=0) as srv:
        assert srv.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(
            base_url=srv.base_url, timeout=5, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            assert client.get("/v26.0/me").json()["id"] == page
            resp = client.get(f"/v26.0/{page}/conversations", params={"fields": "id,participants"})
            body = resp.json()
            assert len(body["data"]) == 25
            assert body["paging"]["next"].startswith(srv.base_url + "/v26.0/")
            assert client.get(body["paging"]["next"]).status_code == 200
            again = client.get(
                f"/v26.0/{page}/conversations",
                params={"fields": "id,participants"},
                headers={"If-None-Match": resp.headers["etag"]},
            )
            assert again.status_code == 304
            (hostile,) = [
                u.id
                for u in sb.state.users.values()
                if u.name == HOSTILE_NAME and u.platform == "messenger"
            ]
            sent = client.post(
                f"/v26.0/{page}/messages",
                json={
                    "recipient": {"id": hostile},
                    "message": {"text": "hello from the server test"},
                },
            )
            assert sent.status_code == 200
            assert [d.text for d in sb.deliveries(page)] == ["hello from the server test"]
            assert resp.headers["x-business-use-case-usage"]


def test_serve_forever_stall_and_stop() -> None:
    """serve_forever reports its URL, stalls timeouts past the client timeout, stops on request."""
    sb, _, token = build_demo(seed=0, now=datetime.now(UTC), rate_limit=False)
    sb.faults = "rate=1,kinds=timeout,stall=0.5"
    ready: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_forever,
        args=(sb,),
        kwargs={"on_ready": ready.append, "stop": stop, "activity_s": 0.05},
    )
    thread.start()
    try:
        for _ in range(100):
            if ready:
                break
            time.sleep(0.01)
        url = ready[0]
        try:
            httpx.get(f"{url}/v26.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=0.2)
            raise AssertionError("expected a timeout")
        except httpx.ReadTimeout:
            pass
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_demo_customers_have_realistic_distinct_names() -> None:
    """Repeated demo names get a middle initial, never a number suffix ("Emma Wilson 2")."""
    import re

    sb, page_id, _ = build_demo(seed=0, threads=120)
    st = sb.state
    dm_names = [
        st.users[st.conversations[c].user_id].name
        for c in st.pages[page_id].conversations
        if st.conversations[c].platform == "messenger"
    ]
    assert not [n for n in dm_names if re.search(r"\d", n) and "Mallory" not in n]
    assert [n for n in dm_names if re.fullmatch(r"\w+ \w\. \w+", n)]
    assert len(set(dm_names)) >= 0.95 * len(dm_names)
