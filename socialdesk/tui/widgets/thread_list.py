"""The virtual thread list: a Line-API ``ScrollView`` that draws only the rows on screen.

Used by :mod:`socialdesk.tui.screens.inbox`. It holds the ordered thread numbers of the view
(a plain ``list[int]``, ~0.8 MB for 100k threads) and asks its row source (given by the screen,
backed by ``Gateway.rows_by_number``) for the rows it is about to draw, a page of 64 at a time,
kept in a bounded cache. It never mounts a widget or a table row per thread (research/TUI.md
§2: a DataTable takes 19 s to paint 100k rows; this paints in ~20 ms).

Each row: cursor marker (``▶``), unread marker (``●``), ``#number``, channel icon, customer,
snippet, tags, age, and the time left in the reply window. Customer text is cleaned by
:func:`socialdesk.tui.text.customer_plain` and drawn as ``Segment``s, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from socialdesk.models import Channel, WindowKind
from socialdesk.tui.text import customer_plain, fit, human_age, human_left

if TYPE_CHECKING:
    from socialdesk.tui.gateway import ThreadRow

RowSource = Callable[[Sequence[int]], "list[ThreadRow]"]

PAGE = 64
CACHE_ROWS = 4096

ICONS: dict[Channel, str] = {
    Channel.DM: "✉",
    Channel.COMMENT: "✎",
    Channel.IG_DM: "◉",
    Channel.IG_COMMENT: "◌",
}
"""One-cell icons (no emoji presentation, whose width terminals disagree about)."""

CURSOR_MARK = "▶"
AGE_W = 5
"""The age column (``23h``, ``6d``, ``11w``)."""
WINDOW_W = 9
"""The window column: time left and which window (``23h agent``, ``6d priv``)."""
LEGEND = "waits".rjust(AGE_W) + " " + "window".ljust(WINDOW_W)
"""The list title's right end: the names of the two right-hand columns, aligned with them."""


def window_cell(row: ThreadRow, now: datetime) -> tuple[str, str]:
    """The window column's text and its component class suffix (``ok``, ``soon``, ``closed``)."""
    w = row.window
    if w.kind is WindowKind.CLOSED:
        return "closed", "closed"
    if w.kind is WindowKind.PUBLIC or w.closes_at is None:
        return "public", "ok"
    left = human_left(w.closes_at, now)
    seconds = (w.closes_at - now).total_seconds()
    suffix = {WindowKind.HUMAN_AGENT: " agent", WindowKind.PRIVATE_REPLY: " priv"}.get(w.kind, "")
    return left + suffix, "soon" if seconds < 2 * 3600 else "ok"


class ThreadList(ScrollView, can_focus=True):
    """The list of the current view's threads (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "threadlist--cursor",
        "threadlist--cursor-blurred",
        "threadlist--unread",
        "threadlist--dim",
        "threadlist--soon",
        "threadlist--closed",
        "threadlist--tags",
        "threadlist--who",
    }

    DEFAULT_CSS = """
    ThreadList { background: $surface; overflow-x: hidden; }
    ThreadList > .threadlist--cursor { background: $accent 40%; text-style: bold; }
    ThreadList > .threadlist--cursor-blurred { background: $panel; }
    ThreadList > .threadlist--unread { color: $warning; text-style: bold; }
    ThreadList > .threadlist--dim { color: $text-muted; }
    ThreadList > .threadlist--soon { color: $error; text-style: bold; }
    ThreadList > .threadlist--closed { color: $text-disabled; }
    ThreadList > .threadlist--tags { color: $secondary; }
    ThreadList > .threadlist--who { text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        """The cursor moved onto thread ``number`` (None: the list is empty)."""

        def __init__(self, number: int | None) -> None:
            super().__init__()
            self.number = number

    class Selected(Message):
        """Enter on thread ``number``."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(
        self,
        source: RowSource,
        clock: Callable[[], datetime],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._source = source
        self._clock = clock
        self.numbers: list[int] = []
        self._rows: dict[int, ThreadRow] = {}
        self._strips: dict[tuple[int, int, bool, int, bool], Strip] = {}
        self._now = clock()

    # -- data -------------------------------------------------------------------------------

    def set_numbers(
        self,
        numbers: list[int],
        *,
        rows: Sequence[ThreadRow] = (),
        cursor: int = 0,
        scroll: int | None = None,
        keep_rows: bool = False,
    ) -> None:
        """Show ``numbers`` (rows already known may come along); cursor and scroll as given."""
        self.numbers = numbers
        if not keep_rows:
            self._rows.clear()
        for r in rows:
            self._rows[r.thread.number] = r
        self._strips.clear()
        self._now = self._clock()
        self.virtual_size = Size(self.size.width, len(numbers))
        cursor = min(max(cursor, 0), max(len(numbers) - 1, 0))
        self.set_reactive(ThreadList.cursor, cursor)
        target = scroll if scroll is not None else self.scroll_offset.y
        self.scroll_to(y=target, animate=False, immediate=True)
        self._keep_visible()
        self.refresh()
        self.post_message(self.Highlighted(self.current_number))

    def invalidate(self, numbers: Sequence[int] | None = None) -> None:
        """Drop cached rows (all, or these) so they are read again; redraw."""
        if numbers is None:
            self._rows.clear()
        else:
            for n in numbers:
                self._rows.pop(n, None)
        self._strips.clear()
        self._now = self._clock()
        self.refresh()

    def update_row(self, row: ThreadRow) -> None:
        """Replace one row's data (after a triage action on it)."""
        self._rows[row.thread.number] = row
        self._strips.clear()
        self.refresh()

    def drop(self, number: int) -> None:
        """Take a thread out of the list locally (it left the view); the cursor stays put."""
        try:
            index = self.numbers.index(number)
        except ValueError:
            return
        self.numbers = self.numbers[:index] + self.numbers[index + 1 :]
        cursor = self.cursor
        if index < cursor:
            cursor -= 1
        self.set_numbers(self.numbers, cursor=cursor, keep_rows=True)

    @property
    def current_number(self) -> int | None:
        """The thread number under the cursor."""
        if 0 <= self.cursor < len(self.numbers):
            return self.numbers[self.cursor]
        return None

    def current_row(self) -> ThreadRow | None:
        """The row under the cursor (read if not cached)."""
        n = self.current_number
        return None if n is None else self._row(self.cursor)

    def known_row(self, number: int) -> ThreadRow | None:
        """A cached row, if this number's row was read already."""
        return self._rows.get(number)

    def _row(self, index: int) -> ThreadRow | None:
        number = self.numbers[index]
        row = self._rows.get(number)
        if row is not None:
            return row
        start = index - index % PAGE
        wanted = [n for n in self.numbers[start : start + PAGE] if n not in self._rows]
        if len(self._rows) + len(wanted) > CACHE_ROWS:
            self._rows.clear()
            wanted = self.numbers[start : start + PAGE]
        for r in self._source(wanted):
            self._rows[r.thread.number] = r
        return self._rows.get(number)

    # -- cursor -----------------------------------------------------------------------------

    def move(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows (clamped)."""
        if not self.numbers:
            return
        self.cursor = min(max(self.cursor + delta, 0), len(self.numbers) - 1)

    def move_to(self, index: int) -> None:
        if self.numbers:
            self.cursor = min(max(index, 0), len(self.numbers) - 1)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self._keep_visible()
        self.post_message(self.Highlighted(self.current_number))

    def _keep_visible(self) -> None:
        height = self.scrollable_content_region.height or self.size.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.numbers))
        self._strips.clear()
        self._keep_visible()

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            self.move_to(self.scroll_offset.y + y)

    def tick(self) -> None:
        """Ages and windows move on: redraw with the current time."""
        self._strips.clear()
        self._now = self._clock()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self.numbers) or width <= 0:
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.cursor
        key = (index, self.numbers[index], is_cursor, width, self.has_focus)
        strip = self._strips.get(key)
        if strip is None:
            row = self._row(index)
            strip = self._format(row, width, is_cursor) if row is not None else Strip.blank(width)
            if len(self._strips) > 512:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _format(self, row: ThreadRow, width: int, is_cursor: bool) -> Strip:
        th = row.thread
        base = self.rich_style
        if is_cursor:
            name = "threadlist--cursor" if self.has_focus else "threadlist--cursor-blurred"
            base = base + self.get_component_rich_style(name)

        def st(name: str) -> Style:
            return base + self.get_component_rich_style(name)

        win_text, win_class = window_cell(row, self._now)
        age = human_age(th.request_at or th.last_message_at, self._now)
        tags = customer_plain(" ".join(f"#{t}" for t in th.tags))
        tag_w = min(len(tags), 14) if tags and width >= 60 else 0
        # The number, icon, age and window always fit; the rest is shared by the customer
        # (a third, 10-18 columns) and the snippet, which gets what is left.
        fixed = 2 + 7 + 2 + 1 + AGE_W + 1 + WINDOW_W + (tag_w + 1 if tag_w else 0)
        rest = max(0, width - fixed)
        who_w = min(18, max(10, rest // 3))
        snip_w = max(0, rest - who_w - 1)
        who = customer_plain(th.customer.name or th.customer.id or "unknown")
        snippet = customer_plain(th.snippet)
        segs = [
            Segment(CURSOR_MARK if is_cursor else " ", base),
            Segment("●" if row.unread else " ", st("threadlist--unread")),
            Segment(fit(f"#{th.number}", 6) + " ", st("threadlist--dim")),
            Segment(ICONS.get(th.channel, "?") + " ", base),
            Segment(fit(who, who_w) + " ", st("threadlist--who")),
            Segment(
                fit(snippet, snip_w) + " ", base if th.awaiting_reply else st("threadlist--dim")
            ),
        ]
        if tag_w:
            segs.append(Segment(fit(tags, tag_w) + " ", st("threadlist--tags")))
        segs += [
            Segment(fit(age.rjust(AGE_W), AGE_W) + " ", st("threadlist--dim")),
            Segment(
                fit(win_text, WINDOW_W),
                st("threadlist--soon")
                if win_class == "soon"
                else st("threadlist--closed")
                if win_class == "closed"
                else base,
            ),
        ]
        return Strip(segs).crop_extend(0, width, base)
