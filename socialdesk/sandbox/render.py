"""Turn sandbox objects into Graph JSON for a ``fields`` selection, and page their edges.

Called by ``handler`` for every read. Fields with no data are omitted (never null); unknown
fields raise the real ``(#100) Tried accessing nonexisting field`` error; nested edges carry their
own cursors and absolute ``next`` links, like Graph's field expansion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .apierror import ApiError, invalid_param, nonexisting_field, reduce_data
from .fields import FieldSel, parse_fields, serialize
from .model import Comment, Conversation, Message, Page, Post, State, User, graph_time, to_us
from .paging import CursorError, paginate, paging_block

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
PRIVATE_REPLY_DAYS = 7

Json = dict[str, Any]


@dataclass
class Ctx:
    """What a render needs besides the object: state, the caller's page, link parts, time."""

    state: State
    page: Page
    base: str
    version: str
    token_param: str | None
    now: datetime
    data_budget: int
    tasks: frozenset[str] = frozenset({"MODERATE", "MESSAGING"})
    """The token's Page tasks: without MODERATE comments come back without ``id``."""
    feed_cap: int | None = None
    scopes: frozenset[str] = frozenset()
    """The token's permissions (what Instagram reads look at)."""

    def link_extra(self) -> dict[str, str]:
        """``access_token`` goes into links only when the request carried it as a parameter."""
        return {"access_token": self.token_param} if self.token_param else {}


def sels(text: str) -> tuple[FieldSel, ...]:
    """Shorthand for default selections."""
    return parse_fields(text)


DEFAULTS = {
    "Page": sels("name,id"),
    "User": sels("name,id"),
    "UnifiedThread": sels("id,updated_time"),
    "Message": sels("id,created_time"),
    "PagePost": sels("created_time,message,id"),
    "Comment": sels("created_time,from,message,id"),
    "Video": sels("updated_time,description,id"),
}

# Real fields that the sandbox does not simulate: accepted, and omitted as "no data".
NO_DATA = {
    "Page": {
        "about",
        "category",
        "category_list",
        "fan_count",
        "link",
        "picture",
        "username",
        "access_token",
        "tasks",
        "website",
        "emails",
        "phone",
        "conversations",
        "feed",
        "posts",
        "published_posts",
    },
    "User": {"first_name", "last_name", "profile_pic", "locale", "timezone", "gender"},
    "UnifiedThread": {
        "name",
        "subject",
        "wallpaper",
        "former_participants",
        "linked_group",
        "is_owner",
        "scoped_thread_key",
        "is_subscribed",
    },
    "Message": {"reactions", "story", "reply_to"},
    "PagePost": {
        "story",
        "full_picture",
        "attachments",
        "shares",
        "reactions",
        "likes",
        "privacy",
        "message_tags",
        "place",
        "icon",
        "status_type",
        "scheduled_publish_time",
    },
    "Comment": {
        "message_tags",
        "object",
        "application",
        "admin_creator",
        "live_broadcast_timestamp",
        "reactions",
        "likes",
    },
    "Video": {
        "title",
        "picture",
        "source",
        "thumbnails",
        "status",
        "views",
        "place",
        "privacy",
        "format",
        "icon",
        "embed_html",
        "custom_labels",
        "likes",
        "reactions",
        "content_category",
        "is_crossposting_eligible",
        "post_id",
        "published",
    },
}


def with_id(out: Json, node_id: str) -> Json:
    """Graph adds a node's ``id`` (last) even when the selection did not ask for it."""
    if "id" not in out:
        out["id"] = node_id
    return out


def check_known(node_type: str, selection: Sequence[FieldSel], known: Mapping[str, Any]) -> None:
    """Raise the real error for the first field that the node type does not have."""
    for sel in selection:
        if sel.name not in known and sel.name not in NO_DATA[node_type]:
            raise nonexisting_field(sel.name, node_type)


def parse_limit(
    raw: str | None, *, cap: int | None = MAX_LIMIT, error_above: int | None = None
) -> int:
    """A ``limit`` value: default 25; above ``error_above`` an error; else clamped to ``cap``."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_param(f"Param limit must be a number, got '{raw}'") from exc
    if value < 1:
        raise invalid_param("Param limit must be a positive number")
    if error_above is not None and value > error_above:
        raise invalid_param(
            f"The limit parameter must not exceed {error_above}. Please reduce the limit."
        )
    return min(value, cap) if cap is not None else value


def parse_time(raw: str, name: str) -> int:
    """``since``/``until`` as Unix seconds (a number or an ISO date), in microseconds."""
    try:
        return int(float(raw)) * 1_000_000
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(raw.replace("+0000", "+00:00"))
    except ValueError as exc:
        raise invalid_param(f"Invalid {name} parameter: '{raw}'") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return to_us(dt)


def pick(value: Any, children: tuple[FieldSel, ...] | None) -> Any:
    """Sub-select keys of a plain JSON struct (participants, attachments…)."""
    if children is None:
        return value
    if isinstance(value, list):
        return [pick(v, children) for v in value]
    if isinstance(value, dict):
        if set(value) == {"data"} or ("data" in value and "paging" in value):
            return {**value, "data": pick(value["data"], children)}
        out = {}
        for child in children:
            if child.name in value:
                out[child.name] = pick(value[child.name], child.children)
        return out
    return value


# -- the generic list response -------------------------------------------------------------


def list_block(
    items: Sequence[Any],
    key: Callable[[Any], tuple[Any, ...]],
    limit: int,
    after: str | None,
    before: str | None,
    render_one: Callable[[Any], Json],
    base: str,
    path: str,
    link_params: dict[str, str],
    *,
    fault: str | None = None,
) -> Json:
    """``{"data": [...], "paging": {...}}`` for a sorted list; applies list faults."""
    try:
        page = paginate(items, key, limit, after=after, before=before)
    except CursorError as exc:
        raise invalid_param("The after cursor specified is invalid") from exc
    if fault == "empty-page":
        params = {**link_params, "limit": str(limit)}
        if after:
            params["after"] = after
        from .paging import link  # local: only this fault needs it

        return {"data": [], "paging": {"next": link(base, path, params)}}
    shown = list(page.items)
    if fault == "dup-page" and after and page.previous_item is not None:
        shown.insert(0, page.previous_item)
    out: Json = {"data": [render_one(item) for item in shown]}
    block = paging_block(page, base, path, link_params, limit)
    if block:
        out["paging"] = block
    return out


def nested_params(sel: FieldSel, ctx: Ctx, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Query parameters for a nested edge's ``next`` link."""
    params: dict[str, str] = {}
    if sel.children is not None:
        params["fields"] = serialize(sel.children)
    for mod, value in sel.mods.items():
        if mod not in ("limit", "after", "before") and mod not in skip:
            params[mod] = value
    params.update(ctx.link_extra())
    return params


# -- users and pages -----------------------------------------------------------------------


def person(state: State, pid: str) -> Json:
    """``{id, name, email}`` of a user or a page, as in ``from``/``participants``."""
    name = state.pages[pid].name if pid in state.pages else state.users[pid].name
    return {"name": name, "email": f"{pid}@facebook.com", "id": pid}


def render_page(page: Page, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A Page node."""
    fields = selection or DEFAULTS["Page"]
    known = {"id": page.id, "name": page.name}
    check_known("Page", fields, known)
    return with_id({s.name: known[s.name] for s in fields if s.name in known}, page.id)


def render_user(user: User, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A customer node (page-scoped)."""
    fields = selection or DEFAULTS["User"]
    known = {"id": user.id, "name": user.name}
    check_known("User", fields, known)
    return with_id({s.name: known[s.name] for s in fields if s.name in known}, user.id)


# -- conversations and messages ------------------------------------------------------------

CONV_FIELDS = {
    "id",
    "link",
    "updated_time",
    "message_count",
    "unread_count",
    "snippet",
    "participants",
    "senders",
    "can_reply",
    "folder",
    "messages",
}
MESSAGE_FIELDS = {
    "id",
    "created_time",
    "from",
    "to",
    "message",
    "attachments",
    "sticker",
    "shares",
    "tags",
    "is_unsupported",
}


def snippet(state: State, msg: Message) -> str:
    """The preview text Graph shows for a conversation's newest message."""
    if msg.text:
        return msg.text[:100]
    who = person(state, msg.sender_id)["name"]
    if msg.sticker:
        return f"{who} sent a sticker."
    if msg.attachments:
        return f"{who} sent an attachment."
    if msg.shares:
        return f"{who} sent a link."
    return ""


def messages_limit(sel: FieldSel | None) -> int:
    """The nested ``messages.limit(n)`` (25 when not given)."""
    if sel is None:
        return 0
    return parse_limit(sel.mods.get("limit"))


def render_conversation(
    conv: Conversation, selection: tuple[FieldSel, ...] | None, ctx: Ctx
) -> Json:
    """A conversation (``UnifiedThread``) node."""
    fields = selection or DEFAULTS["UnifiedThread"]
    check_known("UnifiedThread", fields, dict.fromkeys(CONV_FIELDS))
    out: Json = {}
    state = ctx.state
    last = conv.messages[-1] if conv.messages else None
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = conv.id
        elif name == "link":
            out["link"] = f"/{conv.page_id}/inbox/{conv.num}/"
        elif name == "updated_time" and last is not None:
            out["updated_time"] = graph_time(last.at)
        elif name == "message_count":
            out["message_count"] = len(conv.messages)
        elif name == "unread_count" and conv.unread:
            out["unread_count"] = conv.unread  # Facebook omits it when 0
        elif name == "snippet" and last is not None:
            out["snippet"] = snippet(state, last)
        elif name in ("participants", "senders"):
            people = [person(state, conv.user_id), person(state, conv.page_id)]
            out[name] = pick({"data": people}, sel.children)
        elif name == "can_reply":
            out["can_reply"] = not state.users[conv.user_id].blocked
        elif name == "folder":
            out["folder"] = conv.folder
        elif name == "messages":
            out["messages"] = messages_edge(conv, sel, ctx)
    return with_id(out, conv.id)


def message_key(msg: Message) -> tuple[int, int]:
    """Newest-first order as an ascending key."""
    return (-msg.us, -msg.seq)


def messages_edge(
    conv: Conversation,
    sel: FieldSel,
    ctx: Ctx,
    *,
    limit: int | None = None,
    after: str | None = None,
    before: str | None = None,
    link_params: dict[str, str] | None = None,
    fault: str | None = None,
) -> Json:
    """A conversation's messages, newest first, nested or as the ``/messages`` edge."""
    children = sel.children
    items = conv.messages[::-1]
    if limit is None:
        limit = parse_limit(sel.mods.get("limit"))
        after = sel.mods.get("after")
        before = sel.mods.get("before")
    params = link_params if link_params is not None else nested_params(sel, ctx)
    check_known("Message", children or (), dict.fromkeys(MESSAGE_FIELDS))
    return list_block(
        items,
        message_key,
        limit,
        after,
        before,
        lambda m: render_message(m, children, ctx),
        ctx.base,
        f"/{ctx.version}/{conv.id}/messages",
        params,
        fault=fault,
    )


def message_tags(state: State, msg: Message) -> list[Json]:
    """The ``tags`` Graph attaches to messages (inbox/read for incoming, sent for outgoing)."""
    conv = state.conversations[msg.conv_id]
    if msg.sender_id == conv.page_id:
        return [{"name": "source:chat"}, {"name": "sent"}]
    tags = [{"name": "inbox"}]
    if conv.unread == 0:
        tags.append({"name": "read"})
    return tags


def render_message(msg: Message, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A message node; ``message`` is "" for attachment/sticker-only messages, as on Graph."""
    fields = selection or DEFAULTS["Message"]
    check_known("Message", fields, dict.fromkeys(MESSAGE_FIELDS))
    state = ctx.state
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = msg.id
        elif name == "created_time":
            out["created_time"] = graph_time(msg.at)
        elif name == "from":
            out["from"] = pick(person(state, msg.sender_id), sel.children)
        elif name == "to":
            out["to"] = pick({"data": [person(state, msg.recipient_id)]}, sel.children)
        elif name == "message":
            out["message"] = msg.text
        elif name == "attachments" and msg.attachments:
            out["attachments"] = pick(
                {
                    "data": msg.attachments,
                    "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}},
                },
                sel.children,
            )
        elif name == "sticker" and msg.sticker:
            out["sticker"] = msg.sticker
        elif name == "shares" and msg.shares:
            # Sub-fields must be asked for: a bare `shares` gives each share's id only
            # (Message reference; audit M8). Sandbox choice: the stricter reading.
            shown = sel.children if sel.children is not None else sels("id")
            out["shares"] = pick({"data": msg.shares}, shown)
        elif name == "tags":
            out["tags"] = pick({"data": message_tags(state, msg)}, sel.children)
        elif name == "is_unsupported" and msg.is_unsupported:
            out["is_unsupported"] = True
    return with_id(out, msg.id)


# -- posts and comments --------------------------------------------------------------------

POST_FIELDS = {
    "id",
    "message",
    "created_time",
    "updated_time",
    "permalink_url",
    "from",
    "comments",
    "is_published",
    "is_hidden",
}
VIDEO_FIELDS = {
    "id",
    "description",
    "created_time",
    "updated_time",
    "permalink_url",
    "from",
    "length",
    "comments",
}
COMMENT_FIELDS = {
    "id",
    "message",
    "from",
    "created_time",
    "parent",
    "attachment",
    "is_hidden",
    "comment_count",
    "can_reply_privately",
    "private_reply_conversation",
    "like_count",
    "user_likes",
    "can_comment",
    "can_like",
    "can_hide",
    "can_remove",
    "is_private",
    "permalink_url",
    "comments",
}
COMMENT_ORDERS = ("chronological", "reverse_chronological")
"""Meta's enum for ``order`` (codegen ``commentcomments_order_enum_param``); ``ranked`` is only
ever an answer (``summary.order``), never a request."""


def render_post(post: Post, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A Page post (``PagePost``), or a Reel (a ``Video`` node)."""
    if post.kind == "reel":
        return render_video(post, selection, ctx)
    fields = selection or DEFAULTS["PagePost"]
    check_known("PagePost", fields, dict.fromkeys(POST_FIELDS))
    page = ctx.state.pages[post.page_id]
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = post.id
        elif name == "message" and post.message:
            out["message"] = post.message
        elif name == "created_time":
            out["created_time"] = graph_time(post.at)
        elif name == "updated_time":
            out["updated_time"] = graph_time(_from_us(post.updated_us))
        elif name == "permalink_url":
            num = post.id.split("_", 1)[1]
            out["permalink_url"] = f"https://www.facebook.com/{page.id}/posts/{num}"
        elif name == "from":
            author = person(ctx.state, post.author_id or page.id)
            out["from"] = pick({"name": author["name"], "id": author["id"]}, sel.children)
        elif name == "is_published":
            out["is_published"] = True
        elif name == "is_hidden":
            out["is_hidden"] = False
        elif name == "comments":
            out["comments"] = comments_edge(post, sel.mods, sel.children, ctx, nested=sel)
    return with_id(out, post.id)


def render_video(reel: Post, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A Reel as the ``Video`` node ``/{page}/video_reels`` lists (Page VideoReels reference)."""
    fields = selection or DEFAULTS["Video"]
    check_known("Video", fields, dict.fromkeys(VIDEO_FIELDS))
    page = ctx.state.pages[reel.page_id]
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = reel.id
        elif name == "description" and reel.message:
            out["description"] = reel.message
        elif name == "created_time":
            out["created_time"] = graph_time(reel.at)
        elif name == "updated_time":
            out["updated_time"] = graph_time(_from_us(reel.updated_us))
        elif name == "permalink_url":
            out["permalink_url"] = f"/reel/{reel.id}/"
        elif name == "from":
            out["from"] = pick({"name": page.name, "id": page.id}, sel.children)
        elif name == "length":
            out["length"] = 15.0 + reel.seq % 45
        elif name == "comments":
            out["comments"] = comments_edge(reel, sel.mods, sel.children, ctx, nested=sel)
    return with_id(out, reel.id)


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def comment_set(state: State, parent: Post | Comment, filter_: str) -> list[Comment]:
    """The live comments an edge lists, oldest first."""
    if isinstance(parent, Post):
        ids = parent.comments
        out = []
        for cid in ids:
            c = state.live_comment(cid)
            if c is None:
                continue
            if filter_ == "toplevel" and c.parent_id is not None:
                continue
            out.append(c)
        return out
    return [c for c in (state.live_comment(cid) for cid in parent.replies) if c is not None]


def post_of(state: State, parent: Post | Comment) -> Post:
    """The post (or reel) a comments edge hangs off."""
    return parent if isinstance(parent, Post) else state.posts[parent.post_id]


def comments_edge(
    parent: Post | Comment,
    mods: Mapping[str, str],
    children: tuple[FieldSel, ...] | None,
    ctx: Ctx,
    *,
    nested: FieldSel | None = None,
    link_params: dict[str, str] | None = None,
    fault: str | None = None,
) -> Json:
    """Comments of a post or replies of a comment: ``filter``, ``order``, ``since``, ``summary``.

    On a ranked post the answer is most liked first (then oldest first) whatever ``order``
    asks, and ``summary.order`` says ``ranked``: "If the comments can be ranked, then the order
    will always be ranked regardless of this modifier" (object/comments reference).
    """
    filter_ = mods.get("filter", "toplevel")
    if filter_ not in ("toplevel", "stream"):
        raise invalid_param(f"param filter must be one of {{toplevel, stream}} - got '{filter_}'")
    order = mods.get("order", "chronological")
    if order not in COMMENT_ORDERS:
        raise invalid_param(
            f"param order must be one of {{{', '.join(COMMENT_ORDERS)}}} - got '{order}'"
        )
    check_known("Comment", children or (), dict.fromkeys(COMMENT_FIELDS))
    items = comment_set(ctx.state, parent, filter_)
    if mods.get("since"):
        since = parse_time(mods["since"], "since")
        items = [c for c in items if c.us >= since]
    total = len(items)
    key: Callable[[Comment], tuple[int, ...]]
    if post_of(ctx.state, parent).ranked:
        order = "ranked"
        key = lambda c: (-c.likes, c.us, c.seq)  # noqa: E731
        items = sorted(items, key=key)
    elif order == "reverse_chronological":
        items = items[::-1]
        key = lambda c: (-c.us, -c.seq)  # noqa: E731
    else:
        key = lambda c: (c.us, c.seq)  # noqa: E731
    limit = parse_limit(mods.get("limit"))
    if link_params is None:
        assert nested is not None
        link_params = nested_params(nested, ctx)
    out = list_block(
        items,
        key,
        limit,
        mods.get("after"),
        mods.get("before"),
        lambda c: render_comment(c, children, ctx),
        ctx.base,
        f"/{ctx.version}/{parent.id}/comments",
        link_params,
        fault=fault,
    )
    summary = mods.get("summary", "")
    if summary and summary.lower() not in ("false", "0"):
        out["summary"] = {"order": order, "total_count": total, "can_comment": True}
    return out


def can_reply_privately(comment: Comment, ctx: Ctx) -> bool:
    """A user's comment, not yet answered privately (anywhere), younger than 7 days."""
    if comment.from_id in ctx.state.pages or comment.private_reply_mid is not None:
        return False
    return ctx.now - comment.at <= timedelta(days=PRIVATE_REPLY_DAYS)


def render_comment(comment: Comment, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """A comment node; without the MODERATE task its ``id`` is withheld (v11.0+)."""
    fields = selection or DEFAULTS["Comment"]
    check_known("Comment", fields, dict.fromkeys(COMMENT_FIELDS))
    state = ctx.state
    page_id = state.page_of_comment(comment)
    show_id = "MODERATE" in ctx.tasks
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            if show_id:
                out["id"] = comment.id
        elif name == "message":
            out["message"] = comment.message
        elif name == "from":
            who = person(state, comment.from_id)
            out["from"] = pick({"name": who["name"], "id": who["id"]}, sel.children)
        elif name == "created_time":
            out["created_time"] = graph_time(comment.at)
        elif name == "parent" and comment.parent_id is not None:
            parent = render_comment(state.comments[comment.parent_id], sel.children, ctx)
            if parent:
                out["parent"] = parent
        elif name == "attachment" and comment.attachment is not None:
            out["attachment"] = pick(comment.attachment, sel.children)
        elif name == "is_hidden":
            out["is_hidden"] = comment.is_hidden
        elif name == "comment_count":
            out["comment_count"] = len(comment_set(state, comment, "toplevel"))
        elif name == "can_reply_privately":
            out["can_reply_privately"] = can_reply_privately(comment, ctx)
        elif name == "private_reply_conversation" and comment.private_reply_mid is not None:
            msg = state.messages[comment.private_reply_mid]
            conv = state.conversations[msg.conv_id]
            out["private_reply_conversation"] = render_conversation(
                conv, sel.children or sels("id"), ctx
            )
        elif name == "like_count":
            out["like_count"] = comment.likes
        elif name in ("user_likes", "is_private"):
            out[name] = False
        elif name in ("can_comment", "can_like", "can_hide", "can_remove"):
            out[name] = True
        elif name == "permalink_url":
            out["permalink_url"] = _comment_permalink(state, comment, page_id)
        elif name == "comments":
            out["comments"] = comments_edge(comment, sel.mods, sel.children, ctx, nested=sel)
    return with_id(out, comment.id) if show_id else out


def _comment_permalink(state: State, comment: Comment, page_id: str) -> str:
    post = state.posts[comment.post_id]
    own = comment.id.split("_", 1)[1]
    if post.kind == "reel":
        base = f"https://www.facebook.com/reel/{post.id}/"
    else:
        base = f"https://www.facebook.com/{page_id}/posts/{post.id.split('_', 1)[1]}/"
    if comment.parent_id is not None:
        parent_num = comment.parent_id.split("_", 1)[1]
        return f"{base}?comment_id={parent_num}&reply_comment_id={own}"
    return f"{base}?comment_id={own}"


def check_budget(limit: int, nested: FieldSel | None, ctx: Ctx) -> None:
    """Code 1 when ``limit`` × the nested edge's limit exceeds the sandbox's data budget."""
    if nested is None:
        return
    inner = parse_limit(nested.mods.get("limit"))
    if limit * inner > ctx.data_budget:
        raise reduce_data()


def find(selection: tuple[FieldSel, ...] | None, name: str) -> FieldSel | None:
    """The selected field called ``name``, if any."""
    for sel in selection or ():
        if sel.name == name:
            return sel
    return None


__all__ = ["ApiError", "Ctx"]
