"""The help screen, generated from the action table and the keymap in force.

Pushed by ``?`` (and the palette). Remapped keys (config ``[keys]``) show as they are remapped,
so the help never lies about a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from socialdesk.tui.keys import ACTIONS, active_keys, display
from socialdesk.tui.screens.once import OnceModalScreen
from socialdesk.tui.text import fit, plain
from socialdesk.tui.widgets.thread_list import ICONS
from socialdesk.tui.widgets.thread_view import CHANNEL_NAMES

if TYPE_CHECKING:
    from textual.app import ComposeResult

SECTIONS = (("inbox", "In the inbox"), ("compose", "In the compose box"), ("app", "Everywhere"))


def help_content(keymap: Mapping[str, str]) -> Content:
    """Every action with its keys, by context."""
    keys = active_keys(keymap)
    lines: list[Content] = [
        plain("socialdesk inbox: keys", "bold"),
        plain('Remap any of them in config.toml, e.g. [keys] done = "e,d"', "$text-muted"),
        plain(""),
    ]
    for context, title in SECTIONS:
        lines.append(plain(title, "bold $accent"))
        for a in ACTIONS:
            if a.context != context or (a.id.startswith("view-") and a.id != "view-1"):
                continue
            shown = display(keys[a.id])
            label = a.help
            if a.id == "view-1":
                shown, label = "1…9", "Switch to view 1-9 of the sidebar"
            lines.append(Content.assemble(plain("  " + fit(shown, 16), "bold"), plain(label)))
        lines.append(plain(""))
    lines.append(plain("The thread list", "bold $accent"))
    icons = "  ".join(f"{ICONS[c]} {CHANNEL_NAMES[c]}" for c in ICONS)
    lines.append(plain(f"  {icons}"))
    lines.append(
        plain(
            "  ● unread · waits: since the customer wrote · window: time left to reply "
            "(priv: a comment's private reply, agent: Human Agent; closed: only a tag could "
            "reach them)"
        )
    )
    lines.append(
        plain("  1…9 switch views; below 100 columns the views sidebar is hidden", "$text-muted")
    )
    lines.append(plain(""))
    lines.append(
        plain("ctrl+p opens the command palette: every action, views, #N to jump.", "$text-muted")
    )
    return Content("\n").join(lines)


class HelpScreen(OnceModalScreen[None]):
    """Every key (esc, q or ? closes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; max-width: 100%; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_content(self._keymap))

    def action_close(self) -> None:
        self.dismiss(None)
