"""The console script: the bare ``socialdesk`` opens the inbox without loading the CLI first.

``socialdesk`` and ``python -m socialdesk`` start here. With no argument at all the inbox
(:func:`socialdesk.tui.run_inbox`) is opened straight away: Typer and the command modules cost
~80 ms that the inbox's 500 ms first-screen budget (PRODUCT.md §10) cannot spare. Errors are
reported exactly as the CLI reports them (its helpers are imported only then). Any argument
hands over to the full CLI (:func:`socialdesk.cli.main`).
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def _inbox() -> int:
    from socialdesk.errors import SocialdeskError

    try:
        import socialdesk.tui as tui

        return tui.run_inbox()
    except SocialdeskError as exc:
        from socialdesk.cli.app import report_error

        return report_error(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from socialdesk.cli.app import report_unexpected

        return report_unexpected(exc)


def main() -> None:
    """Entry point of the ``socialdesk`` console script and ``python -m socialdesk``."""
    if len(sys.argv) == 1:
        import gc

        # No cyclic GC while the inbox starts; the app turns it back on after its first
        # screen (socialdesk/tui/app.py).
        gc.disable()
        raise SystemExit(_inbox())
    from socialdesk.cli import main as cli_main

    cli_main()
