"""Snapshots of the main screens at 80×24 and 120×40 on a small fixed store and clock.

``pytest tests/tui/test_snapshots.py --snapshot-update`` rewrites them: look at the report
first. Textual is pinned (pyproject) because its rendering changes between releases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from socialdesk.tui.app import InboxApp

from .conftest import Inbox
from .helpers import open_dm, select, settle

SnapCompare = Callable[..., bool]


def _app(box: Inbox) -> InboxApp:
    return InboxApp(box.gateway, sync_on_start=False, background_sync=False)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_inbox(inbox: Inbox, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, pilot.app)  # type: ignore[arg-type]

    assert snap_compare(_app(inbox), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_thread_with_compose(
    inbox: Inbox, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    target = open_dm(inbox.gateway).thread.number

    async def run_before(pilot: Pilot[Any]) -> None:
        app: InboxApp = pilot.app  # type: ignore[assignment]
        await settle(pilot, app)
        await select(pilot, app, target)
        await pilot.press("r")
        app.inbox.compose_box.area.insert("Hi! It ships today.")
        await settle(pilot, app)

    assert snap_compare(_app(inbox), terminal_size=size, run_before=run_before)


def test_stats(inbox: Inbox, snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: InboxApp = pilot.app  # type: ignore[assignment]
        await settle(pilot, app)
        await pilot.press("S")
        await settle(pilot, app)

    assert snap_compare(_app(inbox), terminal_size=(80, 24), run_before=run_before)


def test_help(inbox: Inbox, snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: InboxApp = pilot.app  # type: ignore[assignment]
        await settle(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot, app)

    assert snap_compare(_app(inbox), terminal_size=(80, 24), run_before=run_before)
