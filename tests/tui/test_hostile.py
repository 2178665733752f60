"""Customer text is data: the hostile demo customer's escapes never reach the terminal bytes,
and markup-like text shows literally everywhere (list, thread, sidebar, palette).

The frames Textual hands to its driver are rendered to the exact bytes a terminal would get
(``CompositorUpdate.render_segments``, which headless mode otherwise skips) and scanned: after
Textual's own colour and cursor-position sequences are taken out, no ESC, BEL, C1 control or
OSC payload may be left (research/TUI.md §6).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual._compositor import CompositorUpdate
from textual.app import App

from socialdesk.sandbox.demo import HOSTILE_NAME
from socialdesk.tui.app import InboxApp

from .conftest import NOW, Inbox
from .helpers import find, select, settle

CLICK = "[@click=app.quit]Eve[/]"
"""A name that would be a clickable quit action if it were parsed as markup."""

# Textual's own output: SGR colours/styles, absolute cursor moves, and the few private modes
# it toggles (cursor visibility, synchronized output, mouse and focus reporting).
_TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\?[0-9;]+[hl]")


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every frame's terminal bytes, as the driver would write them."""
    out: list[str] = []
    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            out.append(renderable.render_segments(self.console))

    monkeypatch.setattr(App, "_display", display)
    return out


def _visible(frames: list[str]) -> str:
    return "".join(_TEXTUAL_OWN.sub("", f) for f in frames)


async def test_hostile_text_never_reaches_the_terminal(inbox: Inbox, frames: list[str]) -> None:
    sb, gw = inbox.sandbox, inbox.gateway
    eve = sb.add_user(CLICK)
    sb.add_message(inbox.page_id, eve, "[URGENT] [/b] [@click=app.bell]ring[/]", at=NOW)
    gw.sync_round()
    hostile_dm = find(
        gw, lambda r: r.thread.customer.name == HOSTILE_NAME and r.thread.channel == "dm"
    )
    hostile_comment = find(
        gw, lambda r: r.thread.customer.name == HOSTILE_NAME and r.thread.channel == "comment"
    )
    gw.tag([hostile_dm.thread.number], ["[@click=app.quit]x[/]"])

    app = InboxApp(gw, sync_on_start=False, background_sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, hostile_dm.thread.number)
        await pilot.press("enter")
        await settle(pilot, app)
        await select(pilot, app, hostile_comment.thread.number)
        await pilot.press("r")  # the compose header names the customer
        await settle(pilot, app)
        await pilot.press("escape", "ctrl+p")
        await settle(pilot, app)
        await pilot.press("V", "i", "e", "w")  # palette hits include the tag view's title
        await settle(pilot, app)
        await pilot.press("escape")
        eve_row = find(gw, lambda r: r.thread.customer.name == CLICK)
        await select(pilot, app, eve_row.thread.number)
        assert app.is_running  # nothing clicked itself into app.quit

    assert frames, "no frame was captured"
    shown = _visible(frames)
    for bad in ("\x1b", "\x07", "\x9b", "\x90", "\x9d", "]52;", "\u202e"):
        assert bad not in shown, f"{bad!r} reached the terminal"
    assert "YOUR SCREEN IS MINE" in shown  # the text is there, its escapes are not
    assert "⟨U+202E⟩" in shown  # the bidi override is shown, not obeyed
    # Markup-like text is literal (the pane wraps "[bold red]" at its space).
    assert "red]markup[/bold red]" in shown
    assert CLICK in shown
    assert "[@click=app.bell]ring[/]" in shown
    assert "#[@click=app.quit]x[/]" in shown  # the tag's view in the sidebar / palette
