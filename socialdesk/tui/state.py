"""The inbox's pure UI state and rules, without Textual (so tests use them directly).

Called by :mod:`socialdesk.tui.screens.inbox`: the undo stack, where the cursor goes when a
listing is replaced (anchored on the same thread, scroll kept), the preview debounce rule,
drafts per thread, the tag prompt's ``+a -b`` syntax and the snooze presets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PREVIEW_QUIET_S = 0.12
"""The preview loads at once after this much quiet; inside a key-repeat burst it waits until
this long after the last move (research/TUI.md §3: held j/k p95 45 ms, spaced 80 ms)."""

SNOOZE_PRESETS: tuple[tuple[str, str], ...] = (
    ("1 hour", "1h"),
    ("3 hours", "3h"),
    ("Tomorrow 9:00", "tomorrow 9:00"),
    ("Monday 9:00", "mon 9:00"),
    ("In a week", "1w"),
)
"""(label, text given to the snooze time parser)."""


class UndoStack(Generic[T]):
    """The most recent triage actions, newest last; bounded so it never grows without end."""

    def __init__(self, size: int = 20) -> None:
        self.size = size
        self._items: list[T] = []

    def push(self, item: T) -> None:
        self._items.append(item)
        del self._items[: -self.size]

    def pop(self) -> T | None:
        return self._items.pop() if self._items else None

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Anchor:
    """Where the cursor and the scroll go in a new listing."""

    cursor: int
    scroll: int


def reanchor(
    old: Sequence[int],
    cursor: int,
    scroll: int,
    new: Sequence[int],
    *,
    prefer: int | None = None,
) -> Anchor:
    """Keep the cursor on the same thread (or ``prefer``), at the same screen row if possible.

    When the thread left the listing, the cursor stays at its index (clamped), which is the
    thread that followed it: "done, and move to the next". The scroll moves by as much as the
    cursor's index did, so rows arriving above the viewport do not push the view around.
    """
    if not new:
        return Anchor(0, 0)
    target = prefer
    if target is None and 0 <= cursor < len(old):
        target = old[cursor]
    index = -1
    if target is not None:
        try:
            index = list(new).index(target) if len(new) < 4096 else _find(new, target)
        except ValueError:
            index = -1
    if index < 0:
        index = min(max(cursor, 0), len(new) - 1)
    offset = cursor - scroll
    return Anchor(index, max(0, index - offset))


def _find(seq: Sequence[int], target: int) -> int:
    for i, x in enumerate(seq):
        if x == target:
            return i
    raise ValueError(target)


class PreviewDebounce:
    """Leading edge plus burst: a move after quiet loads at once, moves in a burst wait."""

    def __init__(self, quiet_s: float | None = None) -> None:
        # Read when built, not when defined, so the Pilot tests can set it to zero and move the
        # cursor without a 120 ms wait per move (tests/tui/conftest.py).
        self.quiet_s = PREVIEW_QUIET_S if quiet_s is None else quiet_s
        self._last: float | None = None

    def delay(self, now: float) -> float:
        """Seconds to wait before loading the preview for a move made at ``now``."""
        last, self._last = self._last, now
        if last is None or now - last >= self.quiet_s:
            return 0.0
        return self.quiet_s


@dataclass
class Draft:
    """An unsent reply of one thread."""

    text: str
    private: bool


def parse_tags(text: str) -> tuple[list[str], list[str]]:
    """``+vip -refund follow-up`` → (add ``vip``, ``follow-up``; remove ``refund``)."""
    add: list[str] = []
    remove: list[str] = []
    for word in text.replace(",", " ").split():
        if word.startswith("-") and len(word) > 1:
            remove.append(word[1:])
        elif word.startswith("+") and len(word) > 1:
            add.append(word[1:])
        elif word not in ("+", "-"):
            add.append(word)
    return add, remove
