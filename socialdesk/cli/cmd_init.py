"""``socialdesk init``: the guided first setup (page id, hidden token, validation, timezone).

Interactive on a terminal; scriptable with ``--page-id``, ``--token-stdin`` and ``--timezone``.
The token is validated against the API (``core.auth.check_token``: reads, and ``debug_token``
only with the app id and secret) before anything is
written; the config gets the page and ``stats.timezone`` (default: this system's zone).
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import echo_line, session, token_check_lines, warn_line


@app.command()
def init(
    page_id: Annotated[
        str | None, typer.Option("--page-id", help="The Facebook Page id (digits).")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the Page access token from standard input.")
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="Days of the stats (IANA name; default: the system's)."),
    ] = None,
) -> None:
    """Set up socialdesk: ask for the Page id, token and timezone, check them, write config."""
    from socialdesk.cli.cmd_auth import read_token, stdin_is_terminal
    from socialdesk.core import auth
    from socialdesk.core.timezones import load_timezone, system_timezone
    from socialdesk.errors import UsageError

    interactive = stdin_is_terminal() and not token_stdin
    if page_id is None and interactive:
        echo_line("socialdesk needs a Facebook Page id and a Page access token.")
        echo_line("Find both in Meta's Graph API Explorer (choose your Page under 'User or Page').")
        page_id = str(typer.prompt("Page id")).strip()
    if page_id is not None and not page_id.isdigit():
        raise UsageError(f"{page_id!r} is not a Page id", hint="a Page id is all digits")
    token = read_token(token_stdin, prompt="Page access token (input hidden)")
    if timezone is None:
        guess = system_timezone()
        timezone = (
            str(typer.prompt("Timezone of the statistics' days", default=guess)).strip()
            if interactive
            else guess
        )
    load_timezone(timezone)
    with session(create_home=True) as s:
        first = not s.config.pages
        result = auth.login(s.ctx, token, page_id, make_default=first, stats_timezone=timezone)
        default = " (the default page)." if result.made_default else "."
        echo_line(
            f"Connected to {result.page_title} ({result.page.id}) as page "
            f"'{result.page.name}'{default}"
        )
        echo_line(f"Token stored in {auth.describe_storage(s.ctx, result.stored_in)}.")
        from socialdesk.core.instagram import describe

        if result.instagram_error is not None:
            warn_line(f"could not ask the Page for its Instagram account: {result.instagram_error}")
        elif result.instagram is not None:
            echo_line(f"{describe(result.instagram)}: its DMs and comments sync too.")
        else:
            echo_line("No Instagram account is linked to the Page (Messenger and comments only).")
        echo_line(f"Config written to {s.paths.config_file} (stats timezone {timezone}).")
    v = result.validated
    token_check_lines(v.missing_scopes, v.problems, v.unchecked)
    echo_line("Next: `socialdesk sync` imports the history, then `socialdesk list`.")
