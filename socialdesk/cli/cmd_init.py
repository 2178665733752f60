"""``socialdesk init``: the guided first setup (page id, hidden token, validation, config).

Interactive on a terminal; scriptable with ``--page-id`` and ``--token-stdin``. The token is
validated against the API (``GET /me`` + ``/debug_token``) before anything is written.
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app


@app.command()
def init(
    page_id: Annotated[
        str | None, typer.Option("--page-id", help="The Facebook Page id (digits).")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the Page access token from standard input.")
    ] = False,
) -> None:
    """Set up socialdesk: ask for the Page id and token, check them with the API, write config."""
    from socialdesk.cli.cmd_auth import describe_storage, login, read_token, stdin_is_terminal
    from socialdesk.core.session import Session
    from socialdesk.errors import UsageError

    interactive = stdin_is_terminal() and not token_stdin
    if page_id is None and interactive:
        typer.echo("socialdesk needs a Facebook Page id and a Page access token.")
        typer.echo(
            "Find both in Meta's Graph API Explorer (choose your Page under 'User or Page')."
        )
        page_id = str(typer.prompt("Page id")).strip()
    if page_id is not None and not page_id.isdigit():
        raise UsageError(f"{page_id!r} is not a Page id", hint="a Page id is all digits")
    token = read_token(token_stdin, prompt="Page access token (input hidden)")
    with Session.open() as session:
        first = not session.config.pages
        result = login(session, token, page_id, make_default=first)
        typer.echo(
            f"Connected to {result.page_title} ({result.page.id}) as page '{result.page.name}'"
            + (" (the default page)." if session.config.default_page == result.page.name else ".")
        )
        typer.echo(f"Token stored in {describe_storage(session, result.stored_in)}.")
        typer.echo(f"Config written to {session.paths.config_file}.")
        if result.validated.missing_scopes:
            typer.echo(
                f"warning: the token lacks {', '.join(result.validated.missing_scopes)}", err=True
            )
    typer.echo("Next: `socialdesk sync` imports the history, then `socialdesk list`.")
