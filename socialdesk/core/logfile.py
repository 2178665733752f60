"""Where a long-running front end's log lines go: a private file, through the redacting filter.

Called by the inbox when it starts (``tui.gateway``): Textual draws on the terminal, and a log
line written there would break the screen, so logging moves to ``<data>/logs/NAME`` while the
app runs. Every record passes :class:`socialdesk.api.redact.RedactingFilter` first (a token
never reaches the file).
"""

from __future__ import annotations

import logging
import os

from socialdesk.api.redact import RedactingFilter
from socialdesk.paths import Paths, make_private_dir

__all__ = ["route_logging_to_file"]


def route_logging_to_file(paths: Paths, name: str) -> logging.Handler:
    """Drop the terminal's log handlers and log to ``<log_dir>/name`` (redacted) instead."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            root.removeHandler(handler)
    make_private_dir(paths.log_dir, tighten=True)
    path = paths.log_dir / name
    # The log names customers and threads: 0600 whatever the umask, an old file tightened too.
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    logging.captureWarnings(True)
    return handler
