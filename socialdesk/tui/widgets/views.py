"""The views sidebar: Awaiting reply, Open, Snoozed, Done, All, each tag, saved views, counts.

Used by :mod:`socialdesk.tui.screens.inbox` (hidden below 100 columns; 1-9 still switch views).
Given the :class:`~socialdesk.tui.gateway.ViewSpec` list and counts; tag and view names pass
:func:`socialdesk.tui.text.customer` (a tag may hold ``[``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from socialdesk.tui.text import customer, customer_plain, fit, plain

if TYPE_CHECKING:
    from socialdesk.tui.gateway import ViewSpec


class ViewsSidebar(OptionList):
    """The list of views with their counts."""

    DEFAULT_CSS = """
    ViewsSidebar { width: 26; border: none; border-right: solid $panel; padding: 0; }
    """

    class Chosen(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.views: list[ViewSpec] = []

    def set_views(
        self, views: Sequence[ViewSpec], counts: Mapping[str, int | None], current: str
    ) -> None:
        self.views = list(views)
        self.clear_options()
        width = 22
        for i, v in enumerate(self.views):
            n = counts.get(v.key, -1)
            count = "…" if n == -1 else "!" if n is None else f"{n:,}"
            key = f"{i + 1} " if i < 9 else "  "
            room = width - len(key) - len(count) - 1
            title = customer(fit(customer_plain(v.title), room), single_line=True)
            prompt = Content.assemble(
                plain(key, "$text-muted"),
                title.stylize("bold") if v.key == current else title,
                plain(" "),
                plain(count, "$text-muted"),
            )
            self.add_option(Option(prompt, id=v.key))
        for i, v in enumerate(self.views):
            if v.key == current:
                self.highlighted = i

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(event.option.id))
