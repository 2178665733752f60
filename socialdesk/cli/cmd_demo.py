"""``socialdesk demo``: the whole product on the built-in sandbox, no account, no network.

Starts the sandbox on a loopback port (customers keep writing), sets up a throwaway home (or
``--home DIR``: an empty or new directory, or one an earlier demo made; a real home is refused,
so the demo never rewrites a real config or mixes demo data into a real database), and runs a
first sync. On a terminal it then opens the inbox (``socialdesk.tui``, imported only here)
while customers keep writing; quitting the inbox stops the sandbox and removes a throwaway home.
Without a terminal (tests, CI) it prints the threads awaiting reply and exits, unless
``--serve``, which keeps serving and prints the exact
``SOCIALDESK_HOME=… SOCIALDESK_GRAPH_URL=… socialdesk list`` lines to use from another shell.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import echo_line

if TYPE_CHECKING:
    from socialdesk.core.session import Session

DEMO_MARKER = ".socialdesk-demo"
"""A file in a home the demo made: only such a home (or an empty one) is reused."""
FIRST_SCREEN = 15
DEMO_TEMPLATES: dict[str, tuple[str, ...]] = {
    "thanks": (
        "Thanks {first_name}, we got your message and will answer shortly!",
        "Hi {first_name}, thank you for writing to us: we'll be right with you.",
    ),
    "shipping": (
        "Hi {first_name}, your order ships within 2 working days; you'll get a tracking link "
        "by e-mail.",
    ),
    "away": (
        "Thanks {first_name}! We're away right now and answer every message the next working "
        "day. — {page}",
    ),
}
"""The demo home's saved replies (two variants of ``thanks``, rotated)."""


def check_demo_home(home: Path) -> None:
    """:class:`UsageError` unless ``home`` is missing, empty, or a home an earlier demo made."""
    from socialdesk.errors import Reason, UsageError

    if not home.exists():
        return
    if not home.is_dir():
        raise UsageError(f"--home {home}: not a directory")
    if (home / DEMO_MARKER).exists() or not any(home.iterdir()):
        return
    raise UsageError(
        f"{home} is not a demo home: the demo would rewrite its config and mix demo data into "
        "its database",
        hint="pick an empty or new directory for --home (or leave --home out for a throwaway)",
        reason=Reason.NOT_A_DEMO_HOME,
    )


def _setup_home(home: Path, base_url: str, page_id: str, page_name: str, token: str) -> Session:
    import dataclasses

    from socialdesk import secrets
    from socialdesk.config import GraphConfig, PageConfig, load_config, save_config, slug_name
    from socialdesk.core.context import AppContext
    from socialdesk.core.session import Session
    from socialdesk.paths import atomic_write, resolve_paths

    paths = resolve_paths(home)
    paths.ensure()
    atomic_write(home / DEMO_MARKER, b"made by socialdesk demo\n")
    config = load_config(paths)
    page = PageConfig(name=slug_name(page_name, fallback="demo"), id=page_id)
    # A reused demo home may hold an older demo page; the new sandbox page becomes the default.
    for old in list(config.pages.values()):
        if old.id != page_id and old.name == page.name:
            config = config.without_page(old.name)
    config = config.with_page(page, make_default=True)
    config = dataclasses.replace(config, graph=GraphConfig(config.graph.version, base_url))
    # Saved replies to try ctrl+t in the inbox, `ack --template` and rules with (an earlier
    # demo's own edits of them are kept).
    for name, variants in DEMO_TEMPLATES.items():
        if name not in config.templates:
            config = config.with_template(name, variants)
    save_config(paths, config)
    secrets.store_token(paths, page_id, token, use_keyring=False)
    return Session(AppContext(paths, config))


def _first_sync(s: Session) -> str:
    from socialdesk.cli.cmd_sync import summary_line
    from socialdesk.cli.output import is_terminal, progress
    from socialdesk.core.instagram import discover_for_token
    from socialdesk.core.syncing import sync_round
    from socialdesk.models import SyncProgress

    page = s.page()
    # What `init` does for a real Page: find the linked Instagram account and store it.
    discover_for_token(s.ctx, s.ctx.token(page), page.id)
    with progress("syncing the demo page") as bar:

        def on_progress(event: SyncProgress) -> None:
            bar.update(description=f"{event.stage.value} {event.done}")

        report = sync_round(
            s, s.db, page, progress=on_progress if is_terminal(sys.stderr) else None
        )
    return summary_line(report, page.name)


def _show_awaiting(s: Session) -> None:
    from socialdesk.cli import render
    from socialdesk.cli.output import console
    from socialdesk.core.inbox import Inbox

    inbox = Inbox(s.ctx, s.db, s.page())
    result = inbox.threads(None, limit=FIRST_SCREEN)  # the default: open, awaiting reply
    out = console()
    out.print("Threads awaiting reply, soonest window first:")
    render.listing(result, out, now=inbox.now(), limit_hint="`socialdesk list` shows them all")


@app.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Keep the demo's files here (a new or empty directory; default: temp)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo data.")] = 0,
    threads: Annotated[
        int, typer.Option("--threads", help="Number of demo threads.", min=1, max=10_000)
    ] = 60,
    activity: Annotated[
        float,
        typer.Option("--activity", help="Seconds between new customer messages.", min=0.05),
    ] = 8.0,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Keep serving after the first sync (default: only on a terminal).",
        ),
    ] = None,
) -> None:
    """Run socialdesk on the built-in sandbox: a lively demo page, synced, no account needed."""
    from socialdesk.sandbox import Activity, build_demo

    on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    # On a terminal the demo opens the inbox (unless --serve/--no-serve says otherwise).
    open_inbox = serve is None and on_terminal
    keep_serving = serve if serve is not None else on_terminal
    throwaway = home is None
    root = Path(tempfile.mkdtemp(prefix="socialdesk-demo-")) if home is None else home
    root = root.expanduser().resolve()
    check_demo_home(root)
    sandbox, page_id, token = build_demo(seed=seed, threads=threads)
    server = sandbox.serve(host="127.0.0.1", port=0)
    ticker: Activity | None = None
    try:
        page_name = sandbox.state.pages[page_id].name
        with _setup_home(root, server.base_url, page_id, page_name, token) as s:
            echo_line(f"Sandbox Graph API on {server.base_url} (page {page_name}, id {page_id}).")
            echo_line(f"Demo home: {root}" + (" (removed on exit)" if throwaway else ""))
            echo_line(_first_sync(s))
            if not open_inbox:
                _show_awaiting(s)
        if not keep_serving:
            return
        ticker = Activity(sandbox, activity, seed=seed)
        ticker.start()
        if open_inbox:
            import socialdesk.tui as tui

            if throwaway:
                _remove_on_hangup(root)
            tui.run_inbox(str(root), sync_on_start=False, poll_seconds=10)
            echo_line("Demo stopped." + (" Its files were removed." if throwaway else ""))
            return
        _serve_until_stopped(root, server.base_url, throwaway)
    finally:
        if ticker is not None:
            ticker.stop()
        server.shutdown()
        if throwaway:
            shutil.rmtree(root, ignore_errors=True)


def _remove_on_hangup(root: Path) -> None:
    """A closed terminal (SIGHUP) or a SIGTERM ends the demo without Textual's way out: the
    throwaway home (its database and token file) is removed before the process exits, as `q`
    would (the sandbox and the activity thread end with the process)."""
    import os
    import signal
    import time

    def gone(signum: int, frame: object) -> None:
        # Renamed first: the inbox's threads still write (WAL, log) until the process ends,
        # and a file they create under the old name would keep the directory alive.
        doomed = root.with_name(root.name + ".removing")
        try:
            os.replace(root, doomed)
        except OSError:
            doomed = root
        # A worker may still recreate the home (a sync opening the database) while this runs:
        # remove both names until neither is back.
        for _ in range(50):
            for path in (doomed, root):
                shutil.rmtree(path, ignore_errors=True)
            if not doomed.exists() and not root.exists():
                break
            time.sleep(0.01)
        os._exit(128 + signum)

    signal.signal(signal.SIGHUP, gone)
    signal.signal(signal.SIGTERM, gone)


def _serve_until_stopped(root: Path, base_url: str, throwaway: bool) -> None:
    from socialdesk.cli.serving import stop_on_sigterm

    env = f"SOCIALDESK_HOME={shlex.quote(str(root))} SOCIALDESK_GRAPH_URL={base_url}"
    echo_line("")
    echo_line("In another shell:")
    for command in ("sync", "list", "show 1", "list is:comment", "doctor"):
        echo_line(f"  {env} socialdesk {command}")
    echo_line("Customers keep writing every few seconds. Ctrl-C stops the demo.")
    with stop_on_sigterm() as stop:
        while not stop.wait(0.5):
            pass
    echo_line("Demo stopped." + (" Its files were removed." if throwaway else ""))
