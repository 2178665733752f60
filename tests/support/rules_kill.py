"""The kill harness of the rules: ``tests/rules/test_kill.py`` (a few kills) and
``benchmarks/soak_rules_kill.py`` (many). A served sandbox, a private SOCIALDESK_HOME with a
live sending rule, and ``rules run`` / ``sync --rules`` in subprocesses, killed at random
(:func:`kill_rounds`, the soak) or at points they announce (:func:`kill_at_points`, the test)."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ack_harness import Harness
from tests.support.kill_events import wait_any

RULES = """
[settings]
pace_seconds = 0.05
surge_pause = 100000
human_quiet = "1s"
max_auto_per_thread_day = 5

[templates.got]
text = ["Hi {first_name}, we got your message.", "Thanks {first_name}, noted!",
        "Hello {first_name}, a person will answer soon."]

[[rule]]
name  = "got-it"
state = "live"
query = "is:dm is:unanswered"
reply = "got"
once  = "request"
"""


class RulesHarness(Harness):
    """:class:`Harness` with the rules file written and the watermark set."""

    def __init__(self, home: Path, *, latency_ms: float, seed: int, pace_runs: bool = True) -> None:
        super().__init__(home, latency_ms=latency_ms, seed=seed, pace_runs=pace_runs)
        (home / "rules.toml").write_text(RULES)
        self.run("sync")
        self.run("rules", "run")  # the first run sets the watermark: history is never a candidate

    def automated(self, user: str) -> int:
        """Automated replies this customer received (the rule's texts start with the disclosure)."""
        return sum(
            1 for d in self.sb.deliveries(self.page, user) if d.text.startswith("Automatic reply")
        )


@dataclass
class KillResult:
    """What a kill run observed."""

    rounds: int = 0
    kills: int = 0
    killed_mid_run: int = 0
    customers: int = 0
    delivered: int = 0
    duplicates: list[str] = field(default_factory=list)
    left_sending: int = 0
    unknown_rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.duplicates and self.left_sending == 0


COMMANDS = (("rules", "run"), ("sync", "--rules"))


def kill_rounds(
    h: RulesHarness,
    *,
    kills: int,
    customers: int,
    kills_per_round: int,
    seed: int,
    max_delay_s: float = 1.2,
) -> KillResult:
    """Rounds of: new customers, overlapping `rules run` and `sync --rules` processes killed
    at random (SIGKILL), then a clean `sync --rules`; checks never twice, nothing left sending."""
    rng = random.Random(seed)
    res = KillResult()
    t0 = time.monotonic()
    users_all: list[str] = []
    while res.kills < kills:
        res.rounds += 1
        users_all += h.add_customers(customers, res.rounds)
        h.run("sync")
        for _ in range(min(kills_per_round, kills - res.kills)):
            procs = [
                subprocess.Popen(
                    h.cmd(*rng.choice(COMMANDS)),
                    env=h.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(2)  # two overlapping runs
            ]
            time.sleep(rng.uniform(0.2, max_delay_s))
            victim = rng.choice(procs)
            res.killed_mid_run += victim.poll() is None
            victim.send_signal(signal.SIGKILL)
            res.kills += 1
            for p in procs:
                p.wait(timeout=120)
        h.run("sync", "--rules", check=False)
        _tally(h, users_all, res)
    res.seconds = time.monotonic() - t0
    return res


def _tally(h: RulesHarness, users: list[str], res: KillResult) -> None:
    """Count what the customers received and what the outbox holds into ``res``."""
    res.customers = len(users)
    res.delivered = 0
    res.duplicates = []
    for u in users:
        n = h.automated(u)
        res.delivered += n
        if n > 1:
            res.duplicates.append(u)
    states = h.outbox_states()
    res.left_sending = states.get("sending", 0)
    res.unknown_rows = states.get("unknown", 0)


def kill_at_points(h: RulesHarness, *, customers: int, seed: int) -> KillResult:
    """New customers, three overlapping runs that announce their commits
    (``tests.support.kill_events``), each SIGKILLed at its own point, then a clean
    `sync --rules`; checks never twice, nothing left sending.

    The points: a `rules run` just after its first send's ``sending`` row committed (its POST
    never made); a `sync --rules` inside the transaction recording its second send's success
    (delivered, never recorded); another `rules run` at a random instant up to 15 ms after its
    first intent was queued (its POST likely in flight on the 20 ms loopback). The first two
    send at most three of the replies, so the third always has more to send when it is killed:
    every kill lands mid-run (``killed_mid_run``).
    """
    rng = random.Random(seed)
    res = KillResult(rounds=1)
    t0 = time.monotonic()
    users = h.add_customers(customers, 1)
    h.run("sync")
    held_send = h.announcing("rules", "run", hold_at="send_one:1+")
    held_confirm = h.announcing("sync", "--rules", hold_at="_confirm:2")
    timed = h.announcing("rules", "run")
    waits = {held_send: "hold", held_confirm: "hold", timed: "queue"}
    try:
        while waits:  # kill each at its point (the others may wait for it meanwhile)
            child, event = wait_any(waits)
            del waits[child]
            if event is None:
                child.finish()  # exited before its point: not counted as mid-run
                continue
            if child is timed:
                time.sleep(rng.uniform(0.0, 0.015))
            res.killed_mid_run += child.kill()
            res.kills += 1
    finally:
        for p in (held_send, held_confirm, timed):
            p.close()
    h.run("sync", "--rules", check=False)
    _tally(h, users, res)
    res.seconds = time.monotonic() - t0
    return res
