"""Soak test: SIGKILL the inbox while it sends and while its background sync runs, many times;
at every restart the outbox recovers, and no customer gets two replies.

Usage::

    nice -n 10 .venv/bin/python benchmarks/soak_inbox_kill.py --kills 100 [--threads 20]
        [--kills-per-round 4] [--latency-ms 60] [--seed 1]

Each round adds ``--threads`` customers who each wrote one DM to a served sandbox (loopback),
syncs, then runs the inbox's work in a subprocess (``tests/support/inbox_proc.py work``: the
gateway's background sync, full rounds, on a worker thread, and a reply to every awaiting DM)
and SIGKILLs it after its first reply plus a random delay, ``--kills-per-round`` times. After
each kill the inbox starts again (``inbox_proc start``: the outbox settlement the app runs at
start) and must leave no row ``sending`` or ``queued`` and the database intact; then the inbox
runs to completion. After every round each of its customers received exactly one reply.
Prints the figures and exits 1 on any violation. ``tests/robust/test_inbox_kill.py`` kills an
unpaced inbox once at each announced point instead (sending, delivered, random, sync).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.ack_harness import Harness
from tests.support.sync_proc import integrity

REPO = Path(__file__).resolve().parent.parent


@dataclass
class SoakResult:
    """What a soak run observed."""

    rounds: int = 0
    kills: int = 0
    killed_mid_run: int = 0
    """Kills that landed while the inbox was still working."""
    interrupted_sends: int = 0
    """Outbox rows a kill left ``sending`` or ``queued`` (each recovered at the restart)."""
    customers: int = 0
    deliveries: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    left_after_restart: int = 0
    """Rows still ``sending``/``queued`` after a restart (must be 0)."""
    damaged: int = 0
    """Restarts that found ``PRAGMA integrity_check`` not ok (must be 0)."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.left_after_restart or self.damaged)


def _inbox(h: Harness, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.inbox_proc", mode],
        cwd=REPO,
        env=h.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def soak(
    *,
    kills: int,
    threads: int = 20,
    kills_per_round: int = 4,
    latency_ms: float = 60.0,
    seed: int = 1,
    max_delay_s: float = 0.4,
) -> SoakResult:
    """Run rounds until ``kills`` kills were made; return what was observed."""
    rng = random.Random(seed)
    result = SoakResult()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp) / "home", latency_ms=latency_ms, seed=seed)
        try:
            while result.kills < kills:
                result.rounds += 1
                users = h.add_customers(threads, result.rounds)
                h.run("sync")
                for _ in range(min(kills_per_round, kills - result.kills)):
                    proc = _inbox(h, "work")
                    assert proc.stdout is not None
                    first = proc.stdout.readline()
                    time.sleep(rng.uniform(0.0, max_delay_s))
                    if proc.poll() is None and first.strip() != "DONE":
                        result.killed_mid_run += 1
                    proc.kill()
                    proc.communicate(timeout=60)
                    result.kills += 1
                    states = h.outbox_states()
                    result.interrupted_sends += states.get("sending", 0) + states.get("queued", 0)
                    if integrity(h.home / "socialdesk.db") != "ok":
                        result.damaged += 1
                    start = _inbox(h, "start")
                    _out, err = start.communicate(timeout=120)
                    if start.returncode != 0:
                        raise RuntimeError(f"inbox start -> {start.returncode}: {err}")
                    states = h.outbox_states()
                    result.left_after_restart += states.get("sending", 0) + states.get("queued", 0)
                final = _inbox(h, "work")
                out, err = final.communicate(timeout=300)
                if final.returncode != 0 or "DONE" not in out:
                    raise RuntimeError(f"final inbox run -> {final.returncode}: {err}")
                for u in users:
                    n = len(h.sb.deliveries(h.page, u))
                    result.deliveries += n
                    if n > 1:
                        result.duplicates.append(u)
                    elif n == 0:
                        result.missing.append(u)
                result.customers += len(users)
        finally:
            h.close()
    result.seconds = time.monotonic() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--kills-per-round", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    res = soak(
        kills=args.kills,
        threads=args.threads,
        kills_per_round=args.kills_per_round,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )
    print(
        f"soak_inbox_kill: {res.kills} kills ({res.killed_mid_run} mid-run, "
        f"{res.interrupted_sends} sends interrupted) over {res.rounds} rounds, "
        f"{res.customers} customers, {res.deliveries} deliveries, "
        f"{len(res.duplicates)} duplicates, {len(res.missing)} missing, "
        f"{res.left_after_restart} rows left sending/queued after a restart, "
        f"{res.damaged} damaged; {res.seconds:.0f} s"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
