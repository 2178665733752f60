"""``socialdesk auth login|status|logout``: store, check and forget a Page token.

Also home of the token validation that ``init`` and ``doctor`` reuse (:func:`validate_token`,
:func:`login`). The token is read without echo (or from stdin with ``--token-stdin``), checked
against the API (``GET /me`` + ``/debug_token``) before it is stored, and never printed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.session import Session
    from socialdesk.models import Page, TokenInfo

NEEDED_SCOPES: tuple[str, ...] = (
    "pages_messaging",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_metadata",
    "pages_manage_engagement",
)
"""Permissions socialdesk's features need (GRAPH_API.md §9.4, Instagram aside)."""

auth_app = typer.Typer(
    name="auth",
    help="Store, check and forget the Page access token.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(auth_app, name="auth")

PageOption = Annotated[
    str | None, typer.Option("--page", help="Page name or id (default: the default page).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


@dataclass(frozen=True)
class Validated:
    """What the API says about a token."""

    page: Page
    info: TokenInfo | None
    """None when ``/debug_token`` could not be asked (the token still worked for ``/me``)."""

    @property
    def missing_scopes(self) -> tuple[str, ...]:
        if self.info is None:
            return ()
        return tuple(s for s in NEEDED_SCOPES if s not in self.info.scopes)


def stdin_is_terminal() -> bool:
    """Whether we may prompt (a function so tests can pretend to be on a terminal)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def read_token(token_stdin: bool, *, prompt: str = "Page access token") -> str:
    """The token from stdin (``--token-stdin``) or a hidden prompt on a terminal.

    Outer whitespace (the trailing newline) is stripped; a token with whitespace, control or
    non-ASCII characters inside is an AuthError naming the source.
    """
    from socialdesk.errors import UsageError
    from socialdesk.secrets import check_token

    if token_stdin:
        # Bytes, so that only LF ends the line: text mode would end it at a lone CR too and
        # silently drop what follows ("tok\rX" must be refused, not read as "tok").
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is not None:
            token = buffer.readline().decode("utf-8", "replace").strip()
        else:
            token = sys.stdin.readline().strip()
        if not token:
            raise UsageError(
                "no token on standard input", hint="pipe the token in: … | --token-stdin"
            )
        return check_token(token, "standard input")
    if not stdin_is_terminal():
        raise UsageError(
            "no terminal to ask for the token on",
            hint="pass it on standard input with --token-stdin",
        )
    token = str(typer.prompt(prompt, hide_input=True)).strip()
    if not token:
        raise UsageError("the token is empty")
    return check_token(token, "the prompt")


def validate_token(session: Session, token: str, expected_page_id: str | None = None) -> Validated:
    """Ask the API who ``token`` belongs to; AuthError unless it is a valid Page token."""
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError, TokenInvalid
    from socialdesk.errors import AuthError
    from socialdesk.sanitize import clean

    client = session.client_for_token(token)
    try:
        me = graph.get_me(client)
        info: TokenInfo | None
        try:
            info = graph.debug_token(client, token)
        except TokenInvalid:
            raise
        except GraphError:
            info = None
    except TokenInvalid as exc:
        # This *is* the login: "run auth login" would send the user in a circle.
        exc.hint = (
            "the API rejected this token: copy a fresh Page access token (Graph API Explorer "
            "or Meta Business Suite) and try again"
        )
        raise
    finally:
        client.close()
    if info is not None and not info.is_valid:
        raise AuthError(
            "the API says this token is not valid",
            hint="create a new Page access token and run `socialdesk auth login` again",
        )
    if info is not None and info.type and info.type.upper() != "PAGE":
        raise AuthError(
            f"this is a {info.type.lower()} token, not a Page access token",
            hint="use the Page's own token (Graph API Explorer: pick the Page in 'User or Page')",
        )
    if expected_page_id is not None and me.id != expected_page_id:
        raise AuthError(
            f"this token belongs to {clean(me.name, single_line=True)} ({me.id}), "
            f"not to page {expected_page_id}",
            hint=f"use the token of page {expected_page_id}, or leave out --page-id",
        )
    return Validated(page=me, info=info)


def _unique_name(session: Session, page: Page) -> str:
    from socialdesk.config import slug_name

    for existing in session.config.pages.values():
        if existing.id == page.id:
            return existing.name
    base = slug_name(page.name, fallback=f"page-{page.id}")
    name, n = base, 2
    while name in session.config.pages:
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


def login(
    session: Session, token: str, page_id: str | None, *, make_default: bool = False
) -> LoginResult:
    """Validate ``token``, add its page to the config, then store the token.

    The config is written first: if that fails (unwritable file, invalid config), no token is
    left behind. If storing the token then fails, the previous config is put back.
    """
    from socialdesk import secrets
    from socialdesk.config import PageConfig, load_config, save_config
    from socialdesk.sanitize import clean

    validated = validate_token(session, token, page_id)
    page = PageConfig(name=_unique_name(session, validated.page), id=validated.page.id)
    session.paths.ensure()
    had_file = session.paths.config_file.exists()
    original = load_config(session.paths)
    updated = original.with_page(page, make_default=make_default)
    if updated != original or not had_file:
        save_config(session.paths, updated)
    try:
        stored_in = secrets.store_token(session.paths, page.id, token)
    except BaseException:
        if not had_file:
            session.paths.config_file.unlink(missing_ok=True)
        elif updated != original:
            save_config(session.paths, original)
        raise
    session.config = updated
    title = clean(validated.page.name, single_line=True)
    session.record_display_name(page.id, title)
    return LoginResult(page, title, stored_in, validated)


def describe_storage(session: Session, stored_in: str) -> str:
    """Where the token went, for humans (names the keyring backend)."""
    from socialdesk import secrets

    if stored_in == "keyring":
        return f"the system keyring ({secrets.keyring_backend_name() or 'unknown backend'})"
    return f"{session.paths.token_file} (mode 0600; no system keyring available)"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


@auth_app.command("login")
def auth_login(
    page_id: Annotated[
        str | None,
        typer.Option("--page-id", help="The Page id the token must belong to (checked)."),
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the token from standard input.")
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", help="Make this page the default page.")
    ] = False,
) -> None:
    """Validate a Page access token against the API and store it (keyring, else a 0600 file)."""
    from socialdesk.core.session import Session

    token = read_token(token_stdin)
    with Session.open() as session:
        result = login(session, token, page_id, make_default=default)
        typer.echo(
            f"Logged in to {result.page_title} ({result.page.id}) as page '{result.page.name}'."
        )
        typer.echo(f"Token stored in {describe_storage(session, result.stored_in)}.")
        missing = result.validated.missing_scopes
        if missing:
            typer.echo(f"warning: the token lacks {', '.join(missing)}", err=True)


def status_of(session: Session, page: PageConfig) -> dict[str, Any]:
    """The auth status of one page as a JSON-ready dict (never the token)."""
    from socialdesk import secrets
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError
    from socialdesk.sanitize import clean

    source = secrets.token_info(session.paths, page.id)
    out: dict[str, Any] = {
        "page": page.name,
        "page_id": page.id,
        "token_source": source.source if source else None,
        "token_location": source.location if source else None,
        "token_backend": source.backend if source else None,
        "token_storage": source.describe if source else None,
        "valid": False,
        "page_title": None,
        "type": None,
        "scopes": [],
        "missing_scopes": list(NEEDED_SCOPES),
        "expires_at": None,
        "error": None,
    }
    if source is None:
        out["error"] = "no token stored"
        return out
    token = secrets.load_token(session.paths, page.id) or ""
    client = session.client_for_token(token)
    try:
        me = graph.get_me(client)
        out["page_title"] = clean(me.name, single_line=True)
        info = graph.debug_token(client, token)
    except GraphError as exc:
        out["error"] = clean(exc.message, single_line=True)
        return out
    finally:
        client.close()
    out.update(
        valid=info.is_valid and me.id == page.id,
        type=info.type,
        scopes=list(info.scopes),
        missing_scopes=[s for s in NEEDED_SCOPES if s not in info.scopes],
        expires_at=_iso(info.expires_at),
    )
    if me.id != page.id:
        out["error"] = f"the token belongs to page {me.id}"
    return out


@auth_app.command("status")
def auth_status(page: PageOption = None, json_: JsonOption = False) -> None:
    """Show where the token comes from, whether it is valid, its scopes and expiry."""
    from socialdesk.cli.output import print_json
    from socialdesk.core.session import Session
    from socialdesk.errors import ExitCode

    with Session.open() as session:
        if page is None and session.config.pages:
            pages = list(session.config.pages.values())
        else:
            pages = [session.page(page)]
        statuses = [status_of(session, p) for p in pages]
    ok = all(s["valid"] for s in statuses)
    if json_:
        print_json({"ok": ok, "pages": statuses})
    else:
        for s in statuses:
            _print_status(s)
    if not ok:
        raise typer.Exit(int(ExitCode.AUTH))


def _print_status(s: dict[str, Any]) -> None:
    from socialdesk.cli.output import rows_text

    title = f" — {s['page_title']}" if s["page_title"] else ""
    typer.echo(f"{s['page']} ({s['page_id']}){title}")
    rows = [
        ("token", s["token_storage"] or "none"),
        ("valid", "yes" if s["valid"] else f"no: {s['error']}"),
    ]
    if s["type"]:
        rows.append(("type", str(s["type"]).lower()))
        rows.append(("scopes", ", ".join(s["scopes"]) or "none"))
        if s["missing_scopes"]:
            rows.append(("missing", ", ".join(s["missing_scopes"])))
        rows.append(("expires", s["expires_at"] or "never"))
    typer.echo("  " + rows_text(rows).replace("\n", "\n  "))
    if not s["valid"]:
        typer.echo(f"  hint: run `socialdesk auth login --page-id {s['page_id']}`")


@auth_app.command("logout")
def auth_logout(page: PageOption = None) -> None:
    """Forget the stored token of a page (the page stays configured)."""
    import os

    from socialdesk import secrets
    from socialdesk.core.session import Session

    with Session.open() as session:
        target = session.config.page(page)
        removed = secrets.delete_token(session.paths, target.id)
    if removed:
        typer.echo(f"Forgot the token of page '{target.name}' ({target.id}).")
    else:
        typer.echo(f"No token was stored for page '{target.name}' ({target.id}).")
    if os.environ.get(secrets.TOKEN_ENV):
        typer.echo(f"note: {secrets.TOKEN_ENV} is set and still provides a token.", err=True)
