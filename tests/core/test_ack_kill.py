"""Kill test: SIGKILL `ack` at random points, re-run; every customer got exactly one ack."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialdesk.sandbox import Sandbox

# The same harness as benchmarks/soak_ack_kill.py (kept in step by hand; the soak runs hundreds
# of kills, this test a few).
TEMPLATE = ["Thanks {first_name}! We'll get back to you shortly.", "Hi {first_name}, got it."]


class Harness:
    """A served sandbox plus a private SOCIALDESK_HOME, and the CLI run in subprocesses."""

    def __init__(self, home: Path, *, latency_ms: float, seed: int) -> None:
        # A huge usage budget: hundreds of runs must not hit the (realistic) hourly call budget.
        self.sb = Sandbox(rate_limit=False, seed=seed, usage_budget=10**9)
        self.page = self.sb.add_page("Soak Shop")
        self.token = self.sb.issue_token(self.page)
        self.server = self.sb.serve(latency_ms=latency_ms)
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
        self.run("templates", "add", "thanks", *TEMPLATE)

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "socialdesk", *args]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.cmd(*args), env=self.env, capture_output=True, text=True, timeout=120
        )
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


@pytest.mark.slow
def test_ack_survives_kills(tmp_path: Path) -> None:
    """4 random SIGKILLs then a full run: 30 customers, 30 deliveries, no row left sending."""
    h = Harness(tmp_path / "home", latency_ms=20, seed=3)
    rng = random.Random(11)
    try:
        users = h.add_customers(30, 1)
        h.run("sync")
        killed_mid_run = 0
        for _ in range(4):
            proc = subprocess.Popen(
                h.cmd(*ack_args(10.0)),
                env=h.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.5, 1.5))
            killed_mid_run += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert killed_mid_run >= 1  # the kills really interrupted runs
        final = h.run(*ack_args(10.0), check=False)
        assert final.returncode == 0, final.stderr
        counts = [len(h.sb.deliveries(h.page, u)) for u in users]
        assert counts == [1] * 30
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states
        assert states.get("sent", 0) >= 30
        again = h.run(*ack_args(10.0))
        assert "0 sent" in again.stdout
        assert sum(len(h.sb.deliveries(h.page, u)) for u in users) == 30
    finally:
        h.close()
