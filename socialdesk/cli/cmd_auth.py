"""``socialdesk auth login|status|logout``: store, check and forget a Page token.

Registered on the root app; the work is ``core.auth``. The token is read without echo (or from
stdin with ``--token-stdin``), checked against the API before it is stored, and never printed.
:func:`read_token` is shared with ``init``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import (
    JsonOpt,
    PageOpt,
    echo_line,
    session,
    token_check_lines,
)

if TYPE_CHECKING:
    from socialdesk.core.auth import PageStatus

auth_app = typer.Typer(
    name="auth",
    help="Store, check and forget the Page access token.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(auth_app, name="auth")


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
    from socialdesk.core import auth

    token = read_token(token_stdin)
    with session(create_home=True) as s:
        result = auth.login(s.ctx, token, page_id, make_default=default)
        echo_line(
            f"Logged in to {result.page_title} ({result.page.id}) as page '{result.page.name}'."
        )
        echo_line(f"Token stored in {auth.describe_storage(s.ctx, result.stored_in)}.")
        if result.instagram is not None:
            from socialdesk.core.instagram import describe

            echo_line(f"{describe(result.instagram)} is linked: its DMs and comments sync too.")
    v = result.validated
    token_check_lines(v.missing_scopes, v.problems, v.unchecked)


def _print_status(s: PageStatus) -> None:
    from socialdesk.cli.output import rows_text
    from socialdesk.format import iso

    title = f" — {s.page_title}" if s.page_title else ""
    echo_line(f"{s.page} ({s.page_id}){title}")
    rows = [
        ("token", s.token_storage or "none"),
        ("valid", "yes" if s.valid else f"no: {s.error}"),
    ]
    if s.type:
        rows.append(("type", s.type.lower()))
        if s.scopes or not s.unchecked:
            rows.append(("scopes", ", ".join(s.scopes) or "none"))
        if s.missing_scopes:
            rows.append(("missing", ", ".join(s.missing_scopes)))
        if s.scopes:
            rows.append(("expires", iso(s.expires_at) or "never"))
    rows += [("problem", p) for p in s.problems]
    rows += [("not checked", u) for u in s.unchecked]
    echo_line("  " + rows_text(rows).replace("\n", "\n  "))
    if not s.valid:
        echo_line(f"  hint: run `socialdesk auth login --page-id {s.page_id}`")


@auth_app.command("status")
def auth_status(page: PageOpt = None, as_json: JsonOpt = False) -> None:
    """Show where the token comes from, whether it is valid, its scopes and expiry."""
    from socialdesk.cli import output, views
    from socialdesk.core import auth
    from socialdesk.errors import ExitCode

    with session() as s:
        result = auth.status(s.ctx, page)
    if as_json:
        output.print_json(views.auth_status(result))
    else:
        for st in result.pages:
            _print_status(st)
    if not result.ok:
        raise typer.Exit(int(ExitCode.AUTH))


@auth_app.command("logout")
def auth_logout(page: PageOpt = None) -> None:
    """Forget the stored token of a page (the page stays configured)."""
    from socialdesk.core import auth
    from socialdesk.secrets import TOKEN_ENV

    with session() as s:
        result = auth.logout(s.ctx, page)
    target = result.page
    if result.removed:
        echo_line(f"Forgot the token of page '{target.name}' ({target.id}).")
    else:
        echo_line(f"No token was stored for page '{target.name}' ({target.id}).")
    if result.env_token_still_set:
        typer.echo(f"note: {TOKEN_ENV} is set and still provides a token.", err=True)
