"""Page tokens: validating one against the API, logging in and out, and each page's status.

Called by ``auth login|status|logout``, ``init``, ``doctor`` and the inbox's first-run screen.
A token is checked before anything is written (:func:`check_token`: ``GET /me``, the Page node
and one read per capability, ``api.tokens.check_page_token``; ``debug_token`` only with the app
token, when the user gave the app id and secret: it refuses a plain Page token, GRAPH_API.md
§20.4, §21.12), and what could not be checked is said. The token is never printed, logged or
stored anywhere but the keyring or the 0600 token file.
:data:`socialdesk.models.REQUIRED_SCOPES` is the one list of the permissions socialdesk needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from socialdesk import config as config_file
from socialdesk import secrets
from socialdesk.config import Config, PageConfig, slug_name
from socialdesk.core.context import AppContext
from socialdesk.errors import AuthError
from socialdesk.models import REQUIRED_SCOPES, InstagramAccount, Page, TokenInfo
from socialdesk.sanitize import clean

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient
    from socialdesk.api.tokens import TokenCheck

__all__ = [
    "LoginResult",
    "PageRow",
    "PageStatus",
    "Validated",
    "check_token",
    "describe_storage",
    "login",
    "logout",
    "pages_overview",
    "status",
    "validate_token",
]


def check_token(
    ctx: AppContext, token: str, page_id: str | None = None, *, client: GraphClient | None = None
) -> TokenCheck:
    """What reads (and ``debug_token`` with the app token, when given) settle about ``token``.

    ``client``: a client of ``token`` to ask with (the caller keeps and closes it; doctor reads
    its usage headers after). Raises ``TokenInvalid`` when Graph rejects the token outright.
    """
    from socialdesk.api.tokens import check_page_token

    own = client is None
    asker = ctx.client_for_token(token) if client is None else client
    app = ctx.app_client()
    try:
        return check_page_token(asker, page_id, app=app)
    finally:
        if own:
            asker.close()
        if app is not None:
            app.close()


def capability_problems(check: TokenCheck) -> tuple[str, ...]:
    """The capabilities a token check found missing, each with Graph's cause and the fix."""
    return tuple(
        f"{c.detail}" + (f" ({c.hint})" if c.hint else "")
        for c in check.capabilities
        if c.ok is False
    )


@dataclass(frozen=True)
class Validated:
    """What the API says about a token."""

    page: Page
    info: TokenInfo | None
    """``debug_token``'s answer (``None`` without the app id and secret, or when it failed)."""
    problems: tuple[str, ...] = ()
    """Capabilities the reads found missing (permission, task, Advanced Access), with fixes."""
    unchecked: tuple[str, ...] = ()
    """What could not be checked, each with why."""

    @property
    def missing_scopes(self) -> tuple[str, ...]:
        if self.info is None:
            return ()
        return tuple(s for s in REQUIRED_SCOPES if s not in self.info.scopes)


def validate_token(ctx: AppContext, token: str, expected_page_id: str | None = None) -> Validated:
    """Ask the API who ``token`` belongs to; AuthError unless it is a valid Page token."""
    from socialdesk.api.errors import TokenInvalid

    try:
        check = check_token(ctx, token, expected_page_id)
    except TokenInvalid as exc:
        # This *is* the login: "run auth login" would send the user in a circle.
        exc.hint = (
            "the API rejected this token: copy a fresh Page access token (Graph API Explorer "
            "or Meta Business Suite) and try again"
        )
        raise
    info = check.info
    if info is not None and not info.is_valid:
        raise AuthError(
            "the API says this token is not valid",
            hint="create a new Page access token and log in again",
        )
    if info is not None and info.type and info.type.upper() != "PAGE":
        raise AuthError(
            f"this is a {info.type.lower()} token, not a Page access token",
            hint="use the Page's own token (Graph API Explorer: pick the Page in 'User or Page')",
        )
    me = check.me
    if me is not None and expected_page_id is not None and me.id != expected_page_id:
        raise AuthError(
            f"this token belongs to {clean(me.name, single_line=True)} ({me.id}), "
            f"not to page {expected_page_id}",
            hint=f"use the token of page {expected_page_id}, or the page this token belongs to",
        )
    if check.page is None or not check.is_page_token:
        who = f" ({clean(me.name, single_line=True)}, {me.id})" if me is not None else ""
        raise AuthError(
            f"this is not a Page access token: /me{who} is not a Page",
            hint="use the Page's own token (Graph API Explorer: pick the Page in 'User or Page')",
        )
    return Validated(
        page=check.page,
        info=info,
        problems=capability_problems(check),
        unchecked=check.unchecked,
    )


def _unique_name(config: Config, page: Page) -> str:
    for existing in config.pages.values():
        if existing.id == page.id:
            return existing.name
    base = slug_name(page.name, fallback=f"page-{page.id}")
    name, n = base, 2
    while name in config.pages:
        name, n = f"{base}-{n}", n + 1
    return name


@dataclass(frozen=True)
class LoginResult:
    """What :func:`login` did."""

    page: PageConfig
    page_title: str
    """The Page's name on Facebook (sanitised)."""
    stored_in: str
    """``keyring`` or ``file``."""
    validated: Validated
    made_default: bool
    """Whether the page is now the default page."""
    instagram: InstagramAccount | None = None
    """The Instagram account linked to the Page (stored with it), if any."""
    instagram_error: str | None = None
    """Why the Page could not be asked for its Instagram account (``None``: it was asked)."""


def login(
    ctx: AppContext,
    token: str,
    page_id: str | None,
    *,
    make_default: bool = False,
    stats_timezone: str | None = None,
) -> LoginResult:
    """Validate ``token``, add its page to the config, then store the token.

    The config is written first: if that fails (unwritable file, invalid config), no token is
    left behind. If storing the token then fails, the previous config is put back.
    ``stats_timezone`` (``init``) sets ``stats.timezone`` in the same write.
    """
    import dataclasses

    validated = validate_token(ctx, token, page_id)
    page = PageConfig(name=_unique_name(ctx.config, validated.page), id=validated.page.id)
    ctx.paths.ensure()
    had_file = ctx.paths.config_file.exists()
    original = config_file.load_config(ctx.paths)
    updated = original.with_page(page, make_default=make_default)
    if stats_timezone is not None:
        stats = dataclasses.replace(updated.stats, timezone=stats_timezone)
        updated = dataclasses.replace(updated, stats=stats)
    if updated != original or not had_file:
        config_file.save_config(ctx.paths, updated)
    try:
        stored_in = secrets.store_token(ctx.paths, page.id, token)
    except BaseException:
        if not had_file:
            ctx.paths.config_file.unlink(missing_ok=True)
        elif updated != original:
            config_file.save_config(ctx.paths, original)
        raise
    ctx.config = updated
    title = clean(validated.page.name, single_line=True)
    ctx.record_display_name(page.id, title)
    from socialdesk.core.instagram import discover_for_token

    account, ig_error = discover_for_token(ctx, token, page.id)
    return LoginResult(
        page,
        title,
        stored_in,
        validated,
        updated.default_page == page.name,
        instagram=account,
        instagram_error=ig_error,
    )


def describe_storage(ctx: AppContext, stored_in: str) -> str:
    """Where the token went, for humans (names the keyring backend)."""
    if stored_in == "keyring":
        return f"the system keyring ({secrets.keyring_backend_name() or 'unknown backend'})"
    return f"{ctx.paths.token_file} (mode 0600; no system keyring available)"


@dataclass(frozen=True)
class LogoutResult:
    """What :func:`logout` did."""

    page: PageConfig
    removed: bool
    env_token_still_set: bool
    """``SOCIALDESK_TOKEN`` still provides a token."""


def logout(ctx: AppContext, ref: str | None) -> LogoutResult:
    """Forget the stored token of a page (the page stays configured)."""
    page = ctx.page(ref)
    removed = secrets.delete_token(ctx.paths, page.id)
    return LogoutResult(page, removed, bool(secrets.env_token()))


@dataclass(frozen=True)
class PageStatus:
    """The auth status of one page (never the token)."""

    page: str
    page_id: str
    token_source: str | None = None
    token_location: str | None = None
    token_backend: str | None = None
    token_storage: str | None = None
    valid: bool = False
    page_title: str | None = None
    type: str | None = None
    scopes: tuple[str, ...] = ()
    missing_scopes: tuple[str, ...] = REQUIRED_SCOPES
    expires_at: datetime | None = None
    error: str | None = None
    problems: tuple[str, ...] = ()
    """Capabilities the reads found missing, with Graph's cause and the fix."""
    unchecked: tuple[str, ...] = ()
    """What could not be checked (scopes and expiry without the app id and secret), and why."""


def _status_of(ctx: AppContext, page: PageConfig) -> PageStatus:
    import dataclasses

    from socialdesk.api.errors import GraphError

    source = secrets.token_info(ctx.paths, page.id)
    if source is None:
        return PageStatus(page=page.name, page_id=page.id, error="no token stored")
    found = PageStatus(
        page=page.name,
        page_id=page.id,
        token_source=source.source,
        token_location=source.location,
        token_backend=source.backend,
        token_storage=source.describe,
    )
    token = secrets.load_token(ctx.paths, page.id) or ""
    try:
        check = check_token(ctx, token, page.id)
    except GraphError as exc:
        return dataclasses.replace(found, error=clean(exc.message, single_line=True))
    me, info = check.me, check.info
    title = clean(me.name, single_line=True) if me is not None else None
    error: str | None = None
    if me is not None and me.id != page.id:
        error = f"the token belongs to page {me.id}"
    elif not check.is_page_token:
        error = "not a Page access token (/me is not a Page)"
    elif info is not None and not info.is_valid:
        error = "the API says the token is not valid"
    return dataclasses.replace(
        found,
        page_title=title,
        valid=error is None,
        type=info.type if info is not None else ("PAGE" if check.is_page_token else None),
        scopes=tuple(info.scopes) if info is not None else (),
        missing_scopes=(
            tuple(s for s in REQUIRED_SCOPES if s not in info.scopes) if info is not None else ()
        ),
        expires_at=info.expires_at if info is not None else None,
        error=error,
        problems=capability_problems(check),
        unchecked=check.unchecked,
    )


@dataclass(frozen=True)
class AuthStatus:
    """The status of every page asked about."""

    pages: list[PageStatus] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.valid for s in self.pages)


def status(ctx: AppContext, ref: str | None) -> AuthStatus:
    """The auth status of the page ``ref`` names, or of every configured page."""
    every = ref is None and bool(ctx.config.pages)
    pages = list(ctx.config.pages.values()) if every else [ctx.page(ref)]
    return AuthStatus([_status_of(ctx, p) for p in pages])


@dataclass
class PageRow:
    """A page ``pages`` lists: configured, and/or one a stored token can manage."""

    id: str
    name: str | None = None
    """The config name (``None``: not configured)."""
    title: str | None = None
    """The Page's name on Facebook, when a token could ask."""
    configured: bool = False
    default: bool = False
    token: bool = False
    """A stored token belongs to this page."""
    error: str | None = None
    instagram: InstagramAccount | None = None
    """The Instagram account linked to a configured page (found again and stored)."""


def pages_overview(ctx: AppContext) -> list[PageRow]:
    """The configured pages and every page their tokens can manage (``/me``, ``/me/accounts``).

    With a Page token, ``/me`` is that Page and ``/me/accounts`` is empty; with a user token the
    accounts edge lists every Page the user manages.
    """
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError

    configured = list(ctx.config.pages.values())
    if not configured and secrets.env_token():
        configured = [ctx.page()]  # SOCIALDESK_TOKEN alone: the token's own page
    rows: dict[str, PageRow] = {}
    for page in configured:
        known = page.name in ctx.config.pages
        rows[page.id] = PageRow(
            page.id,
            name=page.name if known else None,
            configured=known,
            default=page.name == ctx.config.default_page,
        )
    for page in configured:
        token = secrets.load_token(ctx.paths, page.id)
        if not token:
            rows[page.id].error = "no token"
            continue
        client = ctx.client_for_token(token)
        try:
            me = graph.get_me(client)
            accounts = graph.list_accounts(client)
        except GraphError as exc:
            rows[page.id].error = clean(exc.message, single_line=True)
            continue
        finally:
            client.close()
        for found in [me, *accounts]:
            rows.setdefault(found.id, PageRow(found.id)).title = clean(found.name, single_line=True)
        rows[me.id].token = True
        if me.id == page.id:
            from socialdesk.core.instagram import discover_for_token

            rows[page.id].instagram = discover_for_token(ctx, token, page.id)[0]
    return list(rows.values())
