"""core.ig_sync through core.sync against the sandbox: channels, the 20-message horizon and
its gap markers, count-gated comment re-reads, and the edges failing on their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from socialdesk.core import syncing
from socialdesk.errors import ExitCode
from socialdesk.models import Channel, EdgeStatus
from socialdesk.store import pages as store_pages
from socialdesk.store import threads as store_threads

from .conftest import IgWorld, make_ig_world


def _channels(w: IgWorld) -> dict[str, str]:
    return dict(w.conn.execute("SELECT id, channel FROM threads").fetchall())


def test_first_sync_stores_both_instagram_channels(igw: IgWorld) -> None:
    report = igw.sync()
    assert report.errors == ()
    chans = set(_channels(igw).values())
    assert {"ig_dm", "ig_comment"} <= chans
    conv = igw.sb.conversation_id(igw.page_id, igw.jane)
    th = store_threads.get_thread(igw.conn, conv, now=igw.sb.now())
    assert th is not None and th.channel is Channel.IG_DM
    assert th.customer.username == "jane.doe"
    assert th.customer.name == "@jane.doe"
    assert th.customer.real_name == ""
    assert th.awaiting_reply
    assert report.instagram["threads"] == 2
    assert report.instagram["media_reread"] == 1
    # The comment thread: the business's reply is outbound, the stored count is Graph's.
    comment = next(t for t, c in _channels(igw).items() if c == "ig_comment")
    msgs = store_threads.get_messages(igw.conn, comment)
    assert [m.direction.value for m in msgs] == ["in", "out"]
    total = igw.conn.execute(
        "SELECT comments_total FROM posts WHERE id = ?", (igw.media,)
    ).fetchone()[0]
    assert total == 2


def test_idle_sync_costs_two_instagram_calls(igw: IgWorld) -> None:
    igw.sync()
    igw.sb.reset_counters()
    report = igw.sync()
    assert igw.edge(report, "ig_conversations").calls == 1
    assert igw.edge(report, "ig_media").calls == 1
    assert report.instagram["media_reread"] == 0
    assert report.instagram["messages"] == 0


def test_comments_are_reread_only_where_the_count_moved(igw: IgWorld) -> None:
    quiet = igw.sb.add_ig_media(igw.ig, "Quiet post", at=igw.sb.now() - timedelta(days=2))
    igw.sb.add_ig_comment(quiet, igw.kuba, "ładne", at=igw.sb.now() - timedelta(days=1))
    igw.sync()
    igw.sb.add_ig_comment(igw.media, igw.kuba, "price?", at=igw.sb.now())
    igw.sb.reset_counters()
    report = igw.sync()
    assert report.instagram["media_reread"] == 1
    assert igw.edge(report, "ig_media").calls == 2  # the media page + one comments page
    assert report.instagram["comments"] == 1


def test_more_than_20_messages_between_syncs_leaves_a_visible_gap(igw: IgWorld) -> None:
    igw.sync()
    conv = igw.sb.conversation_id(igw.page_id, igw.jane)
    igw.sb.advance(600)
    for i in range(25):
        igw.dm(igw.jane, f"burst {i}", minutes_ago=5 - i * 0.1)
    report = igw.sync()
    assert report.instagram["gaps"] == 1
    th = store_threads.get_thread(igw.conn, conv, now=igw.sb.now())
    assert th is not None and th.gaps == 1
    gaps = store_threads.thread_gaps(igw.conn, conv)
    assert len(gaps) == 1
    after, before = gaps[0]
    assert after < before
    stored = store_threads.get_messages(igw.conn, conv)
    assert len(stored) == 3 + 20  # the 20 newest have details, 5 are gone for good
    # A second sync with nothing new adds no second marker.
    assert igw.sync().instagram["gaps"] == 0


def test_nested_messages_never_exceed_20(igw: IgWorld) -> None:
    for i in range(30):
        igw.dm(igw.kuba, f"k {i}", minutes_ago=100 - i)
    seen: list[str] = []
    base = igw.sb.transport()

    class Recorder(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            return base.handle_request(request)

    igw.sync(Recorder())
    ig_calls = [u for u in seen if "platform=instagram" in u]
    assert ig_calls
    assert all("messages.limit%2820%29" in u or "messages.limit(20)" in u for u in ig_calls)
    assert not any("message_count" in u for u in ig_calls)


def test_toggle_off_fails_the_dm_edge_alone(igw: IgWorld) -> None:
    igw.sb.set_messages_access(igw.ig, False)
    report = igw.sync()
    dm = igw.edge(report, "ig_conversations")
    assert dm.status is EdgeStatus.FAILED
    assert dm.reason == "ig_messages_disabled"
    assert "Allow access to messages" in (dm.hint or "")
    assert igw.edge(report, "ig_media").status is EdgeStatus.OK
    assert igw.edge(report, "conversations").status is EdgeStatus.OK
    assert syncing.exit_code(report) is ExitCode.PARTIAL


def test_a_page_without_instagram_makes_no_instagram_call(tmp_path: Path) -> None:
    w = make_ig_world(tmp_path, discover=False)
    report = w.sync()
    assert not [e for e in report.edges if e.edge.startswith("ig_")]
    assert report.instagram == {}
    assert store_pages.get_instagram(w.conn, w.page_id).checked is False


def test_instagram_dm_reads_count_with_the_messenger_budget(igw: IgWorld) -> None:
    report = igw.sync()
    conv = igw.edge(report, "conversations").calls
    ig = igw.edge(report, "ig_conversations").calls
    assert report.messenger_calls == conv + ig
    history = syncing._history(igw.conn, igw.page_id, igw.sb.now() + timedelta(seconds=1))
    assert [n for _, n in history] == [conv + ig]
