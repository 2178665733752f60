"""``socialdesk sync``: fetch what changed on a Page, once or in a watch loop.

Registered on the root app; the work is ``socialdesk.core.syncing.sync_round`` (one round) and
its ``WatchPolicy`` (how long to wait). Heavy imports (httpx, api, store, core) happen inside the
command so ``socialdesk --help`` stays fast. Output: a progress bar on stderr when it is a
terminal, then one summary line per round on stdout (or the ``SyncReport`` as JSON with
``--json``: one object, or one object per line with ``--watch``). Each failed edge gets an
``error:``/``hint:`` pair on stderr, items skipped as unreadable a ``warning:`` line, and every
wait (a throttle, a retry) one line on stderr with its reason and duration, terminal or not.
With ``--watch`` every line starts with a UTC timestamp, and each round says when the next one
runs and why. Exit codes: see ``core.syncing`` (0, 5 partial, the edges' own code when all
failed, 7 skipped because another sync of the Page is running).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app
from socialdesk.format import plural

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.session import Session
    from socialdesk.core.syncing import WatchDecision
    from socialdesk.models import SyncProgress, SyncReport, Wait


def summary_line(report: SyncReport, page_label: str) -> str:
    """The one-line human summary of a sync round."""
    if report.skipped:
        return f"{page_label}: skipped, another sync of this page is running"
    parts = [
        f"{report.conversations} conversation{'s' if report.conversations != 1 else ''}"
        f" ({report.messages} new message{'s' if report.messages != 1 else ''})",
        f"{report.posts} post{'s' if report.posts != 1 else ''}"
        + (f" and {report.reels} reel{'s' if report.reels != 1 else ''}" if report.reels else "")
        + f" ({report.comments} new comment{'s' if report.comments != 1 else ''})",
    ]
    ig = report.instagram
    if ig:
        gaps = ig.get("gaps", 0)
        parts.append(
            f"Instagram: {plural(ig.get('threads', 0), 'DM thread')}"
            f" ({plural(ig.get('messages', 0), 'new message')}"
            + (f", {plural(gaps, 'gap')}" if gaps else "")
            + f"), {plural(ig.get('media', 0), 'media', 'media')}"
            f" ({plural(ig.get('comments', 0), 'new comment')})"
        )
    if report.reopened:
        parts.append(f"{report.reopened} reopened")
    failed = [e.edge for e in report.failed_edges]
    kind = "full sync" if report.full else "synced"
    line = (
        f"{page_label}: {kind} {', '.join(parts)}; "
        f"{report.calls} call{'s' if report.calls != 1 else ''} in {report.duration_s:.1f} s"
    )
    if failed:
        line += f"; failed: {', '.join(failed)}"
    return line


_sleep: Callable[[float], None] = time.sleep
"""How ``--watch`` waits between rounds (tests replace it)."""

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaced by tests
"""The time stamped on ``--watch`` lines."""

_STAGE_LABELS = {
    "conversations": "conversations",
    "messages": "older messages",
    "feed": "posts",
    "reels": "reels",
    "comments": "older comments",
    "ig_conversations": "Instagram DMs",
    "ig_media": "Instagram media",
    "ig_comments": "Instagram comments",
}

MAX_WARNINGS = 5
"""Skipped-item warnings printed per round (the rest are counted)."""


def _stamp() -> str:
    return _now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(line: str, *, stamped: bool) -> None:
    from socialdesk.cli.app import _clean_line

    text = _clean_line(line)
    sys.stderr.write((f"{_stamp()} {text}" if stamped else text) + "\n")
    sys.stderr.flush()


RATE_AFTER_S = 10.0
"""Seconds of a sync before the bar shows a conversation rate (earlier it says little)."""


def progress_label(counts: dict[str, int], elapsed_s: float) -> str:
    """The bar's text: what each stage has read so far, and after :data:`RATE_AFTER_S` the
    conversation rate (``~180 conversations/min``, throttle waits included). Graph gives no
    total of a Page's conversations to count down from, so the rate is the estimate: the
    operator of a big Page can tell from it how long the first sync will take."""
    label = ", ".join(f"{_STAGE_LABELS.get(k, k)} {v}" for k, v in counts.items())
    conversations = counts.get("conversations", 0)
    if conversations and elapsed_s >= RATE_AFTER_S:
        label += f" (~{conversations / elapsed_s * 60:.0f} conversations/min)"
    return label


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[SyncProgress], None] | None]:
    """A progress callback drawing one transient bar on stderr (only when it is a terminal)."""
    if not enabled:
        yield None
        return
    from socialdesk.cli import output

    with output.progress("syncing") as bar:
        counts: dict[str, int] = {}
        started = time.monotonic()

        def update(event: SyncProgress) -> None:
            counts[event.stage.value] = event.done  # events are cumulative
            label = progress_label(counts, time.monotonic() - started)
            bar.update(description=label, completed=event.done, total=event.total)

        yield update


def duration(seconds: float) -> str:
    """A wait as people say it: ``45 s``, ``12 min``, ``1.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _print_wait(wait: Wait, *, stamped: bool) -> None:
    where = f" [{wait.edge}]" if wait.edge else ""
    _err(f"waiting {duration(wait.seconds)}: {wait.reason}{where}", stamped=stamped)


def _one_error(report: SyncReport) -> bool:
    """Every edge failed the same way: the round is that one error (printed once)."""
    failed = report.failed_edges
    return (
        bool(failed)
        and len(failed) == len(report.edges)
        and len({(e.error, e.hint) for e in failed}) == 1
    )


def _report_round(
    report: SyncReport,
    label: str,
    *,
    as_json: bool,
    stamped: bool,
    decision: WatchDecision | None,
) -> int:
    """Print one round (summary or JSON, failures, warnings, next wait); return its exit code."""
    from socialdesk.cli import output
    from socialdesk.core import syncing

    code = int(syncing.exit_code(report))
    if as_json:
        data: dict[str, Any] = report.as_dict()
        data["exit_code"] = code
        if decision is not None:
            data["next"] = {
                "seconds": round(decision.seconds, 1),
                "reason": decision.reason,
                "stop": decision.stop,
            }
        # One compact object per line, so --watch output is JSON lines.
        sys.stdout.write(output.to_json(data, indent=None) + "\n")
        sys.stdout.flush()
    else:
        line = summary_line(report, label)
        typer.echo(f"{_stamp()} {line}" if stamped else line)
    problems = report.problems
    if problems:
        shown = "; ".join(p.describe() for p in problems[:MAX_WARNINGS])
        more = f" (and {len(problems) - MAX_WARNINGS} more)" if len(problems) > MAX_WARNINGS else ""
        plural = "s" if len(problems) != 1 else ""
        _err(
            f"warning: skipped {len(problems)} unreadable item{plural}: {shown}{more}",
            stamped=stamped,
        )
    if stamped or not _one_error(report):
        for edge in report.failed_edges:
            _err(f"error: {edge.edge}: {edge.error}", stamped=stamped)
            if edge.hint:
                _err(f"hint: {edge.hint}", stamped=stamped)
    if decision is not None and not as_json:
        if decision.stop:
            typer.echo(f"{_stamp()} {label}: {decision.reason}")
        else:
            typer.echo(
                f"{_stamp()} {label}: next round in {duration(decision.seconds)}"
                f" ({decision.reason})"
            )
    return code


def _after_sync(
    session: Session, page_cfg: PageConfig, report: SyncReport, *, forced: bool, stamped: bool
) -> int:
    """The rules after a round (``--rules``, or ``[settings] after_sync`` in the rules file):
    one line on stderr, and the rules' exit code (an error is reported, not raised, so a
    ``--watch`` loop goes on)."""
    from socialdesk.cli.cmd_rules import exit_for, summary
    from socialdesk.core import rules as core_rules
    from socialdesk.errors import SocialdeskError

    try:
        run = core_rules.after_sync(session.ctx, session.db, page_cfg, report, forced=forced)
    except SocialdeskError as exc:
        _err(f"rules: error: {exc.message}", stamped=stamped)
        return int(exc.exit_code)
    if run is None:
        return 0
    _err(summary(run), stamped=stamped)
    return exit_for(run)


@app.command()
def sync(
    seconds: Annotated[
        int | None,
        typer.Argument(
            metavar="[SECONDS]",
            help="With --watch: the shortest wait between rounds (default: sync.poll_seconds).",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-walk every conversation and every post.")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Keep syncing until Ctrl-C, waiting at least SECONDS between rounds (longer"
            " when the Page's Messenger budget needs it: each round says why).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (one line per round).")
    ] = False,
    page: Annotated[
        str | None, typer.Option("--page", help="Page id or name (default: the default page).")
    ] = None,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules", help="Run the rules after each successful round (see `rules --help`)."
        ),
    ] = False,
) -> None:
    """Fetch what changed on the Page: conversations, messages, posts, Reels and comments.

    Incremental: it walks conversations from the newest down to what is already stored and
    sweeps the comments of recent posts and Reels; --full re-walks everything. Conversations,
    posts and Reels succeed or fail on their own: a failed one is named with its cause and fix
    and the exit code is 5 when others synced. Exit 7: another sync of the Page is running.
    `sync --watch [SECONDS]` keeps syncing, pacing itself to the Page's Messenger budget.
    """
    from socialdesk.cli.common import open_context
    from socialdesk.core import syncing
    from socialdesk.core.session import Session
    from socialdesk.errors import SocialdeskError, UsageError

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
        interval = seconds if seconds is not None else session.config.sync.poll_seconds
        conn = session.db
        show_bar = not as_json

        def one_round(full_round: bool) -> SyncReport:
            with _progress(show_bar) as progress:
                return syncing.sync_round(
                    session,
                    conn,
                    page_cfg,
                    full=full_round,
                    progress=progress,
                    on_wait=lambda wait: _print_wait(wait, stamped=watch),
                )

        if not watch:
            report = one_round(full)
            code = _report_round(report, label, as_json=as_json, stamped=False, decision=None)
            code = code or _after_sync(session, page_cfg, report, forced=rules, stamped=False)
            single = syncing.failure(report)
            if single is not None and _one_error(report):
                raise single
            if code:
                raise typer.Exit(code)
            return
        policy = syncing.watch_policy(conn, page_cfg.id, poll_seconds=interval, clock=session.clock)
        first = True
        try:
            while True:
                report = one_round(full and first)
                decision = policy.next_interval(report, None)
                _report_round(report, label, as_json=as_json, stamped=True, decision=decision)
                _after_sync(session, page_cfg, report, forced=rules, stamped=True)
                if decision.stop:
                    single = syncing.failure(report)
                    if single is not None:
                        raise single
                    return
                first = False
                _sleep(decision.seconds)
        except KeyboardInterrupt:
            return  # Ctrl-C is how --watch ends: not an error
    except SocialdeskError as exc:
        session.annotate_error(exc)
        raise
    finally:
        session.close()
