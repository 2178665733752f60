"""The sandbox's one request handler: (method, url, headers, body) → ``Reply``.

Both ways in use it: ``transport.SandboxTransport`` (in-process, tests) and ``server`` (loopback
HTTP). Order of work for a request, as Graph does it: version → token → appsecret_proof → route →
usage counters (BUC budgets, then the 2 calls/s Conversations bucket) → injected fault →
permissions → the endpoint → ETag. Everything under ``Sandbox.lock``; no sleeping here (the
server sleeps outside the lock). Writes live in ``send``, post listings in ``feed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import feed, instagram, nonsense, send
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
from .fields import FieldSel, FieldsError
from .model import FOLDERS, Comment, Conversation, Message, Page, Post, Token, User
from .render import (
    Ctx,
    Json,
    check_budget,
    comments_edge,
    find,
    list_block,
    messages_edge,
    parse_limit,
    render_comment,
    render_conversation,
    render_message,
    render_page,
    render_post,
    render_user,
)
from .request import Request, Route, fields_of, link_params, nested_cost

if TYPE_CHECKING:
    from .engine import Sandbox

MIN_VERSION = 21
_VERSION = re.compile(r"v(\d+)\.(\d+)")
_INVALIDATED = {
    458: "Error validating access token: The user has not authorized application.",
    460: (
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons."
    ),
    467: "Error validating access token: The session is invalid because the user logged out.",
}
MESSENGER_TASKS = frozenset({"MESSAGING", "MODERATE"})


@dataclass
class Reply:
    """What the handler answers.

    ``stall`` asks the caller to lose the response (timeout). ``stream`` (with ``length``)
    replaces ``body`` by chunks made on demand (a huge body never held in memory). ``drip`` > 0
    asks the caller to send the body one byte every ``drip`` seconds.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stall: bool = False
    stream: Iterator[bytes] | None = None
    length: int = 0
    drip: float = 0.0


@dataclass(frozen=True)
class AppCaller:
    """A call made with the app access token ``APPID|APPSECRET`` (only ``debug_token`` takes it)."""

    app_id: str


Caller = Token | AppCaller


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
        caller: Caller | None = None
        route: Route | None = None
        fault: str | None = None
        regain = 0
        try:
            req = _parse(method, url, headers, body)
            method = req.method
            version = _check_version(req)
            caller = _authenticate(sb, req, now)
            if isinstance(caller, Token):
                _check_proof(sb, req, caller)
            route = _resolve(sb, req, caller, version)
            sb.calls_by_edge[f"{method} {route.edge}"] += 1
            if isinstance(caller, Token):
                _charge(sb, caller, route, now)
            endless = nonsense.endless_step(req.params.get("after")) if route.is_list else None
            if endless is not None:
                # A cursor of an endless chain keeps the chain going, whatever the rate says.
                req.params.pop("after", None)
                req.query.pop("after", None)
                fault = "endless"
            elif sb.faults is not None:
                fault = sb.faults.pick(method, route.is_list, route.cost)
            if fault is not None and fault.isdigit() and int(fault) in THROTTLE_CODES:
                raise throttled(int(fault), 1 + sb.calls % 4)
            if fault == "500:2":
                raise transient_500()
            if fault == "1":
                raise reduce_data()
            if fault == "error-200":
                payload = nonsense.error_in_200(trace)
            else:
                payload = route.run(_context(sb, req, caller, version, now), fault)
            status = 200
            if fault == "heavy":
                fault = "timeout"  # a heavy page that took too long: processed, answer lost
            payload = _spoil(sb, payload, fault, url, endless)
        except ApiError as err:
            regain = err.regain_minutes or 0
            payload = err.envelope(trace)
            status = err.status
            if fault not in ("html", "drip"):
                fault = None  # the other faults spoil a processed, successful answer
        except FieldsError as err:
            payload = ApiError(err.message, err.code).envelope(trace)
            status = 400
        out = encode(payload)
        reply_headers = [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("facebook-api-version", version),
            ("x-fb-trace-id", trace),
            ("x-fb-rev", "1019735417"),
        ]
        if isinstance(caller, Token) and route is not None and route.ig_id is not None:
            account = sb.state.ig_accounts[route.ig_id]
            entries = sb.meter.ig_entries(sb.state, account, now, force_regain=regain)
            reply_headers.append(
                (
                    "X-Business-Use-Case-Usage",
                    json.dumps({account.id: entries}, separators=(",", ":")),
                )
            )
        elif isinstance(caller, Token):
            usage = sb.buc_usage(caller.page_id, now, regain)
            reply_headers.append(
                ("X-Business-Use-Case-Usage", json.dumps(usage, separators=(",", ":")))
            )
        elif isinstance(caller, AppCaller):
            reply_headers.append(
                ("X-App-Usage", json.dumps(sb.app_usage(now), separators=(",", ":")))
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
        if fault == "html":
            html_status, html_headers, html_body = nonsense.html_page()
            return Reply(html_status, html_headers, html_body)
        if fault == "huge-body" and sb.faults is not None:
            length, chunks = nonsense.huge_body(sb.faults.huge)
            return Reply(status, reply_headers, b"", stream=chunks, length=length)
        if fault == "malformed":
            out = out[: max(1, len(out) // 2)]
        elif method == "GET" and status == 200 and fault != "drip":
            etag = '"' + hashlib.sha1(out).hexdigest() + '"'
            reply_headers.append(("ETag", etag))
            if headers_get(headers, "if-none-match") == etag:
                return Reply(304, reply_headers, b"")
        drip = sb.faults.drip if fault == "drip" and sb.faults is not None else 0.0
        return Reply(status, reply_headers, out, stall=fault == "timeout", drip=drip)


def _context(sb: Sandbox, req: Request, caller: Caller, version: str, now: datetime) -> Ctx:
    page_id = caller.page_id if isinstance(caller, Token) else None
    return Ctx(
        state=sb.state,
        # App-token calls (debug_token) render nothing page-bound; a blank page keeps Ctx total.
        page=sb.state.pages[page_id] if page_id else Page(id="", name=""),
        base=req.base,
        version=version,
        token_param=req.query.get("access_token"),
        now=now,
        data_budget=sb.data_budget,
        tasks=frozenset(caller.tasks) if isinstance(caller, Token) else frozenset(),
        feed_cap=sb.feed_cap,
        scopes=frozenset(caller.scopes) if isinstance(caller, Token) else frozenset(),
    )


def _spoil(sb: Sandbox, payload: Json, fault: str | None, url: str, endless: int | None) -> Json:
    """Apply a payload-changing fault to a successful answer."""
    spec = sb.faults
    if fault == "wrong-types":
        return nonsense.wrong_types(payload)
    if fault == "big-body" and spec is not None:
        return nonsense.padded(payload, spec.big)
    if fault == "foreign-next" and spec is not None:
        return nonsense.foreign_next(payload, url, spec.foreign)
    if fault == "endless":
        return nonsense.endless_next(payload, url, endless or 0)
    return payload


def _charge(sb: Sandbox, token: Token, route: Route, now: datetime) -> None:
    """Count the call in the BUC windows, then apply the Conversations API's 2 calls/s."""
    if route.ig_id is not None:
        verdict = sb.meter.charge_ig(sb.state, sb.state.ig_accounts[route.ig_id], now)
        if verdict.code is not None:
            raise throttled(verdict.code)
        return
    page = sb.state.pages[token.page_id]
    ig_paced = route.ig_messaging is not None and sb.rate_limit
    # Instagram DMs: 2 calls/s per Instagram account, a bucket of its own (613).
    if ig_paced and not sb.meter.conversation_call_ok(str(route.ig_messaging), now):
        raise throttled(613)
    kinds = ("pages", "messenger") if route.messenger else ("pages",)
    verdict = sb.meter.charge(sb.state, page, kinds, now)
    if verdict.code is not None:
        raise throttled(verdict.code)
    if not (route.conversations_api and sb.rate_limit):
        return
    if not sb.meter.conversation_call_ok(page.id, now):
        raise throttled(80006)


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


def _authenticate(sb: Sandbox, req: Request, now: datetime) -> Caller:
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
    raw = str(raw)
    if "|" in raw:
        app_id, _, secret = raw.partition("|")
        known_id, known_secret = sb.app_credentials()
        if app_id == known_id and hmac.compare_digest(secret, known_secret):
            return AppCaller(app_id)
        raise ApiError("Invalid OAuth access token signature.", 190)
    token = sb.state.tokens.get(raw)
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


# -- permissions ---------------------------------------------------------------------------


PAGE_READS_ERROR = (
    "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public "
    "Content Access' feature. Refer to "
    "https://developers.facebook.com/docs/apps/review/login-permissions#manage-pages and "
    "https://developers.facebook.com/docs/apps/review/feature#reference-PAGES_ACCESS for details."
)
"""What Graph answers a Page token without ``pages_read_engagement`` on the feed (reported:
github.com/pdir/social-feed-bundle/issues/184, github.com/sns-sdks/python-facebook/issues/102)."""


def require_page_reads(token: Token) -> None:
    """The feed, the Page's posts and Reels, and comment listings need ``pages_read_engagement``
    (GRAPH_API.md §20.8)."""
    if "pages_read_engagement" not in token.scopes:
        raise ApiError(PAGE_READS_ERROR, 10)


def require_messenger(page: Page, token: Token) -> None:
    """The Conversations and Send APIs' requirements, checked in Graph's order.

    ``pages_messaging`` missing → ``(#230)`` (the wording real clients saw); neither MESSAGING
    nor MODERATE task → ``(#200) Permissions error``; no Advanced Access → ``1/99``, which
    Meta's error table explains as "Missing permissions… Your app may need Advanced Access".
    """
    if "pages_messaging" not in token.scopes:
        raise ApiError("(#230) Requires pages_messaging permission to manage the object", 230)
    if not MESSENGER_TASKS & set(token.tasks):
        raise ApiError("(#200) Permissions error", 200)
    if not page.advanced_access:
        raise ApiError("An unknown error occurred", 1, subcode=99)


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
    if user is not None and user.platform == "instagram" and page_id in st.ig_by_page:
        return user  # a commenter: the profile API answers, and refuses without consent
    return None


def _ig_thread_of(sb: Sandbox, obj: NodeObj) -> str | None:
    """The IG account id when ``obj`` is an Instagram thread or message, else None."""
    st = sb.state
    conv: Conversation | None = None
    if isinstance(obj, Conversation):
        conv = obj
    elif isinstance(obj, Message):
        conv = st.conversations[obj.conv_id]
    if conv is None or conv.platform != "instagram":
        return None
    return st.ig_by_page.get(conv.page_id)


def _resolve(sb: Sandbox, req: Request, caller: Caller, version: str) -> Route:
    segs = list(req.segments)
    method = req.method
    if not segs:
        raise unsupported(method, "")
    if len(segs) > 2:
        raise ApiError(f"Unknown path components: /{'/'.join(segs[2:])}", 2500)
    if segs[0] == "debug_token" and len(segs) == 1 and method == "GET":
        return Route("debug_token", lambda ctx, f: _debug_token(sb, req, caller, ctx))
    if isinstance(caller, AppCaller):
        # An app token reads nothing Page-bound here (Page data needs a Page token).
        raise unsupported(method, segs[0])
    token = caller
    if segs[0] == "me":
        segs[0] = token.page_id
    ig_node = instagram.lookup(sb, token.page_id, segs[0])
    if ig_node is not None:
        return instagram.route(sb, req, ig_node, segs)
    obj = lookup(sb, token.page_id, segs[0])
    if obj is None:
        raise unsupported(method, segs[0])
    node_type = NODE_TYPES[type(obj)]
    ig_thread = _ig_thread_of(sb, obj)
    if isinstance(obj, Post) and obj.kind == "reel":
        node_type = "Video"
    if len(segs) == 1:
        if method == "GET":
            return Route(
                "me" if req.segments[0] == "me" else "node",
                lambda ctx, f: _render_node(obj, req, ctx, token),
                conversations_api=isinstance(obj, Conversation) and ig_thread is None,
                messenger=isinstance(obj, Conversation | Message),
                ig_messaging=ig_thread if isinstance(obj, Conversation) else None,
            )
        if isinstance(obj, Comment) and method == "POST":
            return Route("node", lambda ctx, f: send.update_comment(obj, req))
        if isinstance(obj, Comment) and method == "DELETE":
            return Route("node", lambda ctx, f: send.delete_comment(obj))
        raise unsupported(method, segs[0])
    edge = segs[1]
    if isinstance(obj, Page):
        if edge == "conversations" and method == "GET":
            ig_list = str(req.params.get("platform", "")).lower() == "instagram"
            ig_account = sb.state.ig_by_page.get(obj.id) if ig_list else None
            return Route(
                "conversations",
                lambda ctx, f: _conversations(obj, req, ctx, f, token),
                is_list=True,
                conversations_api=not ig_list,
                messenger=True,
                cost=nested_cost(req, "messages"),
                ig_messaging=ig_account,
            )
        if edge in (*feed.POST_EDGES, feed.REEL_EDGE) and method == "GET":
            require_page_reads(token)
            return Route(
                edge,
                lambda ctx, f: _posts(obj, edge, req, ctx, f),
                is_list=True,
                cost=nested_cost(req, "comments"),
            )
        if edge == "messages" and method == "POST":
            return Route("messages", lambda ctx, f: _send(sb, obj, req, ctx, token), messenger=True)
    if isinstance(obj, Conversation) and edge == "messages" and method == "GET":
        return Route(
            "messages",
            lambda ctx, f: _conv_messages(obj, req, ctx, f, token),
            is_list=True,
            conversations_api=ig_thread is None,
            ig_messaging=ig_thread,
            messenger=True,
            cost=parse_limit(req.params.get("limit")),
        )
    if isinstance(obj, Post | Comment) and edge == "comments":
        if method == "GET":
            require_page_reads(token)
            return Route(
                "comments",
                lambda ctx, f: _comments(obj, req, ctx, f),
                is_list=True,
                cost=parse_limit(req.params.get("limit")),
            )
        if method == "POST":
            return Route("comments", lambda ctx, f: _page_comment(obj, req, ctx))
    if isinstance(obj, Comment | Post) and edge == "private_replies":
        raise ApiError("(#12) private_replies is deprecated for versions v3.3 and higher", 12)
    if method != "GET":
        raise unsupported(method, f"{segs[0]}/{edge}")
    raise nonexisting_field(edge, node_type)


# -- reads ---------------------------------------------------------------------------------


IG_PAGE_FIELDS = ("instagram_business_account", "connected_instagram_account")


def _render_page(page: Page, sel: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """The Page node, with the linked Instagram account fields when asked for."""
    if sel is None:
        return render_page(page, None, ctx)
    rest = tuple(s for s in sel if s.name not in IG_PAGE_FIELDS)
    out = render_page(page, rest, ctx) if rest else {}
    for field_sel in sel:
        if field_sel.name in IG_PAGE_FIELDS:
            value = instagram.page_account_field(page, field_sel.name, field_sel, ctx)
            if value is not None:  # absent when no account is linked (omitted, never null)
                out[field_sel.name] = value
    out.pop("id", None)
    out["id"] = page.id  # Graph writes the node id last
    return out


def _render_node(obj: NodeObj, req: Request, ctx: Ctx, token: Token) -> Json:
    sel = fields_of(req)
    if isinstance(obj, Page):
        return _render_page(obj, sel, ctx)
    if isinstance(obj, Conversation | Message):
        require_messenger(ctx.page, token)
        account = instagram.account_of_page(ctx, ctx.page)
        conv = obj if isinstance(obj, Conversation) else ctx.state.conversations[obj.conv_id]
        if conv.platform == "instagram" and account is not None:
            instagram.require_messages(account, token.scopes)
            if isinstance(obj, Message):
                return instagram.message_node(obj, req, ctx, account)
            return instagram.render_conversation(obj, sel, ctx, account)
        if isinstance(obj, Conversation):
            return render_conversation(obj, sel, ctx)
        return render_message(obj, sel, ctx)
    if isinstance(obj, User) and obj.platform == "instagram":
        return instagram.render_profile(obj, sel, ctx)
    if isinstance(obj, Post):
        return render_post(obj, sel, ctx)
    if isinstance(obj, Comment):
        return render_comment(obj, sel, ctx)
    return render_user(obj, sel, ctx)


def _debug_token(sb: Sandbox, req: Request, caller: Caller, ctx: Ctx) -> Json:
    if not isinstance(caller, AppCaller) and not sb.lenient_debug_token:
        # What a Page token (or any token of a person without a role on the app) gets
        # (github.com/nyaruka/rapidpro/pull/3734; debug_token reference: "An app access token
        # or an app developer's user access token for the app associated with the input_token
        # is required").
        raise invalid_param(
            "You must provide an app access token, or a user access token that is an owner or "
            "developer of the app"
        )
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


def _conversations(page: Page, req: Request, ctx: Ctx, fault: str | None, token: Token) -> Json:
    platform = str(req.params.get("platform", "messenger")).lower()
    if platform not in ("messenger", "instagram"):
        raise invalid_param(
            f"param platform must be one of {{MESSENGER, INSTAGRAM}} - got '{platform}'"
        )
    folder = req.params.get("folder")
    if folder is not None and str(folder) not in FOLDERS:
        choices = ", ".join(FOLDERS)
        raise invalid_param(f"param folder must be one of {{{choices}}} - got '{folder}'")
    require_messenger(page, token)
    if platform == "instagram":
        account = instagram.account_of_page(ctx, page)
        if account is not None:
            instagram.require_messages(account, token.scopes)
        return instagram.conversations(page, account, req, ctx, fault)
    limit = parse_limit(req.params.get("limit"))
    selection = fields_of(req)
    check_budget(limit, find(selection, "messages"), ctx)
    items: list[Conversation] = []
    if platform == "messenger":
        user_id = req.params.get("user_id")
        if user_id:
            # One person's thread is found whatever folder it sits in (an explicit lookup).
            cid = ctx.state.conv_by_user.get((page.id, str(user_id)))
            conv = ctx.state.conversations.get(cid) if cid else None
            found = conv is not None and conv.messages and conv.platform == "messenger"
            items = [conv] if conv is not None and found else []
        else:
            # No folder = the inbox only: threads Meta filed as spam, "other" (message
            # requests) or Done need their own `folder=` call (public pollers do exactly that).
            wanted = str(folder) if folder is not None else "inbox"
            items = [c for c in ctx.state.sorted_conversations(page.id) if c.folder == wanted]
    return list_block(
        items,
        lambda c: (-c.updated_us, c.id),
        limit,
        req.params.get("after"),
        req.params.get("before"),
        lambda c: render_conversation(c, selection, ctx),
        ctx.base,
        f"/{ctx.version}/{page.id}/conversations",
        link_params(req),
        fault=fault,
    )


def _conv_messages(
    conv: Conversation, req: Request, ctx: Ctx, fault: str | None, token: Token
) -> Json:
    require_messenger(ctx.page, token)
    sel = FieldSel("messages", {}, fields_of(req))
    account = instagram.account_of_page(ctx, ctx.page)
    if conv.platform == "instagram" and account is not None:
        instagram.require_messages(account, token.scopes)
        return instagram.messages_edge(
            conv,
            sel,
            ctx,
            account,
            limit=parse_limit(req.params.get("limit")),
            after=req.params.get("after"),
            before=req.params.get("before"),
            params=link_params(req),
            fault=fault,
        )
    return messages_edge(
        conv,
        sel,
        ctx,
        limit=parse_limit(req.params.get("limit")),
        after=req.params.get("after"),
        before=req.params.get("before"),
        link_params=link_params(req),
        fault=fault,
    )


def _posts(page: Page, edge: str, req: Request, ctx: Ctx, fault: str | None) -> Json:
    limit = parse_limit(req.params.get("limit"), error_above=100)
    selection = fields_of(req)
    check_budget(limit, find(selection, "comments"), ctx)
    params = {k: str(v) for k, v in req.query.items()}
    return feed.posts_block(
        page,
        edge,
        params,
        link_params(req),
        limit,
        ctx,
        lambda p: render_post(p, selection, ctx),
        fault,
    )


def _comments(parent: Post | Comment, req: Request, ctx: Ctx, fault: str | None) -> Json:
    mods: dict[str, str] = {
        k: str(req.params[k])
        for k in ("filter", "order", "summary", "since", "limit", "after", "before")
        if k in req.params
    }
    return comments_edge(
        parent, mods, fields_of(req), ctx, link_params=link_params(req), fault=fault
    )


# -- writes --------------------------------------------------------------------------------


def _send(sb: Sandbox, page: Page, req: Request, ctx: Ctx, token: Token) -> Json:
    require_messenger(page, token)
    return send.send(sb, page, req, ctx)


def _page_comment(parent: Post | Comment, req: Request, ctx: Ctx) -> Json:
    if isinstance(parent, Post):
        return send.page_comment(parent.id, None, req, ctx)
    return send.page_comment(parent.post_id, parent.id, req, ctx)


__all__ = ["Reply", "appsecret_proof", "handle", "lookup"]
