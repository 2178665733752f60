"""Fixtures of the inbox tests: a demo sandbox in-process, a synced home, a fixed clock.

Every inbox test runs on the sandbox's in-process transport (``Sandbox.transport()``), so
assertions can look at what the sandbox received (``deliveries``, ``calls_by_edge``) as well as
at the store. The clock is fixed, so ages and windows never depend on today's date; cursor blink
is off so snapshots are stable.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import textual.app
import textual.pilot
import textual.screen
from textual._context import active_app
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from socialdesk import secrets
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox, build_demo
from socialdesk.tui import state
from socialdesk.tui.gateway import Gateway

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
"""The fixed time of every inbox test (a Monday)."""


@dataclass
class Inbox:
    """A synced demo home: its sandbox, gateway and clock."""

    sandbox: Sandbox
    page_id: str
    gateway: Gateway
    clock: FixedClock
    home: Path


_SYNCED: dict[int, Path] = {}
"""Per thread count: a home synced once in this process, copied for each test that needs it."""


def _synced_template(threads: int) -> Path:
    """A home synced with the demo sandbox (built once per process: the sync is most of the
    fixture's cost, and the demo sandbox is the same for the same seed and time)."""
    template = _SYNCED.get(threads)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="sd-inbox-template-")) / "home"
        box = _build_inbox(template, threads=threads, config=None)
        box.gateway.close()  # checkpointed and closed: the files are whole on disk
        _SYNCED[threads] = template
    return template


def make_inbox(home: Path, *, threads: int = 14, config: Config | None = None) -> Inbox:
    """A demo sandbox at :data:`NOW` and ``home`` configured for it and synced once.

    With the default config the synced home is a copy of one made earlier in the process,
    beside a freshly built (identical) sandbox, so a test sees exactly what a first sync left.
    """
    if config is not None:
        return _build_inbox(home, threads=threads, config=config)
    shutil.copytree(_synced_template(threads), home, dirs_exist_ok=True)
    sb, page_id, _ = build_demo(seed=0, threads=threads, now=NOW, rate_limit=False)
    clock = FixedClock(NOW)
    ctx = AppContext.open(str(home), clock=clock, transport=sb.transport(), pace=False)
    return Inbox(sb, page_id, Gateway(ctx, ctx.page()), clock, home)


def _build_inbox(home: Path, *, threads: int, config: Config | None) -> Inbox:
    sb, page_id, token = build_demo(seed=0, threads=threads, now=NOW, rate_limit=False)
    paths = resolve_paths(home)
    paths.ensure()
    cfg = (config or Config()).with_page(PageConfig("demo", page_id), make_default=True)
    save_config(paths, cfg)
    secrets.store_token(paths, page_id, token, use_keyring=False)
    clock = FixedClock(NOW)
    ctx = AppContext.open(str(home), clock=clock, transport=sb.transport(), pace=False)
    gw = Gateway(ctx, ctx.page())
    gw.sync_round()
    return Inbox(sb, page_id, gw, clock, home)


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cursor blink: snapshots and waits stay deterministic."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


async def _until_processed(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    """What the tests need of Textual's ``wait_for_idle``: every message the last key (or
    pause) caused has been handled by the app and the screen's widgets.

    Textual's own version sleeps in 20 ms steps until the process looks CPU-idle, twice per
    key in ``Pilot.press`` and once per ``pause()``: about 45 ms a key, most of the inbox
    tests' time. Draining the message queues is exact instead of a heuristic; the app's own
    background work (workers, jobs, the debounced preview, sync) is awaited by
    ``helpers.settle``, which every test calls after an action.
    """
    try:
        app = active_app.get()
    except LookupError:  # not inside a running app: keep the original's minimum wait
        await asyncio.sleep(min_sleep)
        return
    pilot: Pilot[object] = Pilot(app)
    # Round 1: the driver's key (posted thread-safely) reaches the app, which forwards it to
    # the focused widget or runs a binding; rounds 2-3: what those handlers posted in turn.
    for _ in range(3):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await pilot._wait_for_screen()


@pytest.fixture(autouse=True)
def _keys_without_idle_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textual.app, "wait_for_idle", _until_processed)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _until_processed)


@pytest.fixture(autouse=True)
def _frames_only_when_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen's 60 fps refresh timer drew about 13 frames per test that no test looks at
    (a fifth of the inbox tests' CPU). ``helpers.settle`` draws the settled state itself, so
    the timer is slowed to one frame a second (read when a screen mounts)."""
    monkeypatch.setattr(textual.screen, "UPDATE_PERIOD", 1.0)


@pytest.fixture(autouse=True)
def _preview_without_debounce(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests move the cursor faster than a held key: every move would wait out the 120 ms
    burst debounce. The rule itself is tested in test_state.py, with the real interval in a
    Pilot test marked ``real_debounce``."""
    if request.node.get_closest_marker("real_debounce") is None:
        monkeypatch.setattr(state, "PREVIEW_QUIET_S", 0.0)


@pytest.fixture
def inbox(isolated_home: Path) -> Iterator[Inbox]:
    """A synced demo inbox of 14 conversations (plus comment threads)."""
    box = make_inbox(isolated_home)
    try:
        yield box
    finally:
        box.gateway.close()
