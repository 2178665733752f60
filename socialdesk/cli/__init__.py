"""The ``socialdesk`` command line: imports every ``cmd_*`` module so it registers on the app.

Command modules are discovered with :mod:`pkgutil`, so adding ``cli/cmd_<group>.py`` needs no
edit here. Each module only defines commands at import time (heavy imports live inside the
command functions), so this stays fast. The console script calls :func:`main`.

Start-up budget (PRODUCT.md §10: a non-TUI command starts in ≤ 300 ms; measured by
``benchmarks/bench_startup.py``): Typer turns *every* registered command into a Click command
(inspecting signatures, evaluating annotations) before it parses the command line, about a
third of a cron command's own start-up. :func:`main` therefore hands Typer only the command
the command line names (the help text, options and errors of that command are unchanged);
anything else (root ``--help``, an unknown or misspelt command) gets the full tree.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer

from socialdesk.cli.app import app

__all__ = ["app", "main"]

ROOT_FLAGS = frozenset({"--debug", "--version"})
"""The root callback's options; none takes a value (see ``cli/app.py``)."""


def _load_commands() -> list[str]:
    """Import every ``socialdesk.cli.cmd_*`` module (sorted, so help order is stable)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


COMMAND_MODULES = _load_commands()


def invoked_name(args: Sequence[str]) -> str | None:
    """The command (or group) name ``args`` invoke, ``""`` when they name none (``--version``,
    the bare inbox), ``None`` when the whole tree is needed (root ``--help``, anything odd)."""
    for arg in args:
        if arg in ROOT_FLAGS:
            continue
        if arg.startswith("-"):
            return None
        return arg
    return ""


def command_names(typer_app: typer.Typer) -> list[str] | None:
    """Top-level names in registration order, or ``None`` if one cannot be told in advance
    (a group added without a name spreads its commands into the root)."""
    from typer.main import get_command_name, solve_typer_info_defaults

    names: list[str] = []
    for info in typer_app.registered_commands:
        if info.callback is None:
            return None
        names.append(info.name or get_command_name(info.callback.__name__))
    for group in typer_app.registered_groups:
        name = solve_typer_info_defaults(group).name
        if not name:
            return None
        names.append(name)
    return names


@contextmanager
def only_command(typer_app: typer.Typer, args: Sequence[str]) -> Iterator[bool]:
    """Within the block, ``typer_app`` registers only what ``args`` invoke (yields whether it
    was trimmed); the full registration is restored afterwards."""
    target = invoked_name(args)
    names = command_names(typer_app) if target is not None else None
    if target is None or names is None or (target and target not in names):
        yield False
        return
    commands, groups = typer_app.registered_commands, typer_app.registered_groups
    n = len(commands)
    typer_app.registered_commands = [c for i, c in enumerate(commands) if names[i] == target]
    typer_app.registered_groups = [g for i, g in enumerate(groups) if names[n + i] == target]
    try:
        yield True
    finally:
        typer_app.registered_commands, typer_app.registered_groups = commands, groups


def main() -> None:
    """Entry point of the ``socialdesk`` console script and ``python -m socialdesk``."""
    try:
        with only_command(app, sys.argv[1:]):
            app(prog_name="socialdesk")
    finally:
        _flush_quietly()


def _flush_quietly() -> None:
    """Flush stdout now; if the reader has gone (``| head``), point stdout at /dev/null.

    Python flushes stdout once more at exit and would print "Exception ignored … BrokenPipeError"
    for output that was still buffered when the reader left.
    """
    import os

    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
