"""The command palette (ctrl+p): every action of the key table, every view, ``#N`` to jump.

Registered on :class:`socialdesk.tui.app.InboxApp`. Hits are displayed as ``Content`` built by
:mod:`socialdesk.tui.text` (a view may be named after a tag holding ``[``), never as strings the
palette would parse as markup (``Matcher.highlight`` parses its candidate as markup, and a
hit's help string is markup too: it is escaped).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Provider
from textual.markup import escape

from socialdesk.tui.keys import ACTIONS, display
from socialdesk.tui.text import customer, customer_plain, plain

if TYPE_CHECKING:
    from socialdesk.tui.screens.inbox import InboxScreen

_NUMBER = re.compile(r"^#?(\d{1,9})$")


class InboxCommands(Provider):
    """Actions, views, and "go to #N"."""

    def _inbox(self) -> InboxScreen | None:
        from socialdesk.tui.screens.inbox import InboxScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, InboxScreen):
                return screen
        return None

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        inbox = self._inbox()
        out: list[tuple[str, Callable[[], object], str]] = []
        if inbox is None:
            return out
        keymap = getattr(self.app, "active_keymap", {})
        for a in ACTIONS:
            if a.id.startswith("view-"):
                continue
            keys = display(keymap.get(a.id, a.keys))
            target = (
                inbox
                if a.context == "inbox"
                else inbox.compose_box
                if a.context == "compose"
                else self.app
            )

            def run(action: str = a.action, node: object = target) -> None:
                self.app.call_later(self.app.run_action, action, node)

            out.append((customer_plain(f"{a.title} ({keys})"), run, a.help))
        for i, v in enumerate(inbox.views):

            def switch(view: object = v) -> None:
                inbox.switch_view(view)  # type: ignore[arg-type]

            out.append(
                (
                    customer_plain(f"View: {v.title}" + (f" ({i + 1})" if i < 9 else "")),
                    switch,
                    customer_plain(v.query or "all threads"),
                )
            )
        return out

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        for title, run, help_text in self._entries():
            yield DiscoveryHit(
                customer(title, single_line=True), run, text=title, help=escape(help_text)
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        inbox = self._inbox()
        m = _NUMBER.match(query.strip())
        if inbox is not None and m:
            number = int(m.group(1))

            def jump() -> None:
                inbox.go_to(number)

            yield Hit(1.0, plain(f"Go to thread #{number}"), jump, text=f"#{number}")
        matcher = self.matcher(query)
        for title, run, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    customer(title, single_line=True),
                    run,
                    text=title,
                    help=escape(help_text),
                )
