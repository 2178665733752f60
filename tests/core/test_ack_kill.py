"""Kill test: SIGKILL ``ack`` at four points of its sends, re-run; every customer got exactly
one ack.

Each killed run is a real CLI process (``tests.support.kill_events``: it announces each commit)
killed with SIGKILL at a point it announced, aimed at the outbox's hard cases in turn:

1. inside the first intent's transaction (nothing queued, nothing sent);
2. just after a send's ``sending`` row committed, its POST never made (the next run must find
   it undelivered by reading back, and send it);
3. inside the transaction recording a send's success, the message delivered (the next run must
   find it delivered and never send it again);
4. at a random instant a few tens of milliseconds after a send's success (another intent, a
   POST in flight on the 20 ms loopback…).

Then an unkilled run must deliver the rest, and one more run must send nothing.
``benchmarks/soak_ack_kill.py`` is the long version: hundreds of kills after random sleeps.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from tests.support.ack_harness import Harness, ack_args

CUSTOMERS = 16
RATE = 1000.0
"""Sends per second: the pacing ``--rate`` adds is only sleep here (the kills are announced)."""


@pytest.mark.slow
def test_ack_survives_kills(tmp_path: Path) -> None:
    """4 SIGKILLs inside the sends then a full run: 16 customers, 16 deliveries, none pending."""
    h = Harness(tmp_path / "home", latency_ms=20, seed=3, pace_runs=False)
    # A killed `sending` row is proven absent only once older than the settle delay; the
    # sandbox answers read-backs at once, so a short delay proves as much as the default.
    h.env["SOCIALDESK_OUTBOX_SETTLE_S"] = "0.1"
    rng = random.Random(11)
    ack = ack_args(RATE)
    child = None
    try:
        users = h.add_customers(CUSTOMERS, 1)
        h.run("sync")

        # 1. Inside the first intent's transaction.
        child = h.announcing(*ack, hold_at="queue")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert h.delivered(users) == 0
        assert h.outbox_states() == {}

        # 2. The k-th send's `sending` row committed, its POST never made.
        k = rng.randint(1, 3)
        child = h.announcing(*ack, hold_at=f"send_one:{k}+")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert h.delivered(users) == k - 1
        assert h.outbox_states().get("sending") == 1

        # 3. The k-th send delivered, the transaction recording it never committed.
        before = h.delivered(users)
        k = rng.randint(1, 3)
        child = h.announcing(*ack, hold_at=f"_confirm:{k}")
        assert child.wait_for("hold") is not None, child.finish()
        assert child.kill()
        assert h.delivered(users) == before + k
        assert h.outbox_states().get("sending") == 1

        # 4. A random instant after the k-th send's success.
        k = rng.randint(1, 3)
        child = h.announcing(*ack)
        for _ in range(k):
            assert child.wait_for("_confirm") is not None, child.finish()
        time.sleep(rng.uniform(0.0, 0.04))
        assert child.kill()  # more sends were left: it was still running
        child = None

        assert all(len(h.sb.deliveries(h.page, u)) <= 1 for u in users)
        final = h.run(*ack, check=False)
        assert final.returncode == 0, final.stderr
        counts = [len(h.sb.deliveries(h.page, u)) for u in users]
        assert counts == [1] * CUSTOMERS
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states
        assert states.get("sent", 0) >= CUSTOMERS
        again = h.run(*ack)
        assert "0 sent" in again.stdout
        assert h.delivered(users) == CUSTOMERS
    finally:
        if child is not None:
            child.close()
        h.close()
