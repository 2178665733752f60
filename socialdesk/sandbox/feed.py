"""Post and Reel listings of a Page: which posts each edge lists, the yearly cap, time paging.

Called by ``handler`` for ``/{page}/feed``, ``/posts``, ``/published_posts``,
``/visitor_posts`` and ``/video_reels``. What it models (GRAPH_API.md §5.1 "Sandbox rules"):

- ``/feed`` lists the Page's posts and visitor posts; ``/posts`` and ``/published_posts`` only
  the Page's own; ``/visitor_posts`` only visitors'; none of them lists Reels, which only
  ``/video_reels`` returns (PagePost reference: "This endpoint does not return Reels").
- "approximately 600 ranked, published posts per year": per calendar year (UTC) the post
  listings keep the ``feed_cap`` most engaged posts (most comments, then newest) and drop the
  rest; a dropped post is still readable by id and through ``/{post-id}/comments``.
- With ``since`` or ``until`` the listing pages by time, as the captured real links do:
  ``next`` = ``…&until=<last created_time>&since&__paging_token=<t>&__previous`` and
  ``previous`` = ``…&__previous=1&since=<first created_time>&until&__paging_token=<t>``, bare
  keys without ``=``, no ``cursors``. ``since`` filters on ``created_time``. The next link
  carries no lower bound (its ``since`` is empty), so a client must stop by itself once posts
  are older than the ``since`` it wanted. ``since=`` and a bare ``since`` read the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC
from urllib.parse import quote_plus

from .apierror import invalid_param
from .model import Page, Post, State
from .paging import CursorError, decode_cursor, encode_cursor
from .render import Ctx, Json, list_block, parse_time

POST_EDGES = ("feed", "posts", "published_posts", "visitor_posts")
REEL_EDGE = "video_reels"
TIME_KEYS = ("since", "until", "__paging_token", "__previous")


def post_key(post: Post) -> tuple[int, int]:
    """Newest first as an ascending key."""
    return (-post.us, -post.seq)


def listed(state: State, page: Page, edge: str, cap: int | None) -> list[Post]:
    """The posts ``edge`` lists, newest first (the yearly cap applied to post listings)."""
    posts = [state.posts[p] for p in page.posts]
    if edge == REEL_EDGE:
        return sorted((p for p in posts if p.kind == "reel"), key=post_key)
    posts = [p for p in posts if p.kind == "post"]
    if edge in ("posts", "published_posts"):
        posts = [p for p in posts if p.author_id is None]
    elif edge == "visitor_posts":
        posts = [p for p in posts if p.author_id is not None]
    if cap is not None and edge != "visitor_posts":
        posts = _ranked_cap(state, posts, cap)
    return sorted(posts, key=post_key)


def _ranked_cap(state: State, posts: list[Post], cap: int) -> list[Post]:
    by_year: dict[int, list[Post]] = defaultdict(list)
    for post in posts:
        by_year[post.at.astimezone(UTC).year].append(post)
    kept: list[Post] = []
    for year_posts in by_year.values():
        if len(year_posts) <= cap:
            kept.extend(year_posts)
            continue

        def engagement(p: Post) -> tuple[int, int, int]:
            live = sum(1 for c in p.comments if state.live_comment(c) is not None)
            return (-live, -p.us, -p.seq)

        kept.extend(sorted(year_posts, key=engagement)[:cap])
    return kept


def uses_time_paging(params: dict[str, str]) -> bool:
    """A post listing pages by time once ``since``/``until`` (or a time link's token) is given."""
    return any(k in params for k in TIME_KEYS)


def _unix(post: Post) -> str:
    return str(int(post.at.timestamp()))


def time_link(base: str, path: str, params: list[tuple[str, str | None]]) -> str:
    """An absolute URL whose ``None`` values are written as bare keys (``&since&``)."""
    parts = [quote_plus(k) if v is None else f"{quote_plus(k)}={quote_plus(v)}" for k, v in params]
    return f"{base}{path}?{'&'.join(parts)}"


def time_block(
    items: list[Post],
    params: dict[str, str],
    limit: int,
    render_one: Callable[[Post], Json],
    ctx: Ctx,
    path: str,
) -> Json:
    """One time-paged page of ``items`` (newest first): bounds, token, bare-key links."""
    since_raw = params.get("since", "")
    until_raw = params.get("until", "")
    pool = items
    if since_raw:
        since_us = parse_time(since_raw, "since")
        pool = [p for p in pool if p.us >= since_us]
    if until_raw:
        # `until` is a whole second and includes it: the token, not the bound, skips the item
        # the previous page ended on.
        until_us = parse_time(until_raw, "until") + 999_999
        pool = [p for p in pool if p.us <= until_us]
    token_raw = params.get("__paging_token", "")
    backwards = params.get("__previous", "") == "1"
    if token_raw:
        try:
            token = decode_cursor(token_raw)
        except CursorError as exc:
            raise invalid_param("The parameter __paging_token is invalid") from exc
        if backwards:
            pool = [p for p in pool if post_key(p) < token][-limit:]
        else:
            pool = [p for p in pool if post_key(p) > token]
    page = pool[:limit]
    out: Json = {"data": [render_one(p) for p in page]}
    if not page:
        return out
    keep = [
        (k, v)
        for k, v in params.items()
        if k not in TIME_KEYS and k not in ("after", "before", "limit")
    ]
    if "limit" in params:
        keep.append(("limit", str(limit)))
    first, last = page[0], page[-1]
    paging: Json = {
        "previous": time_link(
            ctx.base,
            path,
            [
                *keep,
                ("__previous", "1"),
                ("since", _unix(first)),
                ("until", None),
                ("__paging_token", encode_cursor(post_key(first))),
            ],
        )
    }
    if any(post_key(p) > post_key(last) for p in items):
        paging["next"] = time_link(
            ctx.base,
            path,
            [
                *keep,
                ("until", _unix(last)),
                ("since", None),
                ("__paging_token", encode_cursor(post_key(last))),
                ("__previous", None),
            ],
        )
    out["paging"] = paging
    return out


def posts_block(
    page: Page,
    edge: str,
    params: dict[str, str],
    link_params: dict[str, str],
    limit: int,
    ctx: Ctx,
    render_one: Callable[[Post], Json],
    fault: str | None,
) -> Json:
    """The response of a post or reel listing (cursor or time paging)."""
    items = listed(ctx.state, page, edge, ctx.feed_cap)
    path = f"/{ctx.version}/{page.id}/{edge}"
    if edge != REEL_EDGE and uses_time_paging(params):
        return time_block(items, params, limit, render_one, ctx, path)
    return list_block(
        items,
        post_key,
        limit,
        params.get("after"),
        params.get("before"),
        render_one,
        ctx.base,
        path,
        link_params,
        fault=fault,
    )
