"""The inbox's pure UI rules (``socialdesk.tui.state``), and the preview debounce in the app.

The rules are tested directly, without Textual; one Pilot test keeps the real 120 ms debounce
(the other inbox tests set it to zero) and checks that a burst of moves loads the first thread
at once and then only the thread the cursor stopped on.
"""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.tui import state
from socialdesk.tui.app import InboxApp
from socialdesk.tui.gateway import ThreadDetail
from socialdesk.tui.state import PreviewDebounce, UndoStack, parse_tags, reanchor

from .conftest import Inbox
from .helpers import settle


def test_debounce_loads_at_once_after_quiet_and_waits_inside_a_burst() -> None:
    d = PreviewDebounce(quiet_s=0.12)
    assert d.delay(100.0) == 0.0  # the first move
    assert d.delay(100.05) == 0.12  # a held key: 50 ms later
    assert d.delay(100.10) == 0.12  # measured from the previous move, not the first
    assert d.delay(100.30) == 0.0  # 200 ms of quiet: at once again


def test_debounce_reads_the_module_interval_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PreviewDebounce().quiet_s == state.PREVIEW_QUIET_S
    monkeypatch.setattr(state, "PREVIEW_QUIET_S", 0.5)
    assert PreviewDebounce().quiet_s == 0.5
    assert PreviewDebounce(quiet_s=0.2).quiet_s == 0.2


def test_undo_stack_is_bounded_and_pops_newest_first() -> None:
    stack: UndoStack[int] = UndoStack(size=3)
    for i in range(5):
        stack.push(i)
    assert len(stack) == 3
    assert [stack.pop(), stack.pop(), stack.pop(), stack.pop()] == [4, 3, 2, None]


def test_reanchor_keeps_the_thread_and_its_screen_row() -> None:
    # Two threads arrive above: the cursor follows thread 30, the viewport moves by two.
    a = reanchor([10, 20, 30, 40], cursor=2, scroll=1, new=[1, 2, 10, 20, 30, 40])
    assert (a.cursor, a.scroll) == (4, 3)
    # Thread 30 was marked done: the cursor stays at its index, on the thread that followed.
    b = reanchor([10, 20, 30, 40], cursor=2, scroll=0, new=[10, 20, 40])
    assert (b.cursor, b.scroll) == (2, 0)
    # The last thread left: clamped to the new end.
    c = reanchor([10, 20, 30], cursor=2, scroll=0, new=[10])
    assert c.cursor == 0
    # A preferred thread wins over the old cursor; an empty listing goes home.
    assert reanchor([10, 20, 30], cursor=0, scroll=0, new=[10, 20, 30], prefer=30).cursor == 2
    assert reanchor([10, 20], cursor=1, scroll=0, new=[]) == state.Anchor(0, 0)
    # Long listings use the linear scan: same answer.
    long = list(range(5000))
    assert reanchor(long, cursor=4000, scroll=3990, new=[-1, *long]).cursor == 4001


def test_parse_tags_reads_plus_minus_and_bare_words() -> None:
    assert parse_tags("+vip -refund follow-up") == (["vip", "follow-up"], ["refund"])
    assert parse_tags("a,b  - +") == (["a", "b"], [])


@pytest.mark.real_debounce
async def test_a_burst_of_moves_loads_the_first_and_the_last_thread(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[int] = []
    original = type(inbox.gateway).thread

    def counting(self: object, number: int, *, limit: int = 50) -> ThreadDetail:
        loaded.append(number)
        return original(inbox.gateway, number, limit=limit)

    monkeypatch.setattr(type(inbox.gateway), "thread", counting)
    app = InboxApp(inbox.gateway, sync_on_start=False, background_sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        numbers = app.inbox.thread_list.numbers
        assert len(numbers) >= 5
        await asyncio.sleep(state.PREVIEW_QUIET_S)  # quiet since the first screen's load
        loaded.clear()
        await pilot.press("j", "j", "j", "j")  # a few ms apart, as a held key
        await settle(pilot, app)
        # At once for the first move, then only where the cursor stopped. (A machine stalled
        # for 120 ms between two keys loads one more: still fewer loads than moves.)
        assert loaded[0] == numbers[1] and loaded[-1] == numbers[4]
        assert len(loaded) < 4, loaded
        detail = app.inbox.thread_view.detail
        assert detail is not None and detail.thread.number == numbers[4]
