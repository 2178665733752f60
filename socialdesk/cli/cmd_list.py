"""``socialdesk list`` and ``socialdesk show``: the read side of the inbox on the command line.

Registered on the root app. Also the thread renderer others reuse (``demo``, later exports):
:func:`render_thread_table` draws the Rich table of threads, :func:`thread_json` /
:func:`message_json` build the documented ``--json`` shapes (README "JSON output"). Customer text
(names, messages, snippets, notes, post text) only ever reaches the terminal as ``rich.text.Text``
built from ``socialdesk.sanitize.clean``, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from socialdesk.cli.app import app

if TYPE_CHECKING:
    import sqlite3

    from rich.console import Console
    from rich.text import Text

    from socialdesk.models import Message, Thread, Window

SNIPPET_WIDTH = 60
"""Longest snippet shown in the table, in characters (the rest becomes an ellipsis)."""

CHANNEL_LABELS = {"dm": "✉ dm", "comment": "💬 comment", "ig_dm": "✉ ig", "ig_comment": "💬 ig"}


# ---- JSON shapes ---------------------------------------------------------------------------


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, to the second (``None`` stays ``None``)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_json(window: Window) -> dict[str, Any]:
    """``{"kind": ..., "closes_at": ...}`` (``closed_at`` too when the window is closed)."""
    out: dict[str, Any] = {"kind": window.kind.value, "closes_at": iso(window.closes_at)}
    if window.closed_at is not None:
        out["closed_at"] = iso(window.closed_at)
    return out


def thread_json(
    thread: Thread,
    now: datetime,
    *,
    window: Window | None = None,
    human_agent: bool = False,
    conn: sqlite3.Connection | None = None,
) -> dict[str, Any]:
    """The documented ``--json`` shape of a thread (``list``; ``show`` adds to it).

    ``window`` is computed when not given: see :func:`_window`.
    """
    if window is None:
        window = _window(thread, now, human_agent, conn)
    return {
        "number": thread.number,
        "id": thread.id,
        "page_id": thread.page_id,
        "channel": thread.channel.value,
        "status": thread.status.value,
        "snoozed_until": iso(thread.snoozed_until),
        "tags": list(thread.tags),
        "customer": {"id": thread.customer.id, "name": thread.customer.name},
        "awaiting_reply": thread.awaiting_reply,
        "request_at": iso(thread.request_at),
        "last_message_at": iso(thread.last_message_at),
        "window": window_json(window),
        "snippet": thread.snippet,
    }


def message_json(message: Message) -> dict[str, Any]:
    """The documented ``--json`` shape of one message of ``show``."""
    return {
        "id": message.id,
        "direction": message.direction.value,
        "author": {"id": message.author.id, "name": message.author.name},
        "text": message.text,
        "attachments": [
            {"kind": a.kind, "url": a.url, "name": a.name, "mime_type": a.mime_type}
            for a in message.attachments
        ],
        "created_at": iso(message.created_at),
        "parent_id": message.parent_id,
        "is_hidden": message.is_hidden,
    }


# ---- human rendering -----------------------------------------------------------------------


def _text(
    value: str, *, single_line: bool = True, width: int | None = None, style: str = ""
) -> Text:
    """Untrusted text as a Rich ``Text``: sanitised, optionally one line and truncated."""
    from socialdesk.cli.output import customer_text

    text = customer_text(value, single_line=single_line, style=style)
    if single_line:
        text.plain = " ".join(text.plain.split())
    if width is not None and len(text.plain) > width:
        text.truncate(width - 1)
        text.append("…")
    return text


def human_span(seconds: float) -> str:
    """A short duration for table cells (``45s``, ``12m``, ``5h 3m``, ``2d 4h``)."""
    from socialdesk.cli.output import human_duration

    return human_duration(max(0.0, seconds))


def _window(
    thread: Thread, now: datetime, human_agent: bool, conn: sqlite3.Connection | None
) -> Window:
    """The thread's window: ``window_for_conn`` with a connection (the comment's own time and
    the private-reply ledger, as sends and ``expires:`` see them), else ``window_for`` (whose
    comment time is only approximated from the Thread)."""
    from socialdesk.core.windows import window_for, window_for_conn

    if conn is not None:
        return window_for_conn(conn, thread, now, human_agent)
    return window_for(thread, now, human_agent)


def window_label(window: Window, now: datetime) -> str:
    """What the table shows for a window: time left and which window it is."""
    from socialdesk.models import WindowKind

    if window.kind is WindowKind.PUBLIC:
        return "public"
    if window.kind is WindowKind.CLOSED or window.closes_at is None:
        return "closed"
    left = human_span((window.closes_at - now).total_seconds())
    if window.kind is WindowKind.HUMAN_AGENT:
        return f"{left} (agent)"
    if window.kind is WindowKind.PRIVATE_REPLY:
        return f"{left} (private)"
    return left


def _age(thread: Thread, now: datetime) -> str:
    since = thread.request_at if thread.awaiting_reply and thread.request_at else None
    return human_span((now - (since or thread.last_message_at)).total_seconds())


def render_thread_table(
    threads: Sequence[Thread],
    console: Console,
    *,
    now: datetime | None = None,
    windows: Mapping[str, Window] | None = None,
    human_agent: bool = False,
    conn: sqlite3.Connection | None = None,
) -> None:
    """Print ``threads`` as a table: number, channel, customer, snippet, age, window, tags.

    ``windows`` maps thread id → window; a missing one is computed (see :func:`_window`: pass
    ``conn`` for the exact comment windows).
    """
    from socialdesk.cli.output import make_table

    now = now or datetime.now(UTC)
    table = make_table(
        ("#", {"justify": "right", "no_wrap": True}),
        ("channel", {"no_wrap": True}),
        ("customer", {"no_wrap": True, "max_width": 24, "overflow": "ellipsis"}),
        ("snippet", {"no_wrap": True, "overflow": "ellipsis", "ratio": 1}),
        ("age", {"justify": "right", "no_wrap": True}),
        ("window", {"no_wrap": True}),
        ("tags", {"no_wrap": True, "overflow": "ellipsis"}),
    )
    for t in threads:
        window = (windows or {}).get(t.id) or _window(t, now, human_agent, conn)
        marker = "" if t.status.value == "open" else f" [{t.status.value}]"
        table.add_row(
            f"#{t.number}",
            CHANNEL_LABELS.get(t.channel.value, t.channel.value),
            _text(t.customer.name or t.customer.id or "?", width=24),
            _text(t.snippet, width=SNIPPET_WIDTH),
            _age(t, now),
            window_label(window, now),
            _text(" ".join(t.tags) + marker),
        )
    console.print(table)


def render_thread_detail(
    conn: sqlite3.Connection,
    thread: Thread,
    messages: Sequence[Message],
    others: Sequence[Thread],
    window: Window,
    console: Console,
    *,
    now: datetime,
    human_agent: bool = False,
) -> None:
    """Print one thread: header, window, the post (comments), messages, other threads, note.

    The other threads' windows are read through ``conn`` (``window_for_conn``), like ``window``.
    """
    from rich.text import Text

    header = Text(f"#{thread.number} ", style="bold")
    header.append(CHANNEL_LABELS.get(thread.channel.value, thread.channel.value) + "  ")
    header.append_text(_text(thread.customer.name or thread.customer.id or "?", style="bold"))
    header.append(f"  {thread.status.value}")
    if thread.snoozed_until is not None:
        header.append(f" until {iso(thread.snoozed_until)}")
    if thread.tags:
        header.append("  ")
        header.append_text(_text(" ".join(f"#{tag}" for tag in thread.tags), style="cyan"))
    console.print(header)
    state = "awaiting reply" if thread.awaiting_reply else "answered"
    shown = window_label(window, now)
    if window.closed_at is not None:
        shown += f" since {iso(window.closed_at)}"
    elif window.closes_at is not None:
        # The kind is already named before the colon: no "(private)" suffix here.
        left = human_span((window.closes_at - now).total_seconds())
        shown = f"{left} left (closes {iso(window.closes_at)})"
    console.print(Text(f"{state} · {window.kind.value} window: {shown}", style="dim"))
    if thread.post_id is not None:
        post = Text("post: ", style="dim")
        post.append_text(_text(thread.post_message or thread.post_id, width=200))
        console.print(post)
    console.print()
    for m in messages:
        line = Text(m.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "  ", style="dim")
        who = m.author.name or m.author.id or ("page" if m.direction.value == "out" else "?")
        style = "green" if m.direction.value == "out" else "bold"
        line.append_text(_text(who, width=30, style=style))
        if m.parent_id and thread.channel.value == "comment" and m.id != thread.id:
            line.append(" ↳", style="dim")
        if m.is_hidden:
            line.append(" (hidden)", style="yellow")
        console.print(line)
        body = _text(m.text, single_line=False) if m.text else Text("")
        if m.text:
            body.pad_left(4)
            console.print(body)
        for a in m.attachments:
            att = Text(f"    [{a.kind}] ", style="magenta")
            att.append_text(_text(a.name or "", width=80))
            if a.url:
                att.append(" ")
                att.append_text(_text(a.url, width=200, style="dim"))
            console.print(att)
    if others:
        console.print()
        console.print(Text("other threads of this customer:", style="dim"))
        render_thread_table(others, console, now=now, human_agent=human_agent, conn=conn)
    if thread.note:
        console.print()
        note = Text("note: ", style="dim")
        note.append_text(_text(thread.note, single_line=False))
        console.print(note)


# ---- commands ------------------------------------------------------------------------------


def _console() -> Console:
    from socialdesk.cli import output

    return output.console()


def _print_json(data: object) -> None:
    from socialdesk.cli import output

    output.print_json(data)


DEFAULT_QUERY = "is:open is:awaiting"


class QueryCommand(TyperCommand):
    """A command whose arguments form a query: ``-tag:vip`` is a negated term, not an option.

    Click would read ``-tag:vip`` as the short options ``-t -a -g …``. Before parsing, every
    argument that is not one of the command's own options (or an option's value) moves behind
    a ``--``, in its original order, so ``socialdesk list is:dm -tag:vip --limit 5`` just works.
    An unknown ``--long`` option stays an option, so a typo is still reported as one.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Typer vendors click privately: options are recognised by duck typing, not isinstance.
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") == "option":
                for name in (*param.opts, *param.secondary_opts):
                    flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
                    takes_value[name] = not flag
        options: list[str] = []
        terms: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                terms.extend(args[i + 1 :])
                break
            name = arg.split("=", 1)[0]
            if name in takes_value or arg.startswith("--"):
                # Known options, and unknown long ones (click then names them): never a term.
                options.append(arg)
                if takes_value.get(name) and "=" not in arg and i + 1 < len(args):
                    options.append(args[i + 1])
                    i += 1
            else:
                terms.append(arg)
            i += 1
        return super().parse_args(ctx, [*options, "--", *terms] if terms else options)


@app.command("list", cls=QueryCommand)
def list_(
    query_words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[QUERY]...",
            help=f"A query (default: {DEFAULT_QUERY!r}); several words are ANDed. "
            "See README 'Queries'.",
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option("--sort", help="expires (soonest first), newest or oldest."),
    ] = "expires",
    limit: Annotated[int, typer.Option("--limit", help="At most N threads.", min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    page: Annotated[
        str | None, typer.Option("--page", help="Page id or name (default: the default page).")
    ] = None,
) -> None:
    """List threads matching a query (default: open threads awaiting a reply)."""
    from socialdesk.core.session import Session
    from socialdesk.core.windows import window_for_conn
    from socialdesk.store import threads as store_threads

    query = " ".join(query_words) if query_words else None
    session = Session.open()
    try:
        page_cfg = session.page(page)
        now = session.clock.now()
        human_agent = session.config.messaging.human_agent
        conn = session.db
        found = store_threads.list_threads(
            conn,
            query,
            page_id=page_cfg.id,
            now=now,
            sort=sort,
            limit=limit,
            human_agent=human_agent,
        )
        windows = {t.id: window_for_conn(conn, t, now, human_agent) for t in found}
        if as_json:
            _print_json(
                [thread_json(t, now, window=windows[t.id], human_agent=human_agent) for t in found]
            )
            return
        console = _console()
        if not found:
            console.print("no threads match", style="dim")
            return
        render_thread_table(found, console, now=now, windows=windows, human_agent=human_agent)
    finally:
        session.close()


@app.command()
def show(
    thread_ref: Annotated[str, typer.Argument(metavar="THREAD", help="#N, N or a Graph id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    page: Annotated[
        str | None, typer.Option("--page", help="Page id or name (default: the default page).")
    ] = None,
) -> None:
    """Show one thread: its messages, window, tags, note, and the customer's other threads."""
    from socialdesk.core.session import Session
    from socialdesk.core.windows import window_for_conn
    from socialdesk.store import threads as store_threads

    session = Session.open()
    try:
        page_id = session.page(page).id if page is not None else None
        conn = session.db
        now = session.clock.now()
        human_agent = session.config.messaging.human_agent
        thread = store_threads.resolve_thread(conn, thread_ref, page_id=page_id, now=now)
        messages = store_threads.get_messages(conn, thread.id)
        window = window_for_conn(conn, thread, now, human_agent)
        others = store_threads.customer_threads(conn, thread, limit=10, now=now)
        if as_json:
            data = thread_json(thread, now, window=window, human_agent=human_agent)
            data["note"] = thread.note
            if thread.post_id is not None:
                data["post"] = {"id": thread.post_id, "message": thread.post_message}
            data["messages"] = [message_json(m) for m in messages]
            data["other_threads"] = [t.number for t in others]
            _print_json(data)
            return
        render_thread_detail(
            conn, thread, messages, others, window, _console(), now=now, human_agent=human_agent
        )
    finally:
        session.close()
