"""``socialdesk outbox`` (list) and ``socialdesk outbox resolve ID --resend|--drop``.

Registered on the root app as a command group; the decisions are ``core.outbox``'s. Listing
first recovers and, when a token is available, reconciles (reads threads back), so what it shows
is current; ``resolve`` resends a row that read-back proved absent (or that failed), or drops it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, echo_line, note_line, session

outbox_app = typer.Typer(
    name="outbox",
    help="Sends whose outcome needs attention: list them, resend or drop them.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(outbox_app)


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every row, not only those needing attention.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N rows.")] = 100,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not read threads back (no API calls).")
    ] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """List outbox rows needing attention (unknown, failed and unresolved), newest last."""
    if ctx.invoked_subcommand is not None:
        return
    from socialdesk.cli import output, views
    from socialdesk.core import outbox as core_outbox
    from socialdesk.sanitize import clean

    with session() as s:
        page_cfg = s.page(page)
        client = None if offline else s.client(page_cfg)
        report = core_outbox.startup(s.db, client, page_cfg.id, now=s.clock.now())
        for notice in report.notices():
            note_line(notice)
        rows = core_outbox.pending(s.db, page_cfg.id, everything=show_all, limit=limit)
    if as_json:
        output.print_json([views.outbox_row(a) for a in rows])
        return
    if not rows:
        echo_line("outbox: nothing needs attention")
        return
    for a in rows:
        r, e = a.record, a.record.entry
        num = a.number
        where = f"#{num}" if num is not None else clean(e.thread_id, single_line=True)
        text = clean(e.text, single_line=True)
        text = text if len(text) <= 50 else text[:49] + "…"
        extra = ""
        if e.state.value == "unknown":
            extra = " (absent after read-back: can resend)" if r.absent_at else " (checking)"
        if e.error and e.state.value != "sent":
            extra += f" — {clean(e.error, single_line=True)}"
        if r.resolution:
            extra += f" [{r.resolution}]"
        echo_line(
            f"{e.id:>5}  {e.state!s:<8} {where:<6} {e.kind!s:<16} "
            f"{e.created_at:%Y-%m-%d %H:%M}  {text}{extra}"
        )
    if any(a.record.resolution is None for a in rows):
        note_line(
            "next: `socialdesk outbox resolve ID --resend` (only a send proven absent) or `--drop`"
        )


@outbox_app.command("resolve")
def resolve(
    outbox_id: Annotated[int, typer.Argument(metavar="ID", help="The outbox row (see `outbox`).")],
    resend: Annotated[bool, typer.Option("--resend", help="Send it again (a new row).")] = False,
    drop: Annotated[bool, typer.Option("--drop", help="Give up on it.")] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Resend a failed or clearly-absent row, or drop it."""
    from socialdesk.cli import output, views
    from socialdesk.core import outbox as core_outbox
    from socialdesk.errors import UsageError

    if resend == drop:
        raise UsageError("give exactly one of --resend and --drop")
    with session() as s:
        page_cfg = s.page(page)
        if drop:
            entry = core_outbox.resolve_drop(s.db, page_cfg.id, outbox_id, now=s.clock.now())
            result = views.outbox_resolved(outbox_id, "dropped", entry)
            line = f"outbox entry {outbox_id} dropped"
        else:
            thread, entry = core_outbox.resolve_resend(
                s.db,
                s.client(page_cfg),
                page_cfg.id,
                outbox_id,
                clock=s.clock,
                human_agent=s.ctx.human_agent,
            )
            result = views.outbox_resolved(outbox_id, "resent", entry, thread.number)
            line = (
                f"outbox entry {outbox_id} resent to #{thread.number} as entry {entry.id}: "
                f"{entry.message_id}"
            )
    if as_json:
        output.print_json(result)
    else:
        echo_line(line)
