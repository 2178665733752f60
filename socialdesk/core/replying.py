"""One reply to one thread: the text (typed, a template, or composed in an editor), what sending
it would do, and the send itself through the outbox.

Called by ``reply`` and the inbox's compose box. The flow:

1. :func:`reply_text` — the request's text: a template rendered for this customer (the Page's
   display name filled into ``{page}``), or the operator's own words.
2. :func:`preview` — no network: the parts that would be sent (``split``), the send kind, the
   window and the length; ``refusal`` holds the platform rule that would refuse it.
3. :func:`send` — the outbox first settles earlier sends (recover, then read back), then the
   reply is queued and sent. The sent message is recorded in its thread at once (a local echo,
   pending read-back), so ``show`` has it and ``list`` no longer offers the thread as awaiting.
   It never raises for an outcome the operator must see: refused, unknown or failed come back
   as a :class:`ReplyOutcome` holding the error (the CLI turns it into its exit code).

Composing in an editor (:func:`compose_file`, :func:`parse_composed`): the operator writes
above a scissors line; everything from that line down (instructions, the quoted thread) is
dropped and everything above it is sent as written, lines starting with ``#`` included
(``#1043 ships Monday``). A file without the scissors line is refused rather than guessed at.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from socialdesk.config import PageConfig
from socialdesk.core import outbox, textcheck
from socialdesk.core.context import AppContext
from socialdesk.core.templates import get_template, name_for_template, render_for
from socialdesk.core.windows import private_target, send_kind_for_conn, window_for_conn
from socialdesk.errors import RefusedError, SocialdeskError, UsageError
from socialdesk.models import Channel, Direction, OutboxEntry, SendKind, Thread, Window
from socialdesk.sanitize import clean
from socialdesk.store import pages as store_pages
from socialdesk.store import threads as store_threads
from socialdesk.store.lock import leave_senders

__all__ = [
    "SCISSORS",
    "ReplyOutcome",
    "ReplyPreview",
    "ReplyRequest",
    "compose_file",
    "parse_composed",
    "preview",
    "reply_text",
    "send",
]


@dataclass(frozen=True)
class ReplyRequest:
    """One reply as the operator asks for it."""

    text: str | None = None
    template: str | None = None
    private: bool = False
    """A comment's one private reply (in Messenger), to the thread's newest customer comment
    unless ``comment`` names another."""
    comment: str | None = None
    """The Graph id of the customer comment a private reply answers (a reply in the thread
    may be another person's than the top-level comment's)."""
    split: bool = False
    """Text over the limit goes as several messages (cut between grapheme clusters)."""
    done: bool = False
    """Mark the thread done once the (last part of the) reply is confirmed."""
    human_written: bool = True
    """A person wrote or chose this text for this one thread (HUMAN_AGENT may apply)."""


@dataclass(frozen=True)
class ReplyPreview:
    """What sending now would do (no network call was made to know it)."""

    parts: list[str]
    """The messages that would be sent (one unless split)."""
    kind: SendKind | None
    window: Window
    length: int
    """Characters of the whole text (stripped), as the limit counts them."""
    limit: int
    recipient: str
    """Who gets it, cleaned for display: the customer, or the comment a reply answers (for a
    private reply: the author of the comment it answers)."""
    refusal: SocialdeskError | None
    """Set when the rules refuse it (window closed, private reply used, too long, bidi…)."""


@dataclass(frozen=True)
class ReplyOutcome:
    """How a send ended."""

    state: Literal["sent", "refused", "unknown", "failed"]
    entries: list[OutboxEntry]
    """The parts that were sent (all of them when ``state`` is ``sent``)."""
    kind: SendKind | None
    reason: str | None
    """What went wrong, in words (``None`` when sent)."""
    next_step: str | None
    """What the operator can do now, or what happens next by itself."""
    error: SocialdeskError | None = None
    """The error behind a state other than ``sent`` (front ends take exit codes from it)."""
    thread: Thread | None = None
    """The thread as it is after the send (its status shows ``done`` when asked and sent)."""
    notices: list[str] = field(default_factory=list)
    """What the outbox settled about earlier sends before this one (see ``core.outbox``)."""
    recipient: str = ""
    """Who it went (or would have gone) to, cleaned (as :attr:`ReplyPreview.recipient`)."""


def reply_text(
    ctx: AppContext, conn: sqlite3.Connection, page: PageConfig, thread: Thread, req: ReplyRequest
) -> str:
    """The text the request sends: its template rendered for this customer, or its text."""
    if req.template is not None:
        template = get_template(ctx.config.templates, req.template)
        return render_for(
            template,
            customer_id=thread.customer.id,
            customer_name=name_for_template(thread.customer),
            page_name=store_pages.page_name(conn, page.id) or page.name,
        )
    return req.text or ""


def _short(text: str) -> str:
    said = clean(text, single_line=True)
    return said if len(said) <= 40 else said[:39] + "…"


def _recipient(conn: sqlite3.Connection, thread: Thread, req: ReplyRequest) -> str:
    who = clean(thread.customer.name or thread.customer.id or "the customer", single_line=True)
    if thread.channel not in (Channel.COMMENT, Channel.IG_COMMENT):
        return who
    if req.private:
        via = "Instagram DM" if thread.channel is Channel.IG_COMMENT else "Messenger"
        try:
            target = private_target(conn, thread, req.comment)
        except UsageError:
            target = None  # the send refuses it and says why
        if target is not None:
            author = clean(target.author, single_line=True)
            said = _short(target.comment.text or "[attachment]")
            return f"{author}, privately ({via}), answering their comment “{said}”"
        return f"{who}, privately ({via})"
    top = store_threads.get_message(conn, thread.id)
    said = _short(top.text if top is not None else thread.snippet)
    if top is not None and top.direction is Direction.OUT:
        return f"a public reply under the Page's comment “{said}”"
    return f"a public reply under {who}'s comment “{said}”"


def preview(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    thread: Thread,
    req: ReplyRequest,
    *,
    now: datetime,
) -> ReplyPreview:
    """What :func:`send` would do now, without any network call."""
    refusal: SocialdeskError | None = None
    try:
        window = window_for_conn(conn, thread, now, ctx.human_agent, comment_id=req.comment)
    except UsageError as exc:
        window, refusal = window_for_conn(conn, thread, now, ctx.human_agent), exc
    parts: list[str] = []
    kind: SendKind | None = None
    text = ""
    try:
        text = reply_text(ctx, conn, page, thread, req)
        chars, max_bytes = textcheck.limits_for(thread.channel, private=req.private)
        parts = textcheck.prepare(text, split=req.split, limit=chars, max_bytes=max_bytes)
        if req.private and len(parts) > 1:
            raise outbox.private_reply_is_one_message()
    except (RefusedError, UsageError) as exc:
        refusal = exc
    # The platform's rules are checked whatever the text: a compose box previews an empty
    # draft to learn the kind and the window before anything is typed.
    try:
        kind = send_kind_for_conn(
            conn,
            thread,
            now,
            ctx.human_agent,
            private=req.private,
            human_written=req.human_written,
            comment_id=req.comment,
        )
    except (RefusedError, UsageError) as exc:
        refusal = exc  # the rules' refusal says more than the text's
    return ReplyPreview(
        parts=parts,
        kind=kind,
        window=window,
        length=len(text.strip()),
        limit=textcheck.limits_for(thread.channel, private=req.private)[0],
        recipient=_recipient(conn, thread, req),
        refusal=refusal,
    )


UNKNOWN_NEXT_STEP = (
    "it is never sent again by itself: the next acting command reads the thread back and marks "
    "it sent if it arrived; see `socialdesk outbox`"
)


def send(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    thread: Thread,
    req: ReplyRequest,
    *,
    keep_sender: bool = True,
) -> ReplyOutcome:
    """Send the reply through the outbox (module docstring): settle earlier sends, queue,
    send, echo locally. ``keep_sender=False`` (a long-lived inbox between sends) gives up this
    process's place among the outbox's senders afterwards."""
    kind: SendKind | None = None
    sent: list[OutboxEntry] = []
    notices: list[str] = []
    recipient = _recipient(conn, thread, req)
    try:
        now = ctx.clock.now()
        text = reply_text(ctx, conn, page, thread, req)
        chars, max_bytes = textcheck.limits_for(thread.channel, private=req.private)
        parts = textcheck.prepare(text, split=req.split, limit=chars, max_bytes=max_bytes)
        # The rules, before any network call: refused here, nothing is queued.
        kind = send_kind_for_conn(
            conn,
            thread,
            now,
            ctx.human_agent,
            private=req.private,
            human_written=req.human_written,
            comment_id=req.comment,
        )
        client = ctx.client(page)
        notices = outbox.startup(conn, client, page.id, now=ctx.clock.now()).notices()
        prepared = outbox.queue(
            conn,
            thread,
            parts,
            now=ctx.clock.now(),
            human_agent=ctx.human_agent,
            private=req.private,
            human_written=req.human_written,
            origin="reply",
            done=req.done,
            comment_id=req.comment,
        )
        kind = prepared.kind
        outbox.send_prepared(conn, client, prepared, clock=ctx.clock, sent=sent)
    except outbox.SendUnknown as exc:
        return ReplyOutcome(
            "unknown", sent, kind, exc.message, UNKNOWN_NEXT_STEP, exc, None, notices, recipient
        )
    except (RefusedError, UsageError) as exc:
        return ReplyOutcome(
            "refused", sent, kind, exc.message, exc.hint, exc, None, notices, recipient
        )
    except SocialdeskError as exc:
        return ReplyOutcome(
            "failed", sent, kind, exc.message, exc.hint, exc, None, notices, recipient
        )
    finally:
        if not keep_sender:
            leave_senders(conn)
    after = store_threads.get_thread(conn, thread.id, now=ctx.clock.now())
    return ReplyOutcome("sent", sent, kind, None, None, None, after, notices, recipient)


def settle_outbox(
    ctx: AppContext, conn: sqlite3.Connection, page: PageConfig
) -> outbox.ReconcileReport:
    """What the inbox does when it starts, as every acting command does first: the sends of a
    process that died (an inbox or a CLI command killed mid-send) are recovered (``sending`` →
    ``unknown``, ``queued`` → ``failed``) and read back, so nothing stays ``sending`` until the
    operator's next reply. Without a usable token only the recovery runs. Leaves the senders
    afterwards (an open inbox is no sender between sends)."""
    try:
        try:
            client = ctx.client(page)
        except SocialdeskError:  # no token yet: recover, reconcile at the next send
            client = None
        return outbox.startup(conn, client, page.id, now=ctx.clock.now())
    finally:
        leave_senders(conn)


# ---- composing in an editor -----------------------------------------------------------------

SCISSORS = "# ------------------------ >8 ------------------------"
"""The line that ends the reply in a composed file (git's scissors)."""

# Editors read settings from the file itself: vim/ex modelines ("vim: set ...") in the first and
# last lines, Emacs "-*- ... -*-" and "Local Variables:" blocks. Quoted customer text must not be
# able to write one, so those triggers are broken up, and the customer text starts after more
# lines of our own than vim reads (5) and is followed by as many.
_MODELINE_RE = re.compile(r"(?i)(?<![^\s])(vim?|ex)([<=>]?\d*):")
_EMACS_RE = re.compile(r"(?i)-\*-|local variables:")
_GUARD_LINES = 6
QUOTED_MESSAGES = 20


def _defang(line: str) -> str:
    line = _MODELINE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)} :", line)
    return _EMACS_RE.sub(lambda m: m.group(0).replace(":", " :").replace("*", " * "), line)


def _quote_lines(text: str) -> list[str]:
    """Customer text as ``#`` lines: cleaned, cut on every line boundary Python knows.

    ``str.splitlines`` also breaks on U+2028, U+2029, U+0085 and the like; cutting on those here
    means no customer line can escape its ``#`` prefix when the file is read.
    """
    return ["#   " + _defang(line) for line in clean(text).splitlines()] or ["#"]


def _one_line(text: str) -> str:
    return _defang(" ".join(clean(text, single_line=True).split()))


def compose_file(conn: sqlite3.Connection, thread: Thread, *, draft: str = "") -> str:
    """The editor file for a reply to ``thread``: ``draft`` above the scissors line, then the
    instructions and the thread's newest messages quoted below it."""
    who = _one_line(thread.customer.name or thread.customer.id)
    head = [
        SCISSORS,
        "# Do not modify or remove the line above: the text below it is ignored.",
        "# The text above it is sent as written, lines starting with '#' too.",
        "# Save and quit to send; leave it empty or quit with an error (:cq in vim) to",
        f"# send nothing. Reply to #{thread.number} ({thread.channel}).",
    ]
    head += ["#"] * (_GUARD_LINES - len(head))
    lines = [*head, f"# Customer: {who}"]
    if thread.post_message:
        lines.append("# Post: " + _one_line(thread.post_message)[:200])
    for m in store_threads.get_messages(conn, thread.id, limit=QUOTED_MESSAGES):
        author = m.author.name or ("page" if m.direction is Direction.OUT else "customer")
        stamp = m.created_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"# {_one_line(author)}, {stamp}:")
        lines.extend(_quote_lines(m.text or "[attachment]"))
    lines += ["#"] * (_GUARD_LINES - 1) + ["# (end of the quoted thread)"]
    top = draft.rstrip("\n")
    return (top + "\n" if top else "") + "\n" + "\n".join(lines) + "\n"


def parse_composed(raw: str) -> str:
    """The reply written above the scissors line (surrounding blank lines dropped).

    :class:`UsageError` when the scissors line is gone (what to drop would be a guess) or
    nothing was written.
    """
    lines = raw.splitlines()
    try:
        cut = next(i for i, line in enumerate(lines) if line.rstrip() == SCISSORS)
    except StopIteration:
        raise UsageError(
            "the scissors line was removed from the reply file; nothing was sent",
            hint="keep the line '# ---- >8 ----' and write the reply above it",
        ) from None
    text = "\n".join(lines[:cut]).strip("\n")
    if not text.strip():
        raise UsageError("the reply is empty; nothing was sent")
    return text
