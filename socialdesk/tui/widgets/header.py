"""The header line: the Page, the last sync, API headroom, failed edges, sync state, notes.

Used by :mod:`socialdesk.tui.screens.inbox`; it is given a
:class:`~socialdesk.tui.gateway.HeaderState` and the sync state, and queries nothing. Error texts
quoting the API pass :func:`socialdesk.tui.text.customer`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from socialdesk.tui.text import customer, human_age, plain

if TYPE_CHECKING:
    from socialdesk.tui.gateway import HeaderState


class InboxHeader(Static):
    """One line at the top of the inbox."""

    DEFAULT_CSS = """
    InboxHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, page_title: str, *, id: str | None = None) -> None:
        super().__init__(plain(""), id=id)
        self.page_title = page_title
        self.state: HeaderState | None = None
        self.syncing: str | None = None
        self.problem: tuple[str, str | None] | None = None
        self.stopped = False

    def show(self, now: datetime) -> None:
        """Redraw with the current facts."""
        parts: list[Content] = [customer(self.page_title, single_line=True).stylize("bold")]
        st = self.state
        if self.syncing is not None:
            parts.append(plain(f"  ⟳ {self.syncing}", "$accent"))
        elif st is not None and st.last_sync_at is not None:
            age = human_age(st.last_sync_at, now)
            when = "just now" if age == "now" else f"{age} ago"
            parts.append(plain(f"  synced {when}", "$text-muted"))
        elif st is not None:
            parts.append(plain("  never synced", "$warning"))
        if st is not None and st.headroom is not None:
            style = (
                "$error" if st.headroom < 10 else "$warning" if st.headroom < 25 else "$text-muted"
            )
            parts.append(plain(f"  API {st.headroom}% free", style))
        if self.problem is not None:
            message, hint = self.problem
            parts += [
                plain("  ⚠ ", "bold $error"),
                customer(message, single_line=True).stylize("$error"),
            ]
            if hint:
                parts += [plain(" — "), customer(hint, single_line=True)]
        elif st is not None and st.failed:
            edges = ", ".join(edge for edge, _ in st.failed)
            first = st.failed[0][1]
            parts += [
                plain(f"  ⚠ {edges} failed: ", "bold $error"),
                customer(first, single_line=True),
            ]
        if self.stopped:
            parts.append(plain("  (background sync stopped)", "$error"))
        self.update(Content.assemble(*parts))
