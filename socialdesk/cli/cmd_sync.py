"""``socialdesk sync``: fetch what changed on a Page, once or every N seconds.

Registered on the root app; the work is ``socialdesk.core.sync.sync_page``. Heavy imports (httpx,
api, store, core) happen inside the command so ``socialdesk --help`` stays fast. Output: a
progress bar on stderr when it is a terminal, then one summary line per round on stdout (or the
``SyncReport`` as JSON with ``--json``: one object, or one object per line with ``--watch``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app

if TYPE_CHECKING:
    from socialdesk.models import SyncReport


def summary_line(report: SyncReport, page_label: str) -> str:
    """The one-line human summary of a sync round."""
    if report.skipped:
        return f"{page_label}: skipped, another sync of this page is running"
    parts = [
        f"{report.conversations} conversation{'s' if report.conversations != 1 else ''}"
        f" ({report.messages} new message{'s' if report.messages != 1 else ''})",
        f"{report.posts} post{'s' if report.posts != 1 else ''}"
        f" ({report.comments} new comment{'s' if report.comments != 1 else ''})",
    ]
    if report.reopened:
        parts.append(f"{report.reopened} reopened")
    kind = "full sync" if report.full else "synced"
    return (
        f"{page_label}: {kind} {', '.join(parts)}; "
        f"{report.calls} call{'s' if report.calls != 1 else ''} in {report.duration_s:.1f} s"
    )


_sleep: Callable[[float], None] = time.sleep
"""How ``--watch`` waits between rounds (tests replace it)."""

_STAGE_LABELS = {
    "conversations": "conversations",
    "messages": "older messages",
    "feed": "posts",
    "comments": "older comments",
}


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A progress callback drawing one transient bar on stderr (only when it is a terminal)."""
    if not enabled:
        yield None
        return
    from socialdesk.cli import output

    with output.progress("syncing") as bar:
        counts: dict[str, int] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage in ("messages", "comments"):
                counts[stage] = counts.get(stage, 0) + done  # these stages report increments
            else:
                counts[stage] = done
            label = ", ".join(f"{_STAGE_LABELS.get(k, k)} {v}" for k, v in counts.items())
            bar.update(description=label, completed=counts[stage], total=total)

        yield update


@app.command()
def sync(
    seconds: Annotated[
        int | None,
        typer.Argument(
            metavar="[SECONDS]",
            help="With --watch: seconds between rounds (default: sync.poll_seconds).",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-walk every conversation and every post.")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Keep polling every SECONDS until Ctrl-C."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (one line per round).")
    ] = False,
    page: Annotated[
        str | None, typer.Option("--page", help="Page id or name (default: the default page).")
    ] = None,
) -> None:
    """Fetch what changed on the Page: conversations, messages, posts and comments.

    Incremental: it walks conversations from the newest down to what is already stored and
    sweeps the comments of recent posts; --full re-walks everything. Prints a one-line summary
    (or --json: counts, calls made, duration). `sync --watch [SECONDS]` keeps polling.
    """
    from socialdesk.cli import output
    from socialdesk.cli.common import open_context
    from socialdesk.core.session import Session
    from socialdesk.core.sync import sync_page
    from socialdesk.errors import SocialdeskError, UnavailableError, UsageError
    from socialdesk.store import cache
    from socialdesk.store.db import transaction

    if seconds is not None and not watch:
        raise UsageError(
            f"unexpected argument {seconds}", hint="use `socialdesk sync --watch SECONDS`"
        )
    if seconds is not None and seconds < 1:
        raise UsageError("--watch SECONDS must be at least 1")

    session = Session(open_context())  # the CLI's context factory (tests: in-process)
    try:
        page_cfg = session.page(page)
        label = page_cfg.name or page_cfg.id
        cfg = session.config.sync
        interval = seconds if seconds is not None else cfg.poll_seconds
        conn = session.db
        with transaction(conn):
            cache.upsert_page(conn, page_cfg.id, page_cfg.name, now=session.clock.now())
        client = session.client(page_cfg)
        show_bar = not as_json

        def one_round(full_round: bool) -> None:
            with _progress(show_bar) as progress:
                report = sync_page(
                    conn,
                    client,
                    page_cfg.id,
                    paths=session.paths,
                    clock=session.clock,
                    full=full_round,
                    lookback_days=cfg.comment_lookback_days,
                    deep_sweep_hours=cfg.deep_sweep_hours,
                    progress=progress,
                )
            if as_json:
                # One compact object per line, so --watch output is JSON lines.
                sys.stdout.write(output.to_json(report.as_dict(), indent=None) + "\n")
                sys.stdout.flush()
            else:
                typer.echo(summary_line(report, label))

        if not watch:
            one_round(full)
            return
        first = True
        try:
            while True:
                try:
                    one_round(full and first)
                except UnavailableError as exc:
                    # Throttled or down: say so and try again next round (auth errors stop).
                    from socialdesk.cli.app import report_error

                    report_error(exc)
                first = False
                _sleep(interval)
        except KeyboardInterrupt:
            return  # Ctrl-C is how --watch ends: not an error
    except SocialdeskError as exc:
        session.annotate_error(exc)
        raise
    finally:
        session.close()
