"""What every command shares: option types, output lines, and the one way to open a session.

Called by every ``cli/cmd_*.py``. :func:`session` is the only way a command gets its context:
it annotates errors on the way out (the ``SOCIALDESK_TOKEN`` hint) whatever the command, and it
goes through a factory that tests point at an in-process sandbox (:func:`use_context_factory`,
``AppContext.open(transport=sandbox.transport())``), so CLI tests need no server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.context import AppContext
    from socialdesk.core.session import Session
    from socialdesk.core.sync import ProgressFn
    from socialdesk.models import SyncReport

__all__ = [
    "JsonOpt",
    "PageOpt",
    "ThreadArg",
    "ThreadsArg",
    "echo_line",
    "note_line",
    "open_context",
    "session",
    "sync_once",
    "use_context_factory",
    "warn_line",
]

PageOpt = Annotated[
    str | None, typer.Option("--page", help="Page id or name (default: the default page).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ThreadArg = Annotated[
    str, typer.Argument(metavar="THREAD", help="A thread number (12 or '#12') or a Graph id.")
]
ThreadsArg = Annotated[
    list[str],
    typer.Argument(metavar="THREAD...", help="Thread numbers (12 or '#12') or Graph ids."),
]


def echo_line(text: str) -> None:
    """One plain line of outcome on stdout. Cleaned here too (``sanitize.clean`` is idempotent):
    such lines also carry values from the API's answers (a sent message's id), which a
    compromised endpoint controls like customers control their text."""
    from socialdesk.sanitize import clean

    sys.stdout.write(clean(text) + "\n")
    sys.stdout.flush()


def note_line(text: str) -> None:
    """A side remark on stderr (keeps stdout to the outcome / JSON); cleaned like
    :func:`echo_line`."""
    from socialdesk.sanitize import clean

    sys.stderr.write(clean(text) + "\n")
    sys.stderr.flush()


def warn_line(text: str) -> None:
    """A ``warning:`` line on stderr."""
    note_line(f"warning: {text}")


def token_check_lines(
    missing_scopes: Sequence[str], problems: Sequence[str], unchecked: Sequence[str]
) -> None:
    """What a token check found wrong (warnings) and could not check (notes), on stderr."""
    from socialdesk.sanitize import clean

    if missing_scopes:
        warn_line(f"the token lacks {', '.join(missing_scopes)}")
    for problem in problems:
        warn_line(clean(problem, single_line=True))
    for item in unchecked:
        note_line(f"not checked: {clean(item, single_line=True)}")


ContextFactory = Callable[..., "AppContext"]
"""Opens a command's context; called with ``create_home=`` (see ``AppContext.open``)."""


def _default_factory(*, create_home: bool = False) -> AppContext:
    from socialdesk.core.context import AppContext

    return AppContext.open(create_home=create_home)


_factory: list[ContextFactory] = [_default_factory]


@contextmanager
def use_context_factory(factory: ContextFactory) -> Iterator[None]:
    """Within the block, commands open their context with ``factory`` (tests: an in-process
    sandbox transport, a fixed clock)."""
    _factory.append(factory)
    try:
        yield
    finally:
        _factory.pop()


def open_context(*, create_home: bool = False) -> AppContext:
    """The context of this command run (see :func:`use_context_factory`); ``create_home``
    for the setup commands, which may create a missing ``SOCIALDESK_HOME``."""
    return _factory[-1](create_home=create_home)


@contextmanager
def session(*, create_home: bool = False) -> Iterator[Session]:
    """The command's session: errors leaving the block are annotated, everything is closed."""
    from socialdesk.core.session import Session

    s = Session(open_context(create_home=create_home))
    try:
        yield s
    except BaseException as exc:
        s.ctx.annotate_error(exc)
        raise
    finally:
        s.close()


def sync_once(s: Session, page: PageConfig, *, progress: ProgressFn | None = None) -> SyncReport:
    """One sync round of ``page`` (``stats --sync`` and the demo's first sync).

    ``sync`` itself runs its rounds in ``cli/cmd_sync.py``; both call ``core.sync.sync_page``
    with the config's settings. When ``core.syncing.sync_round`` lands this becomes one call
    to it.
    """
    from socialdesk.core.sync import sync_page

    s.ctx.record_page(s.db, page)
    cfg = s.config.sync
    return sync_page(
        s.db,
        s.client(page),
        page.id,
        paths=s.paths,
        clock=s.clock,
        lookback_days=cfg.comment_lookback_days,
        deep_sweep_hours=cfg.deep_sweep_hours,
        progress=progress,
    )
