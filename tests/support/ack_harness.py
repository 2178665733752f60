"""The kill harness shared by ``tests/core/test_ack_kill.py`` (a few kills) and
``benchmarks/soak_ack_kill.py`` (hundreds): a served sandbox, a private SOCIALDESK_HOME, and the
CLI run in subprocesses.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from socialdesk.core.templates import add_template
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox
from tests.support.kill_events import Announcing, cli

TEMPLATE = ["Thanks {first_name}! We'll get back to you shortly.", "Hi {first_name}, got it."]

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
"""``python -m socialdesk ARGS`` (which is ``socialdesk.cli.main()``) without the client's
0.6 s spacing of conversation calls: the harness's sandbox has its rate limit off."""


class Harness:
    """A served sandbox plus a private SOCIALDESK_HOME, and the CLI run in subprocesses."""

    def __init__(self, home: Path, *, latency_ms: float, seed: int, pace_runs: bool = True) -> None:
        """``pace_runs=False``: the commands of :meth:`run` (setup and clean follow-up runs,
        never the processes a test kills, :meth:`cmd`) skip the client's pacing, which against
        this rate-limit-off sandbox only sleeps."""
        self.pace_runs = pace_runs
        # A huge usage budget: hundreds of runs must not hit the (realistic) hourly call budget.
        self.sb = Sandbox(rate_limit=False, seed=seed, usage_budget=10**9)
        self.page = self.sb.add_page("Soak Shop")
        self.token = self.sb.issue_token(self.page)
        self.server = self.sb.serve(latency_ms=latency_ms)
        home.mkdir(parents=True, exist_ok=True)  # SOCIALDESK_HOME must exist
        self.home = home
        self.env = {
            **os.environ,
            "SOCIALDESK_HOME": str(home),
            "SOCIALDESK_GRAPH_URL": self.server.base_url,
            "SOCIALDESK_TOKEN": self.token,
            "SOCIALDESK_OUTBOX_SETTLE_S": "0.5",
            "NO_COLOR": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        for var in ("VISUAL", "EDITOR", "SOCIALDESK_APP_SECRET"):
            self.env.pop(var, None)
        # What `socialdesk templates add thanks …` does, without a CLI process (~0.3 s) for it.
        add_template(resolve_paths(home), "thanks", TEMPLATE)

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "socialdesk", *args]

    def announcing(self, *args: str, hold_at: str | None = None) -> Announcing:
        """``socialdesk ARGS`` in a child that announces its commits (unpaced; see
        ``tests.support.kill_events``), held at ``hold_at`` if given, for a test to kill."""
        return Announcing(cli(*args), env=self.env, hold_at=hold_at)

    def delivered(self, users: list[str]) -> int:
        """Messages the sandbox delivered to ``users``, all told."""
        return sum(len(self.sb.deliveries(self.page, u)) for u in users)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = self.cmd(*args) if self.pace_runs else [sys.executable, "-c", _UNPACED_CLI, *args]
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError(f"socialdesk {' '.join(args)} -> {proc.returncode}: {proc.stderr}")
        return proc

    def add_customers(self, n: int, round_no: int) -> list[str]:
        users = []
        for i in range(n):
            user = self.sb.add_user(f"Cust{round_no}x{i} Soak")
            # Stamped "now", like a real new message: sync walks conversations from the newest
            # down to its watermark, so a message stamped in the past would not be seen.
            self.sb.add_message(self.page, user, f"hello from {i}")
            users.append(user)
        return users

    def outbox_states(self) -> dict[str, int]:
        conn = sqlite3.connect(self.home / "socialdesk.db")
        try:
            rows = conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        finally:
            conn.close()
        return {str(s): int(n) for s, n in rows}

    def close(self) -> None:
        self.server.shutdown()


def ack_args(rate: float) -> list[str]:
    return ["ack", "is:awaiting", "--template", "thanks", "--yes", "--rate", str(rate)]
