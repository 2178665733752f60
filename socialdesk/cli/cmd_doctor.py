"""``socialdesk doctor``: tell the truth about setup and sync health.

Registered on the root app; the checks are ``core.health``'s (config file, Graph base URL,
token, scopes, page, rate limit, database integrity, last sync per edge, file modes). Exit 0
when nothing fails; 3 when a token check fails; otherwise 1.
"""

from __future__ import annotations

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, echo_line, open_context


@app.command()
def doctor(page: PageOpt = None, as_json: JsonOpt = False) -> None:
    """Check config, token, permissions, sync health, rate limits, database and file modes."""
    from socialdesk.cli import output, render, views
    from socialdesk.core import health
    from socialdesk.errors import ConfigError

    try:
        ctx = open_context()
    except ConfigError as exc:
        report = health.config_failure(exc)
    else:
        with ctx:
            report = health.run_checks(ctx, page)
    if as_json:
        output.print_json(views.health(report))
    else:
        echo_line(render.health(report, output.console()))
    if report.failed:
        raise typer.Exit(int(report.exit_code))
