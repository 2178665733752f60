"""Checking a Page token the way a real user can: without ``debug_token`` unless an app token.

``debug_token`` needs "an app access token or an app developer's user access token for the app
associated with the input_token" (debug_token reference); with a plain Page token of a person
who has no role on the app it answers ``(#100) You must provide an app access token…``
(docs/GRAPH_API.md §20.4). So a Page token is checked with reads it can always make:

- ``GET /me?fields=id,name``: a Page token's ``/me`` is the Page (a user token's is a person);
- ``GET /{page-id}?fields=id,name``: the Page is readable with it;
- one cheap read per capability socialdesk relies on: the Conversations API
  (``pages_messaging`` + the MESSAGING task; 230, 200, 1/99 tell what is missing) and the feed
  with one nested comment (``pages_read_engagement``; a comment without ``id`` means the token's
  user lacks the MODERATE task).

``debug_token`` (token type, scopes, expiry) is asked only with an app token built from the app
id and secret the user gives (:func:`app_client`); otherwise :class:`TokenCheck` says what
could not be checked and why. Called by ``core/auth`` (login) and ``core/health`` (doctor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from socialdesk.api import graph
from socialdesk.api.client import GraphClient
from socialdesk.api.errors import GraphError, TokenInvalid
from socialdesk.api.parse import check_comment_ids, parse_page
from socialdesk.models import Page, TokenInfo

__all__ = [
    "Capability",
    "TokenCheck",
    "app_client",
    "app_token",
    "check_page_token",
    "debug_with_app",
]

NO_APP_TOKEN = (
    "token type, scopes and expiry need /debug_token, which takes an app token: give the app id"
    " and app secret to have them checked"
)


@dataclass(frozen=True)
class Capability:
    """One capability probed with a read: works (``ok``), fails (with Graph's cause), or unknown."""

    name: str
    """``page``, ``messaging``, ``comments``, ``comment_ids``."""
    ok: bool | None
    """``None``: could not be told (the probe itself failed for another reason)."""
    detail: str
    hint: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TokenCheck:
    """What the reads settled about a token, and what they could not."""

    page: Page | None
    """The Page ``/me`` names (``None`` when the token is not a Page token)."""
    is_page_token: bool
    me: Page | None = None
    """Whatever ``/me`` named (a Page, or a person for a user token), even when it is not the
    expected Page."""
    capabilities: tuple[Capability, ...] = ()
    info: TokenInfo | None = None
    """``debug_token``'s answer, when it could be asked with an app token."""
    unchecked: tuple[str, ...] = field(default_factory=tuple)
    """Checks not made, each with why."""

    def capability(self, name: str) -> Capability | None:
        """The capability named ``name``, if it was probed."""
        return next((c for c in self.capabilities if c.name == name), None)


def app_token(app_id: str, app_secret: str) -> str:
    """The app access token ``APPID|APPSECRET`` (Graph's documented form)."""
    return f"{app_id}|{app_secret}"


def app_client(
    app_id: str,
    app_secret: str,
    *,
    base_url: str | None = None,
    version: str = "v26.0",
    transport: httpx.BaseTransport | None = None,
) -> GraphClient:
    """A client authenticated as the app (for ``debug_token`` only), with its proof."""
    return GraphClient(
        app_token(app_id, app_secret),
        base_url=base_url,
        version=version,
        app_secret=app_secret,
        transport=transport,
        pace=False,
    )


def debug_with_app(app: GraphClient, token: str) -> TokenInfo:
    """``debug_token`` on ``token``, asked by the app (see :func:`app_client`)."""
    return graph.debug_token(app, token)


def _probe(name: str, ok_detail: str, call: Any, check: Any = None) -> Capability:
    try:
        body = call()
        if check is not None:
            check(body)
    except TokenInvalid:
        raise
    except GraphError as exc:
        return Capability(name, False, exc.message, exc.hint, exc.reason)
    return Capability(name, True, ok_detail)


def _comments_have_ids(body: Mapping[str, Any]) -> None:
    for post in body.get("data") or []:
        if isinstance(post, Mapping):
            comments = post.get("comments")
            items = comments.get("data") if isinstance(comments, Mapping) else None
            if isinstance(items, list):
                check_comment_ids(items, "the newest post")


def check_page_token(
    client: GraphClient, page_id: str | None = None, *, app: GraphClient | None = None
) -> TokenCheck:
    """Check the client's token with reads only (and ``debug_token`` when ``app`` is given).

    Raises :class:`TokenInvalid` when Graph rejects the token outright. ``page_id`` is the
    Page the token should belong to (``None``: whatever ``/me`` says).
    """
    me = client.get("/me", {"fields": "id,name"}, edge="me")
    page: Page | None = None
    is_page = False
    try:
        named = parse_page(me)
    except GraphError:
        named = None
    if named is not None and (page_id is None or named.id == page_id):
        # /me of a Page token is the Page. ``category`` exists on Page nodes only: a User node
        # answers (#100) "Tried accessing nonexisting field (category) on node type (User)".
        try:
            client.get(f"/{named.id}", {"fields": "id,name,category"}, edge="page")
            is_page = True
        except TokenInvalid:
            raise
        except GraphError:
            is_page = False
        page = named if is_page else None
    capabilities: list[Capability] = []
    unchecked: list[str] = []
    target = page.id if page is not None else page_id
    if target is None:
        unchecked.append("the Page's capabilities: the token does not name a Page")
    else:
        capabilities.append(
            _probe(
                "messaging",
                "the Conversations API answers (pages_messaging and the MESSAGING task)",
                lambda: client.get(
                    f"/{target}/conversations",
                    {"platform": "messenger", "limit": "1", "fields": "id"},
                    edge="probe",
                ),
            )
        )
        feed = _probe(
            "comments",
            "the feed answers with comment ids (pages_read_engagement and the MODERATE task)",
            lambda: client.get(
                f"/{target}/feed",
                {"limit": "5", "fields": "id,comments.limit(1).summary(true){id}"},
                edge="probe",
            ),
            _comments_have_ids,
        )
        capabilities.append(feed)
    info: TokenInfo | None = None
    if app is not None:
        try:
            info = debug_with_app(app, client_token(client))
        except GraphError as exc:
            unchecked.append(f"debug_token with the app token failed: {exc.message}")
    else:
        unchecked.append(NO_APP_TOKEN)
    return TokenCheck(
        page=page,
        is_page_token=is_page,
        me=named,
        capabilities=tuple(capabilities),
        info=info,
        unchecked=tuple(unchecked),
    )


def client_token(client: GraphClient) -> str:
    """The token a client was built with (only to ask ``debug_token`` about it)."""
    return client._token
