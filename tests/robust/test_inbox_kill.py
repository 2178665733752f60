"""SIGKILL of the inbox while it sends and while its background sync runs, then a restart: the
outbox recovers as the CLI's does (issue 12, "Crashes in the inbox").

The inbox's work runs in a subprocess (``tests/support/inbox_proc.py``: the gateway's background
sync and its replies, against a loopback sandbox with 20 ms latency). The child announces its
commits (``tests/support/kill_events.py``) and is killed at points it announced, aimed at the
hard cases in turn: a send's ``sending`` row committed and its POST never made; a send
delivered and the transaction recording it never committed; a random instant just after a
send (a POST in flight, another intent…); inside the background sync's write, a send under
way. Each restart settles the outbox as the app does at start. Then the inbox replies to what
is left. Every customer ends with exactly one reply, nothing is left ``sending`` or
``queued``, the database is intact, and the kills really landed mid-send. The app's own start
(``InboxApp`` with ``sync_on_start``) is checked to run that settlement.
``benchmarks/soak_inbox_kill.py`` does the same with many kills after random sleeps.

Only the killed inbox is a subprocess: the restarts, the first sync and the final run are the
same gateway calls in this process, without the client's pacing (the sandbox's rate limit is
off, so the pacing only slept).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

import pytest

from socialdesk.tui.app import InboxApp
from tests.support.ack_harness import Harness
from tests.support.inbox_proc import REPLY, open_gateway, reply_to_all
from tests.support.kill_events import Announcing
from tests.support.sync_proc import integrity

CUSTOMERS = 12
WORK = [sys.executable, "-m", "tests.support.inbox_proc", "work", "--unpaced"]
"""The inbox's work, announcing its commits (the sandbox's rate limit is off: unpaced)."""


def use_home(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process's socialdesk at the harness's home and sandbox."""
    for key, value in h.env.items():
        if key.startswith(("SOCIALDESK_", "PYTHON_KEYRING")):
            monkeypatch.setenv(key, value)


def sandbox_idle(before: set[threading.Thread], timeout: float = 30.0) -> None:
    """Wait until the loopback sandbox has finished every request it received (``before``:
    the threads that ran before the harness's sandbox was served).

    A child killed with a POST in flight leaves the sandbox's handler thread to deliver the
    message (after its latency) and only then find the connection gone; a restart must read
    the thread back after that, as a real restart (seconds later) does. Every connection has
    its handler thread (``ThreadingHTTPServer``: named after ``process_request_thread``), which
    ends once its client is gone.
    """
    deadline = time.monotonic() + timeout
    for t in set(threading.enumerate()) - before:
        if t.name.endswith("(process_request_thread)"):
            t.join(max(0.0, deadline - time.monotonic()))
            assert not t.is_alive(), "the sandbox is still answering a killed inbox"


def restart() -> list[str]:
    """The inbox starting again: its outbox settlement; the notices it would show."""
    gw = open_gateway(pace=False)
    try:
        return gw.settle_outbox()
    finally:
        gw.close()


def sync() -> None:
    """What the first ``socialdesk sync`` did: the customers' threads are in the database."""
    gw = open_gateway(pace=False)
    try:
        gw.sync_round()
    finally:
        gw.close()


def kill_at(child: Announcing, word: str, times: int = 1) -> None:
    """SIGKILL ``child`` at its ``times``-th event with ``word`` (``hold``: where it holds);
    it must still have been working."""
    for _ in range(times):
        assert child.wait_for(word) is not None, child.finish()
    assert child.kill(), child.events[-5:]


@pytest.mark.slow
def test_inbox_killed_while_sending_and_syncing_recovers_at_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_sandbox = set(threading.enumerate())
    h = Harness(tmp_path / "home", latency_ms=20, seed=5, pace_runs=False)
    use_home(h, monkeypatch)
    rng = random.Random(13)
    child: Announcing | None = None
    try:
        users = h.add_customers(CUSTOMERS, 1)
        sync()
        interrupted_sends = 0
        for point in ("sending", "delivered", "random", "sync"):
            before, k = h.delivered(users), rng.randint(1, 2)
            if point == "sending":
                # The k-th send's `sending` row committed, its POST never made.
                child = Announcing(WORK, env=h.env, hold_at=f"send_one:{k}+")
                kill_at(child, "hold")
                assert h.delivered(users) == before + k - 1
                assert h.outbox_states().get("sending") == 1
            elif point == "delivered":
                # The k-th send delivered, the transaction recording it never committed.
                child = Announcing(WORK, env=h.env, hold_at=f"_confirm:{k}")
                kill_at(child, "hold")
                assert h.delivered(users) == before + k
                assert h.outbox_states().get("sending") == 1
            elif point == "random":
                # A random instant just after the k-th send's success: more sends were left.
                child = Announcing(WORK, env=h.env)
                for _ in range(k):
                    assert child.wait_for("_confirm") is not None, child.finish()
                time.sleep(rng.uniform(0.0, 0.03))  # the random part of the kill point
                assert child.kill(), child.events[-5:]
            else:
                # Inside the background sync's write of the conversations, sends under way.
                child = Announcing(WORK, env=h.env, hold_at="_store_conversations")
                kill_at(child, "hold")
            states = h.outbox_states()
            interrupted_sends += states.get("sending", 0) + states.get("queued", 0)
            assert integrity(h.home / "socialdesk.db") == "ok"
            sandbox_idle(before_sandbox)
            restart()
            states = h.outbox_states()
            assert "sending" not in states and "queued" not in states, (point, states)
            assert all(len(h.sb.deliveries(h.page, u)) <= 1 for u in users), point
        assert interrupted_sends >= 1  # some kill really landed inside a send
        final: list[str] = []
        gw = open_gateway(pace=False)
        try:
            reply_to_all(gw, final.append)
        finally:
            gw.close()
        assert final[-1:] == ["DONE"], final
        counts = {u: len(h.sb.deliveries(h.page, u)) for u in users}
        assert sorted(counts.values()) == [1] * CUSTOMERS, counts
        texts = [d.text for u in users for d in h.sb.deliveries(h.page, u)]
        assert all(t.startswith(REPLY.split("#")[0]) for t in texts)
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states, states
        assert integrity(h.home / "socialdesk.db") == "ok"
    finally:
        if child is not None:
            child.close()  # a failing test's child, still held
        h.close()


async def test_the_inbox_settles_the_outbox_when_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row left ``sending`` by a killed inbox is settled by the next inbox's start (the
    app's job thread), before any reply: the delivered message is found by reading back."""
    h = Harness(tmp_path / "home", latency_ms=20, seed=8, pace_runs=False)
    use_home(h, monkeypatch)
    child: Announcing | None = None
    try:
        users = h.add_customers(6, 1)
        sync()
        # Killed with its first send delivered (the POST answered: nothing is in flight) and
        # the transaction recording it not committed.
        child = Announcing(WORK, env=h.env, hold_at="_confirm")
        kill_at(child, "hold")
        assert h.outbox_states() == {"sending": 1}, "the kill left no send `sending`"
        assert h.delivered(users) == 1
        gw = open_gateway(pace=False)
        app = InboxApp(gw, sync_on_start=True, background_sync=False)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                for _ in range(200):
                    await pilot.pause(0.02)
                    if app.jobs_pending() == 0:
                        break
                assert app.jobs_pending() == 0
        finally:
            gw.close()
        states = h.outbox_states()
        assert "sending" not in states and "queued" not in states, states
        assert states == {"sent": 1}, states  # found by reading back, not sent again
        assert h.delivered(users) == 1
    finally:
        if child is not None:
            child.close()
        h.close()
