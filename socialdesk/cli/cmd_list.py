"""``socialdesk list``, ``count`` and ``show``: the read side of the inbox on the command line.

Registered on the root app. The read model is ``core.inbox.Inbox``; JSON shapes are in
``cli/views.py`` and tables in ``cli/render.py``. None of these commands needs the network.
``show`` (not ``show --json``: a script is not the operator) marks the thread seen, which
clears its unread marker (``•``) until the customer writes again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, ThreadArg, session
from socialdesk.cli.queryargs import QUERY_HELP, QueryCommand

DEFAULT_QUERY = "is:open is:awaiting"
"""``store.query.DEFAULT_QUERY``, spelled out for the help text (importing the store here would
slow every command's start); a test holds the two equal."""

QueryWords = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[QUERY]...",
        help=f"A query (default: {DEFAULT_QUERY!r}; '' lists every thread); words are ANDed.",
        show_default=False,
    ),
]
ViewOpt = Annotated[
    str | None, typer.Option("--view", help="A saved view ([views] in the config).")
]
EPILOG = "\b\n" + QUERY_HELP


def _query(words: list[str] | None, view: str | None) -> str | None:
    """The query the arguments and ``--view`` make (``None``: the default query)."""
    parts = ([f"view:{view}"] if view is not None else []) + list(words or [])
    return " ".join(parts) if parts else None


@app.command("list", cls=QueryCommand, epilog=EPILOG)
def list_(
    query_words: QueryWords = None,
    sort: Annotated[
        str, typer.Option("--sort", help="expires (soonest first), newest or oldest.")
    ] = "expires",
    limit: Annotated[int, typer.Option("--limit", help="At most N threads.", min=1)] = 50,
    view: ViewOpt = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """List threads matching a query (default: open threads awaiting a reply)."""
    from socialdesk.cli import output, render, views
    from socialdesk.core.inbox import Inbox

    query = _query(query_words, view)
    with session() as s:
        inbox = Inbox(s.ctx, s.db, s.page(page))
        result = inbox.threads(query, sort=sort, limit=limit)
        if as_json:
            output.print_json(views.listing(result, query))
            return
        hint = f"use --limit {result.total} to see all"
        render.listing(result, output.console(), now=inbox.now(), limit_hint=hint)


@app.command(cls=QueryCommand, epilog=EPILOG)
def count(
    query_words: QueryWords = None,
    view: ViewOpt = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Print how many threads match a query (default: open threads awaiting a reply)."""
    from socialdesk.cli import output, views
    from socialdesk.cli.common import echo_line
    from socialdesk.core.inbox import Inbox

    query = _query(query_words, view)
    with session() as s:
        n = Inbox(s.ctx, s.db, s.page(page)).count(query)
    if as_json:
        output.print_json(views.count(query, n))
    else:
        echo_line(str(n))


@app.command()
def show(
    thread_ref: ThreadArg,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the newest N messages.", min=1)
    ] = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Show one thread: its messages, window, tags, note, and the customer's other threads."""
    from socialdesk.cli import output, render, views
    from socialdesk.core.inbox import Inbox

    with session() as s:
        inbox = Inbox(s.ctx, s.db, s.page(page))
        detail = inbox.thread(thread_ref, limit=limit)
        if as_json:
            output.print_json(views.detail(detail))
            return
        render.thread_detail(detail, output.console(), now=inbox.now())
        # The operator has now seen it: the unread marker clears until the customer writes.
        inbox.mark_seen(detail.thread)
