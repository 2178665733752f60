"""Triage commands: ``tag``, ``done``, ``reopen``, ``snooze``, ``note`` (local) and ``hide`` /
``unhide`` (a comment, on Facebook).

Registered on the root app; the work is in ``core.triage``. Each prints one line per thread (or
``--json``); every thread named is resolved before anything changes. ``tag`` takes threads and
``+tag``/``-tag`` words, so a thread number can never be taken for a tag
(``socialdesk tag 53 +vip -later``), or a query for the threads (``tag --query 'from:Jack' +vip``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import (
    JsonOpt,
    PageOpt,
    ThreadArg,
    ThreadsArg,
    echo_line,
    session,
    warn_line,
)
from socialdesk.cli.queryargs import QUERY_HELP, QueryCommand

if TYPE_CHECKING:
    from socialdesk.core.triage import TriageResult
    from socialdesk.models import Status

_LABELS = {
    "done": "done",
    "reopen": "reopened",
    "snooze": "snoozed",
    "tag": "tagged",
    "note": "note",
    "hide": "hidden",
    "unhide": "unhidden",
}


def _print(result: TriageResult, as_json: bool) -> None:
    from socialdesk.cli import output, views
    from socialdesk.format import iso
    from socialdesk.sanitize import clean

    for warning in result.warnings:
        warn_line(warning)
    if as_json:
        output.print_json(views.triage(result))
        return
    label = _LABELS[result.action]
    if result.action == "snooze" and result.until is not None:
        label += f" until {iso(result.until)}"
    for o in result.outcomes:
        who = clean(o.thread.customer.name or o.thread.customer.id, single_line=True)
        if result.action == "tag":
            state = "tagged " + " ".join(clean(d, single_line=True) for d in o.detail)
            state = state if o.changed else "tags unchanged"
        elif result.action == "note":
            state = (
                ("note saved" if o.thread.note else "note cleared") if o.changed else "unchanged"
            )
        else:
            state = label if o.changed else f"already {label}"
        echo_line(f"#{o.thread.number} ({who}): {state}")


def _status_cmd(
    refs: list[str], status: Status, page: str | None, as_json: bool, until: str | None
) -> None:
    from socialdesk.core import triage
    from socialdesk.core.timezones import load_timezone

    with session() as s:
        page_cfg = s.page(page)
        now = s.clock.now()
        when = None
        if until is not None:
            when = triage.parse_when(until, now=now, tz=load_timezone(s.config.stats.timezone))
        threads = triage.resolve_all(s.db, refs, page_id=page_cfg.id, now=now)
        result = triage.set_status(
            s.db, threads, status, now=now, until=when, human_agent=s.ctx.human_agent
        )
    _print(result, as_json)


@app.command()
def done(refs: ThreadsArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Mark threads done (new customer activity reopens them)."""
    from socialdesk.models import Status

    _status_cmd(refs, Status.DONE, page, as_json, None)


@app.command()
def reopen(refs: ThreadsArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Reopen done or snoozed threads."""
    from socialdesk.models import Status

    _status_cmd(refs, Status.OPEN, page, as_json, None)


@app.command()
def snooze(
    refs: ThreadsArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help="30m, 2h, 3d, 'tomorrow 9:00', 'mon 9:00', 17:30 or an ISO time "
            "(in stats.timezone).",
        ),
    ],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Snooze threads until a time; they come back as open then (or on new activity).

    Warns when a thread's reply window closes before the snooze ends.
    """
    from socialdesk.models import Status

    _status_cmd(refs, Status.SNOOZED, page, as_json, until)


def split_tag_words(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """``(threads, tags to add, tags to remove)`` from ``12 '#13' +vip -later`` words.

    A word that is neither a thread reference (a number, ``#N`` or a Graph id, which always
    holds a digit) nor ``+tag``/``-tag`` is refused: ``tag 53 vip 38`` must not create a tag.
    """
    from socialdesk.errors import Reason, UsageError

    refs: list[str] = []
    add: list[str] = []
    remove: list[str] = []
    for word in words:
        if word.startswith("+") and len(word) > 1:
            add.append(word[1:])
        elif word.startswith("-") and len(word) > 1:
            remove.append(word[1:])
        elif any(c.isdigit() for c in word):
            refs.append(word)
        else:
            raise UsageError(
                f"'{word}' is neither a thread nor a tag to add or remove",
                hint=f"write +{word} to add the tag, -{word} to remove it",
                reason=Reason.TAG_INVALID,
            )
    return refs, add, remove


@app.command(cls=QueryCommand, epilog="\b\n" + QUERY_HELP)
def tag(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[THREAD...] +TAG|-TAG...",
            help="Threads (12, '#12' or Graph ids), then +tag to add and -tag to remove.",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Tag every thread this query matches instead."),
    ] = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Add (+tag) and remove (-tag) local tags: `tag 12 13 +vip -later`, `tag -q QUERY +vip`."""
    from socialdesk.core import triage
    from socialdesk.core.inbox import Inbox
    from socialdesk.errors import UsageError

    refs, add, remove = split_tag_words(list(words or []))
    if query is not None and refs:
        raise UsageError("give threads or --query, not both")
    with session() as s:
        page_cfg = s.page(page)
        now = s.clock.now()
        if query is not None:
            threads = [
                r.thread for r in Inbox(s.ctx, s.db, page_cfg).threads(query, limit=None).rows
            ]
        else:
            threads = triage.resolve_all(s.db, refs, page_id=page_cfg.id, now=now)
        result = triage.tag(s.db, threads, add=add, remove=remove, now=now)
    _print(result, as_json)


@app.command()
def note(
    thread_ref: ThreadArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note ('' clears it).")],
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Set a thread's local note (an empty text clears it)."""
    from socialdesk.core import triage

    with session() as s:
        page_cfg = s.page(page)
        now = s.clock.now()
        (thread,) = triage.resolve_all(s.db, [thread_ref], page_id=page_cfg.id, now=now)
        result = triage.note(s.db, thread, text, now=now)
    _print(result, as_json)


def _hide_cmd(thread_ref: str, hidden: bool, as_json: bool, page: str | None) -> None:
    from socialdesk.core import triage

    with session() as s:
        page_cfg = s.page(page)
        now = s.clock.now()
        (thread,) = triage.resolve_all(s.db, [thread_ref], page_id=page_cfg.id, now=now)
        result = triage.set_hidden(s.db, s.client(page_cfg), thread, hidden, now=now)
    _print(result, as_json)


@app.command()
def hide(thread_ref: ThreadArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Hide a comment on Facebook (its author and their friends still see it)."""
    _hide_cmd(thread_ref, True, as_json, page)


@app.command()
def unhide(thread_ref: ThreadArg, as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Unhide a comment on Facebook."""
    _hide_cmd(thread_ref, False, as_json, page)
