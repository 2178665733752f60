"""A simulated day of ``sync --watch`` against the Messenger budget (PRODUCT.md §10, issue 11).

Meta allows a Page about 200 Messenger API calls per engaged user per rolling 24 h
(docs/GRAPH_API.md §10.1), so a small Page polled every minute would run out, while a busy one
has room to spare. This runs the loop of ``socialdesk sync --watch`` (``core.sync.sync_page``
then :class:`socialdesk.core.syncing.WatchPolicy` deciding the wait) for 24 simulated hours
(``--quick``: 6) against the in-process sandbox with Meta's budget model and the 2 calls/s
limit on, for a small Page (10 engaged users) and a busy one (5,000; quick: 500). Customers
write all day (each engaged user 1-3 messages at random times). Time is a fake clock shared by
the sandbox, the client's pacer and its sleeps: nothing sleeps, a day takes seconds.

Figures per Page: Messenger calls made against the budget (bar: within it), refused
(throttled) responses (bar: none), rounds run, and how late a customer's message reached the
store (median), the price of a slower poll on a small Page.
"""

from __future__ import annotations

import random
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import at_most, info, median
from benchmarks._syncdata import T0
from benchmarks.figures import Figure
from socialdesk.api.client import GraphClient
from socialdesk.core.sync import sync_page
from socialdesk.core.syncing import WatchPolicy
from socialdesk.paths import Paths
from socialdesk.sandbox import Sandbox
from socialdesk.store.db import open_db

POLL_SECONDS = 60.0
"""The default ``[sync] poll_seconds``."""
MESSENGER_PER_USER = 200


@dataclass
class FakeTime:
    """Seconds since the start of the simulated day: the one clock of the simulation."""

    t: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)


@dataclass
class Counting(httpx.BaseTransport):
    """The sandbox's transport, counting refused answers."""

    inner: httpx.BaseTransport
    refused: int = 0
    codes: list[int] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code >= 400:
            self.refused += 1
            self.codes.append(response.status_code)
        return response


@dataclass(frozen=True)
class Day:
    engaged: int
    hours: float
    rounds: int
    messenger_calls: int
    calls: int
    refused: int
    delays_s: list[float]

    @property
    def budget(self) -> int:
        return MESSENGER_PER_USER * self.engaged


def simulate(engaged: int, *, hours: float = 24.0, seed: int = 0) -> Day:
    """One simulated watch of ``hours`` on a Page with ``engaged`` engaged users."""
    ft = FakeTime()
    sb = Sandbox(clock=ft.now, rate_limit=True, seed=seed)
    page_id = sb.add_page("Bench Shop")
    token = sb.issue_token(page_id)
    sb.set_engaged_users(page_id, engaged)
    rng = random.Random(seed)
    users = [sb.add_user(f"Customer {i}") for i in range(engaged)]
    span = hours * 3600
    events: list[tuple[float, str]] = sorted(
        (rng.uniform(0, span), uid) for uid in users for _ in range(rng.randint(1, 3))
    )
    transport = Counting(sb.transport(sleep=ft.sleep))
    # Without page_id the client gets a pacer of its own on the fake clock (with one, it would
    # share the process's per-Page pacer, on the real clock).
    client = GraphClient(
        token, transport=transport, sleep=ft.sleep, monotonic=ft.monotonic, pace=True
    )
    policy = WatchPolicy(POLL_SECONDS, clock=ft)
    delays: list[float] = []
    pending: list[float] = []
    rounds = messenger = calls = 0
    i = 0
    with tempfile.TemporaryDirectory(prefix="socialdesk-bench-watch-") as tmp:
        home = Path(tmp)
        conn = open_db(home / "socialdesk.db")
        try:
            while ft.t < span:
                while i < len(events) and events[i][0] <= ft.t:
                    at, uid = events[i]
                    sb.add_message(page_id, uid, f"question {i}", at=T0 + timedelta(seconds=at))
                    pending.append(at)
                    i += 1
                report = sync_page(
                    conn, client, page_id, paths=Paths(home, home), clock=ft, deadline_s=None
                )
                rounds += 1
                messenger += report.messenger_calls
                calls += report.calls
                delays.extend(ft.t - at for at in pending)
                pending.clear()
                decision = policy.next_interval(report, None)
                if decision.stop:
                    raise RuntimeError(f"the watch stopped: {decision.reason}")
                ft.sleep(decision.seconds)
        finally:
            conn.close()
            client.close()
    return Day(engaged, hours, rounds, messenger, calls, transport.refused, delays)


def _figures(label: str, day: Day) -> list[Figure]:
    size = f"{day.engaged:,} engaged users, {day.hours:g} h simulated, poll {POLL_SECONDS:g} s"
    budget = day.budget * day.hours / 24 if day.hours < 24 else day.budget
    share = 100 * day.messenger_calls / budget
    return [
        at_most(
            f"watch_{label}_messenger_calls",
            day.messenger_calls,
            "calls",
            budget,
            f"{size}; budget 200 x engaged users / 24 h = {day.budget:,}"
            f"{' (pro rata)' if day.hours < 24 else ''}; {share:.0f} % used;"
            f" {day.rounds} rounds, {day.calls} calls in all",
        ),
        at_most(
            f"watch_{label}_refused",
            day.refused,
            "calls",
            0,
            "responses refused (throttled) during the watch",
        ),
        info(
            f"watch_{label}_delay_median_s",
            median(day.delays_s),
            "s",
            "a customer's message written → stored (median)",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    """The figures for the small and the busy Page."""
    hours = 6.0 if quick else 24.0
    busy = 500 if quick else 5000
    return _figures("small", simulate(10, hours=hours)) + _figures(
        "busy", simulate(busy, hours=hours)
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    print_table(run(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
