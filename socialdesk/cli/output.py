"""How CLI commands write to the terminal: Rich consoles, ``--json``, tables, progress bars.

Rules every command follows through these helpers:

- Human output goes through :func:`console` (stdout) / :func:`err_console` (stderr). They honour
  ``NO_COLOR``, and when the stream is not a terminal they emit no ANSI escape at all (colour
  forcing variables such as ``FORCE_COLOR`` are ignored then: pipes and cron logs stay plain).
  Markup, emoji codes and highlighting are off, so a plain string prints literally.
- Customer text only ever becomes a :class:`rich.text.Text` through :func:`customer_text`
  (sanitised, never parsed as markup).
- ``--json`` writes exactly one JSON document on stdout through :func:`print_json`; progress and
  messages go to stderr.
- Progress bars (:func:`progress`) appear only when stderr is a terminal.

Rich is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from socialdesk.sanitize import clean, escape_json_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "Progress",
    "console",
    "customer_text",
    "err_console",
    "is_terminal",
    "json_default",
    "make_table",
    "print_json",
    "progress",
    "to_json",
]


def is_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stdout) is an interactive terminal."""
    target = stream if stream is not None else sys.stdout
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):
        return False


def _make_console(stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = is_terminal(stream)
    no_color = "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != ""
    width = None
    if not tty:
        # Not a terminal: no escapes whatsoever, and a generous width so lines are not chopped.
        try:
            width = int(os.environ.get("COLUMNS", "")) or None
        except ValueError:
            width = None
        width = width or 200
    return Console(
        file=None,  # resolve sys.stdout/sys.stderr at write time (CliRunner swaps them)
        stderr=stderr,
        force_terminal=tty,
        force_interactive=None if tty else False,
        color_system="auto" if tty and not no_color else None,
        no_color=no_color or not tty,
        markup=False,
        emoji=False,
        highlight=False,
        width=width,
        soft_wrap=False,
    )


def console() -> Console:
    """A console on stdout (new each call, so it follows the current ``sys.stdout``)."""
    return _make_console(stderr=False)


def err_console() -> Console:
    """A console on stderr, for messages around ``--json`` output and progress."""
    return _make_console(stderr=True)


def customer_text(value: str | None, *, single_line: bool = False, style: str = "") -> Text:
    """Untrusted text as a Rich ``Text``: sanitised, never interpreted as markup."""
    from rich.text import Text

    return Text(clean(value or "", single_line=single_line), style=style)


def make_table(*columns: str | tuple[str, dict[str, Any]], title: str | None = None) -> Table:
    """A Rich table with our house style; a column is a header or ``(header, column kwargs)``.

    Add cells as ``Text`` (use :func:`customer_text` for anything a customer wrote).
    """
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False
    )
    for column in columns:
        if isinstance(column, tuple):
            header, kwargs = column
            table.add_column(header, **kwargs)
        else:
            table.add_column(column)
    return table


# --- JSON ------------------------------------------------------------------------------------

# Characters JSON allows raw inside strings but a terminal may act on (DEL, C1), that reorder or
# hide text (bidi, zero-width, tags, line separators), or that cannot be encoded at all (lone
# surrogates) are written as \u escapes by sanitize.escape_json_text (the one set, in sanitize).


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: datetimes (ISO 8601), dates, enums, dataclasses, sets, tuples."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON text: UTF-8 kept readable, terminal-active characters escaped."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent, default=json_default)
    return escape_json_text(text)


def print_json(obj: Any) -> None:
    """Write ``obj`` as one JSON document on stdout, and nothing else."""
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()


# --- progress --------------------------------------------------------------------------------


class Progress:
    """A progress handle; a no-op when the bar is not shown."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    @property
    def shown(self) -> bool:
        """Whether a bar is on screen."""
        return self._bar is not None

    def update(
        self,
        *,
        advance: float = 0,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        """Move the bar (``description`` is sanitised: it may name a customer)."""
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {}
        if advance:
            kwargs["advance"] = advance
        if completed is not None:
            kwargs["completed"] = completed
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = clean(description, single_line=True)
        self._bar.update(self._task, **kwargs)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Progress]:
    """A transient progress bar on stderr, shown only when stderr is a terminal."""
    if not is_terminal(sys.stderr):
        yield Progress()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    )
    with bar:
        task = bar.add_task(clean(description, single_line=True), total=total)
        yield Progress(bar, task)


def rows_text(rows: Sequence[tuple[str, str]]) -> str:
    """Aligned ``key  value`` lines for small summaries (our own text only)."""
    if not rows:
        return ""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
