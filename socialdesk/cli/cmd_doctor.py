"""``socialdesk doctor``: tell the truth about setup and sync health.

Registered on the root app; the checks are ``core.health``'s (config file, Graph base URL,
token, capabilities, scopes when the app token is given, page, rate limit, database integrity,
each edge's state, the watch interval and its reason, file modes). ``--probe`` also asks the
live Page the questions only a live token can settle (reads only, ``core.health.probe``) and
prints what it found. Exit 0 when nothing fails; 3 when a token check fails; otherwise 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, echo_line, open_context

if TYPE_CHECKING:
    from socialdesk.core.health import ProbeReport


@app.command()
def doctor(
    page: PageOpt = None,
    as_json: JsonOpt = False,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Also ask the live Page the questions only a live token can settle (reads "
            "only; README: 'Questions only a live Page can settle').",
        ),
    ] = False,
) -> None:
    """Check config, token, permissions, each edge's sync, the watch interval, rate limits,
    database and file modes."""
    from socialdesk.cli import output, render, views
    from socialdesk.core import health
    from socialdesk.errors import ConfigError

    probes: ProbeReport | None = None
    try:
        ctx = open_context()
    except ConfigError as exc:
        report = health.config_failure(exc)
    else:
        with ctx:
            report = health.run_checks(ctx, page)
            if probe and not any(c.auth for c in report.failed):
                probes = health.probe(ctx, page)
    if as_json:
        output.print_json(views.health(report, probes))
    else:
        closing = render.health(report, output.console())
        if probes is not None:
            echo_line("")
            echo_line(render.probes(probes, output.console()))
        echo_line(closing)
    if report.failed:
        raise typer.Exit(int(report.exit_code))
