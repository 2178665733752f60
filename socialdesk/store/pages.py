"""The pages this database knows: config names, display names, and pages found from a token.

Called by ``core.context`` (recording the configured names when a command opens the database,
the Page's display name after ``GET /me``, the page a ``SOCIALDESK_TOKEN`` belongs to) and by
core services that fill the ``{page}`` template placeholder. ``pages.name`` is the config slug
(``page:NAME`` queries match it); ``pages.display_name`` is the Page's own name on Facebook.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from socialdesk.models import InstagramAccount, epoch, utc


@dataclass(frozen=True)
class StoredPage:
    """A row of ``pages``."""

    id: str
    name: str
    """The config slug ('' until a command with that page configured opened the database)."""
    display_name: str
    """The Page's name on Facebook ('' until ``GET /me`` was asked)."""


def upsert_page(conn: sqlite3.Connection, page_id: str, name: str, *, now: datetime) -> None:
    """Record (or rename) a page, so that ``page:NAME`` queries can find it."""
    conn.execute(
        "INSERT INTO pages (id, name, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        (page_id, name, epoch(now)),
    )


def stale_names(
    conn: sqlite3.Connection, pages: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The ``(id, name)`` pairs whose stored name differs (what :func:`upsert_page` writes)."""
    stored = dict(conn.execute("SELECT id, name FROM pages").fetchall())
    return [(pid, name) for pid, name in pages if stored.get(pid) != name]


def get_page(conn: sqlite3.Connection, page_id: str) -> StoredPage | None:
    """The stored page, or ``None``."""
    row = conn.execute(
        "SELECT id, name, display_name FROM pages WHERE id = ?", (page_id,)
    ).fetchone()
    return StoredPage(str(row[0]), str(row[1]), str(row[2])) if row is not None else None


def find_pages(conn: sqlite3.Connection, ref: str) -> list[str]:
    """Ids of the pages ``ref`` names: the id itself, or a stored name (case-insensitive)."""
    rows = conn.execute(
        "SELECT id FROM pages WHERE id = ? OR name = ? COLLATE NOCASE", (ref, ref)
    ).fetchall()
    return [str(r[0]) for r in rows]


def page_name(conn: sqlite3.Connection, page_id: str) -> str:
    """The ``{page}`` placeholder: the Page's display name, else its config name ('' if unknown).

    The display name is only known once ``GET /me`` has been asked (``auth login``/``init``,
    or a context that discovered its page from ``SOCIALDESK_TOKEN``).
    """
    row = conn.execute(
        "SELECT COALESCE(NULLIF(display_name, ''), name) FROM pages WHERE id = ?", (page_id,)
    ).fetchone()
    return str(row[0]) if row is not None and row[0] else ""


def set_page_display_name(
    conn: sqlite3.Connection, page_id: str, name: str, *, now: datetime
) -> None:
    """Record the Page's name as ``GET /me`` reports it (login, page discovery).

    A page not yet in ``pages`` gets a row with an empty ``name`` (the config slug is written
    when a command with that page configured opens the database); a blank ``name`` changes
    nothing.
    """
    if not name.strip():
        return
    conn.execute(
        "INSERT INTO pages (id, name, display_name, updated_at) VALUES (?, '', ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,"
        " updated_at = excluded.updated_at",
        (page_id, name, epoch(now)),
    )


def remember_token_page(
    conn: sqlite3.Connection, fingerprint: str, page_id: str, name: str, *, now: datetime
) -> None:
    """Remember which page a token (known only by its keyed fingerprint) belongs to.

    Read-only commands run with ``SOCIALDESK_TOKEN`` alone then know their page without asking
    the API (``GET /me``) again. The fingerprint is an HMAC keyed by a secret of this database
    (``store.meta.token_key``): the token itself never reaches the database.
    """
    conn.execute(
        "INSERT INTO token_pages (fingerprint, page_id, name, seen_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (fingerprint) DO UPDATE SET page_id = excluded.page_id,"
        " name = excluded.name, seen_at = excluded.seen_at",
        (fingerprint, page_id, name, epoch(now)),
    )


def token_page(conn: sqlite3.Connection, fingerprint: str) -> tuple[str, str] | None:
    """``(page id, display name)`` remembered for this token fingerprint, or ``None``."""
    row = conn.execute(
        "SELECT page_id, name FROM token_pages WHERE fingerprint = ?", (fingerprint,)
    ).fetchone()
    return (str(row[0]), str(row[1])) if row is not None else None


@dataclass(frozen=True)
class StoredInstagram:
    """What discovery last found for a Page's linked Instagram account."""

    checked: bool
    """Discovery has run at least once (``False``: never asked)."""
    account: InstagramAccount | None
    """``None``: no linked account (or never checked)."""
    checked_at: datetime | None = None


def set_instagram(
    conn: sqlite3.Connection, page_id: str, account: InstagramAccount | None, *, now: datetime
) -> None:
    """Record what discovery found (``None``: the Page has no linked Instagram account)."""
    conn.execute(
        "INSERT INTO pages (id, name, updated_at) VALUES (?, '', ?) ON CONFLICT (id) DO NOTHING",
        (page_id, epoch(now)),
    )
    conn.execute(
        "UPDATE pages SET ig_user_id = ?, ig_username = ?, ig_source = ?, ig_checked_at = ?"
        " WHERE id = ?",
        (
            account.id if account else None,
            account.username if account else "",
            account.source if account else None,
            epoch(now),
            page_id,
        ),
    )


def get_instagram(conn: sqlite3.Connection, page_id: str) -> StoredInstagram:
    """The stored Instagram account of a Page (see :class:`StoredInstagram`)."""
    row = conn.execute(
        "SELECT ig_user_id, ig_username, ig_source, ig_checked_at FROM pages WHERE id = ?",
        (page_id,),
    ).fetchone()
    if row is None or row[3] is None:
        return StoredInstagram(False, None)
    account = None
    if row[0]:
        account = InstagramAccount(
            id=str(row[0]),
            username=str(row[1] or ""),
            source=str(row[2] or "instagram_business_account"),
        )
    return StoredInstagram(True, account, utc(int(row[3])))
