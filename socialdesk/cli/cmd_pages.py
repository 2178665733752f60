"""``socialdesk pages``: the configured pages and what the token can manage.

With a Page token, ``/me`` is that Page and ``/me/accounts`` is empty; with a user token the
accounts edge lists every Page the user manages. Both are shown next to the configuration.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from socialdesk.cli.app import app


@app.command()
def pages(
    json_: Annotated[
        bool, typer.Option("--json", help="Machine-readable output on stdout.")
    ] = False,
) -> None:
    """List configured pages and the pages the stored token(s) can manage."""
    from socialdesk import secrets
    from socialdesk.api import graph
    from socialdesk.api.errors import GraphError
    from socialdesk.cli.output import console, customer_text, make_table, print_json
    from socialdesk.core.session import Session
    from socialdesk.sanitize import clean

    rows: dict[str, dict[str, Any]] = {}
    with Session.open() as session:
        configured = list(session.config.pages.values())
        if not configured and os.environ.get(secrets.TOKEN_ENV, "").strip():
            configured = [session.page()]  # SOCIALDESK_TOKEN alone: the token's own page
        for page in configured:
            rows[page.id] = {
                "id": page.id,
                "name": page.name if page.name in session.config.pages else None,
                "title": None,
                "configured": page.name in session.config.pages,
                "default": page.name == session.config.default_page,
                "token": False,
                "error": None,
            }
        for page in configured:
            token = secrets.load_token(session.paths, page.id)
            if not token:
                rows[page.id]["error"] = "no token"
                continue
            client = session.client_for_token(token)
            try:
                me = graph.get_me(client)
                accounts = graph.list_accounts(client)
            except GraphError as exc:
                rows[page.id]["error"] = clean(exc.message, single_line=True)
                continue
            finally:
                client.close()
            for found in [me, *accounts]:
                row = rows.setdefault(
                    found.id,
                    {
                        "id": found.id,
                        "name": None,
                        "title": None,
                        "configured": False,
                        "default": False,
                        "token": False,
                        "error": None,
                    },
                )
                row["title"] = clean(found.name, single_line=True)
            rows[me.id]["token"] = True
    result = list(rows.values())
    if json_:
        print_json(result)
        return
    if not result:
        typer.echo("No page is configured. Run `socialdesk init`.")
        return
    table = make_table("page", "id", "name on Facebook", "configured", "token")
    for row in result:
        name = str(row["name"] or "-") + (" (default)" if row["default"] else "")
        table.add_row(
            customer_text(name),
            customer_text(row["id"]),
            customer_text(row["title"] or "?"),
            customer_text("yes" if row["configured"] else "no"),
            customer_text("ok" if row["token"] else str(row["error"] or "-")),
        )
    console().print(table)
