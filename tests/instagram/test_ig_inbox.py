"""The inbox (Pilot) with the demo's Instagram account: its threads are listed with their
channel, an Instagram DM is answered through the outbox, and a gap marker is drawn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk import secrets
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.core.instagram import discover_for_token
from socialdesk.models import Channel, WindowKind
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import build_demo
from socialdesk.tui.app import InboxApp
from socialdesk.tui.widgets.thread_view import render_detail
from tests.tui.conftest import NOW, Inbox
from tests.tui.helpers import all_rows, fill, select, settle


@pytest.fixture
def ig_inbox(isolated_home: Path) -> Iterator[Inbox]:
    from socialdesk.tui.gateway import Gateway

    sb, page_id, token = build_demo(seed=0, threads=14, now=NOW, rate_limit=False)
    paths = resolve_paths(isolated_home)
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig("demo", page_id), make_default=True))
    secrets.store_token(paths, page_id, token, use_keyring=False)
    clock = FixedClock(NOW)
    ctx = AppContext.open(str(isolated_home), clock=clock, transport=sb.transport(), pace=False)
    account, error = discover_for_token(ctx, token, page_id)
    assert account is not None and error is None
    gw = Gateway(ctx, ctx.page())
    gw.sync_round()
    box = Inbox(sb, page_id, gw, clock, isolated_home)
    try:
        yield box
    finally:
        gw.close()


def _app(box: Inbox) -> InboxApp:
    return InboxApp(box.gateway, sync_on_start=False, background_sync=False)


async def test_instagram_dm_is_listed_and_answered(ig_inbox: Inbox) -> None:
    rows = all_rows(ig_inbox.gateway)
    assert {Channel.IG_DM, Channel.IG_COMMENT} <= {r.thread.channel for r in rows}
    target = next(
        r
        for r in rows
        if r.thread.channel is Channel.IG_DM
        and r.window.kind is WindowKind.STANDARD
        and r.thread.awaiting_reply
    )
    app = _app(ig_inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("r")
        await settle(pilot, app)
        await fill(pilot, app, "Dzięki, wysyłamy jutro")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    sent = ig_inbox.sandbox.deliveries(ig_inbox.page_id, target.thread.customer.id)
    assert [d.text for d in sent] == ["Dzięki, wysyłamy jutro"]


def test_the_thread_pane_draws_the_gap_marker(ig_inbox: Inbox) -> None:
    sb = ig_inbox.sandbox
    gw = ig_inbox.gateway
    target = next(r for r in all_rows(gw) if r.thread.channel is Channel.IG_DM)
    for i in range(25):
        sb.add_message(ig_inbox.page_id, target.thread.customer.id, f"hello? {i}",
                       at=NOW + timedelta(minutes=1, seconds=i))  # fmt: skip
    gw.sync_round()
    detail = gw.thread(target.thread.number)
    assert detail.thread.gaps == 1 and len(detail.gaps) == 1
    text = render_detail(detail, NOW).plain
    assert "could not be read" in text
