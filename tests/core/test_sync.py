"""core.sync against the in-process sandbox: what gets stored, and how many calls it costs.

The world these tests sync (``World``, ``populate``, ``dump``…) is tests/support/sync_world.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk.core import syncing
from socialdesk.errors import AuthError, ExitCode
from socialdesk.models import Status, SyncProgress, SyncStage
from socialdesk.sandbox import Sandbox, file_attachment, image_attachment
from socialdesk.store import threads as store_threads
from socialdesk.store import triage, watermarks
from socialdesk.store.db import transaction
from socialdesk.store.lock import sync_lock
from tests.support.sync_world import (
    FOLDER_CALLS,
    IDLE_CALLS,
    T0,
    World,
    bound_initial,
    db_threads,
    dump,
    make_world,
    populate,
    sandbox_threads,
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.conn.close()


# ---- tests ---------------------------------------------------------------------------------


def test_initial_sync_imports_what_the_api_returns(world: World) -> None:
    """A first sync stores every conversation, message, post and comment, within the call bound."""
    pop = populate(world.sb, world.page_id, convs=300, posts=30, long_every=50, busy_every=10)
    report = world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    long_threads = len(pop.long_users) + len(pop.long_posts)
    assert report.calls <= bound_initial(300, 30, long_threads)
    assert report.calls == world.sb.calls
    assert report.conversations == 300
    assert report.messages == sum(
        len(v) for k, v in db_threads(world.conn).items() if k[:2] == "t_"
    )
    assert report.posts == 30
    assert not report.skipped and report.errors == ()
    n_posts = world.conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert n_posts == 30


def test_second_sync_with_no_changes_costs_one_call_per_listing(world: World) -> None:
    """Nothing changed: inbox, ``other`` folder, feed and Reels, one call each; nothing written."""
    # Two inbox pages, three long threads, three busy posts: re-reading any of them shows.
    populate(world.sb, world.page_id, convs=150, posts=30, long_every=50, busy_every=10)
    world.sync()
    before = dump(world.conn)
    world.sb.reset_counters()
    world.sb.advance(60)
    report = world.sync()
    assert report.calls == IDLE_CALLS
    assert report.messenger_calls == 2 and all(e.ok for e in report.edges)
    assert world.sb.calls == report.calls
    assert (report.conversations, report.messages, report.comments) == (0, 0, 0)
    assert dump(world.conn) == before


@pytest.mark.parametrize("k", [10, 120])
def test_k_changed_threads_cost_o_k_calls(world: World, k: int) -> None:
    """k conversations with a new message cost ≤ idle + ceil(k/100) calls, and all are stored."""
    # Three inbox pages: a walk of all of them costs more than idle + 1 (what k=10 may cost).
    pop = populate(world.sb, world.page_id, convs=210, posts=30)
    world.sync()
    world.sb.advance(3600)
    for uid in pop.users[-k:]:  # the oldest conversations: they jump to the top
        world.sb.add_message(world.page_id, uid, "new question")
    world.sb.reset_counters()
    report = world.sync()
    assert report.calls <= IDLE_CALLS + math.ceil(k / 100)
    assert report.conversations == k
    assert report.messages == k
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_long_threads_page_their_messages_only_as_far_as_needed(world: World) -> None:
    """A long thread is paged fully once; later only the pages holding new messages are read."""
    pop = populate(world.sb, world.page_id, convs=5, posts=0, long_every=5, long_len=120)
    world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    uid = pop.long_users[0]
    world.sb.advance(3600)
    # 30 new messages: more than the 25 inlined, so exactly one extra page is needed.
    for j in range(30):
        world.sb.add_message(
            world.page_id, uid, f"burst {j}", at=world.sb.now() + timedelta(seconds=j)
        )
    world.sb.advance(60)
    world.sb.reset_counters()
    report = world.sync()
    assert report.messages == 30
    assert world.sb.calls_by_edge["GET messages"] == 1, world.sb.calls_by_edge
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    # 10 new ones fit in the inlined 25: no extra page at all.
    for j in range(10):
        world.sb.add_message(
            world.page_id, uid, f"more {j}", at=world.sb.now() + timedelta(seconds=j)
        )
    world.sb.advance(60)
    world.sb.reset_counters()
    world.sync()
    assert world.sb.calls_by_edge["GET messages"] == 0


def test_busy_post_pages_comments_only_as_far_as_needed(world: World) -> None:
    """A post with many comments is paged once; a few new comments need no extra call."""
    pop = populate(world.sb, world.page_id, convs=0, posts=3, busy_every=3, busy_len=80)
    world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    world.sb.advance(600)
    uid = world.sb.add_user("Late commenter")
    world.sb.add_comment(pop.long_posts[0], uid, "still available?")
    world.sb.reset_counters()
    report = world.sync(full=False)
    assert report.comments == 1
    assert world.sb.calls_by_edge["GET comments"] == 0
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_page_reply_made_elsewhere_marks_the_thread_answered(world: World) -> None:
    """A Page reply sent from Meta's inbox arrives by sync and the thread stops awaiting."""
    uid = world.sb.add_user("Ana")
    world.sb.add_message(world.page_id, uid, "hello?", at=T0 - timedelta(minutes=5))
    world.sync()
    cid = world.sb.conversation_id(world.page_id, uid)
    t = store_threads.resolve_thread(world.conn, cid, now=world.sb.now())
    assert t.awaiting_reply
    world.sb.add_message(world.page_id, uid, "hi Ana!", from_page=True)
    world.sb.advance(60)
    world.sync()
    t = store_threads.resolve_thread(world.conn, cid, now=world.sb.now())
    assert not t.awaiting_reply
    msgs = store_threads.get_messages(world.conn, cid)
    assert msgs[-1].direction.value == "out" and msgs[-1].text == "hi Ana!"


def test_stickers_shares_attachments_and_unsupported_are_kept(world: World) -> None:
    """Messages without text are stored with their attachments, never dropped."""
    uid = world.sb.add_user("Media fan")
    at = T0 - timedelta(minutes=30)
    world.sb.add_message(world.page_id, uid, "", at=at, sticker="https://scontent.example/s.png")
    world.sb.add_message(
        world.page_id,
        uid,
        "",
        at=at + timedelta(minutes=1),
        attachments=[image_attachment("photo.jpg")],
    )
    world.sb.add_message(
        world.page_id,
        uid,
        "invoice",
        at=at + timedelta(minutes=2),
        attachments=[file_attachment("invoice.pdf")],
    )
    world.sb.add_message(
        world.page_id,
        uid,
        "",
        at=at + timedelta(minutes=3),
        shares=[{"link": "https://shop.example/p/1", "name": "Wool hat"}],
    )
    world.sb.add_message(world.page_id, uid, "", at=at + timedelta(minutes=4), is_unsupported=True)
    world.sync()
    cid = world.sb.conversation_id(world.page_id, uid)
    msgs = store_threads.get_messages(world.conn, cid)
    assert len(msgs) == 5
    kinds = [tuple(a.kind for a in m.attachments) for m in msgs]
    assert kinds[0] and kinds[0][0] == "sticker"
    assert kinds[1] == ("image",)
    assert kinds[2] == ("file",) and msgs[2].attachments[0].name == "invoice.pdf"
    assert kinds[3] and kinds[3][0] == "share"
    assert kinds[4] and kinds[4][0] == "unsupported"


@pytest.mark.parametrize("status", [Status.DONE, Status.SNOOZED])
def test_closed_thread_with_new_inbound_reopens(world: World, status: Status) -> None:
    """A done or snoozed thread that gets a new customer message is open again after sync."""
    uid = world.sb.add_user("Ben")
    world.sb.add_message(world.page_id, uid, "thanks!", at=T0 - timedelta(hours=2))
    world.sync()
    cid = world.sb.conversation_id(world.page_id, uid)
    until = T0 + timedelta(days=3) if status is Status.SNOOZED else None
    with transaction(world.conn):
        triage.set_status(world.conn, cid, status, now=T0, snoozed_until=until)
    world.sb.advance(600)
    world.sync()  # nothing new: stays closed
    assert store_threads.resolve_thread(world.conn, cid, now=world.sb.now()).status is status
    world.sb.add_message(world.page_id, uid, "one more thing")
    world.sb.advance(60)
    report = world.sync()
    assert report.reopened == 1
    assert store_threads.resolve_thread(world.conn, cid, now=world.sb.now()).status is Status.OPEN


def test_a_second_sync_of_the_same_page_skips_while_the_first_holds_the_lock(world: World) -> None:
    """Two syncs never interleave: the second one reports skipped and makes no call."""
    populate(world.sb, world.page_id, convs=3, posts=1)
    with sync_lock(world.paths, world.page_id, wait_s=0) as held:
        assert held
        report = world.sync(lock_wait_s=0.05)
    assert report.skipped and report.calls == 0 and report.errors
    assert world.sb.calls == 0
    assert world.sync().skipped is False


class _ExpireAfter(httpx.BaseTransport):
    """Wraps the sandbox transport; expires the token after ``n`` requests."""

    def __init__(self, sb: Sandbox, token: str, n: int) -> None:
        self.inner = sb.transport()
        self.sb, self.token, self.n, self.seen = sb, token, n, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.n:
            self.sb.expire_token(self.token)
        return self.inner.handle_request(request)


def test_token_expiring_mid_sync_stops_with_auth_error_and_keeps_what_was_stored(
    world: World,
) -> None:
    """190/463 mid-walk: every edge fails with it (exit 3) without calling again; pages
    already committed stay; each edge's failure is logged."""
    populate(world.sb, world.page_id, convs=250, posts=5)
    report = world.sync(transport=_ExpireAfter(world.sb, world.token, 2))
    assert syncing.exit_code(report) is ExitCode.AUTH
    assert isinstance(syncing.failure(report), AuthError)
    assert [e.status.value for e in report.edges] == ["failed", "not_run", "not_run"]
    assert report.calls == 3  # no call after the token was refused
    stored = world.conn.execute("SELECT count(*) FROM threads").fetchone()[0]
    assert stored == 200  # two pages of 100 committed
    assert watermarks.get_watermark(world.conn, world.page_id, "conversations") is None
    runs = watermarks.last_syncs(world.conn, world.page_id)
    for edge in ("conversations", "feed", "reels"):
        assert runs[edge].ok is False and runs[edge].error and runs[edge].exit_code == 3
        assert world.token not in (runs[edge].error or "")
    assert world.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class _FailAfter(httpx.BaseTransport):
    """Wraps the sandbox transport; every request after the ``n``-th fails to connect."""

    def __init__(self, sb: Sandbox, n: int) -> None:
        self.inner = sb.transport()
        self.n, self.seen = n, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.n:
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_interrupted_walk_resumes_and_converges_to_a_clean_run(world: World) -> None:
    """A walk cut after two pages keeps its pages; the next run finishes and equals a clean run."""
    # 25 a page (as after two halvings) over a quarter of 350 conversations: the same four
    # inbox pages and the same long threads on each, a quarter of the work; the reference
    # (clean) run reads at the client's own sizes.
    world.page_sizes.update({"conversations": 25, "feed": 25})
    populate(world.sb, world.page_id, convs=88, posts=20, long_every=10)
    cut = world.sync(transport=_FailAfter(world.sb, 3))
    assert syncing.exit_code(cut) is ExitCode.UNAVAILABLE  # every edge: network down
    assert watermarks.get_watermark(world.conn, world.page_id, "conversations") is None
    # Meanwhile customers write: some conversations jump to the top.
    st = world.sb.state
    for cid in list(st.pages[world.page_id].conversations)[:5]:
        world.sb.add_message(world.page_id, st.conversations[cid].user_id, "still there?")
    world.sb.advance(60)
    world.sync()
    clean = world.other_db("clean")
    clean.sync()
    assert dump(world.conn) == dump(clean.conn)
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_full_sync_rewalks_everything_and_changes_nothing(world: World) -> None:
    """--full reads all conversations and posts again; the stored state is unchanged."""
    populate(world.sb, world.page_id, convs=150, posts=12)
    world.sync()
    before = dump(world.conn)
    world.sb.reset_counters()
    report = world.sync(full=True)
    assert report.full and report.conversations == 150
    assert world.sb.calls_by_edge["GET conversations"] == 2 + FOLDER_CALLS
    assert dump(world.conn) == before


def test_deep_sweep_catches_new_comments_on_posts_older_than_the_lookback(world: World) -> None:
    """Old posts are outside the lookback sweep until the periodic deep sweep is due."""
    old = world.sb.add_post(world.page_id, "old post", at=T0 - timedelta(days=60))
    world.sb.add_comment(old, world.sb.add_user("A"), "first", at=T0 - timedelta(days=59))
    world.sync()  # the first sync is a deep sweep
    world.sb.advance(3600)
    world.sb.add_comment(old, world.sb.add_user("B"), "late comment")
    world.sync(deep_sweep_hours=24)
    assert world.sb.state.posts[old].comments[-1] not in {
        r[0] for r in world.conn.execute("SELECT id FROM messages")
    }
    world.sb.advance(25 * 3600)
    report = world.sync(deep_sweep_hours=24)
    assert report.comments == 1
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_progress_is_typed_and_cumulative_and_sync_log_records_each_edge(world: World) -> None:
    """SyncProgress events per stage only grow, end with done == total; sync_log has ok rows."""
    pop = populate(world.sb, world.page_id, convs=120, posts=3, long_every=60, long_len=60)
    world.sb.add_reel(world.page_id, "new collection")
    seen: list[SyncProgress] = []
    world.sync(progress=seen.append)
    assert {e.stage for e in seen} == {
        SyncStage.CONVERSATIONS,
        SyncStage.MESSAGES,
        SyncStage.FEED,
        SyncStage.REELS,
    }
    for stage in SyncStage:
        dones = [e.done for e in seen if e.stage is stage]
        assert dones == sorted(dones)
    assert SyncProgress(SyncStage.CONVERSATIONS, 120, 120) in seen
    assert SyncProgress(SyncStage.REELS, 1, 1) in seen
    older = max(e.done for e in seen if e.stage is SyncStage.MESSAGES)
    assert older == sum(60 - 25 for _ in pop.long_users)
    runs = watermarks.last_syncs(world.conn, world.page_id)
    assert runs["conversations"].ok and runs["feed"].ok and runs["reels"].ok
    # inbox 2 pages + the long threads' older messages + the other/spam/page_done folders
    assert runs["conversations"].calls == 2 + len(pop.long_users) + FOLDER_CALLS
    assert runs["feed"].calls == 1 and runs["reels"].calls == 1
