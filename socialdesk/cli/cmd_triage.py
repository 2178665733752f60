"""Triage commands: ``tag``, ``done``, ``reopen``, ``snooze``, ``note`` (local) and ``hide`` /
``unhide`` (a comment, on Facebook).

Registered on the root app; the work is in ``core.triage``. Each prints one line per thread (or
``--json``). Every thread named is resolved before anything changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app
from socialdesk.cli.cmd_reply import JsonOpt, PageOpt, echo_line

if TYPE_CHECKING:
    from socialdesk.core.triage import Outcome
    from socialdesk.models import Thread

ThreadsArg = Annotated[list[str], typer.Argument(metavar="THREAD...", help="#N, N or Graph ids.")]


def _who(thread: Thread) -> str:
    from socialdesk.sanitize import clean

    return clean(thread.customer.name or thread.customer.id, single_line=True)


def _status_cmd(
    refs: list[str], status: str, page: str | None, as_json: bool, until: str | None
) -> None:
    from socialdesk.core import triage
    from socialdesk.core.session import Session
    from socialdesk.models import Status

    session = Session.open()
    try:
        page_cfg = session.page(page)
        now = session.clock.now()
        when = None
        if until is not None:
            tz = triage.timezone_of(session.config.stats.timezone)
            when = triage.parse_when(until, now=now, tz=tz)
        threads = triage.resolve_all(session.db, refs, page_id=page_cfg.id, now=now)
        outcomes = triage.set_status(session.db, threads, Status(status), now=now, until=when)
        _print(outcomes, status, as_json, until=when.isoformat() if when else None)
    finally:
        session.close()


def _print(outcomes: list[Outcome], action: str, as_json: bool, until: str | None = None) -> None:
    if as_json:
        from socialdesk.cli.output import print_json

        items: list[dict[str, Any]] = [
            {"thread": o.thread.number, "thread_id": o.thread.id, "changed": o.changed}
            for o in outcomes
        ]
        print_json({"action": action, "until": until, "threads": items})
        return
    for o in outcomes:
        label = {"done": "done", "open": "reopened", "snoozed": "snoozed"}.get(action, action)
        if action == "snoozed" and until:
            label += f" until {until}"
        state = label if o.changed else f"already {label}"
        echo_line(f"#{o.thread.number} ({_who(o.thread)}): {state}")


@app.command()
def done(refs: ThreadsArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Mark threads done (new customer activity reopens them)."""
    _status_cmd(refs, "done", page, as_json, None)


@app.command()
def reopen(refs: ThreadsArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Reopen done or snoozed threads."""
    _status_cmd(refs, "open", page, as_json, None)


@app.command()
def snooze(
    refs: ThreadsArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help="30m, 2h, 3d, 'tomorrow 9:00', 'mon 9:00', 17:30 or an ISO time "
            "(in stats.timezone, else local time).",
        ),
    ],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Snooze threads until a time; they come back as open then (or on new activity)."""
    _status_cmd(refs, "snoozed", page, as_json, until)


@app.command()
def tag(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    tags: Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags to add (or remove).")],
    remove: Annotated[bool, typer.Option("--remove", help="Remove the tags instead.")] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Add local tags to a thread (or remove them with --remove)."""
    from socialdesk.core import triage
    from socialdesk.core.session import Session
    from socialdesk.sanitize import clean

    session = Session.open()
    try:
        page_cfg = session.page(page)
        now = session.clock.now()
        (thread,) = triage.resolve_all(session.db, [thread_ref], page_id=page_cfg.id, now=now)
        changed = triage.tag(session.db, thread, tags, now=now, remove=remove)
        if as_json:
            from socialdesk.cli.output import print_json

            key = "removed" if remove else "added"
            print_json({"thread": thread.number, "thread_id": thread.id, key: changed})
            return
        verb = "removed" if remove else "tagged"
        shown = " ".join(clean(t, single_line=True) for t in changed) or "(no change)"
        echo_line(f"#{thread.number} ({_who(thread)}): {verb} {shown}")
    finally:
        session.close()


@app.command()
def note(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note ('' clears it).")],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Set a thread's local note (an empty text clears it)."""
    from socialdesk.core import triage
    from socialdesk.core.session import Session

    session = Session.open()
    try:
        page_cfg = session.page(page)
        now = session.clock.now()
        (thread,) = triage.resolve_all(session.db, [thread_ref], page_id=page_cfg.id, now=now)
        changed = triage.note(session.db, thread, text, now=now)
        if as_json:
            from socialdesk.cli.output import print_json

            print_json({"thread": thread.number, "thread_id": thread.id, "changed": changed})
            return
        what = ("note cleared" if not text.strip() else "note saved") if changed else "unchanged"
        echo_line(f"#{thread.number} ({_who(thread)}): {what}")
    finally:
        session.close()


def _hide_cmd(thread_ref: str, hidden: bool, as_json: bool, page: str | None) -> None:
    from socialdesk.core import triage
    from socialdesk.core.session import Session

    session = Session.open()
    try:
        page_cfg = session.page(page)
        now = session.clock.now()
        (thread,) = triage.resolve_all(session.db, [thread_ref], page_id=page_cfg.id, now=now)
        if thread.channel.value not in ("comment", "ig_comment"):
            from socialdesk.errors import UsageError

            raise UsageError(
                f"#{thread.number} is a {thread.channel.value} thread; only comments can be hidden"
            )
        triage.set_hidden(session.db, session.client(page_cfg), thread, hidden)
        if as_json:
            from socialdesk.cli.output import print_json

            print_json({"thread": thread.number, "thread_id": thread.id, "hidden": hidden})
            return
        echo_line(f"#{thread.number} ({_who(thread)}): {'hidden' if hidden else 'unhidden'}")
    finally:
        session.close()


@app.command()
def hide(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Hide a comment on Facebook (its author and their friends still see it)."""
    _hide_cmd(thread_ref, True, as_json, page)


@app.command()
def unhide(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Unhide a comment on Facebook."""
    _hide_cmd(thread_ref, False, as_json, page)
