"""``socialdesk reply``: one reply to one thread, through the outbox.

Registered on the root app. The text comes from ``--text``, a template (``--template``; a person
choosing a template for this one thread counts as human-written, so HUMAN_AGENT may apply), or
``$VISUAL``/``$EDITOR`` (``--edit``) on a private temp file with the thread quoted in ``#``
lines. Rules are checked before anything is queued (PRODUCT.md §5). Before sending, the outbox
is recovered and reconciled (``core.outbox.startup``). Also holds :func:`outbox_startup` and
:func:`echo_line`, used by the other acting commands (``ack``, ``outbox``, ``hide``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    import sqlite3

    from socialdesk.api.client import GraphClient
    from socialdesk.core.clock import Clock
    from socialdesk.core.outbox import ReconcileReport
    from socialdesk.models import Thread

PageOpt = Annotated[
    str | None, typer.Option("--page", help="Page id or name (default: the default page).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def echo_line(text: str) -> None:
    """One plain line of outcome on stdout (customer text in it must be cleaned already)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note_line(text: str) -> None:
    """A side remark on stderr (keeps stdout to the outcome / JSON)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def outbox_startup(
    conn: sqlite3.Connection, client: GraphClient, page_id: str, clock: Clock
) -> ReconcileReport:
    """Recover and reconcile the outbox, telling the operator (stderr) what was settled."""
    from socialdesk.core.outbox import startup

    rep = startup(conn, client, page_id, now=clock.now())
    if rep.found:
        note_line(f"outbox: {rep.found} earlier send(s) confirmed delivered by reading back")
    if rep.absent:
        note_line(
            f"outbox: {rep.absent} earlier send(s) did not arrive; "
            "see `socialdesk outbox` to resend or drop"
        )
    return rep


# Editors read settings from the file itself: vim/ex modelines ("vim: set ...") in the first and
# last lines, Emacs "-*- ... -*-" and "Local Variables:" blocks. Quoted customer text must not be
# able to write one, so those triggers are broken up, and the file starts and ends with lines of
# our own (more than vim's default 5 modeline lines).
_MODELINE_RE = re.compile(r"(?i)(?<![^\s])(vim?|ex)([<=>]?\d*):")
_EMACS_RE = re.compile(r"(?i)-\*-|local variables:")
_GUARD_LINES = 6


def _defang(line: str) -> str:
    line = _MODELINE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)} :", line)
    return _EMACS_RE.sub(lambda m: m.group(0).replace(":", " :").replace("*", " * "), line)


def _quote_lines(text: str) -> list[str]:
    """Customer text as ``#`` comment lines: cleaned, cut on every line boundary Python knows.

    ``str.splitlines`` also breaks on U+2028, U+2029, U+0085 and the like; cutting on those here
    means no customer line can escape its ``#`` prefix when the file is read back.
    """
    from socialdesk.sanitize import clean

    return ["#   " + _defang(line) for line in clean(text).splitlines()] or ["#"]


def _one_line(text: str) -> str:
    from socialdesk.sanitize import clean

    return _defang(" ".join(clean(text, single_line=True).split()))


def _quote_thread(conn: sqlite3.Connection, thread: Thread) -> str:
    from socialdesk.store.threads import get_messages

    who = _one_line(thread.customer.name or thread.customer.id)
    head = [
        "",
        f"# Reply to #{thread.number} ({thread.channel}).",
        "# Lines starting with '#' are removed. Save and quit to send;",
        "# leave it empty or quit with an error (e.g. :cq in vim) to send nothing.",
        "#",
    ]
    head += ["#"] * (_GUARD_LINES - len(head))
    lines = [*head, f"# Customer: {who}"]
    if thread.post_message:
        lines.append("# Post: " + _one_line(thread.post_message)[:200])
    for m in get_messages(conn, thread.id, limit=20):
        author = m.author.name or ("page" if m.direction.value == "out" else "customer")
        stamp = m.created_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"# {_one_line(author)}, {stamp}:")
        lines.extend(_quote_lines(m.text or "[attachment]"))
    lines += ["#"] * (_GUARD_LINES - 1) + ["# (end of the quoted thread)"]
    return "\n".join(lines) + "\n"


def compose_in_editor(conn: sqlite3.Connection, thread: Thread) -> str:
    """Open ``$VISUAL``/``$EDITOR`` on a 0600 temp file; the text without ``#`` lines.

    :class:`UsageError` when no editor is set, the editor fails, or the text is empty.
    """
    from socialdesk.errors import UsageError

    editor = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip()
    if not editor:
        raise UsageError(
            "no editor: $VISUAL and $EDITOR are not set",
            hint="set one (e.g. EDITOR=nano) or pass --text",
        )
    fd, name = tempfile.mkstemp(prefix="socialdesk-reply-", suffix=".txt")
    path = Path(name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_quote_thread(conn, thread))
        try:
            rc = subprocess.call([*shlex.split(editor), str(path)])
        except OSError as exc:
            raise UsageError(
                f"cannot run the editor {editor!r}: {exc.strerror}", hint="check $VISUAL/$EDITOR"
            ) from exc
        if rc != 0:
            raise UsageError(f"the editor exited with status {rc}; nothing was sent")
        raw = path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
    text = "\n".join(line for line in raw.splitlines() if not line.startswith("#")).strip()
    if not text:
        raise UsageError("the reply is empty; nothing was sent")
    return text


@app.command()
def reply(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    text: Annotated[str | None, typer.Option("--text", help="The reply text.")] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="A saved template (see `templates`).")
    ] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Compose in $VISUAL/$EDITOR with the thread quoted.")
    ] = False,
    private: Annotated[
        bool,
        typer.Option("--private", help="A comment's one private reply (a DM, within 7 days)."),
    ] = False,
    done: Annotated[bool, typer.Option("--done", help="Mark the thread done once sent.")] = False,
    split: Annotated[
        bool,
        typer.Option("--split", help="Send text over 2,000 characters as several messages."),
    ] = False,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Reply to a thread (DM or comment) through the outbox; exit 6 when platform rules refuse."""
    from socialdesk.core import outbox as core_outbox
    from socialdesk.core import textcheck
    from socialdesk.core.session import Session
    from socialdesk.core.templates import get_template, render_for
    from socialdesk.core.windows import choose_send_kind, comment_created_at
    from socialdesk.errors import UsageError
    from socialdesk.models import Channel
    from socialdesk.sanitize import clean
    from socialdesk.store import outbox as store_outbox
    from socialdesk.store.threads import resolve_thread

    given = [x for x in (text is not None, template is not None, edit) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of --text, --template and --edit")
    session = Session.open()
    try:
        page_cfg = session.page(page)
        conn = session.db
        clock = session.clock
        human_agent = session.config.messaging.human_agent
        thread = resolve_thread(conn, thread_ref, page_id=page_cfg.id, now=clock.now())
        if template is not None:
            tpl = get_template(session.config.templates, template)
            body = render_for(
                tpl,
                customer_id=thread.customer.id,
                customer_name=thread.customer.name,
                page_name=store_outbox.page_name(conn, page_cfg.id),
            )
        elif edit:
            body = compose_in_editor(conn, thread)
        else:
            body = text or ""
        parts = textcheck.prepare(body, split=split)
        # The rules, before any network call: refuse here with nothing queued.
        choose_send_kind(
            thread,
            clock.now(),
            human_agent,
            private=private,
            human_written=True,
            comment_at=(
                comment_created_at(conn, thread) if thread.channel is Channel.COMMENT else None
            ),
            private_used=store_outbox.private_reply_used(conn, thread.id),
        )
        client = session.client(page_cfg)
        outbox_startup(conn, client, page_cfg.id, clock)
        prepared = core_outbox.queue(
            conn,
            thread,
            parts,
            now=clock.now(),
            human_agent=human_agent,
            private=private,
            human_written=True,
            origin="reply",
            last_batch=core_outbox.effects_batch("reply", done=True) if done else None,
        )
        entries = core_outbox.send_prepared(conn, client, prepared, clock=clock)
        who = clean(thread.customer.name or thread.customer.id, single_line=True)
        if as_json:
            from socialdesk.cli.output import print_json

            out: dict[str, Any] = {
                "thread": thread.number,
                "thread_id": thread.id,
                "kind": str(prepared.kind),
                "done": done,
                "sent": [core_outbox.summarize(e) for e in entries],
            }
            print_json(out)
            return
        n = len(entries)
        what = f"{n} messages" if n > 1 else "reply"
        ids = ", ".join(e.message_id or "?" for e in entries)
        tail = "; marked done" if done else ""
        echo_line(f"sent {what} to #{thread.number} ({who}) as {prepared.kind}: {ids}{tail}")
    finally:
        session.close()
