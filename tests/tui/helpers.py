"""Shared steps of the inbox's Pilot tests: wait until quiet, type text, find demo threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from socialdesk.models import Channel, WindowKind
from socialdesk.tui.app import InboxApp
from socialdesk.tui.gateway import Gateway, ThreadRow

KEY_NAMES = {
    " ": "space",
    "/": "slash",
    ":": "colon",
    "+": "plus",
    "-": "minus",
    "#": "number_sign",
}


async def _quiet_screen(pilot: Pilot[None], *, render: bool) -> None:
    """The screen and its widgets have processed every pending message (what
    ``pilot.pause()`` waits for, without its ≥ 20 ms CPU-idle heuristic per call: settle checks
    the app's own work — jobs, workers, the debounced preview, sync — itself). With
    ``render`` the screen is also drawn now, as its refresh timer would."""
    await pilot._wait_for_screen()
    await asyncio.sleep(0)
    if render:
        pilot.app.screen._on_timer_update()


async def settle(pilot: Pilot[None], app: InboxApp, rounds: int = 2) -> None:
    """Until no worker, job, sync or debounced load has been pending for ``rounds`` checks."""
    idle = 0
    for _ in range(500):
        # Drawn only once settled (the last round): a frame of every state a test looks at,
        # without drawing the intermediate ones (drawing was a third of the tests' CPU).
        await _quiet_screen(pilot, render=idle + 1 >= rounds)
        busy = (
            app.jobs_pending() > 0
            or any(w.is_running or w.state.name == "PENDING" for w in app.workers)
            or app.inbox.preview_pending
            or app.syncing
        )
        if busy:
            idle = 0
            await asyncio.sleep(0.01)
            continue
        idle += 1
        if idle >= rounds:
            return
    raise AssertionError("the inbox did not settle")


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` key by key (what the keyboard-only test needs; ~90 ms a key here)."""
    await pilot.press(*(KEY_NAMES.get(ch, ch) for ch in text))


async def fill(pilot: Pilot[None], app: InboxApp, text: str) -> None:
    """Put ``text`` into the focused text box at once (typing itself is tested key by key in
    test_letters_typed_in_the_compose_box_never_run_commands)."""
    from textual.widgets import Input, TextArea

    focused = app.focused
    if isinstance(focused, TextArea):
        focused.insert(text)
    elif isinstance(focused, Input):
        focused.insert_text_at_cursor(text)
    else:
        raise AssertionError(f"no text box has the focus ({focused!r})")
    await pilot.pause()


def all_rows(gw: Gateway) -> list[ThreadRow]:
    return gw.rows_by_number(gw.thread_numbers(""))


def find(gw: Gateway, pred: Callable[[ThreadRow], bool]) -> ThreadRow:
    return next(r for r in all_rows(gw) if pred(r))


def open_dm(gw: Gateway) -> ThreadRow:
    """An awaiting DM inside its 24-hour window."""
    return find(
        gw,
        lambda r: (
            r.thread.channel is Channel.DM
            and r.window.kind is WindowKind.STANDARD
            and r.thread.awaiting_reply
        ),
    )


def closed_dm(gw: Gateway) -> ThreadRow:
    """A DM whose reply window has closed."""
    return find(
        gw,
        lambda r: (
            r.thread.channel is Channel.DM
            and r.window.kind is WindowKind.CLOSED
            and r.thread.last_inbound_at is not None
        ),
    )


def private_comment(gw: Gateway) -> ThreadRow:
    """A comment thread whose private reply is still possible."""
    return find(
        gw,
        lambda r: r.thread.channel is Channel.COMMENT and r.window.kind is WindowKind.PRIVATE_REPLY,
    )


async def select(pilot: Pilot[None], app: InboxApp, number: int) -> None:
    """Put the cursor on thread ``number`` (switching to All if needed) and wait."""
    app.inbox.go_to(number)
    await settle(pilot, app)
    assert app.inbox.thread_list.current_number == number


async def clear(pilot: Pilot[None], app: InboxApp) -> None:
    """Empty the focused input box."""
    from textual.widgets import Input

    focused = app.focused
    assert isinstance(focused, Input)
    focused.value = ""
    await pilot.pause()
