"""A real ``python -m socialdesk sync`` subprocess and an integrity probe, shared by
``tests/core/test_sync_kill.py`` (a few SIGKILLs) and ``benchmarks/soak_sync_kill.py`` (hundreds).

:func:`spawn_sync` is the plain CLI (the soak kills it after random sleeps); :func:`sync_env`
is its environment, for the test's announcing children (``tests.support.kill_events``), which
it kills at the points they announce.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


_UNPACED_CLI = (
    "import sys\n"
    "from socialdesk.cli import main\n"
    "from socialdesk.cli.common import use_context_factory\n"
    "from socialdesk.core.context import AppContext\n"
    "sys.argv[0] = 'socialdesk'\n"
    "with use_context_factory(\n"
    "    lambda *, create_home=False: AppContext.open(create_home=create_home, pace=False)\n"
    "):\n"
    "    main()\n"
)
"""``python -m socialdesk ARGS`` (that is ``socialdesk.cli.main()``) without client pacing."""


def spawn_sync(
    home: Path, base_url: str, token: str, *, full: bool = False, paced: bool = True
) -> subprocess.Popen[bytes]:
    """Start ``socialdesk sync --json`` against ``base_url`` with a private home (stderr piped).

    The home is created first: ``SOCIALDESK_HOME`` must name an existing directory.
    ``paced=False`` (a run nobody kills, against a sandbox whose rate limit is off) skips the
    client's 0.6 s spacing of conversation calls, which there only sleeps.
    """
    args = ["sync", "--json", *(["--full"] if full else [])]
    return subprocess.Popen(
        [sys.executable, *(["-m", "socialdesk"] if paced else ["-c", _UNPACED_CLI]), *args],
        cwd=REPO,
        env=sync_env(home, base_url, token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def sync_env(home: Path, base_url: str, token: str) -> dict[str, str]:
    """The environment of a CLI run on the private ``home`` (created: ``SOCIALDESK_HOME`` must
    name an existing directory) against the sandbox at ``base_url``."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SOCIALDESK_") and k not in ("VISUAL", "EDITOR")
    }
    env.update(
        SOCIALDESK_HOME=str(home),
        SOCIALDESK_GRAPH_URL=base_url,
        SOCIALDESK_TOKEN=token,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of the database at ``db`` (``"ok"`` when intact)."""
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
