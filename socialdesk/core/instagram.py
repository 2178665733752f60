"""The Page's linked Instagram account: discovery and the prerequisites no code can fix.

Called by ``init`` and ``pages`` (discover and store the account with the Page), ``doctor``
(:func:`prerequisite_checks`) and ``demo``. Discovery asks the Page for
``instagram_business_account`` and falls back to ``connected_instagram_account``
(docs/INSTAGRAM_API.md §2); the answer is stored with the Page (``store.pages``), so ``sync``
makes no Instagram call for a Page without one. The prerequisites (§0 fact 10, §7): the
``instagram_*`` permissions, the owner's in-app "Allow access to messages" toggle (a one-call
read probe: ``200/2534041`` when it is off) and the app's access level (Standard Access hides
people without an app role *silently*, so it can only be named, with its fix).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from socialdesk.api.client import GraphClient
from socialdesk.core.context import AppContext
from socialdesk.errors import SocialdeskError
from socialdesk.models import InstagramAccount, TokenInfo
from socialdesk.sanitize import clean
from socialdesk.store import pages as store_pages
from socialdesk.store.db import transaction

__all__ = [
    "IG_SCOPES",
    "Prerequisite",
    "describe",
    "discover",
    "discover_for_token",
    "prerequisite_checks",
    "record",
    "stored_account",
]

IG_SCOPES: tuple[str, ...] = (
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
)
"""What reading and answering the Instagram account needs besides the Page's permissions."""

PERMISSION_FIX = (
    "add {names} to the app's Facebook Login permissions, let the Page's admin grant them, then"
    " run `socialdesk auth login`"
)
ACCESS_FIX = (
    "Standard Access shows only people with a role on the app: customers' DMs and comments are"
    " withheld without an error (comments_count 0). Request Advanced Access for"
    " instagram_manage_messages and instagram_manage_comments (App Review, Business"
    " Verification) in the app dashboard"
)


@dataclass(frozen=True)
class Prerequisite:
    """One Instagram line of ``doctor``: ``ok``, ``warn`` or ``fail``, with the fix."""

    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str


def discover(
    conn: sqlite3.Connection, client: GraphClient, page_id: str, *, now: datetime
) -> InstagramAccount | None:
    """Ask the Page for its linked account (one call) and store the answer with the Page."""
    from socialdesk.api import graph_ig

    account = graph_ig.get_instagram_account(client, page_id)
    record(conn, page_id, account, now=now)
    return account


def record(
    conn: sqlite3.Connection, page_id: str, account: InstagramAccount | None, *, now: datetime
) -> None:
    """Store what discovery found (``None``: no linked account) with the Page."""
    with transaction(conn):
        store_pages.set_instagram(conn, page_id, account, now=now)


def discover_for_token(
    ctx: AppContext, token: str, page_id: str
) -> tuple[InstagramAccount | None, str | None]:
    """Discovery with a token (``init``, ``auth login``, ``pages``): (account, error).

    Best effort: a failed call or a busy database never fails the command that asks; the error
    is returned in words (``None`` when discovery worked).
    """
    from socialdesk.api import graph_ig
    from socialdesk.api.errors import GraphError

    client = ctx.client_for_token(token)
    try:
        account = graph_ig.get_instagram_account(client, page_id)
    except GraphError as exc:
        return None, clean(exc.message, single_line=True)
    finally:
        client.close()
    try:
        with closing(ctx.connect()) as conn:
            record(conn, page_id, account, now=ctx.clock.now())
    except (sqlite3.Error, SocialdeskError, OSError):
        pass  # the next discovery stores it
    return account, None


def describe(account: InstagramAccount | None) -> str:
    """One line for a front end: the account and where it was found, or its absence."""
    if account is None:
        return "no Instagram account linked to the Page"
    via = "" if account.source == "instagram_business_account" else " (connected account only)"
    return f"Instagram {_label(account)}{via}"


def stored_account(conn: sqlite3.Connection, page_id: str) -> InstagramAccount | None:
    """The account discovery stored for the Page (``None``: none, or never checked)."""
    return store_pages.get_instagram(conn, page_id).account


def _label(account: InstagramAccount) -> str:
    return f"@{clean(account.username, single_line=True)} ({account.id})"


def prerequisite_checks(
    client: GraphClient,
    page_id: str,
    account: InstagramAccount | None,
    info: TokenInfo | None,
) -> list[Prerequisite]:
    """The Instagram lines of ``doctor`` for a discovered (or absent) account."""
    from socialdesk.api import graph_ig
    from socialdesk.api.errors import GraphError, PermissionDenied

    if account is None:
        return [
            Prerequisite(
                "instagram",
                "ok",
                "no Instagram account is linked to the Page (Messenger and Page comments only);"
                " to add one: link an Instagram professional account in the Page's settings,"
                " then run `socialdesk pages`",
            )
        ]
    out: list[Prerequisite] = []
    detail = f"{_label(account)} via {account.source}"
    status: Literal["ok", "warn"] = "ok"
    if account.source == "connected_instagram_account":
        status = "warn"
        detail += (
            " only (not instagram_business_account): whether messaging works for such an"
            " account is not documented; if DMs fail, convert or re-link it from the Instagram"
            " app (Settings > Account type > professional, then link the Page)"
        )
    if account.other_id:
        status = "warn"
        detail += f"; connected_instagram_account names another account ({account.other_id})"
    out.append(Prerequisite("instagram", status, detail))
    if info is not None:
        missing = [s for s in IG_SCOPES if s not in info.scopes]
        if missing:
            names = ", ".join(missing)
            out.append(
                Prerequisite(
                    "instagram permissions",
                    "warn",
                    f"missing {names}; " + PERMISSION_FIX.format(names=names),
                )
            )
        else:
            out.append(Prerequisite("instagram permissions", "ok", ", ".join(IG_SCOPES)))
    else:
        # A Page token cannot read its own scopes (debug_token needs the app token): the reads
        # below show what works; the grant itself is said to be unread, not assumed.
        out.append(
            Prerequisite(
                "instagram permissions",
                "warn",
                f"not checked: reading the token's permissions ({', '.join(IG_SCOPES)}) needs "
                "the app token (SOCIALDESK_APP_ID or graph.app_id, and the app secret); the "
                "reads below test messaging and comments",
            )
        )
    try:
        next(graph_ig.iter_ig_conversations(client, page_id, account.id, page_size=1), None)
    except PermissionDenied as exc:
        if exc.reason == "ig_messages_disabled":
            out.append(
                Prerequisite(
                    "instagram messages access",
                    "fail",
                    f"the account owner turned off access to messages; fix: {exc.hint}",
                )
            )
        else:
            # A missing permission: named by the permissions line, fixed by the operator.
            out.append(
                Prerequisite(
                    "instagram messages access",
                    "warn",
                    f"{clean(exc.message, single_line=True)}; {exc.hint or ''}",
                )
            )
    except (GraphError, SocialdeskError) as exc:
        out.append(
            Prerequisite("instagram messages access", "warn", clean(exc.message, single_line=True))
        )
    else:
        out.append(
            Prerequisite(
                "instagram messages access", "ok", "Allow access to messages is on (DMs readable)"
            )
        )
    out.append(
        Prerequisite("instagram access level", "ok", "cannot be read by the API: " + ACCESS_FIX)
    )
    return out
