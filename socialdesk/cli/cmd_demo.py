"""``socialdesk demo``: the whole product on the built-in sandbox, no account, no network.

Starts the sandbox on a loopback port (customers keep writing), sets up a throwaway home (or
``--home DIR``) with config and token, and runs a first sync. On a terminal it then opens the
inbox (``socialdesk.tui``, imported only here) while customers keep writing; quitting the inbox
stops the sandbox and removes a throwaway home. Without a terminal (tests, CI) it prints the
threads awaiting reply and exits, unless ``--serve``, which keeps serving and prints the exact
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

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.session import Session

DEMO_QUERY = "is:open is:awaiting"


def _setup_home(home: Path, base_url: str, page_id: str, page_name: str, token: str) -> Session:
    from socialdesk import secrets
    from socialdesk.config import GraphConfig, PageConfig, load_config, save_config, slug_name
    from socialdesk.core.session import Session
    from socialdesk.paths import resolve_paths

    paths = resolve_paths(home)
    paths.ensure()
    config = load_config(paths)
    page = PageConfig(name=slug_name(page_name, fallback="demo"), id=page_id)
    # A reused --home may hold an older demo page; the new sandbox page becomes the default.
    for old in list(config.pages.values()):
        if old.id != page_id and old.name == page.name:
            config = config.without_page(old.name)
    config = config.with_page(page, make_default=True)
    config = type(config)(
        **{**config.__dict__, "graph": GraphConfig(config.graph.version, base_url)}
    )
    save_config(paths, config)
    secrets.store_token(paths, page_id, token, use_keyring=False)
    return Session(paths, config)


def _first_sync(session: Session, page: PageConfig) -> str:
    from socialdesk.cli.output import is_terminal, progress
    from socialdesk.core.syncing import sync_round
    from socialdesk.models import SyncProgress

    with progress("syncing the demo page") as bar:

        def on_progress(event: SyncProgress) -> None:
            bar.update(description=f"{event.stage.value} {event.done}")

        report = sync_round(
            session,
            session.db,
            page,
            progress=on_progress if is_terminal(sys.stderr) else None,
        )
    try:
        from socialdesk.cli.cmd_sync import summary_line
    except ImportError:  # pragma: no cover - cmd_sync is part of the package
        return f"{page.name}: {report.conversations} conversations, {report.calls} calls"
    return summary_line(report, page.name)


def _show_awaiting(session: Session, page: PageConfig) -> int:
    from socialdesk.cli.cmd_list import render_thread_table
    from socialdesk.cli.output import console
    from socialdesk.core.windows import window_for_conn
    from socialdesk.store.threads import list_threads

    now = session.clock.now()
    human_agent = session.config.messaging.human_agent
    found = list_threads(
        session.db,
        DEMO_QUERY,
        page_id=page.id,
        now=now,
        sort="expires",
        limit=15,
        human_agent=human_agent,
    )
    windows = {t.id: window_for_conn(session.db, t, now, human_agent) for t in found}
    out = console()
    out.print(f"Threads awaiting reply ({len(found)} shown, soonest window first):")
    render_thread_table(found, out, now=now, windows=windows, human_agent=human_agent)
    return len(found)


@app.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Keep the demo's files here (default: a throwaway directory)."),
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
    # tui: on a terminal the demo opens the inbox (unless --serve/--no-serve says otherwise).
    open_inbox = serve is None and on_terminal
    keep_serving = serve if serve is not None else on_terminal
    throwaway = home is None
    root = Path(tempfile.mkdtemp(prefix="socialdesk-demo-")) if home is None else home
    root = root.expanduser().resolve()
    sandbox, page_id, token = build_demo(seed=seed, threads=threads)
    server = sandbox.serve(host="127.0.0.1", port=0)
    ticker: Activity | None = None
    try:
        page_name = sandbox.state.pages[page_id].name
        with _setup_home(root, server.base_url, page_id, page_name, token) as session:
            page = session.page()
            typer.echo(f"Sandbox Graph API on {server.base_url} (page {page_name}, id {page_id}).")
            typer.echo(f"Demo home: {root}" + (" (removed on exit)" if throwaway else ""))
            typer.echo(_first_sync(session, page))
            if not open_inbox:
                _show_awaiting(session, page)
        if not keep_serving:
            return
        ticker = Activity(sandbox, activity, seed=seed)
        ticker.start()
        if open_inbox:
            import socialdesk.tui as tui

            tui.run_inbox(str(root), sync_on_start=False, poll_seconds=10)
            typer.echo("Demo stopped." + (" Its files were removed." if throwaway else ""))
            return
        _serve_until_stopped(root, server.base_url, throwaway)
    finally:
        if ticker is not None:
            ticker.stop()
        server.shutdown()
        if throwaway:
            shutil.rmtree(root, ignore_errors=True)


def _serve_until_stopped(root: Path, base_url: str, throwaway: bool) -> None:
    env = f"SOCIALDESK_HOME={shlex.quote(str(root))} SOCIALDESK_GRAPH_URL={base_url}"
    typer.echo("")
    typer.echo("The full-screen inbox arrives in a later version. Meanwhile, in another shell:")
    for command in ("sync", "list", "show 1", "list 'is:comment'", "doctor"):
        typer.echo(f"  {env} socialdesk {command}")
    typer.echo("Customers keep writing every few seconds. Ctrl-C stops the demo.")
    from socialdesk.cli.serving import stop_on_sigterm

    with stop_on_sigterm() as stop:
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    typer.echo("Demo stopped." + (" Its files were removed." if throwaway else ""))
