"""The thread pane: who, channel, status, window time left, the post, messages, other threads,
the note, and sends not yet read back.

Used by :mod:`socialdesk.tui.screens.inbox`, which gives it a
:class:`~socialdesk.tui.gateway.ThreadDetail` (it queries nothing itself). The whole pane is one
:class:`~textual.content.Content` in one ``Static`` (research/TUI.md §4: the newest 50 messages
open in ~22 ms; a widget per message is 4× slower), built only from
:func:`socialdesk.tui.text.customer` for anything a customer or the API wrote.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from socialdesk.models import Channel, Direction, OutboxState, Status, WindowKind
from socialdesk.tui.text import customer, customer_lines, human_age, human_left, plain

if TYPE_CHECKING:
    from socialdesk.models import Message, OutboxEntry, Window
    from socialdesk.tui.gateway import ThreadDetail

CHANNEL_NAMES = {
    Channel.DM: "Messenger",
    Channel.COMMENT: "comment",
    Channel.IG_DM: "Instagram DM",
    Channel.IG_COMMENT: "Instagram comment",
}


def window_sentence(window: Window, now: datetime) -> tuple[str, str]:
    """The window in words and a style: what can be sent and until when."""
    if window.kind is WindowKind.CLOSED:
        when = window.closed_at.strftime("%Y-%m-%d %H:%M") if window.closed_at else "never open"
        return f"reply window closed ({when} UTC): sending is disabled", "bold $error"
    if window.kind is WindowKind.PUBLIC:
        return "public replies: no time limit", "$text-muted"
    assert window.closes_at is not None
    left = human_left(window.closes_at, now)
    at = window.closes_at.strftime("%H:%M")
    label = {
        WindowKind.STANDARD: "standard reply",
        WindowKind.HUMAN_AGENT: "HUMAN_AGENT reply (written by you)",
        WindowKind.PRIVATE_REPLY: "private reply possible (public any time)",
    }[window.kind]
    urgent = (window.closes_at - now).total_seconds() < 2 * 3600
    return f"{label}: {left} left (closes {at} UTC)", "bold $error" if urgent else "$success"


def _stamp(dt: datetime, now: datetime) -> str:
    if dt.date() == now.date():
        return dt.strftime("%H:%M")
    return dt.strftime("%Y-%m-%d %H:%M")


def _message(m: Message, now: datetime, top_id: str, echoed: bool = False) -> list[Content]:
    page = m.direction is Direction.OUT
    who = customer(m.author.name or ("Page" if page else "customer"), single_line=True)
    head = Content.assemble(
        plain("▸ " if not page else "◂ ", "$accent" if not page else "$secondary"),
        who.stylize("bold"),
        plain(f"  {_stamp(m.created_at, now)}", "$text-muted"),
        plain("  (reply)" if m.parent_id and m.id != top_id else "", "$text-muted"),
        plain("  [hidden on Facebook]" if m.is_hidden else "", "$warning"),
        plain("  sent · read back at the next sync" if echoed else "", "$success"),
    )
    lines = [head]
    if m.text:
        lines.extend(Content.assemble(plain("  "), line) for line in customer_lines(m.text))
    for a in m.attachments:
        ref = customer(" ".join(x for x in (a.name or "", a.url or "") if x), single_line=True)
        lines.append(Content.assemble(plain(f"  📎 {a.kind}: ", "$text-muted"), ref))
    return lines


def _pending(e: OutboxEntry) -> list[Content]:
    state = {
        OutboxState.QUEUED: ("queued", "$warning"),
        OutboxState.SENDING: ("sending…", "$warning"),
        OutboxState.SENT: ("sent · appears here after the next sync", "$success"),
        OutboxState.UNKNOWN: (
            "outcome unknown · checked at the next start, never resent",
            "$error",
        ),
        OutboxState.FAILED: ("failed", "$error"),
    }[e.state]
    head = Content.assemble(plain("◂ You  ", "bold $secondary"), plain(state[0], state[1]))
    lines = [head, *(Content.assemble(plain("  "), line) for line in customer_lines(e.text))]
    if e.state is OutboxState.FAILED and e.error:
        lines.append(
            Content.assemble(plain("  why: ", "$error"), customer(e.error, single_line=True))
        )
    return lines


def render_detail(d: ThreadDetail, now: datetime) -> Content:
    """The pane's whole text for ``d`` at ``now``."""
    th = d.thread
    who = customer(th.customer.name or th.customer.id or "unknown", single_line=True)
    status = th.status.value
    if th.status is Status.SNOOZED and th.snoozed_until is not None:
        status = f"snoozed until {th.snoozed_until.strftime('%Y-%m-%d %H:%M')} UTC"
    head = Content.assemble(
        who.stylize("bold"),
        plain(f"  #{th.number} · {CHANNEL_NAMES.get(th.channel, th.channel.value)} · {status}"),
        plain("  hidden" if th.is_hidden else "", "$warning"),
    )
    win, win_style = window_sentence(d.window, now)
    out: list[Content] = [head, plain(win, win_style)]
    if th.tags:
        out.append(Content.assemble(plain("tags: ", "$text-muted"), customer(" ".join(th.tags))))
    if d.rules:
        out.append(Content.assemble(plain("rules: ", "$text-muted"), customer(", ".join(d.rules))))
    if th.note:
        out.append(Content.assemble(plain("note: ", "bold $warning"), customer(th.note)))
    if th.channel in (Channel.COMMENT, Channel.IG_COMMENT):
        post = customer(
            (d.post.message if d.post is not None else th.post_message) or "(post text not stored)",
            single_line=True,
        )
        out.append(Content.assemble(plain("on the post: ", "$text-muted"), post.stylize("italic")))
        if d.post is not None and d.post.permalink:
            out.append(Content.assemble(plain("  "), customer(d.post.permalink, single_line=True)))
        if d.reply_targets:
            target = d.reply_targets[0]
            out.append(
                Content.assemble(
                    plain("p answers privately: ", "$text-muted"),
                    customer(target.text or "[attachment]", single_line=True),
                )
            )
    out.append(plain(""))
    if d.has_older:
        out.append(plain(f"… older messages: press [ to load {d.limit} more", "$text-muted"))
    gaps = list(d.gaps)
    for m in d.messages:
        while gaps and m.created_at >= gaps[0][1]:
            after, before = gaps.pop(0)
            out.append(
                plain(
                    f"··· messages between {after:%Y-%m-%d %H:%M} and {before:%H:%M} UTC could"
                    " not be read: more than 20 arrived between two syncs ···",
                    "$warning",
                )
            )
        out.extend(_message(m, now, th.id, m.id in d.echoed))
    for e in d.pending_sends:
        out.extend(_pending(e))
    if d.others:
        out.append(plain(""))
        out.append(plain("Other threads of this customer:", "bold $text-muted"))
        for r in d.others:
            o = r.thread
            out.append(
                Content.assemble(
                    plain(
                        f"  #{o.number} {CHANNEL_NAMES.get(o.channel, o.channel.value)}"
                        f" {o.status.value} "
                    ),
                    plain(human_age(o.last_message_at, now) + " ", "$text-muted"),
                    customer(o.snippet, single_line=True),
                )
            )
    return Content("\n").join(out)


class ThreadView(VerticalScroll, can_focus=True):
    """The scrollable thread pane."""

    DEFAULT_CSS = """
    ThreadView { padding: 0 1; }
    ThreadView > #thread-body { width: 100%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.detail: ThreadDetail | None = None
        self._body = Static(plain("No thread selected.", "$text-muted"), id="thread-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, detail: ThreadDetail, now: datetime, *, keep_scroll: bool = False) -> None:
        """Show ``detail``; newest messages in view unless ``keep_scroll`` (older loaded)."""
        same = self.detail is not None and self.detail.thread.number == detail.thread.number
        old_height = self.virtual_size.height
        old_y = self.scroll_y
        self.detail = detail
        body = render_detail(detail, now)
        self._body.update(body)
        if keep_scroll and same:
            self.anchor(False)

            def restore() -> None:
                grown = self.virtual_size.height - old_height
                self.scroll_to(y=old_y + max(0, grown), animate=False, immediate=True)

            self.call_after_refresh(restore)
        elif self._overflows(body):
            # Anchored, the newest messages are in view in the very frame that lays the
            # new text out (a scroll_end after the refresh would cost a second frame).
            self.anchor()
        else:
            # A thread that fits reads from the top (an anchored one sits at the bottom of
            # the pane under a blank band).
            self.anchor(False)
            self.scroll_home(animate=False, immediate=True)

    def _overflows(self, body: Content) -> bool:
        """Whether ``body`` is taller than the pane at its current width."""
        width = self.scrollable_content_region.width or self.size.width
        height = self.scrollable_content_region.height or self.size.height
        if width <= 0 or height <= 0:
            return True
        return len(body.wrap(width)) > height

    def show_text(self, text: str) -> None:
        """A line of our own (no thread, loading, an error)."""
        self.detail = None
        self._body.update(plain(text, "$text-muted"))
