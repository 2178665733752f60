"""The inbox's action table: every key, what it does, where it applies (the one source).

Called by the app and screens (their ``BINDINGS`` are built here), the help screen (generated
from :data:`ACTIONS` and the active keymap), the command palette (every action is listed) and the
config check of ``[keys]`` (:func:`keymap_from_config`). Every binding carries an ``id`` equal to
its action id, so ``[keys] done = "e,d"`` remaps it through :meth:`textual.app.App.set_keymap`.

Single-letter keys are never ``priority`` bindings: a focused text box gets the key first, so
typing "e" in a reply never marks the thread done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

Context = Literal["app", "inbox", "compose"]


@dataclass(frozen=True)
class Action:
    """One remappable action."""

    id: str
    """Binding id and ``[keys]`` name."""
    keys: str
    """Default keys, comma-separated (Textual key names)."""
    action: str
    """The Textual action string run by the binding."""
    title: str
    """Short footer/palette label."""
    help: str
    """One sentence for the help screen and the palette."""
    context: Context
    footer: bool = False
    """Shown in the footer (only the essentials fit at 80 columns)."""
    priority: bool = False


def _view(n: int) -> Action:
    return Action(
        f"view-{n}",
        str(n),
        f"view({n - 1})",
        f"View {n}",
        f"Show view {n} of the sidebar",
        "inbox",
    )


ACTIONS: tuple[Action, ...] = (
    Action("next", "j,down", "cursor(1)", "Next", "Move to the next thread", "inbox"),
    Action("previous", "k,up", "cursor(-1)", "Previous", "Move to the previous thread", "inbox"),
    Action("first", "g,home", "cursor_to('first')", "First", "Go to the first thread", "inbox"),
    Action("last", "G,end", "cursor_to('last')", "Last", "Go to the last thread", "inbox"),
    Action("page-down", "ctrl+d,pagedown", "page(1)", "Page down", "Move a page down", "inbox"),
    Action("page-up", "ctrl+u,pageup", "page(-1)", "Page up", "Move a page up", "inbox"),
    Action("open", "enter", "open", "Open", "Open the thread and mark it seen", "inbox"),
    Action("reply", "r", "reply", "Reply", "Write a reply in the compose box", "inbox", True),
    Action(
        "private-reply",
        "p",
        "private_reply",
        "Private",
        "Answer a comment privately (one Messenger message, within 7 days)",
        "inbox",
    ),
    Action("done", "e", "done", "Done", "Mark done and move to the next thread", "inbox", True),
    Action("reopen", "O", "reopen", "Reopen", "Reopen a done or snoozed thread", "inbox"),
    Action(
        "snooze", "z", "snooze", "Snooze", "Snooze until a time (presets or typed)", "inbox", True
    ),
    Action("tag", "t", "tag", "Tag", "Add or remove tags (+vip -refund)", "inbox", True),
    Action("note", "n", "note", "Note", "Write the thread's note", "inbox"),
    Action(
        "hide", "h", "hide", "Hide", "Hide or unhide a comment on Facebook (asks first)", "inbox"
    ),
    Action("search", "slash", "search", "Search", "Search with the query language", "inbox", True),
    Action("sync", "s", "sync_now", "Sync", "Sync now", "inbox"),
    Action("undo", "u", "undo", "Undo", "Undo the last triage action", "inbox", True),
    Action("older", "left_square_bracket", "older", "Older", "Load older messages", "inbox"),
    Action("stats", "S", "stats", "Stats", "Response statistics of the last 30 days", "inbox"),
    *(_view(n) for n in range(1, 10)),
    Action("help", "question_mark", "help", "Help", "Show every key", "app", True),
    Action(
        "quit", "q", "quit_inbox", "Quit", "Quit (asks when a draft would be lost)", "app", True
    ),
    Action("send", "ctrl+s", "send", "Send", "Send the reply", "compose", True, True),
    Action(
        "editor",
        "ctrl+e",
        "editor",
        "Editor",
        "Write the reply in $VISUAL/$EDITOR",
        "compose",
        True,
        True,
    ),
    Action(
        "template",
        "ctrl+t",
        "template",
        "Template",
        "Insert a saved reply (name filled in)",
        "compose",
        True,
        True,
    ),
    Action(
        "leave",
        "escape",
        "leave",
        "Leave",
        "Leave the compose box (the draft stays)",
        "compose",
        True,
    ),
)
"""Every action, in help order."""

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}


def bindings(context: Context) -> list[Binding]:
    """The Textual bindings of one context, each with its action id as binding id."""
    return [
        Binding(
            a.keys,
            a.action,
            a.title,
            show=a.footer,
            priority=a.priority,
            id=a.id,
            tooltip=a.help,
        )
        for a in ACTIONS
        if a.context == context
    ]


class KeymapError(ValueError):
    """A ``[keys]`` entry names no action."""


def keymap_from_config(keys: Mapping[str, str]) -> dict[str, str]:
    """``[keys]`` as a Textual keymap; :class:`KeymapError` naming an unknown action."""
    unknown = sorted(k for k in keys if k not in BY_ID)
    if unknown:
        known = ", ".join(sorted(BY_ID))
        raise KeymapError(f"[keys]: unknown action {unknown[0]!r} (actions: {known})")
    return {k: ",".join(part.strip() for part in v.split(",")) for k, v in keys.items()}


def active_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """Every action id → the keys in force (the keymap over the defaults)."""
    return {a.id: keymap.get(a.id, a.keys) for a in ACTIONS}


_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "left_square_bracket": "[",
    "escape": "esc",
    "pagedown": "pgdn",
    "pageup": "pgup",
}


def display(keys: str) -> str:
    """Keys as a person reads them: ``j/↓``, ``ctrl+s``, ``/``."""
    out = []
    for key in keys.split(","):
        k = key.strip()
        out.append({"down": "↓", "up": "↑"}.get(k, _KEY_NAMES.get(k, k)))
    return "/".join(out)
