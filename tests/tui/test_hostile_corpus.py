"""The whole hostile corpus through every screen of the inbox (issue 12, "The inbox under
hostile text").

The demo sandbox is built with ``hostile=True``: every entry of ``sandbox.hostile.CORPUS`` is a
customer name, a DM, a post and a comment, and the attachment names are hostile too; twenty
random strings over the whole code space are added as customers with messages. The inbox then
shows the All list, opens the hostile threads (thread pane), the compose box, the palette
(searching customer-named views), the stats screen, and notifications: a failed tag action
whose message quotes hostile text the operator pasted (a bracketed paste: the app takes
controls and invisible characters out of every paste), and a triage notice. Every frame's
terminal bytes (as in ``test_hostile.py``) are scanned: once Textual's own colour, cursor and
mode sequences are taken out, no control character but the newline, and no invisible or bidi
character, is left; nothing is interpreted as markup (no action fires, the app keeps running).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual import events
from textual._compositor import CompositorUpdate
from textual.app import App

from socialdesk import sanitize, secrets
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.models import Channel
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import build_demo
from socialdesk.sandbox.hostile import NAMES
from socialdesk.tui.app import InboxApp
from socialdesk.tui.gateway import Gateway
from socialdesk.tui.screens.stats import StatsScreen

from .conftest import NOW
from .helpers import all_rows, fill, open_dm, select, settle

# Textual's own output (as in test_hostile.py): SGR, absolute cursor moves, private modes.
_TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\?[0-9;]+[hl]")
RANDOM_CUSTOMERS = 20


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    out: list[str] = []
    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            out.append(renderable.render_segments(self.console))

    monkeypatch.setattr(App, "_display", display)
    return out


def _random_text(rng: random.Random) -> str:
    """A string of 1-40 code points from the whole code space (surrogates left out: JSON from
    the API cannot carry them as text), with a few escape introducers mixed in."""
    points = [rng.choice((rng.randrange(0x110000), 0x1B, 0x9B, 0x5B, 0xE0041)) for _ in
              range(rng.randint(1, 40))]  # fmt: skip
    return "".join(chr(p) for p in points if not 0xD800 <= p <= 0xDFFF) or "x"


def _hostile_gateway(home: Path) -> Gateway:
    sb, page_id, token = build_demo(seed=1, threads=6, now=NOW, rate_limit=False, hostile=True)
    rng = random.Random(20261204)
    for _ in range(RANDOM_CUSTOMERS):
        user = sb.add_user(_random_text(rng))
        sb.add_message(page_id, user, _random_text(rng), at=NOW)
    paths = resolve_paths(home)
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig("demo", page_id), make_default=True))
    secrets.store_token(paths, page_id, token, use_keyring=False)
    ctx = AppContext.open(str(home), clock=FixedClock(NOW), transport=sb.transport(), pace=False)
    gw = Gateway(ctx, ctx.page())
    gw.sync_round()
    return gw


def _leftovers(frames: list[str]) -> list[str]:
    """Characters in the frames, Textual's own sequences aside, that must never be there."""
    bad = (sanitize.FORBIDDEN | (sanitize.VISIBLE - sanitize.VARIATION_SELECTORS)) - {"\n"}
    found: set[str] = set()
    for frame in frames:
        rest = _TEXTUAL_OWN.sub("", frame)
        found.update(ch for ch in rest if ch in bad)
    return sorted(f"U+{ord(ch):04X}" for ch in found)


@pytest.mark.slow
async def test_every_screen_under_the_hostile_corpus(tmp_path: Path, frames: list[str]) -> None:
    gw = _hostile_gateway(tmp_path / "home")
    try:
        rows = all_rows(gw)
        unclean = [
            r
            for r in rows
            if not sanitize.is_clean(r.thread.customer.name or "")
            or not sanitize.is_clean(r.thread.snippet or "")
        ]
        assert len(unclean) >= 40  # the corpus really is in the store
        # Opened: the DM of every corpus name (between them they hold every corpus text and
        # attachment name), a few random customers' DMs and a few comment threads; moving
        # through the list on the way draws the rows of the others.
        named = [
            r for r in rows if r.thread.channel is Channel.DM and r.thread.customer.name in NAMES
        ]
        assert {r.thread.customer.name for r in named} == set(NAMES)
        dms = [r for r in unclean if r.thread.channel is Channel.DM and r not in named]
        picked = named + dms[:5]
        picked += [r for r in unclean if r.thread.channel is Channel.COMMENT][:4]
        hostile = [r.thread.number for r in picked]
        app = InboxApp(gw, sync_on_start=False, background_sync=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            for number in hostile:
                await select(pilot, app, number)
                await pilot.press("enter")  # the thread pane
                await settle(pilot, app)
            await pilot.press("r")  # compose: its header names the customer
            await settle(pilot, app)
            await pilot.press("escape")
            await settle(pilot, app)
            await pilot.press("t")  # a tag typed from customer text: refused, notified
            await settle(pilot, app)
            # Pasted, as an operator would paste a name copied from elsewhere.
            app.post_message(events.Paste("+\x1b]0;pwned\x07[@click=app.quit]x[/]\u202e"))
            await settle(pilot, app)
            await pilot.press("enter")
            await settle(pilot, app)
            await pilot.press("e")  # a triage notice
            await settle(pilot, app)
            await pilot.press("ctrl+p")
            await settle(pilot, app)
            app.post_message(events.Paste("Mallory\u202e\U000e0041\x1b[2J"))
            await settle(pilot, app)
            await pilot.press("escape")
            await settle(pilot, app)
            await pilot.press("S")  # the stats screen
            await settle(pilot, app)  # its load is a worker: settled once it has drawn
            assert isinstance(app.screen, StatsScreen) and app.screen.report is not None
            await pilot.press("escape")
            await settle(pilot, app)
            assert app.is_running  # no [@click=app.quit] fired
    finally:
        gw.close()
    assert len(frames) > len(hostile)
    assert _leftovers(frames) == [], _where(frames)[:6]
    shown = "".join(_TEXTUAL_OWN.sub("", f) for f in frames)
    assert "[@click=app.quit]" in shown  # markup shown literally
    assert "⟨U+202E⟩" in shown and "⟨U+E0069⟩" in shown  # bidi and tag characters made visible


def _where(frames: list[str]) -> list[str]:
    """Where ESC or U+202E was left, for the failure message."""
    out = []
    for i, frame in enumerate(frames):
        rest = _TEXTUAL_OWN.sub("", frame)
        for m in re.finditer("[\x1b\u202e]", rest):
            out.append(f"frame {i}: {rest[max(0, m.start() - 80) : m.end() + 40]!r}")
    return out


class _HostileSendAnswer(httpx.BaseTransport):
    """The sandbox, except that a send's answer carries an id built to attack the terminal (a
    compromised endpoint: after the send the compose box shows the outcome; the id, which it
    no longer shows, must not reach the terminal either way)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/messages"):
            body = json.loads(response.read())
            body["message_id"] = "m_\x1b]0;pwned\x07\x1b[2J\u202eid"
            return httpx.Response(response.status_code, json=body, headers=response.headers)
        return response


async def test_an_id_from_a_send_answer_is_untrusted_text(
    tmp_path: Path, frames: list[str]
) -> None:
    sb, page_id, token = build_demo(seed=2, threads=6, now=NOW, rate_limit=False)
    home = tmp_path / "home"
    paths = resolve_paths(home)
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig("demo", page_id), make_default=True))
    secrets.store_token(paths, page_id, token, use_keyring=False)
    ctx = AppContext.open(str(home), clock=FixedClock(NOW),
                          transport=_HostileSendAnswer(sb.transport()), pace=False)  # fmt: skip
    gw = Gateway(ctx, ctx.page())
    try:
        gw.sync_round()
        target = open_dm(gw)
        app = InboxApp(gw, sync_on_start=False, background_sync=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            await select(pilot, app, target.thread.number)
            await pilot.press("r")
            await settle(pilot, app)
            await fill(pilot, app, "Thanks, it ships today")
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            assert [d.text for d in sb.deliveries(page_id)][-1:] == ["Thanks, it ships today"]
    finally:
        gw.close()
    shown = "".join(_TEXTUAL_OWN.sub("", f) for f in frames)
    assert "✓ sent" in shown and "pwned" not in shown
    assert _leftovers(frames) == [], _where(frames)[:3]
