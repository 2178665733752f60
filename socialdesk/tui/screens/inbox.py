"""The inbox screen: views, the virtual thread list, the thread pane, the compose box.

Pushed by :class:`socialdesk.tui.app.InboxApp` with its :class:`~socialdesk.tui.gateway.Gateway`.
The UI thread does Textual work plus two tiny indexed reads (the first page of a view, and
pages of 64 rows by number while drawing); everything else runs in thread workers that post
:mod:`socialdesk.tui.messages` back (research/TUI.md §5):

==========  ================================================  ==========================
group       work                                              exclusive
==========  ================================================  ==========================
listing     ordered thread numbers of the view                yes (newest request wins)
counts      counts of every view, tags                        yes
thread      the thread pane's data (debounced, §3)            yes
preview     what a send would do now (window, kind, refusal)  yes
jobs        triage, undo, sends, hide: one at a time, in order (the app's job queue)
==========  ================================================  ==========================

New listings keep the cursor on the same thread at the same screen row
(:func:`socialdesk.tui.state.reanchor`), so a sync never moves what the operator is looking at.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import SuspendNotSupported
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, TextArea

from socialdesk.errors import SocialdeskError, UsageError
from socialdesk.models import Channel
from socialdesk.tui import messages as msg
from socialdesk.tui.gateway import BUILTIN_VIEWS, QueryError, ReplyRequest, ViewSpec
from socialdesk.tui.keys import bindings
from socialdesk.tui.state import Draft, PreviewDebounce, UndoStack, parse_tags, reanchor
from socialdesk.tui.text import customer, customer_plain, plain
from socialdesk.tui.widgets.compose import ComposeBox
from socialdesk.tui.widgets.header import InboxHeader
from socialdesk.tui.widgets.thread_list import LEGEND, ThreadList
from socialdesk.tui.widgets.thread_view import ThreadView
from socialdesk.tui.widgets.views import ViewsSidebar

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from socialdesk.tui.app import InboxApp
    from socialdesk.tui.gateway import ActionResult, Gateway, ThreadDetail, UndoToken

NARROW = 100
WIDE = 120
"""Below this many columns the views sidebar hides and the thread goes under the list."""

THREAD_PAGE = 50
"""Messages shown when a thread opens; ``[`` loads this many more."""

TEXT_ACTIONS = frozenset(
    {
        "cursor",
        "cursor_to",
        "page",
        "open",
        "reply",
        "private_reply",
        "done",
        "reopen",
        "snooze",
        "tag",
        "note",
        "hide",
        "search",
        "sync_now",
        "undo",
        "older",
        "stats",
        "view",
    }
)
"""Inbox actions bound to plain keys: never run while a text box has the focus."""


class InboxScreen(Screen[None]):
    """The main screen (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("inbox"))

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gw = gateway
        self.views: list[ViewSpec] = [
            *BUILTIN_VIEWS,
            *(ViewSpec(f"view:{n}", n, q, "saved") for n, q in gateway.config.views.items()),
        ]
        self.view: ViewSpec = self.views[0]
        self.search: str | None = None
        self.counts: dict[str, int | None] = {}
        self.tag_names: list[str] = []
        self.epoch = 0
        self.undo_stack: UndoStack[UndoToken] = UndoStack()
        self.drafts: dict[int, Draft] = {}
        self.debounce = PreviewDebounce()
        self._preview_timer: Timer | None = None
        self._limits: dict[int, int] = {}
        self._pending_anchor: int | None = None
        self._focus_pending: Input | TextArea | None = None
        self._detail_cache: dict[tuple[int, float, int], ThreadDetail] = {}
        self.header = InboxHeader(gateway.page_title, id="header")
        self.sidebar = ViewsSidebar(id="views")
        self.thread_list = ThreadList(gateway.rows_by_number, gateway.now, id="threads")
        self.thread_view = ThreadView(id="thread")
        self.compose_box = ComposeBox(id="compose")
        self.search_input = Input(placeholder='search: is:dm tag:vip older:2h "words"', id="search")
        self.search_error = Static(plain(""), id="search-error")
        self.list_title = Static(plain(""), id="list-title")

    @property
    def preview_pending(self) -> bool:
        """A debounced thread load is waiting for its timer (tests wait for it)."""
        return self._preview_timer is not None

    @property
    def inbox_app(self) -> InboxApp:
        return self.app  # type: ignore[return-value]

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="panes"):
            yield self.sidebar
            with Vertical(id="list-col"):
                yield self.list_title
                yield self.search_input
                yield self.search_error
                yield self.thread_list
            with Vertical(id="thread-col"):
                yield self.thread_view
                yield self.compose_box
        yield Footer()

    def on_mount(self) -> None:
        self.search_input.display = False
        self.search_error.display = False
        self._apply_width(self.app.size.width)
        self.header.show(self.gw.now())
        self.sidebar.set_views(self.views, self.counts, self.view.key)
        self._first_page(background=False)
        self.thread_list.focus()
        # Everything else waits until the first screen is drawn: worker threads started now
        # would take the GIL from the first frame.
        self.call_after_refresh(self._after_first_frame)
        self.set_interval(30, self._tick)

    def _after_first_frame(self) -> None:
        self.load_numbers(self.epoch, self.query_text)
        self.load_header()
        self.load_counts()

    def on_resize(self) -> None:
        self._apply_width(self.app.size.width)
        self.call_after_refresh(self._title)

    def _apply_width(self, width: int) -> None:
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        self.set_class(width >= WIDE, "-wide")
        self.sidebar.display = not narrow
        # At 24 rows the reply box keeps three lines of text so its count line stays visible.
        self.compose_box.set_class(self.app.size.height < 30, "-short")

    def _tick(self) -> None:
        self.thread_list.tick()
        self.header.show(self.gw.now())

    # -- listing --------------------------------------------------------------------------------

    @property
    def query_text(self) -> str:
        return self.search if self.search is not None else self.view.query

    def _title(self) -> None:
        name = customer(
            f"Search: {self.search}" if self.search is not None else self.view.title,
            single_line=True,
        )
        count = len(self.thread_list.numbers)
        total = self.counts.get(self.view.key) if self.search is None else None
        shown = f"{total:,}" if isinstance(total, int) else f"{count:,}"
        hint = "  1-9 views" if self.has_class("-narrow") else ""
        head = Content.assemble(
            name.stylize("bold"), plain(f" ({shown})", "$text-muted"), plain(hint, "$text-muted")
        )
        # The two right-hand columns of the rows: how long it waits, the reply window left.
        legend = plain(LEGEND, "$text-muted")
        width = self.thread_list.scrollable_content_region.width
        room = width - head.cell_length - legend.cell_length
        self.list_title.update(Content.assemble(head, plain(" " * max(1, room)), legend))

    def _first_page(self, *, background: bool = True) -> None:
        """Paint the first screen from one fast, index-walked query, then list in the back
        (``background=False``: the caller starts the listing later)."""
        self.epoch += 1
        height = max(self.app.size.height, 24)
        try:
            listing = self.gw.threads(self.query_text, limit=height * 2)
        except SocialdeskError as exc:
            self.notify_error("listing", exc)
            listing = None
        rows = listing.rows if listing is not None else []
        self.thread_list.set_numbers([r.thread.number for r in rows], rows=rows, cursor=0, scroll=0)
        self._title()
        if background:
            self.load_numbers(self.epoch, self.query_text)

    def refresh_data(self, *, anchor: int | None = None) -> None:
        """Re-list and re-count in the background (after a sync or an action)."""
        self.epoch += 1
        if anchor is not None:
            self._pending_anchor = anchor
        self.load_numbers(self.epoch, self.query_text)
        self.load_counts()

    @work(thread=True, exclusive=True, group="listing", exit_on_error=False)
    def load_numbers(self, epoch: int, query: str) -> None:
        try:
            numbers = self.gw.thread_numbers(query)
        except SocialdeskError as exc:
            self.post_message(msg.ActionFailed("listing", exc.message, exc.hint))
            return
        self.post_message(msg.ListingLoaded(epoch, numbers))

    def on_listing_loaded(self, message: msg.ListingLoaded) -> None:
        if message.epoch != self.epoch:
            return
        tl = self.thread_list
        anchor = reanchor(
            tl.numbers, tl.cursor, tl.scroll_offset.y, message.numbers, prefer=self._pending_anchor
        )
        self._pending_anchor = None
        before = tl.current_number
        tl.set_numbers(message.numbers, cursor=anchor.cursor, scroll=anchor.scroll)
        self._title()
        if tl.current_number == before and before is not None:
            self._load_thread(before, at_once=True, quiet=True)

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def load_counts(self) -> None:
        try:
            views = self.gw.views()
            counts = self.gw.counts(views)
            tags = [t for t, _ in self.gw.tags()]
        except SocialdeskError as exc:
            self.post_message(msg.ActionFailed("counts", exc.message, exc.hint))
            return
        self.app.call_from_thread(self._set_views, views, tags)
        self.post_message(msg.CountsLoaded(counts))

    def _set_views(self, views: list[ViewSpec], tags: list[str]) -> None:
        self.views = views
        self.tag_names = tags
        keys = {v.key for v in views}
        if self.view.key not in keys:
            self.view = views[0]

    def on_counts_loaded(self, message: msg.CountsLoaded) -> None:
        self.counts = message.counts
        self.sidebar.set_views(self.views, self.counts, self.view.key)
        self._title()

    @work(thread=True, exclusive=True, group="header", exit_on_error=False)
    def load_header(self) -> None:
        try:
            self.post_message(msg.HeaderLoaded(self.gw.header_state()))
        except SocialdeskError:
            return

    def on_header_loaded(self, message: msg.HeaderLoaded) -> None:
        self.header.state = message.header
        self.header.show(self.gw.now())

    def switch_view(self, view: ViewSpec) -> None:
        self._save_draft()
        self.view = view
        self.search = None
        self.search_input.display = False
        self.search_error.display = False
        self.sidebar.set_views(self.views, self.counts, view.key)
        self._first_page()
        self.thread_list.focus()

    @on(ViewsSidebar.Chosen)
    def _view_chosen(self, event: ViewsSidebar.Chosen) -> None:
        for v in self.views:
            if v.key == event.key:
                self.switch_view(v)
                return

    # -- the thread pane -------------------------------------------------------------------------

    @on(ThreadList.Highlighted)
    def _highlighted(self, event: ThreadList.Highlighted) -> None:
        number = event.number
        if self.compose_box.is_open and self.compose_box.number != number:
            self._save_draft()
            self.compose_box.close()
        if number is None:
            self.thread_view.show_text("Nothing here: this view is empty.")
            return
        self._load_thread(number)

    def _load_thread(self, number: int, *, at_once: bool = False, quiet: bool = False) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        delay = 0.0 if at_once else self.debounce.delay(time.monotonic())
        limit = self._limits.get(number, THREAD_PAGE)
        row = self.thread_list.known_row(number)
        if row is not None and not quiet:
            key = (number, row.thread.last_message_at.timestamp(), limit)
            cached = self._detail_cache.get(key)
            if cached is not None:
                self.thread_view.show(cached, self.gw.now())
                return
        if delay <= 0:
            self.load_thread(number, limit, False)
        else:

            def fire() -> None:
                self._preview_timer = None
                self.load_thread(number, limit, False)

            self._preview_timer = self.set_timer(delay, fire)

    @work(thread=True, exclusive=True, group="thread", exit_on_error=False)
    def load_thread(self, number: int, limit: int, keep_scroll: bool) -> None:
        try:
            detail = self.gw.thread(number, limit=limit)
        except SocialdeskError as exc:
            self.post_message(msg.ActionFailed("thread", exc.message, exc.hint))
            return
        self.post_message(msg.ThreadLoaded(detail, keep_scroll=keep_scroll))

    def on_thread_loaded(self, message: msg.ThreadLoaded) -> None:
        d = message.detail
        if d.thread.number != self.thread_list.current_number:
            return
        key = (d.thread.number, d.thread.last_message_at.timestamp(), d.limit)
        if len(self._detail_cache) > 64:
            self._detail_cache.clear()
        self._detail_cache[key] = d
        self.thread_view.show(d, self.gw.now(), keep_scroll=message.keep_scroll)

    # -- actions: moving ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, Input | TextArea) or self._focus_pending is not None
        return not (action in TEXT_ACTIONS and typing)

    def action_cursor(self, delta: int) -> None:
        self.thread_list.move(delta)

    def action_cursor_to(self, where: str) -> None:
        self.thread_list.move_to(0 if where == "first" else len(self.thread_list.numbers) - 1)

    def action_page(self, direction: int) -> None:
        height = max(1, self.thread_list.size.height - 1)
        self.thread_list.move(direction * height)

    def action_view(self, index: int) -> None:
        if 0 <= index < len(self.views):
            self.switch_view(self.views[index])

    def action_open(self) -> None:
        row = self.thread_list.current_row()
        if row is None:
            return
        self.gw.mark_seen(row.thread)
        self.thread_list.invalidate([row.thread.number])
        self._load_thread(row.thread.number, at_once=True)
        self.thread_view.focus()

    def action_older(self) -> None:
        number = self.thread_list.current_number
        if number is None:
            return
        d = self.thread_view.detail
        if d is None or not d.has_older:
            self.notify("No older messages.", timeout=2)
            return
        self._limits[number] = self._limits.get(number, THREAD_PAGE) + THREAD_PAGE
        self.load_thread(number, self._limits[number], True)

    # -- actions: replying ---------------------------------------------------------------------

    def action_reply(self) -> None:
        self._open_compose(private=False)

    def action_private_reply(self) -> None:
        row = self.thread_list.current_row()
        if row is not None and row.thread.channel not in (Channel.COMMENT, Channel.IG_COMMENT):
            self.notify("p: only a comment has a private reply; r replies here.", timeout=3)
            return
        self._open_compose(private=True)

    def _open_compose(self, *, private: bool) -> None:
        row = self.thread_list.current_row()
        if row is None:
            return
        number = row.thread.number
        draft = self.drafts.get(number)
        text = draft.text if draft is not None and draft.private == private else ""
        self.compose_box.open_for(number, private, text, self.gw.now())
        self._expect_focus(self.compose_box.area)
        self.gw.mark_seen(row.thread)
        self.thread_list.invalidate([number])
        self.load_preview(number, private)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, number: int, private: bool) -> None:
        try:
            preview = self.gw.preview(number, ReplyRequest(text="", private=private))
        except SocialdeskError as exc:
            self.post_message(msg.ActionFailed("preview", exc.message, exc.hint))
            return
        self.post_message(msg.PreviewLoaded(number, private, preview))

    def on_preview_loaded(self, message: msg.PreviewLoaded) -> None:
        cb = self.compose_box
        if cb.number == message.number and cb.private == message.private:
            cb.set_preview(message.preview, self.gw.now())

    def _save_draft(self) -> None:
        cb = self.compose_box
        if cb.is_open and cb.number is not None:
            if cb.text.strip():
                self.drafts[cb.number] = Draft(cb.text, cb.private)
            else:
                self.drafts.pop(cb.number, None)

    def unsent_drafts(self) -> int:
        self._save_draft()
        return sum(1 for d in self.drafts.values() if d.text.strip())

    @on(ComposeBox.Left)
    def _compose_left(self) -> None:
        self._save_draft()
        self.thread_list.focus()

    @on(ComposeBox.SendRequested)
    def _send(self, event: ComposeBox.SendRequested) -> None:
        number, text, private = event.number, event.text, event.private
        request = ReplyRequest(text=text, private=private, human_written=True)

        def job() -> None:
            outcome = self.gw.send(number, request)
            self.post_message(msg.SendDone(number, private, outcome))

        self.inbox_app.submit(job)

    def on_send_done(self, message: msg.SendDone) -> None:
        cb = self.compose_box
        mine = cb.number == message.number and cb.private == message.private
        if mine:
            cb.show_outcome(message.outcome)
        if message.outcome.state == "sent":
            self.notify(f"sent to #{message.number}", timeout=4, markup=False)
            self.drafts.pop(message.number, None)
            if mine:
                self.thread_list.focus()
            self._detail_cache.clear()
            self.thread_list.invalidate([message.number])
            if self.thread_list.current_number == message.number:
                self._load_thread(message.number, at_once=True, quiet=True)
            self.inbox_app.request_sync(soon=True)
        elif not mine:
            self.notify(
                f"reply to #{message.number}: {message.outcome.state}",
                severity="error",
                markup=False,
            )
        if mine:
            # After a send too: a private reply is then used, a window may have moved.
            self.load_preview(message.number, message.private)

    @on(ComposeBox.EditorRequested)
    def _editor(self, event: ComposeBox.EditorRequested) -> None:
        text = self.compose_box.text
        try:
            result = self._run_editor(text)
        except UsageError as exc:
            self.notify_error("editor", exc)
            return
        if result is not None:
            self.compose_box.set_text(result)
        self.compose_box.area.focus()

    def _run_editor(self, text: str) -> str | None:
        """The draft edited in ``$VISUAL``/``$EDITOR`` (a 0600 temp file, removed after)."""
        editor = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip()
        if not editor:
            raise UsageError("no editor: $VISUAL and $EDITOR are not set", hint="set EDITOR=nano")
        fd, name = tempfile.mkstemp(prefix="socialdesk-reply-", suffix=".txt")
        path = Path(name)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)

            def run() -> int:
                return subprocess.call([*shlex.split(editor), str(path)])

            try:
                with self.app.suspend():
                    rc = run()
            except SuspendNotSupported:
                if not self.app.is_headless:
                    raise UsageError("this terminal cannot hand over to an editor") from None
                rc = run()
            except OSError as exc:
                raise UsageError(f"cannot run the editor {editor!r}: {exc.strerror}") from exc
            if rc != 0:
                raise UsageError(f"the editor exited with status {rc}; the draft is unchanged")
            return path.read_text(encoding="utf-8", errors="replace").rstrip("\n")
        finally:
            path.unlink(missing_ok=True)

    @on(ComposeBox.TemplateRequested)
    def _template(self, event: ComposeBox.TemplateRequested) -> None:
        number = event.number

        def chosen(name: object) -> None:
            if not isinstance(name, str):
                return
            try:
                text = self.gw.render_template(name, number)
            except SocialdeskError as exc:
                self.notify_error("template", exc)
                return
            self.compose_box.insert(text)

        from socialdesk.tui.screens.prompts import TemplatePrompt

        self.app.push_screen(TemplatePrompt(self.gw.templates()), chosen)

    # -- actions: triage ---------------------------------------------------------------------------

    def _label(self) -> str:
        n = self.thread_list.current_number
        return f"#{n}" if n is not None else ""

    def _run_triage(
        self,
        what: str,
        fn: Callable[[], ActionResult],
        *,
        undo: bool = False,
        advance: bool = False,
    ) -> None:
        view_query = self.query_text

        def job() -> None:
            try:
                result = fn()
            except SocialdeskError as exc:
                self.post_message(msg.ActionFailed(what, exc.message, exc.hint))
                return
            self.post_message(
                msg.TriageDone(result, undo=undo, advance=advance, view_query=view_query)
            )

        self.inbox_app.submit(job)

    def on_triage_done(self, message: msg.TriageDone) -> None:
        r = message.result
        if r.undo is not None and not message.undo:
            self.undo_stack.push(r.undo)
        note = r.message + ("  (u undoes)" if r.undo is not None else "")
        self.notify(note, timeout=4, markup=False)
        for warning in r.warnings:
            # e.g. a snooze that wakes after the reply window closes (as `socialdesk snooze`).
            self.notify(warning, severity="warning", timeout=8, markup=False)
        tl = self.thread_list
        same_view = message.view_query == self.query_text
        anchor: int | None = None
        for n in r.changed:
            if same_view and not r.still_in_view.get(n, True):
                tl.drop(n)
            else:
                tl.invalidate([n])
        if message.undo and r.changed:
            anchor = r.changed[0]
        elif (
            message.advance
            and r.changed
            and same_view
            and r.still_in_view.get(r.changed[0], True)
            and tl.current_number == r.changed[0]
        ):
            tl.move(1)
        self._detail_cache.clear()
        self.refresh_data(anchor=anchor)
        current = tl.current_number
        if current is not None:
            self._load_thread(current, at_once=True, quiet=True)

    def action_done(self) -> None:
        n = self.thread_list.current_number
        if n is not None:
            self._run_triage(
                "done", lambda: self.gw.done([n], view_query=self.query_text), advance=True
            )

    def action_reopen(self) -> None:
        n = self.thread_list.current_number
        if n is not None:
            self._run_triage("reopen", lambda: self.gw.reopen([n], view_query=self.query_text))

    def action_snooze(self) -> None:
        n = self.thread_list.current_number
        if n is None:
            return
        q = self.query_text

        def chosen(until: object) -> None:
            from datetime import datetime

            if isinstance(until, datetime):
                self._run_triage(
                    "snooze", lambda: self.gw.snooze([n], until, view_query=q), advance=True
                )

        from socialdesk.tui.screens.prompts import SnoozePrompt

        self.app.push_screen(SnoozePrompt(self.gw.parse_snooze, f"#{n}"), chosen)

    def action_tag(self) -> None:
        row = self.thread_list.current_row()
        if row is None:
            return
        n = row.thread.number
        q = self.query_text

        def chosen(text: object) -> None:
            if not isinstance(text, str) or not text.strip():
                return
            add, remove = parse_tags(text)
            self._run_triage("tag", lambda: self.gw.tag([n], add, remove, view_query=q))

        from socialdesk.tui.screens.prompts import TagPrompt

        self.app.push_screen(TagPrompt(row.thread.tags, self.tag_names, f"#{n}"), chosen)

    def action_note(self) -> None:
        row = self.thread_list.current_row()
        if row is None:
            return
        n = row.thread.number
        q = self.query_text

        def chosen(text: object) -> None:
            if isinstance(text, str):
                self._run_triage("note", lambda: self.gw.note(n, text, view_query=q))

        from socialdesk.tui.screens.prompts import NotePrompt

        self.app.push_screen(NotePrompt(row.thread.note, f"#{n}"), chosen)

    def action_hide(self) -> None:
        row = self.thread_list.current_row()
        if row is None:
            return
        if row.thread.channel not in (Channel.COMMENT, Channel.IG_COMMENT):
            self.notify("h: only comments can be hidden on Facebook.", timeout=3)
            return
        th = row.thread
        hide = not th.is_hidden
        q = self.query_text
        question = Content.assemble(
            plain("Hide " if hide else "Unhide "),
            customer(th.customer.name or "this customer", single_line=True).stylize("bold"),
            plain(f"'s comment #{th.number} on Facebook?"),
        )

        def chosen(yes: object) -> None:
            if yes is True:
                self._run_triage("hide", lambda: self.gw.set_hidden(th.number, hide, view_query=q))

        from socialdesk.tui.screens.prompts import ConfirmPrompt

        self.app.push_screen(ConfirmPrompt(question), chosen)

    def action_undo(self) -> None:
        token = self.undo_stack.pop()
        if token is None:
            self.notify("Nothing to undo.", timeout=2)
            return
        q = self.query_text
        self._run_triage("undo", lambda: self.gw.undo(token, view_query=q), undo=True)

    def action_sync_now(self) -> None:
        self.inbox_app.request_sync(soon=False)

    def action_stats(self) -> None:
        from socialdesk.tui.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen(self.gw.stats))

    def go_to(self, number: int) -> None:
        """Put the cursor on thread ``number``: in this list if it is there, else in All."""
        tl = self.thread_list
        if number in tl.numbers:
            tl.move_to(tl.numbers.index(number))
            return
        try:
            self.gw.resolve(str(number))
        except SocialdeskError as exc:
            self.notify_error("go to", exc)
            return
        self._pending_anchor = number
        self.switch_view(next(v for v in self.views if v.key == "all"))
        self._pending_anchor = number

    # -- search -----------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search_input.display = True
        self.search_error.display = True
        self.search_input.value = self.search or ""
        self._expect_focus(self.search_input)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        text = event.value
        try:
            self.gw.check_query(text)
        except QueryError as exc:
            caret = " " * exc.start + "^" * max(1, exc.end - exc.start)
            self.search_error.update(
                Content.assemble(
                    plain(caret + " ", "bold $error"), customer(exc.message, single_line=True)
                )
            )
            return
        except UsageError as exc:
            self.search_error.update(customer(exc.message, single_line=True).stylize("$error"))
            return
        self.search_error.update(plain("enter: search · esc: back to the view", "$text-muted"))

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._end_search()
            return
        try:
            self.gw.check_query(text)
        except UsageError:
            return
        self._save_draft()
        self.search = text
        self._first_page()
        self.search_error.display = False
        self.thread_list.focus()

    def _end_search(self) -> None:
        self.search = None
        self.search_input.display = False
        self.search_error.display = False
        self._first_page()
        self.thread_list.focus()

    def on_key(self, event: events.Key) -> None:
        # Between `r` (or `/`) and the text box really taking the focus (after the next
        # refresh), fast typing must still land in the box, never run a single-letter command.
        target = self._focus_pending
        if target is None and not isinstance(self.focused, Input | TextArea):
            # The keys that open a text box run here, as the key arrives, not later as a
            # binding: the keys typed right after them then already find the box waiting.
            opener = self._openers().get(event.key)
            if opener is not None:
                event.stop()
                event.prevent_default()
                opener()
            return
        if target is None or not event.is_printable or event.character is None:
            return
        event.stop()
        event.prevent_default()
        if isinstance(target, TextArea):
            target.insert(event.character)
        else:
            target.insert_text_at_cursor(event.character)

    def _openers(self) -> dict[str, Callable[[], None]]:
        keys = self.inbox_app.keys_in_force()
        out: dict[str, Callable[[], None]] = {}
        for action_id, run in (
            ("reply", self.action_reply),
            ("private-reply", self.action_private_reply),
            ("search", self.action_search),
        ):
            for key in keys[action_id].split(","):
                out[key.strip()] = run
        return out

    def _expect_focus(self, widget: Input | TextArea) -> None:
        self._focus_pending = widget

        def give_up() -> None:  # the focus never landed (the box closed meanwhile)
            if self._focus_pending is widget:
                self._focus_pending = None

        widget.focus()
        self.set_timer(1.0, give_up)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget is self._focus_pending:
            self._focus_pending = None

    def key_escape(self) -> None:
        searching = self.search is not None and self.focused is self.thread_list
        if self.focused is self.search_input or searching:
            self._end_search()
        elif self.focused is self.thread_view:
            self.thread_list.focus()

    # -- errors -----------------------------------------------------------------------------------

    def notify_error(self, what: str, exc: SocialdeskError) -> None:
        self.show_failure(msg.ActionFailed(what, exc.message, exc.hint))

    def on_action_failed(self, message: msg.ActionFailed) -> None:
        self.show_failure(message)

    def show_failure(self, message: msg.ActionFailed) -> None:
        # notify() with markup=False shows the string literally; it is cleaned first.
        self.notify(
            customer_plain(
                f"{message.what}: {message.message}"
                + (f" — {message.hint}" if message.hint else "")
            ),
            severity="error",
            timeout=8,
            markup=False,
        )
