"""Ranked posts: comments most liked first whatever ``order`` says; the order enum; the counts."""

from __future__ import annotations

from datetime import timedelta

from .conftest import NOW, World, error_of

NESTED = (
    "comments.filter(stream).order(reverse_chronological).limit(2).summary(true)"
    "{id,message,like_count}"
)


def ranked_post(w: World) -> tuple[str, list[str]]:
    """A ranked post with four comments: an old popular one, then three newer ones."""
    post = w.sb.add_post(w.page, "Big giveaway!", at=NOW - timedelta(days=2), ranked=True)
    old = w.sb.add_comment(post, w.alice, "first!", at=NOW - timedelta(days=1), likes=40)
    mid = w.sb.add_comment(post, w.bob, "me too", at=NOW - timedelta(hours=5), likes=3)
    new1 = w.sb.add_comment(post, w.alice, "when?", at=NOW - timedelta(hours=2))
    new2 = w.sb.add_comment(post, w.bob, "ship to Riga?", at=NOW - timedelta(hours=1))
    return post, [old, mid, new1, new2]


def test_ranked_post_ignores_reverse_chronological(world: World) -> None:
    """Nested in /feed and on the edge: most liked first, ties oldest first; summary says ranked."""
    post, (old, mid, new1, new2) = ranked_post(world)
    body = world.get(f"/{world.page}/feed", fields=NESTED).json()
    entry = next(p for p in body["data"] if p["id"] == post)
    comments = entry["comments"]
    assert [c["id"] for c in comments["data"]] == [old, mid]  # not the two newest
    assert comments["summary"] == {"order": "ranked", "total_count": 4, "can_comment": True}
    rest = world.client.get(comments["paging"]["next"]).json()
    assert [c["id"] for c in rest["data"]] == [new1, new2]
    edge = world.get(f"/{post}/comments", order="reverse_chronological", summary="true").json()
    assert [c["id"] for c in edge["data"]] == [old, mid, new1, new2]
    assert edge["summary"]["order"] == "ranked"
    chrono = world.get(f"/{post}/comments", order="chronological").json()
    assert [c["id"] for c in chrono["data"]] == [old, mid, new1, new2]


def test_likes_reorder_and_replies_of_ranked_post(world: World) -> None:
    """set_likes moves a comment up; /{comment}/comments of a ranked post is ranked too."""
    post, (old, mid, new1, _) = ranked_post(world)
    world.sb.set_likes(new1, 99)
    top = world.get(f"/{post}/comments", limit=1).json()["data"]
    assert [c["id"] for c in top] == [new1]
    r1 = world.sb.add_comment(post, world.bob, "r1", parent_id=old, at=NOW - timedelta(minutes=9))
    r2 = world.sb.add_comment(
        post, world.alice, "r2", parent_id=old, at=NOW - timedelta(minutes=5), likes=7
    )
    replies = world.get(f"/{old}/comments", order="reverse_chronological").json()
    assert [c["id"] for c in replies["data"]] == [r2, r1]
    like = world.get(f"/{r2}", fields="like_count").json()
    assert like == {"like_count": 7, "id": r2}
    assert mid in [c["id"] for c in world.get(f"/{post}/comments").json()["data"]]


def test_unranked_post_keeps_the_requested_order(world: World) -> None:
    """A post that is not ranked honours both orders (summary names the order asked)."""
    late = world.sb.add_comment(world.post, world.bob, "later", likes=50)
    rev = world.get(f"/{world.post}/comments", order="reverse_chronological", summary="1").json()
    assert [c["id"] for c in rev["data"]] == [late, world.comment]
    assert rev["summary"]["order"] == "reverse_chronological"


def test_order_ranked_is_not_a_request_value(world: World) -> None:
    """order=ranked is not in Meta's enum: code 100, on the edge and nested."""
    err = error_of(world.get(f"/{world.post}/comments", order="ranked"))
    assert err["code"] == 100 and "chronological, reverse_chronological" in err["message"]
    nested = world.get(f"/{world.page}/feed", fields="comments.order(ranked){id}")
    assert error_of(nested)["code"] == 100


def test_comment_count_counts_replies(world: World) -> None:
    """comment_count on a comment is its reply count; total_count follows the filter."""
    post, (old, *_rest) = ranked_post(world)
    world.sb.add_comment(post, world.bob, "reply", parent_id=old)
    node = world.get(f"/{old}", fields="comment_count").json()
    assert node["comment_count"] == 1
    top = world.get(f"/{post}/comments", summary="true").json()["summary"]
    stream = world.get(f"/{post}/comments", filter="stream", summary="true").json()["summary"]
    assert (top["total_count"], stream["total_count"]) == (4, 5)


def test_demo_busy_posts_are_ranked() -> None:
    """The demo's busiest posts are ranked and hold comments whose likes reorder them."""
    from socialdesk.sandbox import build_demo

    sb, page, _ = build_demo(seed=1, threads=60, now=NOW)
    ranked = [p for p in sb.state.posts.values() if p.page_id == page and p.ranked]
    assert ranked
    assert all(len(p.comments) >= 4 for p in ranked)
    assert any(sb.comment(c).likes > 0 for p in ranked for c in p.comments)
