"""Small modal prompts: snooze, tag, note, confirm, template choice.

Pushed by :mod:`socialdesk.tui.screens.inbox`; each returns its answer through ``dismiss`` (or
``None`` when cancelled with Escape). They are given what they need (a time parser, the existing
tags, the current note) and call nothing below the UI themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.suggester import Suggester
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from socialdesk.errors import SocialdeskError
from socialdesk.tui.screens.once import OnceModalScreen
from socialdesk.tui.state import SNOOZE_PRESETS
from socialdesk.tui.text import customer, editable_text, plain

if TYPE_CHECKING:
    from textual.app import ComposeResult


class _Prompt(OnceModalScreen[object]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    _Prompt { align: center middle; }
    _Prompt > Vertical { width: 64; max-width: 96%; height: auto; border: round $accent;
                         background: $surface; padding: 0 1; }
    _Prompt .prompt-title { text-style: bold; }
    _Prompt .prompt-error { color: $error; height: auto; }
    _Prompt .prompt-help { color: $text-muted; }
    """

    def action_cancel(self) -> None:
        self.dismiss(None)


class SnoozePrompt(_Prompt):
    """A typed time (``2h``, ``tomorrow 9:00``, ``fri 14:00``, ISO), or a preset.

    The time box has the focus, so what is typed is a time (``2h`` never leaks an ``h`` to the
    inbox); Enter on an empty box takes the highlighted preset (the first: ``z Enter`` snoozes
    an hour); ↓ moves into the presets, where 1-5 pick one.
    """

    def __init__(self, parse: Callable[[str], datetime], label: str) -> None:
        super().__init__()
        self._parse = parse
        self._label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Snooze {self._label} until…"), classes="prompt-title")
            yield Input(
                placeholder="a time: 2h, tomorrow 9:00, mon 14:00, 2026-05-01", id="snooze-when"
            )
            yield Static(plain(""), classes="prompt-error", id="snooze-error")
            yield OptionList(
                *(
                    Option(plain(f"{i + 1}  {label}"), id=text)
                    for i, (label, text) in enumerate(SNOOZE_PRESETS)
                ),
                id="snooze-presets",
                markup=False,
            )
            yield Static(
                plain("enter: the highlighted preset · ↓ presets (1-5) · esc: cancel"),
                classes="prompt-help",
            )

    def on_mount(self) -> None:
        self.query_one("#snooze-presets", OptionList).highlighted = 0
        self.query_one("#snooze-when", Input).focus()

    def on_key(self, event: events.Key) -> None:
        box = self.query_one("#snooze-when", Input)
        presets = self.query_one("#snooze-presets", OptionList)
        if self.focused is box and event.key == "down":
            presets.focus()
            event.stop()
        elif self.focused is presets and event.key.isdigit():
            event.stop()  # a preset's number is this prompt's, never the inbox's (views)
            i = int(event.key) - 1
            if 0 <= i < len(SNOOZE_PRESETS):
                self._choose(SNOOZE_PRESETS[i][1])
        elif self.focused is presets and event.is_printable and event.character:
            # Typing in the presets goes to the time box.
            event.stop()
            box.focus()
            box.insert_text_at_cursor(event.character)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._choose(event.option.id)

    def on_input_changed(self, event: Input.Changed) -> None:
        err = self.query_one("#snooze-error", Static)
        if not event.value.strip():
            err.update(plain(""))
            return
        try:
            when = self._parse(event.value)
        except SocialdeskError as exc:
            err.update(customer(exc.message, single_line=True))
        else:
            err.update(plain(f"until {when.strftime('%a %Y-%m-%d %H:%M')} UTC", "$success"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._choose(event.value)
            return
        presets = self.query_one("#snooze-presets", OptionList)
        index = presets.highlighted if presets.highlighted is not None else 0
        self._choose(SNOOZE_PRESETS[index][1])

    def _choose(self, text: str) -> None:
        try:
            when = self._parse(text)
        except SocialdeskError as exc:
            self.query_one("#snooze-error", Static).update(customer(exc.message, single_line=True))
            return
        self.dismiss(when)


class _LastWordSuggester(Suggester):
    """Completes the tag being typed (the last word, after ``+``/``-``) from existing tags."""

    def __init__(self, tags: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._tags = list(tags)

    async def get_suggestion(self, value: str) -> str | None:
        head, _, word = value.rpartition(" ")
        sign = word[:1] if word[:1] in "+-" else ""
        stem = word[len(sign) :]
        if not stem:
            return None
        for tag in self._tags:
            if tag.startswith(stem.lower()) and tag != stem.lower():
                return f"{head} {sign}{tag}".lstrip() if head else f"{sign}{tag}"
        return None


class TagPrompt(_Prompt):
    """``+vip -refund follow-up`` (a bare word adds); Tab or → completes from existing tags."""

    def __init__(self, current: Sequence[str], known: Sequence[str], label: str) -> None:
        super().__init__()
        self._current = list(current)
        self._known = list(known)
        self._label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Tags of {self._label}"), classes="prompt-title")
            now = " ".join(f"#{t}" for t in self._current) or "none"
            yield Static(
                Content.assemble(plain("now: ", "$text-muted"), customer(now, single_line=True))
            )
            yield Input(
                placeholder="+vip -refund   (→ completes)",
                suggester=_LastWordSuggester(self._known),
                id="tag-input",
            )
            known = ", ".join(self._known[:12]) or "none yet"
            yield Static(
                Content.assemble(
                    plain("existing: ", "$text-muted"), customer(known, single_line=True)
                ),
                classes="prompt-help",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class NotePrompt(_Prompt):
    """The thread's note (ctrl+s saves; an empty note clears it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, note: str | None, label: str) -> None:
        super().__init__()
        # Notes can come from an imported state file: loaded into the box, they are echoed raw.
        self._note = editable_text(note)
        self._label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"Note on {self._label}"), classes="prompt-title")
            yield TextArea(self._note, id="note-text", soft_wrap=True)
            yield Static(plain("ctrl+s save · esc cancel · empty clears"), classes="prompt-help")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.styles.height = 6
        area.focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)


class ConfirmPrompt(_Prompt):
    """A yes/no question (y / n, Enter = yes, Escape = no)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "No"),
        Binding("y,enter", "yes", "Yes"),
    ]

    def __init__(self, question: Content) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, classes="prompt-title")
            yield Static(plain("y / enter: yes   n / esc: no"), classes="prompt-help")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class TemplatePrompt(_Prompt):
    """Choose a saved reply; the inbox fills in the customer's name."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self._names = list(names)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("Insert a template"), classes="prompt-title")
            if self._names:
                yield OptionList(*(Option(plain(n), id=n) for n in self._names), markup=False)
            else:
                yield Static(
                    plain("No templates yet: add one with `socialdesk templates add`."),
                    classes="prompt-help",
                )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
