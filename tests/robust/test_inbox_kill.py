"""SIGKILL of the inbox while it sends and while its background sync runs, then a restart: the
outbox recovers as the CLI's does (issue 12, "Crashes in the inbox").

The inbox's work runs in a subprocess (``tests/support/inbox_proc.py``: the gateway's background
sync and its replies, against a loopback sandbox with 60 ms latency) and is killed at random
points; each restart settles the outbox as the app does at start. Then the inbox replies to
what is left. Every customer ends with exactly one reply, nothing is left ``sending`` or
``queued``, the database is intact, and the kills really landed mid-send. The app's own start
(``InboxApp`` with ``sync_on_start``) is checked to run that settlement.
``benchmarks/soak_inbox_kill.py`` does the same with many kills.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialdesk.tui.app import InboxApp
from socialdesk.tui.gateway import Gateway
from tests.support.ack_harness import Harness
from tests.support.inbox_proc import REPLY
from tests.support.sync_proc import integrity

REPO = Path(__file__).resolve().parents[2]
CUSTOMERS = 12
KILLS = 6


def inbox(h: Harness, mode: str) -> subprocess.Popen[str]:
    """The inbox's work (``work``) or its start (``start``) in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.inbox_proc", mode],
        cwd=REPO,
        env=h.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_mid_work(h: Harness, rng: random.Random) -> bool:
    """Start the inbox's work, SIGKILL it after its first reply plus a random delay; whether it
    was still running."""
    proc = inbox(h, "work")
    assert proc.stdout is not None
    first = proc.stdout.readline()  # one reply went (or it had nothing to do)
    time.sleep(rng.uniform(0.0, 0.25))
    alive = proc.poll() is None and first.strip() != "DONE"
    proc.kill()
    proc.communicate(timeout=30)
    return alive


def restart(h: Harness) -> list[str]:
    """The inbox starting again: its outbox settlement; the notices it would show."""
    proc = inbox(h, "start")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    notes: list[str] = json.loads(out)
    return notes


@pytest.mark.slow
def test_inbox_killed_while_sending_and_syncing_recovers_at_restart(tmp_path: Path) -> None:
    h = Harness(tmp_path / "home", latency_ms=60, seed=5, pace_runs=False)
    rng = random.Random(13)
    try:
        users = h.add_customers(CUSTOMERS, 1)
        h.run("sync")
        interrupted_sends = 0
        for _ in range(KILLS):
            if not kill_mid_work(h, rng):
                break
            states = h.outbox_states()
            interrupted_sends += states.get("sending", 0) + states.get("queued", 0)
            assert integrity(h.home / "socialdesk.db") == "ok"
            restart(h)
            states = h.outbox_states()
            assert "sending" not in states and "queued" not in states, states
            assert all(len(h.sb.deliveries(h.page, u)) <= 1 for u in users)
        assert interrupted_sends >= 1  # some kill really landed inside a send
        final = inbox(h, "work")
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0 and "DONE" in out, err
        counts = {u: len(h.sb.deliveries(h.page, u)) for u in users}
        assert sorted(counts.values()) == [1] * CUSTOMERS, counts
        texts = [d.text for u in users for d in h.sb.deliveries(h.page, u)]
        assert all(t.startswith(REPLY.split("#")[0]) for t in texts)
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states, states
        assert integrity(h.home / "socialdesk.db") == "ok"
    finally:
        h.close()


async def test_the_inbox_settles_the_outbox_when_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row left ``sending`` by a killed inbox is settled by the next inbox's start (the
    app's job thread), before any reply: the delivered message is found by reading back."""
    h = Harness(tmp_path / "home", latency_ms=60, seed=8, pace_runs=False)
    rng = random.Random(3)
    try:
        h.add_customers(6, 1)
        h.run("sync")
        for _ in range(20):  # kill until a send is interrupted
            kill_mid_work(h, rng)
            if h.outbox_states().get("sending"):
                break
            restart(h)
        assert h.outbox_states().get("sending"), "no kill landed inside a send"
        for key, value in h.env.items():
            if key.startswith(("SOCIALDESK_", "PYTHON_KEYRING")):
                monkeypatch.setenv(key, value)
        gw = Gateway.open()
        app = InboxApp(gw, sync_on_start=True, background_sync=False)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    if app.jobs_pending() == 0:
                        break
                assert app.jobs_pending() == 0
        finally:
            gw.close()
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states, states
    finally:
        h.close()
