"""Post listings: Reels only on /video_reels, visitor posts, the ~600 ranked posts/year cap,
time-based paging with bare-key links on /feed?since= (GRAPH_API §5.1 "Sandbox rules")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from socialdesk.sandbox import Sandbox

from .conftest import NOW, World, error_of, make_world


def ids(body: dict[str, object]) -> list[str]:
    """The ids of a list response's data."""
    data = body["data"]
    assert isinstance(data, list)
    return [str(item["id"]) for item in data]


def test_reels_only_on_video_reels(world: World) -> None:
    """A Reel is never in /feed, /posts or /published_posts; /video_reels lists it as a Video."""
    reel = world.sb.add_reel(world.page, "Knitting in 15 s 🧶", at=NOW - timedelta(hours=6))
    for edge in ("feed", "posts", "published_posts"):
        assert reel not in ids(world.get(f"/{world.page}/{edge}").json()), edge
    body = world.get(f"/{world.page}/video_reels").json()
    assert ids(body) == [reel]
    assert body["data"][0] == {
        "updated_time": "2026-11-22T06:00:00+0000",
        "description": "Knitting in 15 s 🧶",
        "id": reel,
    }
    full = world.get(
        f"/{world.page}/video_reels",
        fields="id,description,created_time,updated_time,permalink_url,length,from",
    ).json()["data"][0]
    assert full["permalink_url"] == f"/reel/{reel}/"
    assert full["from"] == {"name": "Test Shop", "id": world.page}
    assert isinstance(full["length"], float)
    assert error_of(world.get(f"/{world.page}/video_reels", fields="message"))["code"] == 100
    assert (
        "(message) on node type (Video)"
        in error_of(world.get(f"/{reel}", fields="message"))["message"]
    )


def test_reel_comments_edge_nesting_and_private_reply(world: World) -> None:
    """Comments on a Reel: nested in /video_reels, on /{reel}/comments, private-repliable."""
    reel = world.sb.add_reel(world.page, "New colours", at=NOW - timedelta(hours=3))
    c1 = world.sb.add_comment(reel, world.alice, "price?", at=NOW - timedelta(hours=2))
    reply = world.sb.add_comment(reel, None, "12 EUR", parent_id=c1, at=NOW - timedelta(hours=1))
    nested = world.get(
        f"/{world.page}/video_reels",
        fields="comments.filter(stream).order(reverse_chronological).summary(true){id,parent{id}}",
    ).json()["data"][0]["comments"]
    assert ids(nested) == [reply, c1]
    assert nested["summary"]["total_count"] == 2
    assert ids(world.get(f"/{reel}/comments").json()) == [c1]
    link = world.get(f"/{c1}", fields="permalink_url").json()["permalink_url"]
    assert link.startswith(f"https://www.facebook.com/reel/{reel}/?comment_id=")
    body = {"recipient": {"comment_id": c1}, "message": {"text": "DM'd you"}}
    assert world.post_json(f"/{world.page}/messages", body).status_code == 200


def test_published_posts_only_the_pages_own_feed_has_visitors(world: World) -> None:
    """A visitor post is in /feed and /visitor_posts, not in /posts or /published_posts."""
    visit = world.sb.add_post(
        world.page, "Do you ship to Oslo?", at=NOW - timedelta(hours=1), from_user=world.bob
    )
    assert ids(world.get(f"/{world.page}/feed").json()) == [visit, world.post]
    assert ids(world.get(f"/{world.page}/published_posts").json()) == [world.post]
    assert ids(world.get(f"/{world.page}/posts").json()) == [world.post]
    assert ids(world.get(f"/{world.page}/visitor_posts").json()) == [visit]
    author = world.get(f"/{visit}", fields="from").json()["from"]
    assert author == {"name": "Bob", "id": world.bob}


def test_feed_keeps_600_ranked_posts_per_year() -> None:
    """Beyond the yearly cap the least engaged posts drop out of the listings, still readable."""
    sb = Sandbox(rate_limit=False, seed=5)
    sb.set_time(NOW)
    page = sb.add_page("Busy Page")
    token = sb.issue_token(page)
    user = sb.add_user("Fan")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    posts = [sb.add_post(page, f"post {i}", at=start + timedelta(hours=8 * i)) for i in range(605)]
    quiet = posts[:5]  # the oldest have no comments: the ones ranked out
    for pid in posts[5:]:
        sb.add_comment(pid, user, "nice", at=NOW - timedelta(days=1))
    older_year = sb.add_post(page, "last year", at=datetime(2025, 6, 1, tzinfo=UTC))

    import httpx

    client = httpx.Client(
        transport=sb.transport(),
        base_url="https://graph.facebook.com",
        headers={"Authorization": f"Bearer {token}"},
    )
    seen: list[str] = []
    url: str | None = f"/v26.0/{page}/feed?limit=100&fields=id"
    while url:
        body = client.get(url).json()
        seen += ids(body)
        url = body.get("paging", {}).get("next")
    assert len(seen) == 601 and older_year in seen
    assert not set(quiet) & set(seen)
    assert client.get(f"/v26.0/{quiet[0]}").json()["id"] == quiet[0]
    sb.add_comment(quiet[0], user, "late comment")
    assert client.get(f"/v26.0/{quiet[0]}/comments").json()["data"][0]["message"] == "late comment"
    uncapped = Sandbox(rate_limit=False, seed=5, feed_cap=None)
    assert uncapped.feed_cap is None


def time_params(link: str) -> list[tuple[str, str]]:
    """The query of a link as Graph wrote it (bare keys kept as empty values)."""
    return parse_qsl(urlsplit(link).query, keep_blank_values=True)


def feed_world() -> tuple[World, list[str]]:
    """A world with seven more posts, one a day (newest first in the returned list)."""
    w = make_world()
    posts = [
        w.sb.add_post(w.page, f"day {d}", at=NOW - timedelta(days=d, hours=2)) for d in range(2, 9)
    ]
    return w, [w.post, *posts]


def test_since_pages_by_time_with_bare_keys() -> None:
    """since → time links: next `until=…&since&__paging_token=…&__previous`, no cursors."""
    w, posts = feed_world()
    since = int((NOW - timedelta(days=4)).timestamp())
    first = w.get(f"/{w.page}/feed", since=since, limit=2, fields="id,created_time").json()
    assert ids(first) == posts[:2]
    paging = first["paging"]
    assert set(paging) == {"previous", "next"}  # no cursors in time-based paging
    nxt = paging["next"]
    assert "&since&" in nxt and nxt.endswith("&__previous")
    keys = [k for k, _ in time_params(nxt)]
    assert keys[-4:] == ["until", "since", "__paging_token", "__previous"]
    assert dict(time_params(nxt))["until"] == str(
        int(datetime.fromisoformat(first["data"][-1]["created_time"]).timestamp())
    )
    prev = paging["previous"]
    assert "__previous=1" in prev and "&until&" in prev
    second = w.client.get(nxt).json()
    assert ids(second) == posts[2:4]
    # The next link carries no lower bound: walking on reaches posts older than `since`.
    third = w.client.get(second["paging"]["next"]).json()
    assert ids(third) == posts[4:6]
    assert all(p["created_time"] < "2026-11-18" for p in third["data"])


def test_time_links_accept_re_encoded_blank_values() -> None:
    """`since=` and `__previous=` (re-encoded by a client) read like the bare keys."""
    w, posts = feed_world()
    first = w.get(f"/{w.page}/feed", since=int((NOW - timedelta(days=30)).timestamp()), limit=3)
    nxt = first.json()["paging"]["next"]
    bare = w.client.get(nxt).json()
    params = dict(time_params(nxt))
    encoded = w.client.get(urlsplit(nxt).path, params=params).json()
    assert ids(bare) == ids(encoded) == posts[3:6]
    assert "since=&" in str(w.client.get(urlsplit(nxt).path, params=params).request.url)


def test_previous_link_goes_back_to_newer_posts() -> None:
    """The previous link of page 2 returns page 1's posts; a bad token is code 100."""
    w, posts = feed_world()
    first = w.get(f"/{w.page}/feed", until=int(NOW.timestamp()), limit=3).json()
    second = w.client.get(first["paging"]["next"]).json()
    back = w.client.get(second["paging"]["previous"]).json()
    assert ids(back) == posts[:3]
    bad = w.get(f"/{w.page}/feed", until=int(NOW.timestamp()), __paging_token="%%%")
    assert error_of(bad)["code"] == 100


def test_since_filters_on_created_time() -> None:
    """An old post with a new comment is not in a since-window (since = created_time)."""
    w, posts = feed_world()
    w.sb.add_comment(posts[-1], w.alice, "still on sale?", at=NOW - timedelta(minutes=5))
    since = int((NOW - timedelta(days=3)).timestamp())
    body = w.get(f"/{w.page}/feed", since=since).json()
    assert posts[-1] not in ids(body)
    assert ids(body)[:2] == posts[:2]


def test_cursor_paging_without_since(world: World) -> None:
    """Without since/until /feed keeps cursor paging (the current reference sample)."""
    for d in range(3):
        world.sb.add_post(world.page, f"p{d}", at=NOW - timedelta(days=3 + d))
    body = world.get(f"/{world.page}/feed", limit=2).json()
    assert set(body["paging"]) == {"cursors", "next"}
