"""Kill test: SIGKILL `ack` at random points, re-run; every customer got exactly one ack."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.ack_harness import Harness, ack_args


@pytest.mark.slow
def test_ack_survives_kills(tmp_path: Path) -> None:
    """4 random SIGKILLs then a full run: 30 customers, 30 deliveries, no row left sending."""
    h = Harness(tmp_path / "home", latency_ms=20, seed=3, pace_runs=False)
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
