"""The inbox on the hostile demo data, for the end-to-end terminal test (test_tmux_hostile.py).

``python -m tests.support.hostile_inbox HOME`` builds the demo sandbox with the whole hostile
corpus (``build_demo(hostile=True)``) in-process, configures ``HOME`` for it, syncs once through
the sandbox's transport and runs the real inbox app in the terminal (no background sync: the
screen only changes on keys). It prints ``EXIT=0`` after the app quits.

The preview debounce is zero, as in the Pilot tests (tests/tui/conftest.py): the test waits for
each thread to be drawn before its next key, so every move would come "in a burst" and wait
120 ms for a preview it gets anyway.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from socialdesk import secrets
from socialdesk.config import Config, PageConfig, save_config
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import build_demo
from socialdesk.tui import state
from socialdesk.tui.app import InboxApp
from socialdesk.tui.gateway import Gateway

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def main(home: Path) -> int:
    state.PREVIEW_QUIET_S = 0.0  # read when the inbox screen builds its debounce
    sb, page_id, token = build_demo(seed=1, threads=6, now=NOW, rate_limit=False, hostile=True)
    paths = resolve_paths(home)
    paths.ensure()
    save_config(paths, Config().with_page(PageConfig("demo", page_id), make_default=True))
    secrets.store_token(paths, page_id, token, use_keyring=False)
    ctx = AppContext.open(str(home), clock=FixedClock(NOW), transport=sb.transport(), pace=False)
    gw = Gateway(ctx, ctx.page())
    try:
        gw.sync_round()
        InboxApp(gw, sync_on_start=False, background_sync=False).run()
    finally:
        gw.close()
    print("EXIT=0", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
