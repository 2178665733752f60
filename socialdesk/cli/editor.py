"""Composing text in the operator's editor (``$VISUAL``, else ``$EDITOR``).

Called by ``reply --edit``. The file is a private temp file (0600, removed afterwards); what it
holds and how it is read back is ``core.replying``'s business (``compose_file``,
``parse_composed``).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from socialdesk.errors import UsageError


def edit(initial: str) -> str:
    """The file's text after the editor ran on ``initial``; :class:`UsageError` when no editor
    is set, it cannot run, or it exits with an error (nothing is sent then)."""
    editor = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip()
    if not editor:
        raise UsageError(
            "no editor: $VISUAL and $EDITOR are not set",
            hint="set one (e.g. EDITOR=nano) or pass --text",
        )
    fd, name = tempfile.mkstemp(prefix="socialdesk-reply-", suffix=".txt")
    path = Path(name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(initial)
        try:
            rc = subprocess.call([*shlex.split(editor), str(path)])
        except OSError as exc:
            raise UsageError(
                f"cannot run the editor {editor!r}: {exc.strerror}", hint="check $VISUAL/$EDITOR"
            ) from exc
        if rc != 0:
            raise UsageError(f"the editor exited with status {rc}; nothing was sent")
        return path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
