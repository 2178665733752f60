"""``socialdesk inbox [--page P]``: the full-screen inbox, on a page other than the default too.

The bare ``socialdesk`` opens the same inbox on the default page (``socialdesk.launch`` skips
the CLI for it). Textual is imported only inside the command, so other commands never load it.
"""

from __future__ import annotations

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import PageOpt


@app.command()
def inbox(page: PageOpt = None) -> None:
    """Open the full-screen inbox (what `socialdesk` alone does), on --page if given."""
    import socialdesk.tui as tui

    raise typer.Exit(tui.run_inbox(page=page))
