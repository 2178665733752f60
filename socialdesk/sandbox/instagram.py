"""The linked Instagram professional account: DMs through the Page, media and comments through
the IG user node (INSTAGRAM_API.md, §10 "Simulator checklist").

``handler`` routes here: ``/{page}/conversations?platform=instagram``, Instagram threads and
messages, Send API calls whose recipient is an Instagram customer or comment, and every IG
node (``/{ig-user-id}``, ``/{ig-media-id}``, ``/{ig-comment-id}``). What it models:

- discovery: ``instagram_business_account`` / ``connected_instagram_account`` on the Page;
- DMs: IG thread fields ``id, updated_time, participants, messages, is_owner`` only (any other
  field fails the whole call with ``(#100)``); participants ``{username, id}``; only the 20
  newest messages have details (older ones come back as ``{id}`` nested, and as an error
  "message has been deleted" when read by id); Messenger-only message fields (``tags``,
  ``sticker``) refused; ``limit`` × nested limit above 500 → code 1; 2 calls/s per Instagram
  account → 613; the owner's "Allow access to messages" toggle off → 200/2534041;
- sends: 1,000 UTF-8 bytes; window 10/2534022 (HUMAN_AGENT to 7 days with the feature);
  unknown recipient 100/2534014; blocked 551; private replies once within 7 days
  (100/2534025), 750 per hour (613/2534040), never opening the 24 h window;
- media: ``/{ig-user-id}/media`` newest first with ``comments_count`` (replies included),
  ``since``/``until``, at most 10,000; Stories only under ``/stories`` (24 h);
- comments: top level only, newest first, ≤ 50 per page, ``after`` cursor only and no
  ``paging`` on the last page, no ``since``/``filter``/``order``/``summary`` (code 100);
  ``replies`` edge; ``user`` only on the business's own comments; ``username`` withheld without
  ``instagram_manage_comments``; under Standard Access customers' comments are withheld and
  not counted;
- writes: ``POST /{comment}/replies`` (to a reply → its top-level comment; hidden → refused),
  ``POST /{comment}?hide=`` (``hide`` required, the owner's own comments stay visible),
  ``DELETE /{comment}``, ``POST /{media}/comments``, ``POST /{media}?comment_enabled=``;
- ``/{ig-user-id}/messages`` and ``/{ig-user-id}/conversations`` → ``(#3)``;
- error messages localised by the account's ``locale`` (clients must classify by code).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .apierror import ApiError, invalid_param, nonexisting_field, reduce_data, unsupported
from .fields import FieldSel, parse_fields
from .model import (
    Conversation,
    Delivery,
    IgAccount,
    IgComment,
    IgMedia,
    Message,
    Page,
    User,
    graph_time,
)
from .paging import CursorError, link, paginate
from .render import (
    Ctx,
    Json,
    find,
    list_block,
    message_key,
    parse_limit,
    parse_time,
    pick,
    with_id,
)
from .request import Request, Route, fields_of, link_params

if TYPE_CHECKING:
    from .engine import Sandbox

HORIZON = 20
"""Only the 20 newest messages of an Instagram thread have details."""
IG_DATA_BUDGET = 500
"""``limit`` × nested messages limit above this answers code 1 (50 × 20 failed live)."""
MAX_COMMENTS = 50
MAX_MEDIA = 10_000
MAX_TEXT_BYTES = 1000
PRIVATE_REPLY_DAYS = 7
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
STORY_LIFE = timedelta(hours=24)

CONV_FIELDS = {"id", "updated_time", "participants", "messages", "is_owner"}
MESSAGE_FIELDS = {
    "id",
    "created_time",
    "from",
    "to",
    "message",
    "attachments",
    "shares",
    "story",
    "reactions",
    "is_unsupported",
    "reply_to",
}
ACCOUNT_FIELDS = {
    "id",
    "ig_id",
    "username",
    "name",
    "profile_picture_url",
    "biography",
    "website",
    "followers_count",
    "follows_count",
    "media_count",
    "media",
}
MEDIA_FIELDS = {
    "id",
    "caption",
    "media_type",
    "media_product_type",
    "permalink",
    "timestamp",
    "comments_count",
    "like_count",
    "is_comment_enabled",
    "username",
    "owner",
    "media_url",
    "thumbnail_url",
    "shortcode",
    "comments",
}
COMMENT_FIELDS = {
    "id",
    "text",
    "timestamp",
    "from",
    "username",
    "user",
    "hidden",
    "like_count",
    "parent_id",
    "media",
    "replies",
    "legacy_instagram_comment_id",
}
PROFILE_FIELDS = {
    "id",
    "name",
    "username",
    "profile_pic",
    "follower_count",
    "is_user_follow_business",
    "is_business_follow_user",
    "is_verified_user",
}
NO_DATA = {"legacy_instagram_comment_id", "media_url", "thumbnail_url", "biography", "website"}
COMMENT_PARAMS = ("since", "until", "filter", "order", "summary")

# Instagram localises `message` (Portuguese and Japanese captured for the same codes): the
# sandbox does too, so a client that reads the text instead of the code fails here first.
TEXTS: dict[str, dict[str, str]] = {
    "window": {
        "en_US": "This message is sent outside of allowed window.",
        "pt_BR": "Esta mensagem foi enviada fora da janela permitida.",
        "ja_JP": "このメッセージは許可された期間外に送信されています。",
        "pl_PL": "Ta wiadomość została wysłana poza dozwolonym oknem czasowym.",
    },
    "no_user": {
        "en_US": "No matching Instagram user",
        "pt_BR": "Nenhum usuário do Instagram correspondente",
        "ja_JP": "一致するInstagramユーザーがいません",
        "pl_PL": "Brak pasującego użytkownika Instagrama",
    },
    "toggle": {
        "en_US": "(#200) The account owner has disabled access to instagram direct messages",
        "pt_BR": "(#200) O proprietário da conta desativou o acesso às mensagens diretas",
        "ja_JP": "(#200) アカウント所有者がダイレクトメッセージへのアクセスを無効にしました",
        "pl_PL": "(#200) Właściciel konta wyłączył dostęp do wiadomości bezpośrednich Instagrama",
    },
    "blocked": {
        "en_US": "This person isn't receiving messages from you right now.",
        "pt_BR": "Esta pessoa não está recebendo mensagens suas no momento.",
        "ja_JP": "この人は現在あなたからのメッセージを受け取っていません。",
        "pl_PL": "Ta osoba nie odbiera teraz od Ciebie wiadomości.",
    },
    "private_reply": {
        "en_US": "The private reply cannot be sent to this comment",
        "pt_BR": "A resposta privada não pode ser enviada para este comentário",
        "ja_JP": "このコメントにはプライベート返信を送信できません",
        "pl_PL": "Nie można wysłać prywatnej odpowiedzi na ten komentarz",
    },
    "deleted": {
        "en_US": "(#100) The message has been deleted",
        "pt_BR": "(#100) A mensagem foi excluída",
        "ja_JP": "(#100) メッセージは削除されました",
        "pl_PL": "(#100) Wiadomość została usunięta",
    },
    "capability": {
        "en_US": "(#3) Application does not have the capability to make this API call.",
        "pt_BR": "(#3) O aplicativo não tem a capacidade de fazer esta chamada de API.",
        "ja_JP": "(#3) アプリケーションにはこのAPI呼び出しを行う機能がありません。",
        "pl_PL": "(#3) Aplikacja nie ma uprawnień do wykonania tego wywołania API.",
    },
    "too_long": {
        "en_US": "(#100) Message text must be UTF-8 and be 1,000 bytes or less",
        "pt_BR": "(#100) O texto da mensagem deve ser UTF-8 e ter no máximo 1.000 bytes",
        "ja_JP": "(#100) メッセージのテキストはUTF-8で1,000バイト以下である必要があります",
        "pl_PL": "(#100) Tekst wiadomości musi być w UTF-8 i mieć najwyżej 1000 bajtów",
    },
    "rate": {
        "en_US": "(#613) Calls to this api have exceeded the rate limit.",
        "pt_BR": "(#613) As chamadas para esta API excederam o limite de taxa.",
        "ja_JP": "(#613) このAPIの呼び出しがレート制限を超えました。",
        "pl_PL": "(#613) Wywołania tego API przekroczyły limit.",
    },
    "permission": {
        "en_US": "(#10) Application does not have permission for this action",
        "pt_BR": "(#10) O aplicativo não tem permissão para esta ação",
        "ja_JP": "(#10) アプリケーションにはこの操作の権限がありません",
        "pl_PL": "(#10) Aplikacja nie ma uprawnień do tej czynności",
    },
    "consent": {
        "en_US": "User consent is required to access user profile",
        "pt_BR": "É necessário o consentimento do usuário para acessar o perfil",
        "ja_JP": "ユーザープロフィールにアクセスするにはユーザーの同意が必要です",
        "pl_PL": "Dostęp do profilu wymaga zgody użytkownika",
    },
    "hidden": {
        "en_US": "(#100) You cannot reply to a hidden comment",
        "pt_BR": "(#100) Você não pode responder a um comentário oculto",
        "ja_JP": "(#100) 非表示のコメントには返信できません",
        "pl_PL": "(#100) Nie można odpowiedzieć na ukryty komentarz",
    },
}


def text(account: IgAccount, key: str) -> str:
    """The error text in the account's locale (English when the locale is not known)."""
    table = TEXTS[key]
    return table.get(account.locale, table["en_US"])


def account_of_page(ctx: Ctx, page: Page) -> IgAccount | None:
    """The Instagram account linked to ``page``, if any."""
    iid = ctx.state.ig_by_page.get(page.id)
    return ctx.state.ig_accounts[iid] if iid is not None else None


# -- discovery and people ------------------------------------------------------------------


def render_account(account: IgAccount, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """The IG user node (``/{ig-user-id}`` and the Page's account fields)."""
    fields = selection or parse_fields("id")
    known = dict.fromkeys(ACCOUNT_FIELDS) | dict.fromkeys(NO_DATA)
    for sel in fields:
        if sel.name not in known:
            raise nonexisting_field(sel.name, "IGUser")
    out: Json = {}
    media = [m for m in account.media if ctx.state.ig_media[m].product != "STORY"]
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = account.id
        elif name == "ig_id":
            out["ig_id"] = int(account.id[-10:])
        elif name == "username":
            out["username"] = account.username
        elif name == "name":
            out["name"] = account.name
        elif name == "profile_picture_url":
            out["profile_picture_url"] = (
                f"https://scontent.cdninstagram.com/v/t51.2885-19/{account.id}.jpg?_nc_sandbox=1"
            )
        elif name == "followers_count":
            out["followers_count"] = 1000 + len(ctx.state.users) % 997
        elif name == "follows_count":
            out["follows_count"] = 42
        elif name == "media_count":
            out["media_count"] = len(media)
        elif name == "media":
            out["media"] = media_block(account, sel.mods, sel.children, ctx, nested=sel)
    return with_id(out, account.id)


def page_account_field(page: Page, name: str, sel: FieldSel, ctx: Ctx) -> Json | None:
    """``instagram_business_account`` / ``connected_instagram_account`` (absent when unlinked)."""
    account = account_of_page(ctx, page)
    if account is None:
        return None
    if name == "instagram_business_account" and not account.business_account:
        return None
    return render_account(account, sel.children, ctx)


def person(ctx: Ctx, account: IgAccount, uid: str) -> Json:
    """``{username, id}``: the business (Page or IG id) or an Instagram customer."""
    if uid in (account.id, account.page_id):
        return {"username": account.username, "id": account.id}
    user = ctx.state.users[uid]
    return {"username": user.username or "", "id": user.id}


def render_profile(user: User, selection: tuple[FieldSel, ...] | None, ctx: Ctx) -> Json:
    """The User Profile API for an IGSID: needs the MODERATE task and the person's consent."""
    account = next(iter(ctx.state.ig_accounts.values()))
    iid = ctx.state.ig_by_page.get(ctx.page.id)
    if iid is not None:
        account = ctx.state.ig_accounts[iid]
    if "MODERATE" not in ctx.tasks:
        raise ApiError(text(account, "permission"), 10)
    conv_id = ctx.state.conv_by_user.get((ctx.page.id, user.id))
    conv = ctx.state.conversations.get(conv_id) if conv_id else None
    if conv is None or conv.last_user_message() is None:
        # Consent = the person wrote to the account (a commenter who never did has none).
        raise ApiError(text(account, "consent"), 230)
    fields = selection or parse_fields("name,id")
    for sel in fields:
        if sel.name not in PROFILE_FIELDS:
            raise nonexisting_field(sel.name, "User")
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = user.id
        elif name == "name" and user.name:
            out["name"] = user.name
        elif name == "username" and user.username:
            out["username"] = user.username
        elif name == "profile_pic":
            out["profile_pic"] = f"https://scontent.cdninstagram.com/v/{user.id}.jpg"
        elif name == "follower_count":
            out["follower_count"] = int(user.id[-3:])
        elif name in ("is_user_follow_business", "is_business_follow_user"):
            out[name] = int(user.id[-1]) % 2 == 0
        elif name == "is_verified_user":
            out["is_verified_user"] = False
    return with_id(out, user.id)


# -- DMs -----------------------------------------------------------------------------------


def require_messages(account: IgAccount, scopes: Sequence[str]) -> None:
    """Instagram DMs need ``instagram_manage_messages`` and the owner's messages toggle on."""
    if "instagram_manage_messages" not in scopes:
        raise ApiError(text(account, "permission"), 10)
    if not account.messages_access:
        raise ApiError(text(account, "toggle"), 200, subcode=2534041)


def _check_conv_fields(selection: tuple[FieldSel, ...]) -> None:
    for sel in selection:
        if sel.name not in CONV_FIELDS:
            # Messenger-only fields fail the whole call on an Instagram thread.
            raise nonexisting_field(sel.name, "UnifiedThread")


def _check_message_fields(selection: tuple[FieldSel, ...] | None) -> None:
    for sel in selection or ():
        if sel.name not in MESSAGE_FIELDS:
            raise nonexisting_field(sel.name, "Message")


def _participants(ctx: Ctx, account: IgAccount, conv: Conversation) -> list[Json]:
    people = [person(ctx, account, account.id), person(ctx, account, conv.user_id)]
    # The business comes first or last depending on the thread (order is not documented).
    if hashlib.sha256(conv.id.encode()).digest()[0] % 2:
        people.reverse()
    return people


def render_conversation(
    conv: Conversation, selection: tuple[FieldSel, ...] | None, ctx: Ctx, account: IgAccount
) -> Json:
    """An Instagram thread: only the documented IG fields exist."""
    fields = selection or parse_fields("id,updated_time")
    _check_conv_fields(fields)
    out: Json = {}
    last = conv.messages[-1] if conv.messages else None
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = conv.id
        elif name == "updated_time" and last is not None:
            out["updated_time"] = graph_time(last.at)
        elif name == "participants":
            out["participants"] = pick({"data": _participants(ctx, account, conv)}, sel.children)
        elif name == "messages":
            out["messages"] = messages_edge(conv, sel, ctx, account)
    return with_id(out, conv.id)


def _rank(conv: Conversation) -> dict[str, int]:
    return {m.id: i for i, m in enumerate(reversed(conv.messages))}


def messages_edge(
    conv: Conversation,
    sel: FieldSel,
    ctx: Ctx,
    account: IgAccount,
    *,
    limit: int | None = None,
    after: str | None = None,
    before: str | None = None,
    params: dict[str, str] | None = None,
    fault: str | None = None,
) -> Json:
    """A thread's messages newest first; beyond the 20 newest, ids only (no details)."""
    children = sel.children
    _check_message_fields(children)
    if limit is None:
        limit = parse_limit(sel.mods.get("limit"))
        after = sel.mods.get("after")
        before = sel.mods.get("before")
    rank = _rank(conv)
    if params is None:
        params = {}
        if children is not None:
            from .fields import serialize

            params["fields"] = serialize(children)
        params.update(ctx.link_extra())

    def one(msg: Message) -> Json:
        if rank[msg.id] >= HORIZON:
            return {"id": msg.id}  # older than the 20 newest: listed, never detailed
        return render_message(msg, children, ctx, account)

    return list_block(
        conv.messages[::-1],
        message_key,
        limit,
        after,
        before,
        one,
        ctx.base,
        f"/{ctx.version}/{conv.id}/messages",
        params,
        fault=fault,
    )


def render_message(
    msg: Message, selection: tuple[FieldSel, ...] | None, ctx: Ctx, account: IgAccount
) -> Json:
    """An Instagram message (``from``/``to`` carry usernames; ``message`` "" without text)."""
    fields = selection or parse_fields("id,created_time")
    _check_message_fields(fields)
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = msg.id
        elif name == "created_time":
            out["created_time"] = graph_time(msg.at)
        elif name == "from":
            out["from"] = pick(person(ctx, account, msg.sender_id), sel.children)
        elif name == "to":
            out["to"] = pick({"data": [person(ctx, account, msg.recipient_id)]}, sel.children)
        elif name == "message":
            out["message"] = msg.text
        elif name == "attachments" and msg.attachments:
            out["attachments"] = pick({"data": msg.attachments}, sel.children)
        elif name == "shares" and msg.shares:
            shown = sel.children if sel.children is not None else parse_fields("id")
            out["shares"] = pick({"data": msg.shares}, shown)
        elif name == "story" and msg.story is not None:
            out["story"] = pick(msg.story, sel.children)
        elif name == "reactions" and msg.reactions:
            out["reactions"] = pick({"data": msg.reactions}, sel.children)
        elif name == "is_unsupported" and msg.is_unsupported:
            out["is_unsupported"] = True
        elif name == "reply_to" and msg.reply_to is not None:
            out["reply_to"] = pick(msg.reply_to, sel.children)
    return with_id(out, msg.id)


def message_node(msg: Message, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    """``GET /{message-id}``: an error beyond the 20 newest (the message "has been deleted")."""
    conv = ctx.state.conversations[msg.conv_id]
    if _rank(conv)[msg.id] >= HORIZON:
        raise ApiError(text(account, "deleted"), 100)
    return render_message(msg, fields_of(req), ctx, account)


def conversations(
    page: Page, account: IgAccount | None, req: Request, ctx: Ctx, fault: str | None
) -> Json:
    """``/{page}/conversations?platform=instagram``."""
    if account is None:
        return {"data": []}
    limit = parse_limit(req.params.get("limit"))
    selection = fields_of(req)
    _check_conv_fields(selection or ())
    nested = find(selection, "messages")
    if nested is not None:
        _check_message_fields(nested.children)
        if limit * parse_limit(nested.mods.get("limit")) > IG_DATA_BUDGET:
            raise reduce_data()
    user_id = req.params.get("user_id")
    if user_id:
        cid = ctx.state.conv_by_user.get((page.id, str(user_id)))
        conv = ctx.state.conversations.get(cid) if cid else None
        items = [conv] if conv is not None and conv.platform == "instagram" else []
    else:
        cutoff = ctx.now - timedelta(days=30)
        items = [
            c
            for c in ctx.state.sorted_conversations(page.id, "instagram")
            # Requests-folder threads idle for 30 days are not returned (Conversations guide).
            if not (c.folder == "requests" and c.messages[-1].at < cutoff)
        ]
    return list_block(
        items,
        lambda c: (-c.updated_us, c.id),
        limit,
        req.params.get("after"),
        req.params.get("before"),
        lambda c: render_conversation(c, selection, ctx, account),
        ctx.base,
        f"/{ctx.version}/{page.id}/conversations",
        link_params(req),
        fault=fault,
    )


# -- media and comments --------------------------------------------------------------------


def _withheld(ctx: Ctx, account: IgAccount, comment: IgComment) -> bool:
    """Standard Access: comments by people without an app role are not returned."""
    page = ctx.state.pages[account.page_id]
    return not page.advanced_access and comment.from_id != account.id


def visible_comments(ctx: Ctx, account: IgAccount, media: IgMedia) -> list[IgComment]:
    """The media's live comments the token may see, oldest first (replies included)."""
    out = []
    for cid in media.comments:
        comment = ctx.state.live_ig_comment(cid)
        if comment is not None and not _withheld(ctx, account, comment):
            out.append(comment)
    return out


def render_media(
    media: IgMedia, selection: tuple[FieldSel, ...] | None, ctx: Ctx, account: IgAccount
) -> Json:
    """An IG media node."""
    fields = selection or parse_fields("id")
    for sel in fields:
        if sel.name not in MEDIA_FIELDS and sel.name not in NO_DATA:
            raise nonexisting_field(sel.name, "IGMedia")
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = media.id
        elif name == "caption" and media.caption:
            out["caption"] = media.caption
        elif name == "media_type":
            out["media_type"] = media.media_type
        elif name == "media_product_type":
            out["media_product_type"] = media.product
        elif name == "permalink":
            out["permalink"] = f"https://www.instagram.com/p/{media.id[-11:]}/"
        elif name == "shortcode":
            out["shortcode"] = media.id[-11:]
        elif name == "timestamp":
            out["timestamp"] = graph_time(media.at)
        elif name == "comments_count":
            # Replies included; comments a token cannot see are not counted (Standard Access).
            out["comments_count"] = len(visible_comments(ctx, account, media))
        elif name == "like_count":
            out["like_count"] = 3 + media.seq % 40
        elif name == "is_comment_enabled":
            out["is_comment_enabled"] = media.comment_enabled
        elif name == "username":
            out["username"] = account.username
        elif name == "owner":
            out["owner"] = {"id": account.id}
        elif name == "comments":
            out["comments"] = comments_block(media, sel.mods, sel.children, ctx, account, None)
    return with_id(out, media.id)


def media_block(
    account: IgAccount,
    mods: dict[str, str],
    children: tuple[FieldSel, ...] | None,
    ctx: Ctx,
    *,
    nested: FieldSel | None = None,
    params: dict[str, str] | None = None,
    fault: str | None = None,
    stories: bool = False,
) -> Json:
    """``/{ig-user-id}/media`` (newest first, 10,000 at most) or ``/stories`` (24 h)."""
    items = [ctx.state.ig_media[m] for m in account.media]
    if stories:
        items = [m for m in items if m.product == "STORY" and ctx.now - m.at < STORY_LIFE]
    else:
        items = [m for m in items if m.product != "STORY"]
    if mods.get("since"):
        since = parse_time(mods["since"], "since")
        items = [m for m in items if m.us >= since]
    if mods.get("until"):
        until = parse_time(mods["until"], "until") + 999_999
        items = [m for m in items if m.us <= until]
    items.sort(key=lambda m: (-m.us, -m.seq))
    items = items[:MAX_MEDIA]
    if params is None:
        params = {}
        if nested is not None and nested.children is not None:
            from .fields import serialize

            params["fields"] = serialize(nested.children)
        params.update(ctx.link_extra())
    return list_block(
        items,
        lambda m: (-m.us, -m.seq),
        parse_limit(mods.get("limit")),
        mods.get("after"),
        mods.get("before"),
        lambda m: render_media(m, children, ctx, account),
        ctx.base,
        f"/{ctx.version}/{account.id}/{'stories' if stories else 'media'}",
        params,
        fault=fault,
    )


def _after_only(
    items: list[IgComment],
    limit: int,
    after: str | None,
    render: Any,
    ctx: Ctx,
    path: str,
    params: dict[str, str],
) -> Json:
    """IG comment paging: ``cursors.after`` and ``next`` only, no ``paging`` on the last page."""
    try:
        page = paginate(items, lambda c: (-c.us, -c.seq), limit, after=after)
    except CursorError as exc:
        raise invalid_param("The after cursor specified is invalid") from exc
    out: Json = {"data": [render(c) for c in page.items]}
    if page.has_next and page.last_key is not None:
        from .paging import encode_cursor

        cursor = encode_cursor(page.last_key)
        clean = {k: v for k, v in params.items() if k not in ("after", "before")}
        out["paging"] = {
            "cursors": {"after": cursor},
            "next": link(ctx.base, path, {**clean, "limit": str(limit), "after": cursor}),
        }
    return out


def _reject_comment_params(account: IgAccount, mods: dict[str, str]) -> None:
    for key in COMMENT_PARAMS:
        if key in mods:
            # The IG comments edge takes no parameters (codegen IGMedia.json): "Comments
            # cannot be filtered by timestamp". Strict: refused rather than ignored.
            raise invalid_param(f"Param {key} is not supported on Instagram comments")


def comments_block(
    media: IgMedia,
    mods: dict[str, str],
    children: tuple[FieldSel, ...] | None,
    ctx: Ctx,
    account: IgAccount,
    params: dict[str, str] | None,
) -> Json:
    """``/{ig-media-id}/comments``: top-level comments, newest first, at most 50 per page."""
    _reject_comment_params(account, mods)
    _check_comment_fields(children)
    items = [c for c in visible_comments(ctx, account, media) if c.parent_id is None]
    items.sort(key=lambda c: (-c.us, -c.seq))
    limit = parse_limit(mods.get("limit"), cap=MAX_COMMENTS)
    return _after_only(
        items,
        limit,
        mods.get("after"),
        lambda c: render_comment(c, children, ctx, account),
        ctx,
        f"/{ctx.version}/{media.id}/comments",
        params if params is not None else _nested_params(children, ctx),
    )


def replies_block(
    comment: IgComment,
    mods: dict[str, str],
    children: tuple[FieldSel, ...] | None,
    ctx: Ctx,
    account: IgAccount,
    params: dict[str, str] | None,
) -> Json:
    """``/{ig-comment-id}/replies`` (newest first, like the documented sample)."""
    _reject_comment_params(account, mods)
    _check_comment_fields(children)
    items = []
    for rid in comment.replies:
        reply = ctx.state.live_ig_comment(rid)
        if reply is not None and not _withheld(ctx, account, reply):
            items.append(reply)
    items.sort(key=lambda c: (-c.us, -c.seq))
    limit = parse_limit(mods.get("limit"))
    return _after_only(
        items,
        limit,
        mods.get("after"),
        lambda c: render_comment(c, children, ctx, account),
        ctx,
        f"/{ctx.version}/{comment.id}/replies",
        params if params is not None else _nested_params(children, ctx),
    )


def _nested_params(children: tuple[FieldSel, ...] | None, ctx: Ctx) -> dict[str, str]:
    params: dict[str, str] = {}
    if children is not None:
        from .fields import serialize

        params["fields"] = serialize(children)
    params.update(ctx.link_extra())
    return params


def _check_comment_fields(selection: tuple[FieldSel, ...] | None) -> None:
    for sel in selection or ():
        if sel.name not in COMMENT_FIELDS:
            raise nonexisting_field(sel.name, "IGComment")


def render_comment(
    comment: IgComment, selection: tuple[FieldSel, ...] | None, ctx: Ctx, account: IgAccount
) -> Json:
    """An IG comment (``text``, ``timestamp``, ``from{id,username}``, ``hidden``…)."""
    fields = selection or parse_fields("timestamp,text,id")
    _check_comment_fields(fields)
    own = comment.from_id == account.id
    out: Json = {}
    for sel in fields:
        name = sel.name
        if name == "id":
            out["id"] = comment.id
        elif name == "text":
            out["text"] = comment.text
        elif name == "timestamp":
            out["timestamp"] = graph_time(comment.at)
        elif name == "from":
            out["from"] = pick(person(ctx, account, comment.from_id), sel.children)
        elif name == "username" and "instagram_manage_comments" in ctx.scopes:
            out["username"] = person(ctx, account, comment.from_id)["username"]
        elif name == "user" and own:
            out["user"] = {"id": account.id}
        elif name == "hidden":
            out["hidden"] = comment.hidden
        elif name == "like_count":
            out["like_count"] = comment.like_count
        elif name == "parent_id" and comment.parent_id is not None:
            out["parent_id"] = comment.parent_id
        elif name == "media":
            media = ctx.state.ig_media[comment.media_id]
            out["media"] = pick({"id": media.id, "media_product_type": media.product}, sel.children)
        elif name == "replies":
            out["replies"] = replies_block(comment, sel.mods, sel.children, ctx, account, None)
    return with_id(out, comment.id)


# -- writes --------------------------------------------------------------------------------


def _require_comments_scope(account: IgAccount, ctx: Ctx) -> None:
    if "instagram_manage_comments" not in ctx.scopes:
        raise ApiError(text(account, "permission"), 10)


def reply(comment: IgComment, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    """``POST /{ig-comment-id}/replies``: attached to the top-level comment."""
    _require_comments_scope(account, ctx)
    message = str(req.params.get("message") or "")
    if not message.strip():
        raise invalid_param("The parameter message is required")
    top = comment
    if comment.parent_id is not None:
        top = ctx.state.ig_comments[comment.parent_id]
    if top.hidden:
        raise ApiError(text(account, "hidden"), 100)
    cid = ctx.state.add_ig_comment(top.media_id, account.id, message, ctx.now, parent_id=top.id)
    return {"id": cid}


def update_comment(comment: IgComment, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    """``POST /{ig-comment-id}?hide=true|false`` (``hide`` required, never ``is_hidden``)."""
    _require_comments_scope(account, ctx)
    raw = req.params.get("hide")
    if raw is None:
        raise invalid_param("The parameter hide is required")
    value = str(raw).lower()
    if value not in ("true", "false", "1", "0"):
        raise invalid_param("Param hide must be a boolean")
    # "Comments made by media object owners on their own media objects will always be
    # displayed": hiding the business's own comment succeeds and changes nothing.
    if comment.from_id != account.id:
        comment.hidden = value in ("true", "1")
    return {"success": True}


def delete_comment(comment: IgComment, ctx: Ctx, account: IgAccount) -> Json:
    """``DELETE /{ig-comment-id}``; its replies become unreadable."""
    _require_comments_scope(account, ctx)
    comment.deleted = True
    return {"success": True}


def comment_on_media(media: IgMedia, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    """``POST /{ig-media-id}/comments``: a top-level comment by the business."""
    _require_comments_scope(account, ctx)
    message = str(req.params.get("message") or "")
    if not message.strip():
        raise invalid_param("The parameter message is required")
    if not media.comment_enabled:
        raise invalid_param("Comments are disabled for this media")
    return {"id": ctx.state.add_ig_comment(media.id, account.id, message, ctx.now)}


def update_media(media: IgMedia, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    """``POST /{ig-media-id}?comment_enabled=true|false``."""
    _require_comments_scope(account, ctx)
    raw = req.params.get("comment_enabled")
    if raw is None:
        raise invalid_param("The parameter comment_enabled is required")
    media.comment_enabled = str(raw).lower() in ("true", "1")
    return {"success": True}


# -- the Send API for Instagram recipients -------------------------------------------------


def send(
    sb: Sandbox,
    page: Page,
    account: IgAccount,
    recipient: dict[str, Any],
    message_text: str,
    mtype: str,
    tag: str | None,
    ctx: Ctx,
) -> Json:
    """A DM or a private reply to an Instagram customer (``POST /{page}/messages``)."""
    st = ctx.state
    if not account.messages_access:
        raise ApiError(text(account, "toggle"), 200, subcode=2534041)
    if len(message_text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ApiError(text(account, "too_long"), 100)
    comment: IgComment | None = None
    if "comment_id" in recipient:
        comment = st.live_ig_comment(str(recipient["comment_id"]))
        if comment is None or st.ig_media[comment.media_id].ig_id != account.id:
            raise ApiError(text(account, "no_user"), 100, subcode=2534014)
        too_old = ctx.now - comment.at > timedelta(days=PRIVATE_REPLY_DAYS)
        if comment.private_reply_mid is not None or too_old or comment.from_id == account.id:
            raise ApiError(text(account, "private_reply"), 100, subcode=2534025)
        if not sb.meter.private_reply_ok(account.id, ctx.now):
            raise ApiError(text(account, "rate"), 613, subcode=2534040)
        user = st.users[comment.from_id]
    else:
        found = st.users.get(str(recipient.get("id", "")))
        if (
            found is None
            or found.platform != "instagram"
            or (page.id, found.id) not in st.conv_by_user
        ):
            raise ApiError(text(account, "no_user"), 100, subcode=2534014)
        user = found
    if user.blocked:
        raise ApiError(text(account, "blocked"), 551)
    if tag == "HUMAN_AGENT" and not page.human_agent:
        raise ApiError(
            "(#200) Permissions error: this app has not been approved for the Human Agent "
            "feature (HUMAN_AGENT tag)",
            200,
        )
    if comment is None:
        last = st.conversation_for(page.id, user.id).last_user_message()
        age = ctx.now - last.at if last is not None else timedelta.max
        limit = HUMAN_AGENT_WINDOW if tag == "HUMAN_AGENT" else WINDOW
        if age > limit:
            raise ApiError(text(account, "window"), 10, subcode=2534022)
    msg = st.add_message(page.id, user.id, message_text, ctx.now, from_page=True)
    if comment is not None:
        comment.private_reply_mid = msg.id
    st.deliveries.append(
        Delivery(
            page_id=page.id,
            user_id=user.id,
            message_id=msg.id,
            text=message_text,
            at=ctx.now,
            messaging_type=mtype,
            tag=tag,
            comment_id=comment.id if comment is not None else None,
        )
    )
    return {"recipient_id": user.id, "message_id": msg.id}


def is_instagram_recipient(ctx: Ctx, recipient: dict[str, Any]) -> bool:
    """Whether a Send API recipient is an Instagram customer or an Instagram comment."""
    if "comment_id" in recipient:
        return str(recipient["comment_id"]) in ctx.state.ig_comments
    raw = str(recipient.get("id", ""))
    if not raw.isdigit() or raw in ctx.state.ig_accounts:
        return True  # a username or the account's own id: Instagram's refusal (2534014)
    user = ctx.state.users.get(raw)
    return user is not None and user.platform == "instagram"


# -- routing of the IG nodes ---------------------------------------------------------------


IgNode = IgAccount | IgMedia | IgComment


def lookup(sb: Sandbox, page_id: str, obj_id: str) -> IgNode | None:
    """An Instagram node the page's token may see."""
    st = sb.state
    iid = st.ig_by_page.get(page_id)
    if iid is None:
        return None
    if obj_id == iid:
        return st.ig_accounts[iid]
    media = st.ig_media.get(obj_id)
    if media is not None:
        return media if media.ig_id == iid else None
    comment = st.live_ig_comment(obj_id)
    if comment is not None and st.ig_media[comment.media_id].ig_id == iid:
        return comment
    return None


def route(sb: Sandbox, req: Request, obj: IgNode, segs: list[str]) -> Route:
    """The endpoint behind an IG node path (``/{ig-id}``, ``/{ig-id}/{edge}``)."""
    st = sb.state
    method = req.method
    account = st.ig_accounts[obj.id if isinstance(obj, IgAccount) else _owner(sb, obj)]
    if len(segs) == 1:
        if method == "GET":
            return Route(
                "ig node", lambda ctx, f: _render_node(obj, req, ctx, account), ig_id=account.id
            )
        if method == "POST" and isinstance(obj, IgComment):
            return Route(
                "ig node", lambda ctx, f: update_comment(obj, req, ctx, account), ig_id=account.id
            )
        if method == "POST" and isinstance(obj, IgMedia):
            return Route(
                "ig node", lambda ctx, f: update_media(obj, req, ctx, account), ig_id=account.id
            )
        if method == "DELETE" and isinstance(obj, IgComment):
            return Route(
                "ig node", lambda ctx, f: delete_comment(obj, ctx, account), ig_id=account.id
            )
        raise unsupported(method, segs[0])
    edge = segs[1]
    if isinstance(obj, IgAccount):
        if edge in ("messages", "conversations"):
            # Facebook-Login apps reach IG DMs through the Page node only.
            raise ApiError(text(account, "capability"), 3)
        if edge in ("media", "stories") and method == "GET":
            return Route(
                f"ig {edge}",
                lambda ctx, f: media_block(
                    account,
                    _mods(req),
                    fields_of(req),
                    ctx,
                    params=link_params(req),
                    fault=f,
                    stories=edge == "stories",
                ),
                is_list=True,
                ig_id=account.id,
            )
    if isinstance(obj, IgMedia) and edge == "comments":
        if method == "GET":
            return Route(
                "ig comments",
                lambda ctx, f: comments_block(
                    obj, _mods(req), fields_of(req), ctx, account, link_params(req)
                ),
                is_list=True,
                ig_id=account.id,
            )
        if method == "POST":
            return Route(
                "ig comments",
                lambda ctx, f: comment_on_media(obj, req, ctx, account),
                ig_id=account.id,
            )
    if isinstance(obj, IgComment) and edge == "replies":
        if method == "GET":
            return Route(
                "ig replies",
                lambda ctx, f: replies_block(
                    obj, _mods(req), fields_of(req), ctx, account, link_params(req)
                ),
                is_list=True,
                ig_id=account.id,
            )
        if method == "POST":
            return Route(
                "ig replies", lambda ctx, f: reply(obj, req, ctx, account), ig_id=account.id
            )
    if isinstance(obj, IgComment) and edge in ("comments", "private_replies"):
        raise unsupported(method, f"{segs[0]}/{edge}")
    if method != "GET":
        raise unsupported(method, f"{segs[0]}/{edge}")
    node = {IgAccount: "IGUser", IgMedia: "IGMedia", IgComment: "IGComment"}[type(obj)]
    raise nonexisting_field(edge, node)


def _owner(sb: Sandbox, obj: IgMedia | IgComment) -> str:
    if isinstance(obj, IgMedia):
        return obj.ig_id
    return sb.state.ig_media[obj.media_id].ig_id


def _mods(req: Request) -> dict[str, str]:
    return {
        k: str(req.params[k])
        for k in ("limit", "after", "before", *COMMENT_PARAMS)
        if k in req.params
    }


def _render_node(obj: IgNode, req: Request, ctx: Ctx, account: IgAccount) -> Json:
    if "instagram_basic" not in ctx.scopes:
        raise ApiError(text(account, "permission"), 10)
    selection = fields_of(req)
    if isinstance(obj, IgAccount):
        return render_account(obj, selection, ctx)
    if isinstance(obj, IgMedia):
        return render_media(obj, selection, ctx, account)
    return render_comment(obj, selection, ctx, account)
