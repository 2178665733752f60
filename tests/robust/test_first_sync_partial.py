"""A big first sync cut short: the inbox opens on what has arrived so far, and the next round
resumes and converges (issue 12, "Big first syncs").

The gateway (the inbox's whole access to store and API) syncs a 350-conversation Page through a
transport that drops the connection after a few requests, as a closed laptop lid or a killed
process would: the pages already fetched are committed, so the inbox lists them at once; the
next round completes the walk and the inbox then holds every conversation once.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialdesk import secrets
from socialdesk.api.client import GraphClient
from socialdesk.cli.cmd_sync import progress_label
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.errors import SocialdeskError
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox
from socialdesk.tui.gateway import Gateway
from tests.support.sync_world import T0, populate

CONVERSATIONS = 350


class _CutAfter(httpx.BaseTransport):
    """The sandbox's transport until ``n`` requests were made; then the network is gone."""

    def __init__(self, sb: Sandbox, n: int) -> None:
        self.inner, self.n, self.seen = sb.transport(), n, 0
        self.cut = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.cut and self.seen > self.n:
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_the_inbox_opens_on_a_cut_first_sync_and_the_next_round_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = Sandbox(rate_limit=False, seed=4)
    sb.set_time(T0)
    page_id = sb.add_page("Shop")
    token = sb.issue_token(page_id)
    populate(sb, page_id, convs=CONVERSATIONS, posts=0)
    home = tmp_path / "home"
    paths = resolve_paths(home)
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig("shop", page_id), make_default=True))
    secrets.store_token(paths, page_id, token, use_keyring=False)
    transport = _CutAfter(sb, 3)
    # The client's retry waits move the sandbox's clock instead of sleeping.
    monkeypatch.setattr(
        AppContext,
        "client_for_token",
        lambda self, tok: GraphClient(tok, transport=transport, pace=False, sleep=sb.advance),
    )
    ctx = AppContext.open(str(home), clock=FixedClock(T0 + timedelta(minutes=1)),
                          transport=transport)  # fmt: skip
    gw = Gateway(ctx, ctx.page())
    try:
        with pytest.raises(SocialdeskError):
            gw.sync_round()
        first = gw.thread_numbers("")  # the "All" view
        # Something arrived, not everything: the committed pages are what the inbox shows.
        assert 0 < len(first) < CONVERSATIONS
        listing = gw.threads("", limit=500)
        assert len(listing.rows) == len(first)
        assert gw.thread_numbers(None)  # and the default view has awaiting threads to show
        transport.cut = False
        gw.sync_round()
        after = gw.thread_numbers("")
        assert len(after) == CONVERSATIONS
        assert set(first) <= set(after)  # the threads shown at first kept their numbers
    finally:
        gw.close()


def test_the_sync_bar_shows_counts_and_then_a_conversation_rate() -> None:
    """The bar names each stage's count; after 10 s it adds the conversation rate, the
    estimate a first sync can give (Graph has no total to count down from)."""
    counts = {"conversations": 300, "messages": 40}
    assert progress_label(counts, 4.0) == "conversations 300, older messages 40"
    assert progress_label(counts, 100.0) == (
        "conversations 300, older messages 40 (~180 conversations/min)"
    )
    assert progress_label({"feed": 5}, 100.0) == "posts 5"
