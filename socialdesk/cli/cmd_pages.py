"""``socialdesk pages``: the configured pages and what the token can manage.

Registered on the root app; the work is ``core.auth.pages_overview``.
"""

from __future__ import annotations

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, echo_line, session


@app.command()
def pages(as_json: JsonOpt = False) -> None:
    """List configured pages and the pages the stored token(s) can manage."""
    from socialdesk.cli import views
    from socialdesk.cli.output import console, customer_text, make_table, print_json
    from socialdesk.core.auth import pages_overview

    with session() as s:
        rows = pages_overview(s.ctx)
    if as_json:
        print_json([views.page_row(r) for r in rows])
        return
    if not rows:
        echo_line("No page is configured. Run `socialdesk init`.")
        return
    table = make_table("page", "id", "name on Facebook", "configured", "token", "instagram")
    for row in rows:
        name = str(row.name or "-") + (" (default)" if row.default else "")
        table.add_row(
            customer_text(name),
            customer_text(row.id),
            customer_text(row.title or "?"),
            customer_text("yes" if row.configured else "no"),
            customer_text("ok" if row.token else str(row.error or "-")),
            customer_text(f"@{row.instagram.username}" if row.instagram else "-"),
        )
    console().print(table)
