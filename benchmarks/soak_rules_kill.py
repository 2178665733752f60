"""Soak test: SIGKILL rules runs and overlapping syncs at random; nobody gets an automated reply
twice and no outbox row is left ``sending``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/soak_rules_kill.py --kills 20 [--customers 10]
        [--kills-per-round 4] [--latency-ms 20] [--seed 1]

Each round adds ``--customers`` new customers who each wrote one DM to a served sandbox
(loopback), syncs, then ``--kills-per-round`` times starts two overlapping processes, each
``socialdesk rules run`` or ``socialdesk sync --rules`` at random, and SIGKILLs one of them
after a random delay; then a clean ``sync --rules``. After every round: no customer received
the rule's reply twice (``Sandbox.deliveries``) and no outbox row is ``sending``. A send whose
outcome stayed ``unknown`` is never resent (fail closed): such customers get no reply, counted
apart. ``tests/rules/test_kill.py`` runs a small round of the same harness
(``tests/support/rules_kill.py``). Exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.rules_kill import RulesHarness, kill_rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--kills-per-round", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        h = RulesHarness(Path(tmp) / "home", latency_ms=args.latency_ms, seed=args.seed)
        try:
            res = kill_rounds(
                h,
                kills=args.kills,
                customers=args.customers,
                kills_per_round=args.kills_per_round,
                seed=args.seed,
            )
        finally:
            h.close()
    print(
        f"soak_rules_kill: {res.kills} kills ({res.killed_mid_run} mid-run) over {res.rounds}"
        f" rounds, {res.customers} customers, {res.delivered} automated replies,"
        f" {len(res.duplicates)} duplicates, {res.left_sending} rows left sending,"
        f" {res.unknown_rows} unknown (not resent); {res.seconds:.0f} s"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
