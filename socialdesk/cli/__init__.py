"""The ``socialdesk`` command line: imports every ``cmd_*`` module so it registers on the app.

Command modules are discovered with :mod:`pkgutil`, so adding ``cli/cmd_<group>.py`` needs no
edit here. Each module only defines commands at import time (heavy imports live inside the
command functions), so this stays fast. The console script calls :func:`main`.
"""

from __future__ import annotations

import importlib
import pkgutil

from socialdesk.cli.app import app

__all__ = ["app", "main"]


def _load_commands() -> list[str]:
    """Import every ``socialdesk.cli.cmd_*`` module (sorted, so help order is stable)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


COMMAND_MODULES = _load_commands()


def main() -> None:
    """Entry point of the ``socialdesk`` console script and ``python -m socialdesk``."""
    app(prog_name="socialdesk")
