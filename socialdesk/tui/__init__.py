"""The full-screen Textual inbox; only the bare ``socialdesk`` command and ``demo`` import it.

This package is the only place allowed to import :mod:`textual` (tests/test_layers.py). Inside
it, only :mod:`socialdesk.tui.gateway` reaches into ``core``/``store``/``config``
(tests/test_layers.py, tests/tui/test_boundaries.py). :func:`run_inbox` is the entry point
the CLI imports lazily.
"""

from __future__ import annotations

import sys

__all__ = ["run_inbox"]


def run_inbox(
    home: str | None = None,
    *,
    page: str | None = None,
    sync_on_start: bool = True,
    poll_seconds: int | None = None,
) -> int:
    """Open the inbox on the configured (or named) page; return the exit code.

    ``poll_seconds`` overrides ``sync.poll_seconds`` (the demo polls its lively sandbox often).
    Raises :class:`~socialdesk.errors.SocialdeskError` (no page configured, no token, a bad
    ``[keys]`` entry, no terminal) for the CLI to report before anything is drawn.
    """
    from socialdesk.errors import ConfigError, UsageError
    from socialdesk.tui.keys import KeymapError, keymap_from_config

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the inbox needs a terminal",
            hint="in scripts use `socialdesk list` and `socialdesk show 12`; "
            "`socialdesk demo` tries the inbox on the built-in sandbox",
        )
    from socialdesk.tui.gateway import Gateway

    gateway = Gateway.open(home, page=page)
    try:
        try:
            keymap = keymap_from_config(gateway.config.keys)
        except KeymapError as exc:
            raise ConfigError(str(exc), hint="see the help screen (?) for action names") from None
        gateway.token_check()
        gateway.route_logging_to_file()
        from socialdesk.tui.app import InboxApp

        app = InboxApp(gateway, keymap=keymap, sync_on_start=sync_on_start)
        if poll_seconds is not None:
            app.policy.poll_seconds = float(poll_seconds)
        app.run()
    finally:
        gateway.close()
    return 0
