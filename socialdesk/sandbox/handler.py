"""The sandbox's one request handler: (method, url, headers, body) → ``Reply``.

Both ways in use it: ``transport.SandboxTransport`` (in-process, tests) and ``server`` (loopback
HTTP). Order of work for a request, as Graph does it: version → token → appsecret_proof → route →
usage counters → the 2 calls/s conversations limit → injected fault → the endpoint → ETag.
Everything under ``Sandbox.lock``; no sleeping here (the server sleeps outside the lock).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .apierror import (
    ApiError,
    invalid_param,
    nonexisting_field,
    reduce_data,
    throttled,
    transient_500,
    unsupported,
)
from .faults import THROTTLE_CODES
from .fields import FieldSel, FieldsError, parse_fields
from .model import Comment, Conversation, Delivery, Message, Page, Post, Token, User
from .render import (
    PRIVATE_REPLY_DAYS,
    Ctx,
    Json,
    check_budget,
    comments_edge,
    find,
    list_block,
    messages_edge,
    parse_limit,
    parse_time,
    render_comment,
    render_conversation,
    render_message,
    render_page,
    render_post,
    render_user,
)

if TYPE_CHECKING:
    from .engine import Sandbox

MIN_VERSION = 21
MAX_TEXT = 2000
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY")
TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")
_VERSION = re.compile(r"v(\d+)\.(\d+)")
_INVALIDATED = {
    458: "Error validating access token: The user has not authorized application.",
    460: (
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons."
    ),
    467: "Error validating access token: The session is invalid because the user logged out.",
}


@dataclass
class Reply:
    """What the handler answers; ``stall`` asks the caller to lose the response (timeout)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stall: bool = False


@dataclass
class Request:
    """A parsed request (internal to the handler)."""

    method: str
    base: str
    segments: list[str]
    query: dict[str, str]
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Route:
    """A resolved endpoint: its counter name, whether it lists, which limits apply."""

    edge: str
    run: Callable[[Ctx, str | None], Json]
    is_list: bool = False
    conversations_api: bool = False
    messenger: bool = False


def _trace(n: int) -> str:
    return hashlib.sha256(f"trace{n}".encode()).hexdigest()[:11].replace("0", "A")


def encode(payload: Any) -> bytes:
    """Graph's encoding: ASCII with ``\\uXXXX`` escapes, and escaped slashes."""
    return (
        json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()
    )


def handle(
    sb: Sandbox,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes = b"",
) -> Reply:
    """Answer one HTTP request against the sandbox's state."""
    method = method.upper()
    with sb.lock:
        sb.calls += 1
        trace = _trace(sb.calls)
        now = sb.now()
        version = "v26.0"
        token: Token | None = None
        fault: str | None = None
        regain = 0
        try:
            req = _parse(method, url, headers, body)
            method = req.method
            version = _check_version(req)
            token = _authenticate(sb, req, now)
            _check_proof(sb, req, token)
            route = _resolve(sb, req, token, version)
            sb.calls_by_edge[f"{method} {route.edge}"] += 1
            sb.record_usage(token.page_id, now, messenger=route.messenger)
            if (
                route.conversations_api
                and sb.rate_limit
                and not sb.conversation_call_ok(token.page_id, now)
            ):
                raise throttled(80006, 1)
            if sb.faults is not None:
                fault = sb.faults.pick(method, route.is_list)
            if fault is not None and fault.isdigit() and int(fault) in THROTTLE_CODES:
                raise throttled(int(fault), 1 + sb.calls % 4)
            if fault == "500:2":
                raise transient_500()
            if fault == "1":
                raise reduce_data()
            ctx = Ctx(
                state=sb.state,
                page=sb.state.pages[token.page_id],
                base=req.base,
                version=version,
                token_param=req.query.get("access_token"),
                now=now,
                data_budget=sb.data_budget,
            )
            payload = route.run(ctx, fault)
            status = 200
        except ApiError as err:
            if err.code in THROTTLE_CODES:
                regain = err.regain_minutes or 1
            payload = err.envelope(trace)
            status = err.status
            if fault in ("timeout", "malformed"):
                fault = None  # the fault needs a processed request
        except FieldsError as err:
            payload = ApiError(err.message, err.code).envelope(trace)
            status = 400
        out = encode(payload)
        reply_headers = [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("facebook-api-version", version),
            ("x-fb-trace-id", trace),
            ("x-fb-rev", "1019735417"),
            ("X-App-Usage", json.dumps(sb.app_usage(now), separators=(",", ":"))),
        ]
        if token is not None:
            usage = sb.buc_usage(token.page_id, now, regain)
            reply_headers.append(
                ("X-Business-Use-Case-Usage", json.dumps(usage, separators=(",", ":")))
            )
        if status == 400 and isinstance(payload.get("error"), dict):
            err_body = payload["error"]
            if err_body.get("code") == 190:
                reply_headers.append(
                    (
                        "WWW-Authenticate",
                        'OAuth "Facebook Platform" "invalid_token" "'
                        + str(err_body["message"]).replace('"', "'")
                        + '"',
                    )
                )
        if fault == "malformed":
            out = out[: max(1, len(out) // 2)]
        elif method == "GET" and status == 200:
            etag = '"' + hashlib.sha1(out).hexdigest() + '"'
            reply_headers.append(("ETag", etag))
            if headers_get(headers, "if-none-match") == etag:
                return Reply(304, reply_headers, b"")
        return Reply(status, reply_headers, out, stall=fault == "timeout")


def headers_get(headers: Mapping[str, str], name: str) -> str | None:
    """A header value, case-insensitively."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


# -- parsing, version, auth ----------------------------------------------------------------


def _parse(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Request:
    parts = urlsplit(url)
    base = f"{parts.scheme or 'http'}://{parts.netloc}"
    segments = [unquote(s) for s in parts.path.split("/") if s]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    params: dict[str, Any] = dict(query)
    if body:
        ctype = (headers_get(headers, "content-type") or "").lower()
        if "json" in ctype:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise invalid_param("Invalid JSON in the request body") from exc
            if not isinstance(data, dict):
                raise invalid_param("The request body must be a JSON object")
            params.update(data)
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    lowered = {k.lower(): v for k, v in headers.items()}
    # Graph's method override: a POST carrying `method=GET|DELETE` is served as that method. SDKs
    # use it to keep parameters (such as debug_token's input_token) out of the URL.
    override = str(params.get("method", "")).upper()
    if method == "POST" and override in ("GET", "DELETE"):
        method = override
        params.pop("method", None)
    return Request(method, base, segments, query, params, lowered)


def _check_version(req: Request) -> str:
    if not req.segments:
        raise ApiError(
            "Unsupported request: no version and no path",
            100,
            subcode=33,
            type_="GraphMethodException",
        )
    match = _VERSION.fullmatch(req.segments[0])
    if match is None:
        raise ApiError(
            f"Unknown path components: /{req.segments[0]} (the sandbox needs a version prefix "
            f"such as /v26.0; unversioned calls are not served)",
            2500,
        )
    if int(match.group(1)) < MIN_VERSION or match.group(2) != "0":
        raise ApiError(
            f"(#2635) You are calling a deprecated version of the Graph API "
            f"({req.segments[0]}). Please update to at least v{MIN_VERSION}.0.",
            2635,
        )
    req.segments = req.segments[1:]
    return f"v{match.group(1)}.0"


def _authenticate(sb: Sandbox, req: Request, now: datetime) -> Token:
    raw = req.params.get("access_token")
    if not raw:
        auth = req.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            raw = value.strip()
    if not raw:
        if req.segments[:1] == ["me"]:
            raise ApiError(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        raise ApiError("(#104) An access token is required to request this resource.", 104)
    token = sb.state.tokens.get(str(raw))
    if token is None:
        raise ApiError("Invalid OAuth access token - Cannot parse access token", 190)
    if token.invalid_subcode is not None:
        message = _INVALIDATED.get(
            token.invalid_subcode,
            "Error validating access token: The session has been invalidated.",
        )
        raise ApiError(message, 190, subcode=token.invalid_subcode)
    if token.expires_at is not None and token.expires_at <= now:
        fmt = "%A, %d-%b-%y %H:%M:%S UTC"
        raise ApiError(
            f"Error validating access token: Session has expired on "
            f"{token.expires_at.strftime(fmt)}. The current time is {now.strftime(fmt)}.",
            190,
            subcode=463,
        )
    return token


def appsecret_proof(app_secret: str, token: str) -> str:
    """hex(HMAC-SHA256(key=app_secret, msg=access_token)), as Graph computes it."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _check_proof(sb: Sandbox, req: Request, token: Token) -> None:
    if sb.app_secret is None:
        return
    proof = req.params.get("appsecret_proof")
    if not proof:
        raise ApiError(
            "API calls from the server require an appsecret_proof argument",
            100,
            type_="GraphMethodException",
        )
    expected = appsecret_proof(sb.app_secret, token.value)
    if not hmac.compare_digest(str(proof), expected):
        raise ApiError(
            "Invalid appsecret_proof provided in the API argument",
            100,
            type_="GraphMethodException",
        )


# -- routing -------------------------------------------------------------------------------

NODE_TYPES = {
    Page: "Page",
    Conversation: "UnifiedThread",
    Message: "Message",
    Post: "PagePost",
    Comment: "Comment",
    User: "User",
}
NodeObj = Page | Conversation | Message | Post | Comment | User


def lookup(sb: Sandbox, page_id: str, obj_id: str) -> NodeObj | None:
    """The object behind an id, if the token's page may see it."""
    st = sb.state
    if obj_id in st.pages:
        return st.pages[obj_id] if obj_id == page_id else None
    conv = st.conversations.get(obj_id)
    if conv is not None:
        return conv if conv.page_id == page_id and conv.messages else None
    msg = st.messages.get(obj_id)
    if msg is not None:
        return msg if st.conversations[msg.conv_id].page_id == page_id else None
    post = st.posts.get(obj_id)
    if post is not None:
        return post if post.page_id == page_id else None
    comment = st.live_comment(obj_id)
    if comment is not None:
        return comment if st.page_of_comment(comment) == page_id else None
    user = st.users.get(obj_id)
    if user is not None and (page_id, obj_id) in st.conv_by_user:
        return user
    return None


def _fields(req: Request) -> tuple[FieldSel, ...] | None:
    raw = req.params.get("fields")
    if raw is None or str(raw).strip() == "":
        return None
    return parse_fields(str(raw))


def _link_params(req: Request) -> dict[str, str]:
    return {k: v for k, v in req.query.items() if k not in ("after", "before")}


def _resolve(sb: Sandbox, req: Request, token: Token, version: str) -> Route:
    segs = list(req.segments)
    method = req.method
    if not segs:
        raise unsupported(method, "")
    if len(segs) > 2:
        raise ApiError(f"Unknown path components: /{'/'.join(segs[2:])}", 2500)
    if segs[0] == "debug_token" and len(segs) == 1 and method == "GET":
        return Route("debug_token", lambda ctx, f: _debug_token(sb, req, ctx))
    if segs[0] == "me":
        segs[0] = token.page_id
    obj = lookup(sb, token.page_id, segs[0])
    if obj is None:
        raise unsupported(method, segs[0])
    node_type = NODE_TYPES[type(obj)]
    if len(segs) == 1:
        if method == "GET":
            return Route(
                "me" if req.segments[0] == "me" else "node",
                lambda ctx, f: _render_node(obj, req, ctx),
                conversations_api=isinstance(obj, Conversation),
                messenger=isinstance(obj, Conversation | Message),
            )
        if isinstance(obj, Comment) and method == "POST":
            return Route("node", lambda ctx, f: _update_comment(obj, req))
        if isinstance(obj, Comment) and method == "DELETE":
            return Route("node", lambda ctx, f: _delete_comment(obj))
        raise unsupported(method, segs[0])
    edge = segs[1]
    if isinstance(obj, Page):
        if edge == "conversations" and method == "GET":
            return Route(
                "conversations",
                lambda ctx, f: _conversations(obj, req, ctx, f),
                is_list=True,
                conversations_api=True,
                messenger=True,
            )
        if edge in ("feed", "posts", "published_posts") and method == "GET":
            return Route(edge, lambda ctx, f: _feed(obj, req, ctx, f), is_list=True)
        if edge == "messages" and method == "POST":
            return Route("messages", lambda ctx, f: _send(sb, obj, req, ctx), messenger=True)
    if isinstance(obj, Conversation) and edge == "messages" and method == "GET":
        return Route(
            "messages",
            lambda ctx, f: _conv_messages(obj, req, ctx, f),
            is_list=True,
            conversations_api=True,
            messenger=True,
        )
    if isinstance(obj, Post | Comment) and edge == "comments":
        if method == "GET":
            return Route("comments", lambda ctx, f: _comments(obj, req, ctx, f), is_list=True)
        if method == "POST":
            return Route("comments", lambda ctx, f: _page_comment(sb, obj, req, ctx))
    if isinstance(obj, Comment | Post) and edge == "private_replies":
        raise ApiError("(#12) private_replies is deprecated for versions v3.3 and higher", 12)
    if method != "GET":
        raise unsupported(method, f"{segs[0]}/{edge}")
    raise nonexisting_field(edge, node_type)


# -- reads ---------------------------------------------------------------------------------


def _render_node(obj: NodeObj, req: Request, ctx: Ctx) -> Json:
    sel = _fields(req)
    if isinstance(obj, Page):
        return render_page(obj, sel, ctx)
    if isinstance(obj, Conversation):
        return render_conversation(obj, sel, ctx)
    if isinstance(obj, Message):
        return render_message(obj, sel, ctx)
    if isinstance(obj, Post):
        return render_post(obj, sel, ctx)
    if isinstance(obj, Comment):
        return render_comment(obj, sel, ctx)
    return render_user(obj, sel, ctx)


def _debug_token(sb: Sandbox, req: Request, ctx: Ctx) -> Json:
    raw = req.params.get("input_token")
    if not raw:
        raise invalid_param("The parameter input_token is required")
    token = sb.state.tokens.get(str(raw))
    if token is None:
        return {
            "data": {
                "error": {"code": 190, "message": "Invalid OAuth access token."},
                "is_valid": False,
                "scopes": [],
            }
        }
    issued = int(token.issued_at.timestamp())
    data: Json = {
        "app_id": sb.app_id,
        "type": "PAGE",
        "application": sb.app_name,
        "data_access_expires_at": issued + 90 * 86400,
        "expires_at": int(token.expires_at.timestamp()) if token.expires_at else 0,
        "is_valid": True,
        "issued_at": issued,
        "profile_id": token.page_id,
        "scopes": list(token.scopes),
        "granular_scopes": [{"scope": s, "target_ids": [token.page_id]} for s in token.scopes],
        "user_id": sb.admin_user_id,
    }
    if token.invalid_subcode is not None:
        data["is_valid"] = False
        data["error"] = {
            "code": 190,
            "message": _INVALIDATED.get(token.invalid_subcode, "The session has been invalidated."),
            "subcode": token.invalid_subcode,
        }
    elif token.expires_at is not None and token.expires_at <= ctx.now:
        data["is_valid"] = False
        data["error"] = {"code": 190, "message": "Session has expired.", "subcode": 463}
    return {"data": data}


def _conversations(page: Page, req: Request, ctx: Ctx, fault: str | None) -> Json:
    platform = str(req.params.get("platform", "messenger")).lower()
    if platform not in ("messenger", "instagram"):
        raise invalid_param(
            f"param platform must be one of {{MESSENGER, INSTAGRAM}} - got '{platform}'"
        )
    limit = parse_limit(req.params.get("limit"))
    selection = _fields(req)
    check_budget(limit, find(selection, "messages"), ctx)
    items: list[Conversation] = []
    if platform == "messenger":
        user_id = req.params.get("user_id")
        if user_id:
            cid = ctx.state.conv_by_user.get((page.id, str(user_id)))
            conv = ctx.state.conversations.get(cid) if cid else None
            items = [conv] if conv is not None and conv.messages else []
        else:
            items = ctx.state.sorted_conversations(page.id)
    return list_block(
        items,
        lambda c: (-c.updated_us, c.id),
        limit,
        req.params.get("after"),
        req.params.get("before"),
        lambda c: render_conversation(c, selection, ctx),
        ctx.base,
        f"/{ctx.version}/{page.id}/conversations",
        _link_params(req),
        fault=fault,
    )


def _conv_messages(conv: Conversation, req: Request, ctx: Ctx, fault: str | None) -> Json:
    sel = FieldSel("messages", {}, _fields(req))
    return messages_edge(
        conv,
        sel,
        ctx,
        limit=parse_limit(req.params.get("limit")),
        after=req.params.get("after"),
        before=req.params.get("before"),
        link_params=_link_params(req),
        fault=fault,
    )


def _feed(page: Page, req: Request, ctx: Ctx, fault: str | None) -> Json:
    limit = parse_limit(req.params.get("limit"), error_above=100)
    selection = _fields(req)
    check_budget(limit, find(selection, "comments"), ctx)
    posts = [ctx.state.posts[p] for p in page.posts]
    if req.params.get("since"):
        since = parse_time(str(req.params["since"]), "since")
        posts = [p for p in posts if p.us >= since]
    if req.params.get("until"):
        until = parse_time(str(req.params["until"]), "until")
        posts = [p for p in posts if p.us <= until]
    posts.sort(key=lambda p: (-p.us, -p.seq))
    return list_block(
        posts,
        lambda p: (-p.us, -p.seq),
        limit,
        req.params.get("after"),
        req.params.get("before"),
        lambda p: render_post(p, selection, ctx),
        ctx.base,
        f"/{ctx.version}/{page.id}/feed",
        _link_params(req),
        fault=fault,
    )


def _comments(parent: Post | Comment, req: Request, ctx: Ctx, fault: str | None) -> Json:
    mods: dict[str, str] = {
        k: str(req.params[k])
        for k in ("filter", "order", "summary", "since", "limit", "after", "before")
        if k in req.params
    }
    return comments_edge(
        parent, mods, _fields(req), ctx, link_params=_link_params(req), fault=fault
    )


# -- writes --------------------------------------------------------------------------------


def _json_param(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise invalid_param(f"Param {name} must be a JSON object") from exc
        if isinstance(parsed, dict):
            return parsed
    raise invalid_param(f"Param {name} must be a JSON object")


def _send(sb: Sandbox, page: Page, req: Request, ctx: Ctx) -> Json:
    st = ctx.state
    if "recipient" not in req.params:
        raise invalid_param("The parameter recipient is required")
    recipient = _json_param(req.params["recipient"], "recipient")
    if "message" not in req.params:
        if req.params.get("sender_action"):
            uid = str(recipient.get("id", ""))
            if (page.id, uid) not in st.conv_by_user:
                raise invalid_param("No matching user found", 2018001)
            return {"recipient_id": uid}
        raise invalid_param("The parameter message is required")
    message = _json_param(req.params["message"], "message")
    mtype = str(req.params.get("messaging_type", "RESPONSE"))
    if mtype not in MESSAGING_TYPES:
        raise invalid_param(
            f"Param messaging_type must be one of {{{', '.join(MESSAGING_TYPES)}}} - got '{mtype}'"
        )
    tag = req.params.get("tag")
    if tag is not None:
        tag = str(tag)
        if tag not in TAGS:
            raise invalid_param(f"Param tag must be one of {{{', '.join(TAGS)}}} - got '{tag}'")
    if mtype == "MESSAGE_TAG" and tag is None:
        raise invalid_param("Param tag is required when messaging_type is MESSAGE_TAG")
    text = message.get("text")
    text = "" if text is None else str(text)
    attachment = message.get("attachment")
    if not text and not attachment:
        raise invalid_param(
            "Message cannot be empty, must provide valid attachment or text", 2018034
        )
    if len(text) > MAX_TEXT:
        raise invalid_param(
            f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
        )

    comment: Comment | None = None
    if "comment_id" in recipient:
        comment = st.live_comment(str(recipient["comment_id"]))
        if (
            comment is None
            or st.page_of_comment(comment) != page.id
            or comment.from_id == page.id
            # One private reply per comment: a second one is answered like an invalid target
            # (100/2018292, the documented private-reply rejection, GRAPH_API §4.4 and §17.9).
            or comment.private_reply_mid is not None
        ):
            raise invalid_param("Invalid comment_id parameter", 2018292)
        user = st.users[comment.from_id]
    elif "id" in recipient:
        found = st.users.get(str(recipient["id"]))
        if found is None or (page.id, found.id) not in st.conv_by_user:
            raise invalid_param("No matching user found", 2018001)
        user = found
    else:
        raise invalid_param("Param recipient must contain one of {id, comment_id}")

    if user.blocked:
        raise ApiError("This person isn't available right now.", 551, subcode=1545041)
    if tag == "HUMAN_AGENT" and not page.human_agent:
        raise ApiError(
            "(#200) Permissions error: this app has not been approved for the Human Agent "
            "feature (HUMAN_AGENT tag) on this Page",
            200,
        )
    if comment is not None:
        # Private replies have their own clock: 7 days from the comment (GRAPH_API §5.4); the
        # refusal is the Send API's window error, the same condition in the same words.
        if ctx.now - comment.at > timedelta(days=PRIVATE_REPLY_DAYS):
            raise _outside_window()
    else:
        conv = st.conversation_for(page.id, user.id)
        last = conv.last_user_message()
        age = ctx.now - last.at if last is not None else timedelta.max
        if tag == "HUMAN_AGENT":
            if age > HUMAN_AGENT_WINDOW:
                raise _outside_window()
        elif mtype != "MESSAGE_TAG" and age > WINDOW:
            raise _outside_window()

    attachments = []
    if isinstance(attachment, dict):
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        url = str((payload or {}).get("url", ""))
        kind = str(attachment.get("type", "file"))
        if kind == "image":
            attachments.append(
                {
                    "mime_type": "image/jpeg",
                    "name": url.rsplit("/", 1)[-1] or "image.jpg",
                    "image_data": {"width": 800, "height": 600, "url": url, "preview_url": url},
                }
            )
        else:
            attachments.append(
                {
                    "mime_type": "application/octet-stream",
                    "name": url.rsplit("/", 1)[-1] or "file",
                    "file_url": url,
                }
            )
    msg = st.add_message(page.id, user.id, text, ctx.now, from_page=True, attachments=attachments)
    if comment is not None:
        comment.private_reply_mid = msg.id
    st.deliveries.append(
        Delivery(
            page_id=page.id,
            user_id=user.id,
            message_id=msg.id,
            text=text,
            at=ctx.now,
            messaging_type=mtype,
            tag=tag,
            comment_id=comment.id if comment is not None else None,
        )
    )
    return {"recipient_id": user.id, "message_id": msg.id}


def _outside_window() -> ApiError:
    return ApiError(
        "(#10) This message is sent outside of allowed window. Learn more about the new policy "
        "here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        10,
        subcode=2018278,
    )


def _page_comment(sb: Sandbox, parent: Post | Comment, req: Request, ctx: Ctx) -> Json:
    text = str(req.params.get("message") or "")
    if not text.strip() and not req.params.get("attachment_url"):
        raise invalid_param("Missing message or attachment")
    if isinstance(parent, Post):
        post_id, parent_id = parent.id, None
    else:
        post_id, parent_id = parent.post_id, parent.id
    cid = ctx.state.add_comment(post_id, ctx.page.id, text, ctx.now, parent_id=parent_id)
    return {"id": cid}


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return None


def _update_comment(comment: Comment, req: Request) -> Json:
    changed = False
    if "is_hidden" in req.params:
        hidden = _truthy(req.params["is_hidden"])
        if hidden is None:
            raise invalid_param("Param is_hidden must be a boolean")
        comment.is_hidden = hidden
        changed = True
    if "message" in req.params:
        text = str(req.params["message"])
        if not text.strip():
            raise invalid_param("Missing message or attachment")
        comment.message = text
        changed = True
    if not changed:
        raise invalid_param("Missing a parameter to update: is_hidden or message")
    return {"success": True}


def _delete_comment(comment: Comment) -> Json:
    comment.deleted = True
    return {"success": True}


__all__ = ["Reply", "appsecret_proof", "handle", "lookup"]
