"""Customer text as Textual objects, and the small formatting words of the inbox.

Called by every widget and screen of :mod:`socialdesk.tui` that shows text a customer (or the
API) wrote: names, snippets, messages, post texts, attachment names, tags, notes, error messages
quoting API text. :func:`customer` is THE way such text reaches Textual: it runs
:func:`socialdesk.sanitize.clean` (escape sequences and control bytes removed, bidi and
zero-width characters made visible) and wraps the result in a :class:`~textual.content.Content`,
which Textual never parses as markup. A ``str`` handed to ``Static``, ``Label``, ``notify`` or a
border title would be parsed as markup (``[@click=app.quit]`` becomes an action), so widgets
never do that with customer text; ``tests/tui/test_text_boundary.py`` enforces it.

The rest are pure helpers (ages, window labels, fixed-width cells) with no customer text
semantics of their own; they work on already-cleaned strings.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, set_cell_size
from textual.content import Content

from socialdesk.sanitize import clean, editable

__all__ = [
    "customer",
    "customer_lines",
    "customer_plain",
    "editable_text",
    "fit",
    "human_age",
    "human_left",
    "plain",
]


def customer_plain(text: str | None, *, single_line: bool = True) -> str:
    """Customer text cleaned for display, as a ``str`` for column maths (never shown as-is).

    Used directly only where Textual takes no ``Content``: the thread list draws rows as
    ``Segment``s (never parsed as markup) and measures the cleaned text; ``notify`` is given
    it with ``markup=False``.
    """
    return clean(text or "", single_line=single_line)


def editable_text(text: str | None) -> str:
    """Text fit to stand in an input box (a paste, a stored note): escape sequences, controls
    and invisible characters removed, lines kept (``sanitize.editable``). A box echoes its
    value to the terminal as it is, so nothing else may go in one."""
    return editable(text or "")


def customer(text: str | None, *, single_line: bool = False, style: str = "") -> Content:
    """Customer text as a :class:`Content`: cleaned, literal, never markup."""
    return Content.styled(customer_plain(text, single_line=single_line), style)


def customer_lines(text: str | None, *, style: str = "") -> list[Content]:
    """Multi-line customer text as one :class:`Content` per line (for indenting)."""
    return [
        Content.styled(line, style) for line in customer_plain(text, single_line=False).split("\n")
    ]


def plain(text: str, style: str = "") -> Content:
    """Our own text (labels, keys) as a literal :class:`Content` (no markup parsing either)."""
    return Content.styled(text, style)


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` cells (wide characters count two).

    A cut ends in ``…`` so the operator sees that something was left out.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def human_age(then: datetime | None, now: datetime) -> str:
    """A compact age: ``now``, ``5m``, ``3h``, ``2d``, ``6w``, ``1y``."""
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    return _compact(seconds) if seconds >= 60 else "now"


def human_left(until: datetime, now: datetime) -> str:
    """Time left until ``until``, compact (``23h``, ``9m``, ``6d``); ``<1m`` when nearly out."""
    seconds = int((until - now).total_seconds())
    if seconds < 60:
        return "<1m"
    return _compact(seconds)


def _compact(seconds: int) -> str:
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600)):
        if seconds >= size * (2 if unit in ("y", "w") else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"
