"""Soak test: SIGKILL ``socialdesk ack`` at random points, many times; no customer gets two acks.

Usage::

    .venv/bin/python benchmarks/soak_ack_kill.py --kills 100 [--threads 30] [--kills-per-round 4]
        [--latency-ms 20] [--rate 10] [--seed 1]

Each round adds ``--threads`` fresh customers who each wrote one DM to a served sandbox
(loopback), syncs, then starts ``python -m socialdesk ack 'is:awaiting' --template thanks --yes``
and SIGKILLs it after a random delay, ``--kills-per-round`` times, then runs it to completion.
After every round: each of the round's customers received exactly one acknowledgement
(``Sandbox.deliveries``) and no outbox row is left ``sending``. Prints the figures at the end
and exits 1 on any violation. ``tests/core/test_ack_kill.py`` runs one small round.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The harness lives with the kill test (tests/support/ack_harness.py): one copy for both.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.ack_harness import Harness, ack_args


@dataclass
class SoakResult:
    """What a soak run observed."""

    rounds: int = 0
    kills: int = 0
    killed_mid_run: int = 0
    """Kills that landed while the process was still running (not after it exited)."""
    customers: int = 0
    deliveries: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    left_sending: int = 0
    unknown_rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No customer got two copies, none got none, nothing left ``sending``."""
        return not self.duplicates and not self.missing and self.left_sending == 0


def soak(
    *,
    kills: int,
    threads: int = 30,
    kills_per_round: int = 4,
    latency_ms: float = 20.0,
    rate: float = 10.0,
    seed: int = 1,
    home: Path | None = None,
    max_delay_s: float = 1.5,
) -> SoakResult:
    """Run rounds until ``kills`` kills were made; return what was observed."""
    rng = random.Random(seed)
    result = SoakResult()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(home or Path(tmp), latency_ms=latency_ms, seed=seed)
        try:
            while result.kills < kills:
                result.rounds += 1
                users = h.add_customers(threads, result.rounds)
                h.run("sync")
                for _ in range(min(kills_per_round, kills - result.kills)):
                    proc = subprocess.Popen(
                        h.cmd(*ack_args(rate)),
                        env=h.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(rng.uniform(0.3, max_delay_s))
                    if proc.poll() is None:
                        result.killed_mid_run += 1
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    result.kills += 1
                final = h.run(*ack_args(rate), check=False)
                if final.returncode != 0:
                    raise RuntimeError(f"final ack run -> {final.returncode}: {final.stderr}")
                for u in users:
                    n = len(h.sb.deliveries(h.page, u))
                    result.deliveries += n
                    if n > 1:
                        result.duplicates.append(u)
                    elif n == 0:
                        result.missing.append(u)
                result.customers += len(users)
                states = h.outbox_states()
                result.left_sending += states.get("sending", 0)
                result.unknown_rows = states.get("unknown", 0)
        finally:
            h.close()
    result.seconds = time.monotonic() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--kills-per-round", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    res = soak(
        kills=args.kills,
        threads=args.threads,
        kills_per_round=args.kills_per_round,
        latency_ms=args.latency_ms,
        rate=args.rate,
        seed=args.seed,
    )
    print(
        f"soak_ack_kill: {res.kills} kills ({res.killed_mid_run} mid-run) over {res.rounds} "
        f"rounds, {res.customers} customers, {res.deliveries} deliveries, "
        f"{len(res.duplicates)} duplicates, {len(res.missing)} missing, "
        f"{res.left_sending} rows left sending, {res.unknown_rows} unknown; {res.seconds:.0f} s"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
