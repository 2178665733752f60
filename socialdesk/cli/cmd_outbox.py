"""``socialdesk outbox`` (list) and ``socialdesk outbox resolve ID --resend|--drop``.

Registered on the root app as a command group. Listing first recovers and, when a token is
available, reconciles (reads threads back), so what it shows is current; ``resolve`` lets the
operator resend a row that read-back proved absent (or that failed), or drop it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from socialdesk.cli.app import app
from socialdesk.cli.cmd_reply import JsonOpt, PageOpt, echo_line, outbox_startup

outbox_app = typer.Typer(
    name="outbox",
    help="Sends whose outcome needs attention: list them, resend or drop them.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(outbox_app)


def _row_json(rec: Any, number: int | None) -> dict[str, Any]:
    from socialdesk.core.outbox import can_resend, summarize

    out = summarize(rec.entry)
    out["thread"] = number
    out["absent_at"] = rec.absent_at.isoformat() if rec.absent_at else None
    out["resolution"] = rec.resolution
    out["can_resend"] = can_resend(rec)
    return out


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
    from socialdesk.core.outbox import recover
    from socialdesk.core.session import Session
    from socialdesk.models import OutboxState
    from socialdesk.sanitize import clean
    from socialdesk.store import outbox as store

    session = Session.open()
    try:
        page_cfg = session.page(page)
        conn = session.db
        if offline:
            recover(conn, now=session.clock.now(), page_id=page_cfg.id)
        else:
            outbox_startup(conn, session.client(page_cfg), page_cfg.id, session.clock)
        states = None if show_all else [OutboxState.UNKNOWN, OutboxState.FAILED, OutboxState.QUEUED]
        recs = store.list_records(conn, page_id=page_cfg.id, states=states, limit=limit)
        if not show_all:
            recs = [r for r in recs if r.resolution is None]
        numbers = {
            r[0]: int(r[1])
            for r in conn.execute("SELECT thread_id, number FROM thread_numbers").fetchall()
        }
        if as_json:
            from socialdesk.cli.output import print_json

            print_json([_row_json(r, numbers.get(r.entry.thread_id)) for r in recs])
            return
        if not recs:
            echo_line("outbox: nothing needs attention")
            return
        for r in recs:
            e = r.entry
            num = numbers.get(e.thread_id)
            where = f"#{num}" if num is not None else clean(e.thread_id, single_line=True)
            text = clean(e.text, single_line=True)
            text = text if len(text) <= 50 else text[:49] + "…"
            extra = ""
            if str(e.state) == "unknown":
                extra = " (absent after read-back: can resend)" if r.absent_at else " (checking)"
            if e.error and str(e.state) != "sent":
                extra += f" — {clean(e.error, single_line=True)}"
            if r.resolution:
                extra += f" [{r.resolution}]"
            echo_line(
                f"{e.id:>5}  {e.state!s:<8} {where:<6} {e.kind!s:<16} "
                f"{e.created_at:%Y-%m-%d %H:%M}  {text}{extra}"
            )
    finally:
        session.close()


@outbox_app.command("resolve")
def resolve(
    outbox_id: Annotated[int, typer.Argument(metavar="ID", help="The outbox row (see `outbox`).")],
    resend: Annotated[bool, typer.Option("--resend", help="Send it again (a new row).")] = False,
    drop: Annotated[bool, typer.Option("--drop", help="Give up on it.")] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Resend a failed or clearly-absent row, or drop it."""
    from socialdesk.core import outbox as core_outbox
    from socialdesk.core.session import Session
    from socialdesk.errors import UsageError
    from socialdesk.store import outbox as store
    from socialdesk.store.threads import get_thread

    if resend == drop:
        raise UsageError("give exactly one of --resend and --drop")
    session = Session.open()
    try:
        page_cfg = session.page(page)
        conn = session.db
        rec = store.get(conn, outbox_id)
        if rec.entry.page_id != page_cfg.id:
            raise UsageError(
                f"outbox entry {outbox_id} belongs to page {rec.entry.page_id}",
                hint=f"pass --page {rec.entry.page_id}",
            )
        if drop:
            entry = core_outbox.drop(conn, outbox_id, now=session.clock.now())
            result = {"id": outbox_id, "action": "dropped", "state": str(entry.state)}
            line = f"outbox entry {outbox_id} dropped"
        else:
            client = session.client(page_cfg)
            outbox_startup(conn, client, page_cfg.id, session.clock)
            # A stored Graph id, not a user reference: never parse it as `#N` or a number.
            thread = get_thread(conn, rec.entry.thread_id, now=session.clock.now())
            if thread is None:
                raise UsageError(f"outbox entry {outbox_id}: its thread is no longer stored")
            entry = core_outbox.resend(
                conn,
                client,
                thread,
                outbox_id,
                clock=session.clock,
                human_agent=session.config.messaging.human_agent,
            )
            result = {
                "id": outbox_id,
                "action": "resent",
                "new_id": entry.id,
                "state": str(entry.state),
                "message_id": entry.message_id,
            }
            line = (
                f"outbox entry {outbox_id} resent to #{thread.number} as entry {entry.id}: "
                f"{entry.message_id}"
            )
        if as_json:
            from socialdesk.cli.output import print_json

            print_json(result)
            return
        echo_line(line)
    finally:
        session.close()
