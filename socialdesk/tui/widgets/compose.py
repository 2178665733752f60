"""The compose box under the thread: reply text, live length count, window, outcome in place.

Used by :mod:`socialdesk.tui.screens.inbox`, which opens it for a thread (``r``, or ``p`` for a
comment's private reply) with the send preview (kind, recipient, window, refusal) and handles
its requests (send, editor, template) — the box itself calls nothing below the UI. The 2,000
character count updates on every keystroke without any query; when the rules refuse sending
(window closed, private reply already used) the box says why and ctrl+s does not send.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static, TextArea

from socialdesk.models import SendKind
from socialdesk.tui.keys import bindings
from socialdesk.tui.text import customer, plain
from socialdesk.tui.widgets.thread_view import window_sentence

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from socialdesk.tui.gateway import ReplyOutcome, ReplyPreview

SENT_AS: dict[SendKind, str] = {
    SendKind.DM_RESPONSE: "✓ sent",
    SendKind.DM_HUMAN_AGENT: "✓ sent with the Human Agent tag",
    SendKind.COMMENT_PUBLIC: "✓ posted under the comment",
    SendKind.COMMENT_PRIVATE: "✓ sent privately",
}
"""The outcome line of a sent reply, by how it went out (never an internal kind or an id)."""

LIMIT = 2000


class ComposeBox(Vertical):
    """Reply editor for one thread (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("compose"))

    DEFAULT_CSS = """
    ComposeBox { height: auto; max-height: 80%; border-top: solid $accent; display: none; }
    ComposeBox.-open { display: block; }
    ComposeBox > #compose-text { height: 5; min-height: 2; border: none; padding: 0 1; }
    ComposeBox.-short > #compose-text { height: 3; }
    ComposeBox > Static { padding: 0 1; }
    """

    class SendRequested(Message):
        def __init__(self, number: int, text: str, private: bool) -> None:
            super().__init__()
            self.number = number
            self.text = text
            self.private = private

    class EditorRequested(Message):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    class TemplateRequested(Message):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    class Left(Message):
        """Escape: focus goes back to the list; the draft stays."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.number: int | None = None
        self.private = False
        self.preview: ReplyPreview | None = None
        self.sending = False
        self.outcome_line: Content | None = None
        self._outcome_text = ""
        self._now = datetime.now()
        self.head = Static(plain(""), id="compose-head")
        self.area = TextArea(id="compose-text", soft_wrap=True, show_line_numbers=False)
        self.status = Static(plain(""), id="compose-status")

    def compose(self) -> ComposeResult:
        yield self.head
        yield self.area
        yield self.status

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def text(self) -> str:
        return self.area.text

    def open_for(self, number: int, private: bool, draft: str, now: datetime) -> None:
        """Open for thread ``number`` with ``draft``; the preview arrives later."""
        self.number = number
        self.private = private
        self.preview = None
        self.sending = False
        self.outcome_line = None
        self._now = now
        self.add_class("-open")
        self.area.display = True
        self.area.load_text(draft)
        self.area.move_cursor(self.area.document.end)
        self.head.update(plain("Reply (checking the window…)", "$text-muted"))
        self._refresh_status()

    def close(self) -> None:
        self.remove_class("-open")
        self.number = None
        self.preview = None

    def set_preview(self, preview: ReplyPreview, now: datetime) -> None:
        """The rules for this reply: recipient, kind, window, or why sending is refused."""
        self.preview = preview
        self._now = now
        what = "Private reply to " if self.private else "Reply to "
        win, style = window_sentence(preview.window, now)
        self.head.update(
            Content.assemble(
                plain(what, "bold"),
                customer(preview.recipient, single_line=True).stylize("bold"),
                plain("  ·  "),
                plain(win, style),
            )
        )
        self._refresh_status()

    def show_outcome(self, outcome: ReplyOutcome) -> None:
        """Sent / refused and why / unknown and what happens next / failed and why.

        A sent reply empties the box; the outcome stays until the operator types again.
        """
        self.sending = False
        if outcome.state == "sent":
            self.set_text("")
            how = SENT_AS.get(outcome.kind, "✓ sent") if outcome.kind else "✓ sent"
            parts = [plain(how, "bold $success")]
            if len(outcome.entries) > 1:
                parts.append(plain(f" in {len(outcome.entries)} messages", "bold $success"))
            if outcome.recipient:
                # Names come from the API: shown as untrusted text, like customer text.
                parts += [plain(" to ", "bold $success"), customer(outcome.recipient)]
            line = Content.assemble(*parts)
        else:
            label = {"refused": "✗ refused", "unknown": "? unknown", "failed": "✗ failed"}[
                outcome.state
            ]
            parts = [
                plain(label + ": ", "bold $error"),
                customer(outcome.reason or "", single_line=True),
            ]
            if outcome.next_step:
                parts += [plain(" — "), customer(outcome.next_step, single_line=True)]
            line = Content.assemble(*parts)
        self.outcome_line = line
        self._outcome_text = self.area.text
        self._refresh_status()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is self.area:
            if self.area.text != self._outcome_text:
                self.outcome_line = None
            self._refresh_status()

    def refusal(self) -> str | None:
        """Why ctrl+s would not send now (None: it would)."""
        text = self.area.text.strip()
        if not text:
            return "nothing to send yet"
        if len(text) > LIMIT:
            return f"{len(text):,} characters: the limit is {LIMIT:,}"
        p = self.preview
        if p is not None and p.refusal is not None and p.kind is None:
            return p.refusal.message
        return None

    def _refresh_status(self) -> None:
        n = len(self.area.text.strip())
        over = n > LIMIT
        count = plain(f"{n:,}/{LIMIT:,}", "bold $error" if over else "$text-muted")
        parts: list[Content] = [count]
        blocked = (
            self.preview is not None
            and self.preview.refusal is not None
            and self.preview.kind is None
        )
        if self.sending:
            parts.append(plain("  sending…", "bold $warning"))
        elif self.outcome_line is not None:
            parts += [plain("  "), self.outcome_line]
        elif blocked and self.preview is not None and self.preview.refusal is not None:
            err = self.preview.refusal
            parts += [
                plain("  sending disabled: ", "bold $error"),
                customer(err.message, single_line=True),
            ]
            if err.hint:
                parts += [plain(" — "), customer(err.hint, single_line=True)]
        elif over:
            parts.append(plain("  too long to send", "bold $error"))
        else:
            parts.append(
                plain("  ctrl+s send · ctrl+e editor · ctrl+t template · esc leave", "$text-muted")
            )
        self.status.update(Content.assemble(*parts))

    def action_send(self) -> None:
        if self.number is None or self.sending:
            return
        why = self.refusal()
        if why is not None:
            self.outcome_line = Content.assemble(plain("✗ not sent: ", "bold $error"), plain(why))
            self._refresh_status()
            return
        self.sending = True
        self._refresh_status()
        self.post_message(self.SendRequested(self.number, self.area.text, self.private))

    def action_editor(self) -> None:
        if self.number is not None:
            self.post_message(self.EditorRequested(self.number))

    def action_template(self) -> None:
        if self.number is not None:
            self.post_message(self.TemplateRequested(self.number))

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def insert(self, text: str) -> None:
        """Insert ``text`` at the cursor (a template)."""
        self.area.insert(text)
        self.area.focus()

    def set_text(self, text: str) -> None:
        self.area.load_text(text)
        self.area.move_cursor(self.area.document.end)
