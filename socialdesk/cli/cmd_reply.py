"""``socialdesk reply``: one reply to one thread, through the outbox.

Registered on the root app; the flow is ``core.replying``. The text comes from ``--text``, a
template (``--template``; a person choosing a template for this one thread counts as
human-written, so HUMAN_AGENT may apply), or ``$VISUAL``/``$EDITOR`` (``--edit``): written above
a scissors line, with the thread quoted below it; the text, its length and the window left are
shown before it is sent. Exit 6 when platform rules refuse it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, ThreadArg, echo_line, note_line, session

if TYPE_CHECKING:
    from socialdesk.core.replying import ReplyOutcome, ReplyPreview
    from socialdesk.models import Thread


def _show_preview(pv: ReplyPreview, text: str, now_label: str) -> None:
    """The text about to be sent, its length and the window, on stderr."""
    from socialdesk.sanitize import clean

    note_line(f"to: {pv.recipient}")
    for line in clean(text).splitlines() or [""]:
        note_line(f"  | {line}")
    parts = f" in {len(pv.parts)} messages" if len(pv.parts) > 1 else ""
    note_line(f"{pv.length}/{pv.limit} characters{parts} · window: {now_label}")


def _sent_line(thread: Thread, outcome: ReplyOutcome) -> str:
    from socialdesk.models import SendKind
    from socialdesk.sanitize import clean

    who = clean(thread.customer.name or thread.customer.id, single_line=True)
    n = len(outcome.entries)
    what = f"{n} messages" if n > 1 else "reply"
    ids = ", ".join(e.message_id or "?" for e in outcome.entries)
    after = outcome.thread or thread
    tail = (
        f"; #{thread.number} is now {after.status.value}" if after.status != thread.status else ""
    )
    if outcome.kind is SendKind.COMMENT_PRIVATE and outcome.recipient:
        # Named from the answered comment (its author may not be the thread's customer).
        return f"sent private reply in #{thread.number} to {outcome.recipient}: {ids}{tail}"
    return f"sent {what} to #{thread.number} ({who}) as {outcome.kind}: {ids}{tail}"


@app.command()
def reply(
    thread_ref: ThreadArg,
    text: Annotated[str | None, typer.Option("--text", help="The reply text.")] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="A saved template (see `templates`).")
    ] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Compose in $VISUAL/$EDITOR with the thread quoted.")
    ] = False,
    private: Annotated[
        bool,
        typer.Option(
            "--private",
            help="A comment's one private reply (a DM, within 7 days of that comment); it "
            "answers the thread's newest customer comment unless --comment names another.",
        ),
    ] = False,
    comment: Annotated[
        str | None,
        typer.Option(
            "--comment",
            metavar="ID",
            help="With --private: the id of the customer comment to answer (`show N --json`).",
        ),
    ] = None,
    done: Annotated[bool, typer.Option("--done", help="Mark the thread done once sent.")] = False,
    split: Annotated[
        bool,
        typer.Option("--split", help="Send text over 2,000 characters as several messages."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --edit: send without asking.")
    ] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Reply to a thread (DM or comment) through the outbox; exit 6 when platform rules refuse."""
    from socialdesk.cli import output, views
    from socialdesk.core import replying
    from socialdesk.core.inbox import Inbox
    from socialdesk.errors import UsageError
    from socialdesk.format import window_label

    if sum((text is not None, template is not None, edit)) != 1:
        raise UsageError("give exactly one of --text, --template and --edit")
    if comment is not None and not private:
        raise UsageError("--comment names the comment a private reply answers: add --private")
    with session() as s:
        page_cfg = s.page(page)
        thread = Inbox(s.ctx, s.db, page_cfg).resolve(thread_ref)
        req = replying.ReplyRequest(
            text=text, template=template, private=private, comment=comment, split=split, done=done
        )
        if edit:
            from socialdesk.cli.editor import edit as run_editor

            body = replying.parse_composed(run_editor(replying.compose_file(s.db, thread)))
            req = replying.ReplyRequest(
                text=body, private=private, comment=comment, split=split, done=done
            )
            now = s.clock.now()
            pv = replying.preview(s.ctx, s.db, page_cfg, thread, req, now=now)
            _show_preview(pv, body, window_label(pv.window, now))
            if pv.refusal is not None:
                raise pv.refusal
            if not yes and sys.stdin.isatty() and not typer.confirm("Send it?", default=True):
                raise UsageError("not sent")
        outcome = replying.send(s.ctx, s.db, page_cfg, thread, req)
        for notice in outcome.notices:
            note_line(notice)
        if as_json:
            output.print_json(views.reply(thread, outcome))
        elif outcome.state == "sent":
            echo_line(_sent_line(thread, outcome))
        if outcome.error is not None:
            if outcome.entries and not as_json:
                from socialdesk.format import plural

                note_line(f"sent before this failure: {plural(len(outcome.entries), 'part')}")
            raise outcome.error
