"""core.sync against a sandbox as strict as Graph (issue 8): what a real Page would break.

Ranked comments (no comment lost, at a bounded cost), Reels, edges failing on their own with
their cause and fix, conversation folders, one bad item never blocking the rest, the overall
deadline, and Graph's private-reply facts stored for core.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.core import syncing
from socialdesk.core.sync import HOLD_RUNS, Walk, comment_walk
from socialdesk.errors import ExitCode
from socialdesk.models import EdgeStatus
from socialdesk.sandbox import Sandbox
from socialdesk.store import cache, watermarks
from tests.support.sync_world import (
    IDLE_CALLS,
    T0,
    World,
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


def _stored(world: World) -> set[str]:
    return {r[0] for r in world.conn.execute("SELECT id FROM messages")}


def _ranked_post(world: World, n: int, *, days_ago: float = 2) -> tuple[str, list[str]]:
    """A ranked post with ``n`` comments, the older ones the most liked (they lead every page)."""
    at = T0 - timedelta(days=days_ago)
    post = world.sb.add_post(world.page_id, "giveaway!", at=at, ranked=True)
    ids = []
    for i in range(n):
        uid = world.sb.add_user(f"Fan {i}")
        ids.append(
            world.sb.add_comment(
                post, uid, f"comment {i}", at=at + timedelta(minutes=i + 1), likes=n - i
            )
        )
    return post, ids


# ---- ranked comments -----------------------------------------------------------------------


def test_new_comments_buried_under_popular_ones_are_found_on_a_ranked_post(world: World) -> None:
    """The first 25 (most liked) are all known; the 5 new ones sit at the bottom: all stored."""
    post, _ = _ranked_post(world, 140)
    world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    world.sb.advance(600)
    new = [world.sb.add_comment(post, world.sb.add_user(f"New {i}"), f"new {i}") for i in range(5)]
    world.sb.reset_counters()
    report = world.sync()
    assert set(new) <= _stored(world)
    assert report.comments == 5
    # Bounded: the post's comments are read at most once more, 100 a page.
    assert world.sb.calls_by_edge["GET comments"] <= math.ceil((145 - 25) / 100)


def test_an_unchanged_ranked_post_costs_no_comment_call(world: World) -> None:
    """Same total_count as at the last complete walk, nothing unknown nested: 0 extra calls."""
    _ranked_post(world, 140)
    world.sync()
    world.sb.advance(600)
    world.sb.reset_counters()
    report = world.sync()
    assert world.sb.calls_by_edge["GET comments"] == 0
    assert report.calls == IDLE_CALLS


def test_a_chronological_post_finds_few_new_comments_in_the_nested_page(world: World) -> None:
    """On an unranked post the new comments lead the nested page: the count is met, 0 calls."""
    post = world.sb.add_post(world.page_id, "news", at=T0 - timedelta(days=1))
    for i in range(90):
        world.sb.add_comment(
            post,
            world.sb.add_user(f"U{i}"),
            f"c{i}",
            at=T0 - timedelta(hours=20) + timedelta(minutes=i),
        )
    world.sync()
    world.sb.advance(600)
    for i in range(3):
        world.sb.add_comment(post, world.sb.add_user(f"N{i}"), f"n{i}")
    world.sb.reset_counters()
    report = world.sync()
    assert report.comments == 3 and world.sb.calls_by_edge["GET comments"] == 0


def test_the_deep_sweep_finds_new_comments_on_an_old_ranked_post(world: World) -> None:
    """An old ranked post outside the lookback: the deep sweep walks it by its count."""
    post, _ = _ranked_post(world, 120, days_ago=60)
    world.sync()  # the first sync is a deep sweep
    world.sb.advance(3600)
    late = world.sb.add_comment(post, world.sb.add_user("Late"), "still on sale?")
    world.sync(deep_sweep_hours=24)
    assert late not in _stored(world)  # outside the 28-day window until the deep sweep
    world.sb.advance(25 * 3600)
    world.sb.reset_counters()
    report = world.sync(deep_sweep_hours=24)
    assert late in _stored(world) and report.comments == 1
    assert world.sb.calls_by_edge["GET comments"] <= math.ceil((121 - 25) / 100)
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_a_deleted_comment_makes_the_next_walk_complete(world: World) -> None:
    """A count that shrank (a deletion may hide an addition): the whole post is read again."""
    _, ids = _ranked_post(world, 60)
    world.sync()
    world.sb.advance(600)
    with world.sb.lock:
        world.sb.state.comments[ids[10]].deleted = True
    world.sb.reset_counters()
    world.sync()
    assert world.sb.calls_by_edge["GET comments"] == 1  # (60 - 1 - 25) fits in one page of 100
    world.sb.reset_counters()
    world.sync()
    assert world.sb.calls_by_edge["GET comments"] == 0  # the new count is recorded


@pytest.mark.parametrize(
    ("kwargs", "walk", "need"),
    [
        ({"has_more": False, "total": 90, "stored_total": 10, "unknown_nested": 0}, Walk.NONE, 0),
        ({"has_more": True, "total": 90, "stored_total": None, "unknown_nested": 0}, Walk.ALL, 0),
        ({"has_more": True, "total": 90, "stored_total": 90, "unknown_nested": 0}, Walk.NONE, 0),
        ({"has_more": True, "total": 95, "stored_total": 90, "unknown_nested": 5}, Walk.NONE, 0),
        ({"has_more": True, "total": 95, "stored_total": 90, "unknown_nested": 2}, Walk.UNTIL, 5),
        ({"has_more": True, "total": 89, "stored_total": 90, "unknown_nested": 0}, Walk.ALL, 0),
        ({"has_more": True, "total": 90, "stored_total": 90, "unknown_nested": 1}, Walk.ALL, 0),
        ({"has_more": True, "total": None, "stored_total": 90, "unknown_nested": 1}, Walk.ALL, 0),
        ({"has_more": True, "total": None, "stored_total": 90, "unknown_nested": 0}, Walk.NONE, 0),
    ],
)
def test_comment_walk_rule(kwargs: dict[str, Any], walk: Walk, need: int) -> None:
    """The documented rule, case by case (docs/GRAPH_API.md "Comment sweep")."""
    plan = comment_walk(full=False, **kwargs)
    assert (plan.walk, plan.need) == (walk, need)
    assert comment_walk(**{**kwargs, "full": True}).walk is (
        Walk.ALL if kwargs["has_more"] else Walk.NONE
    )


# ---- Reels ---------------------------------------------------------------------------------


def test_reel_comments_are_synced_and_the_deep_sweep_covers_old_reels(world: World) -> None:
    """Comments on Reels (not in /feed) arrive; a Reel pages past the lookback waits for the
    deep sweep (Reels page by cursor, newest first: a walk stops after the page crossing it)."""
    recent = [
        world.sb.add_reel(world.page_id, f"new {i}", at=T0 - timedelta(days=1, hours=i))
        for i in range(26)
    ]
    for i in range(25):
        world.sb.add_reel(world.page_id, f"older {i}", at=T0 - timedelta(days=40, hours=i))
    old_reel = world.sb.add_reel(world.page_id, "last summer", at=T0 - timedelta(days=90))
    c1 = world.sb.add_comment(recent[0], world.sb.add_user("A"), "love it")
    c2 = world.sb.add_comment(old_reel, world.sb.add_user("B"), "song?", at=T0 - timedelta(days=80))
    report = world.sync()
    assert {c1, c2} <= _stored(world) and report.reels == 52
    kinds = {r[0] for r in world.conn.execute("SELECT DISTINCT kind FROM posts")}
    assert kinds == {"reel"}
    assert world.sb.calls_by_edge["GET feed"] == 1  # the feed never lists them
    world.sb.advance(3600)
    late = world.sb.add_comment(old_reel, world.sb.add_user("C"), "still there?")
    fresh = world.sb.add_comment(recent[3], world.sb.add_user("D"), "again!")
    world.sb.reset_counters()
    world.sync(deep_sweep_hours=24)
    assert fresh in _stored(world) and late not in _stored(world)
    assert world.sb.calls_by_edge["GET video_reels"] == 2
    world.sb.advance(25 * 3600)
    world.sync(deep_sweep_hours=24)
    assert late in _stored(world)
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_many_reels_are_not_walked_past_the_lookback_between_sweeps(world: World) -> None:
    """60 Reels over a year: an ordinary sync reads only the pages down to the lookback."""
    for i in range(60):
        world.sb.add_reel(world.page_id, f"reel {i}", at=T0 - timedelta(days=6 * i + 1))
    world.sync()
    world.sb.advance(3600)
    world.sb.reset_counters()
    world.sync()
    assert world.sb.calls_by_edge["GET video_reels"] == 1


# ---- each edge on its own ------------------------------------------------------------------


def _world_with_token(tmp_path: Path, **token_kw: Any) -> World:
    w = make_world(tmp_path)
    w.token = w.sb.issue_token(w.page_id, **token_kw)
    populate(w.sb, w.page_id, convs=5, posts=3)
    return w


def test_no_pages_messaging_fails_conversations_only_and_names_the_permission(
    tmp_path: Path,
) -> None:
    """(#230) on conversations: comments and Reels still sync; exit 5; cause and fix logged."""
    scopes = ["pages_read_engagement", "pages_manage_metadata", "pages_read_user_content"]
    w = _world_with_token(tmp_path, scopes=scopes)
    report = w.sync()
    conv, feed, reels = report.edges
    assert (conv.status, feed.status, reels.status) == (
        EdgeStatus.FAILED,
        EdgeStatus.OK,
        EdgeStatus.OK,
    )
    assert conv.reason == "missing_permission" and conv.exit_code == ExitCode.AUTH
    assert conv.hint is not None and "pages_messaging" in conv.hint
    assert conv.calls == 1  # a permission error is never retried
    assert report.comments > 0 and report.conversations == 0
    assert syncing.exit_code(report) is ExitCode.PARTIAL
    states = {s.edge: s for s in watermarks.edge_states(w.conn, w.page_id)}
    assert states["conversations"].ok is False and states["conversations"].exit_code == 3
    assert states["conversations"].hint and "pages_messaging" in states["conversations"].hint
    assert states["feed"].ok is True and states["feed"].failing_since is None
    w.conn.close()


def test_no_pages_read_engagement_fails_feed_and_reels_and_names_the_permission(
    tmp_path: Path,
) -> None:
    """(#10) on the feed and Reels: conversations still sync; exit 5; the permission named."""
    scopes = ["pages_messaging", "pages_manage_metadata", "pages_read_user_content"]
    w = _world_with_token(tmp_path, scopes=scopes)
    report = w.sync()
    conv, feed, reels = report.edges
    assert (conv.status, feed.status, reels.status) == (
        EdgeStatus.OK,
        EdgeStatus.FAILED,
        EdgeStatus.FAILED,
    )
    for edge in (feed, reels):
        assert edge.reason == "missing_permission" and edge.exit_code == ExitCode.AUTH
        assert edge.hint is not None and "pages_read_engagement" in edge.hint
    assert syncing.exit_code(report) is ExitCode.PARTIAL


def test_advanced_access_missing_is_a_permission_failure_not_retried(tmp_path: Path) -> None:
    """1/99 on conversations: one call, the Advanced Access hint, the feed still syncs."""
    w = make_world(tmp_path)
    populate(w.sb, w.page_id, convs=5, posts=3)
    w.sb.set_advanced_access(w.page_id, False)
    report = w.sync()
    conv = report.edges[0]
    assert conv.reason == "advanced_access" and conv.calls == 1
    assert conv.hint is not None and "Advanced Access" in conv.hint
    assert report.edges[1].ok and report.comments > 0
    assert w.sleeps == []  # nothing waited for: not transient
    w.conn.close()


def test_missing_moderate_task_fails_feed_and_reels_with_a_clear_error(tmp_path: Path) -> None:
    """Comments without ids: the feed (and Reels) fail naming the MODERATE task; DMs sync."""
    w = _world_with_token(tmp_path, tasks=("MESSAGING",))
    reel = w.sb.add_reel(w.page_id, "reel")
    w.sb.add_comment(reel, w.sb.add_user("R"), "nice")
    report = w.sync()
    conv, feed, reels = report.edges
    assert conv.ok and report.conversations == 5
    for edge in (feed, reels):
        assert edge.reason == "moderate_task_missing" and edge.exit_code == ExitCode.AUTH
        assert edge.error is not None and "MODERATE" in edge.error
    assert syncing.exit_code(report) is ExitCode.PARTIAL
    err = syncing.failure(report)
    assert err is not None and err.exit_code == ExitCode.PARTIAL and "MODERATE" in err.message
    w.conn.close()


def test_a_throttled_messenger_budget_does_not_stop_the_comment_sweep(tmp_path: Path) -> None:
    """An exhausted Messenger budget (80006, regain > 5 min): conversations fail, feed syncs."""
    w = make_world(tmp_path)
    populate(w.sb, w.page_id, convs=5, posts=3)
    w.sb.set_engaged_users(w.page_id, 1)
    with w.client() as client:
        for _ in range(200):
            client.get(f"/{w.page_id}/conversations", {"limit": "1", "fields": "id"}, edge="x")
    report = w.sync()
    conv, feed, _ = report.edges
    assert conv.reason == "throttled" and conv.exit_code == ExitCode.UNAVAILABLE
    assert feed.ok and report.comments > 0
    assert syncing.exit_code(report) is ExitCode.PARTIAL
    w.conn.close()


def test_every_edge_failing_differently_exits_with_the_most_actionable_code() -> None:
    """All edges failed: one shared code wins; mixed codes pick auth before unavailable."""
    from socialdesk.models import EdgeResult, SyncReport

    def edge(name: str, code: int) -> EdgeResult:
        return EdgeResult(name, EdgeStatus.FAILED, error=f"{name} broke", exit_code=code)

    same = SyncReport("p", edges=(edge("conversations", 4), edge("feed", 4)))
    assert syncing.exit_code(same) is ExitCode.UNAVAILABLE
    mixed = SyncReport("p", edges=(edge("conversations", 4), edge("feed", 3)))
    assert syncing.exit_code(mixed) is ExitCode.AUTH
    err = syncing.failure(mixed)
    assert err is not None and err.exit_code == ExitCode.AUTH
    assert "conversations: conversations broke" in err.message and "feed: feed broke" in err.message
    assert syncing.exit_code(SyncReport("p", skipped=True)) is ExitCode.SKIPPED
    assert syncing.failure(SyncReport("p", edges=(EdgeResult("feed", EdgeStatus.OK),))) is None


# ---- folders -------------------------------------------------------------------------------


def test_message_requests_sync_every_round_and_spam_daily(world: World) -> None:
    """``other`` (message requests) is read every round; ``spam`` and Done on the daily sweep."""
    users = {f: world.sb.add_user(f"In {f}") for f in ("other", "spam", "page_done")}
    for folder, uid in users.items():
        world.sb.add_message(world.page_id, uid, f"hello from {folder}", at=T0 - timedelta(hours=1))
        world.sb.set_folder(world.page_id, uid, folder)
    world.sync()  # first sync: every folder
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    world.sb.advance(600)
    for uid in users.values():
        world.sb.add_message(world.page_id, uid, "anyone?")
    world.sync(deep_sweep_hours=24)
    texts = dict(
        world.conn.execute(
            "SELECT t.customer_id, t.snippet FROM threads t WHERE t.channel = 'dm'"
        ).fetchall()
    )
    assert texts[users["other"]] == "anyone?"
    assert texts[users["spam"]] != "anyone?"  # waits for the daily sweep
    world.sb.advance(25 * 3600)
    world.sync(deep_sweep_hours=24)
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


# ---- one bad item never blocks sync --------------------------------------------------------


class _Corrupt(httpx.BaseTransport):
    """Wraps the sandbox transport; ``edit(body)`` rewrites each conversations answer."""

    def __init__(self, sb: Sandbox, edit: Callable[[dict[str, Any]], None]) -> None:
        self.inner = sb.transport()
        self.edit = edit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/conversations") or "folder" in request.url.params:
            return response
        body = json.loads(response.read())
        self.edit(body)
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "etag", "content-encoding")
        }
        return httpx.Response(response.status_code, headers=headers, json=body)


def _null_ids(positions: set[int], message: bool = False) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        for i, conv in enumerate(body.get("data", [])):
            if i in positions:
                if message:
                    conv["messages"]["data"][0]["id"] = None
                else:
                    conv["id"] = None

    return edit


def test_a_conversation_with_a_null_id_is_skipped_and_the_rest_stored(world: World) -> None:
    """Item 3 of the first page has a null id: the 99 others and later pages are stored."""
    populate(world.sb, world.page_id, convs=150, posts=2)
    report = world.sync(transport=_Corrupt(world.sb, _null_ids({3})))
    assert syncing.exit_code(report) is ExitCode.OK
    assert [(p.edge, p.page, p.index, p.field, p.raw) for p in report.problems] == [
        ("conversations", 1, 3, "id", "None"),
        ("conversations", 2, 3, "id", "None"),
    ]
    assert report.conversations == 150 - 2  # one bad item on each of the two pages
    runs = watermarks.last_syncs(world.conn, world.page_id)
    assert runs["conversations"].skipped_items == 2 and runs["conversations"].problems
    # The next normal sync re-reads the pages around the bad items and converges.
    world.sb.advance(60)
    world.sync()
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)
    clean = world.other_db("clean")
    clean.sync()
    assert dump(world.conn) == dump(clean.conn)


def test_a_message_with_a_null_id_is_healed_by_the_next_sync(world: World) -> None:
    """A bad nested message: its conversation is stored without it, then completed later."""
    populate(world.sb, world.page_id, convs=20, posts=0)
    world.sync()
    world.sb.advance(600)
    convs = list(world.sb.state.pages[world.page_id].conversations)
    uid = world.sb.state.conversations[convs[5]].user_id
    mid = world.sb.add_message(world.page_id, uid, "is it in stock?")
    report = world.sync(transport=_Corrupt(world.sb, _null_ids({0}, message=True)))
    assert [p.field for p in report.problems] == ["id"] and report.problems[0].parent
    assert mid not in _stored(world)
    world.sb.advance(60)
    world.sync()
    assert mid in _stored(world)
    assert db_threads(world.conn) == sandbox_threads(world.sb, world.page_id)


def test_a_permanently_bad_conversation_stops_holding_the_walk_after_a_few_runs(
    world: World,
) -> None:
    """Still unreadable after HOLD_RUNS runs: the hold goes, syncs cost the idle minimum."""
    populate(world.sb, world.page_id, convs=150, posts=2)
    bad = _Corrupt(world.sb, _null_ids({50}))
    world.sync(transport=bad)
    for _ in range(HOLD_RUNS):
        world.sb.advance(60)
        world.sync(transport=bad)
    hold = watermarks.get_watermark(world.conn, world.page_id, "conversations", "hold")
    assert hold is None
    world.sb.advance(60)
    world.sb.reset_counters()
    report = world.sync(transport=bad)
    assert report.calls == IDLE_CALLS


# ---- deadline, private replies -------------------------------------------------------------


def test_the_sync_deadline_stops_every_edge_with_a_clear_error(world: World) -> None:
    """A throttle whose wait passes the deadline: conversations fail, the rest is not run."""
    populate(world.sb, world.page_id, convs=5, posts=2)
    world.sb.faults = "rate=1,kinds=613,seed=1"
    report = world.sync(deadline_s=30)
    assert [e.status for e in report.edges] == [
        EdgeStatus.FAILED,
        EdgeStatus.NOT_RUN,
        EdgeStatus.NOT_RUN,
    ]
    assert report.edges[0].reason == "deadline"
    assert syncing.exit_code(report) is ExitCode.UNAVAILABLE
    assert "deadline" in (syncing.failure(report) or Exception()).args[0]


def test_private_replies_made_elsewhere_are_stored_for_the_once_only_rule(world: World) -> None:
    """A private reply from Meta's inbox shows in the stored facts of that comment."""
    post = world.sb.add_post(world.page_id, "sale", at=T0 - timedelta(days=1))
    a = world.sb.add_comment(post, world.sb.add_user("A"), "price?", at=T0 - timedelta(hours=3))
    b = world.sb.add_comment(post, world.sb.add_user("B"), "size?", at=T0 - timedelta(hours=2))
    world.sync()
    facts = cache.private_reply_facts(world.conn, a)
    assert facts is not None and facts.can_reply_privately is True
    assert not facts.answered_elsewhere
    world.sb.private_reply_elsewhere(a, "sent you the price")
    world.sb.advance(60)
    world.sync()
    facts = cache.private_reply_facts(world.conn, a)
    assert facts is not None and facts.answered_elsewhere and facts.can_reply_privately is False
    other = cache.private_reply_facts(world.conn, b)
    assert other is not None and not other.answered_elsewhere
    assert cache.private_reply_facts(world.conn, "nope") is None
