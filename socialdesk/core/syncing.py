"""The one sync round both front ends run, what its outcome means, and the watch policy.

``sync_round`` is what ``socialdesk sync``, ``sync --watch``, the inbox's background sync,
``demo`` and ``stats --sync`` call: it records the Page's configured name, then runs
``core.sync.sync_page`` with the context's client, clock and sync settings. A round never
raises for one edge's failure: :func:`exit_code` and :func:`failure` turn its report into the
documented exit codes (README "Exit codes"):

- 0: every edge synced (items skipped as unreadable are reported as warnings);
- 5: partial: some edges synced, others failed (each failure named with its cause and fix);
- the failing edges' own code when every edge failed (3 token/permission, 4 unavailable or
  throttled, 6 refused, 1 other), so cron never reads a failed sync as success;
- 7: skipped, another sync of the same Page is running (cron must not read a hung sync as
  success either).

:class:`WatchPolicy` decides how long to wait before the next round. The Messenger API's
budget is about 200 calls × engaged users per rolling 24 h (docs/GRAPH_API.md §10.1), so a
Page with few engaged users would run out polling every minute. The usage headers give the
share of the budget used, and ``sync_log`` how many Messenger calls our rounds made in the last
24 h: together they estimate the budget (calls × 100 / percent), and the interval is chosen so
our rounds use at most half of it; past 75 % it slows further, past 90 % it pauses an hour,
throttled it waits Meta's regain estimate, and an invalid token stops the watch.
:func:`watch_advice` gives the same decision from the database alone (for ``doctor``).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from socialdesk.api.client import GraphClient, WaitFn
from socialdesk.config import Config, PageConfig
from socialdesk.core.clock import Clock
from socialdesk.core.sync import DEFAULT_DEADLINE_S, EDGE_CONVERSATIONS, ProgressFn, sync_page
from socialdesk.errors import (
    AuthError,
    ExitCode,
    PartialFailure,
    RefusedError,
    SocialdeskError,
    UnavailableError,
    UsageError,
)
from socialdesk.models import EdgeResult, RateUsage, SyncReport
from socialdesk.paths import Paths
from socialdesk.store import pages as store_pages
from socialdesk.store import watermarks
from socialdesk.store.db import transaction

__all__ = [
    "SyncContext",
    "WatchDecision",
    "WatchPolicy",
    "edge_states",
    "exit_code",
    "failure",
    "plan_interval",
    "sync_round",
    "watch_advice",
    "watch_policy",
]

edge_states = watermarks.edge_states
"""``edge_states(conn, page_id) -> list[EdgeState]``: each edge's stored state (doctor, inbox)."""


class SyncContext(Protocol):
    """What a round needs from its caller (``AppContext``, the CLI's ``Session``)."""

    @property
    def paths(self) -> Paths: ...

    @property
    def config(self) -> Config: ...

    @property
    def clock(self) -> Clock: ...

    def client(self, page: PageConfig) -> GraphClient: ...


def sync_round(
    ctx: SyncContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    *,
    full: bool = False,
    progress: ProgressFn | None = None,
    on_wait: WaitFn | None = None,
    deadline_s: float | None = DEFAULT_DEADLINE_S,
    lock_wait_s: float = 10.0,
) -> SyncReport:
    """One sync of ``page`` with the context's settings; edge failures are in the report."""
    with transaction(conn):
        store_pages.upsert_page(conn, page.id, page.name, now=ctx.clock.now())
    cfg = ctx.config.sync
    return sync_page(
        conn,
        ctx.client(page),
        page.id,
        paths=ctx.paths,
        clock=ctx.clock,
        full=full,
        lookback_days=cfg.comment_lookback_days,
        deep_sweep_hours=cfg.deep_sweep_hours,
        progress=progress,
        lock_wait_s=lock_wait_s,
        deadline_s=deadline_s,
        on_wait=on_wait,
    )


# ---- outcome -----------------------------------------------------------------------------------

_SEVERITY = (ExitCode.AUTH, ExitCode.USAGE, ExitCode.REFUSED, ExitCode.UNAVAILABLE)
"""When every edge failed for different reasons, the first of these present wins."""

_CLASSES: dict[int, type[SocialdeskError]] = {
    int(ExitCode.AUTH): AuthError,
    int(ExitCode.USAGE): UsageError,
    int(ExitCode.REFUSED): RefusedError,
    int(ExitCode.UNAVAILABLE): UnavailableError,
    int(ExitCode.PARTIAL): PartialFailure,
}


def exit_code(report: SyncReport) -> ExitCode:
    """The exit code a round's report stands for (see the module docstring)."""
    if report.skipped:
        return ExitCode.SKIPPED
    failed = report.failed_edges
    if not failed:
        return ExitCode.OK
    if len(failed) < len(report.edges):
        return ExitCode.PARTIAL
    codes = [ExitCode(e.exit_code) if e.exit_code is not None else ExitCode.FAILURE for e in failed]
    if len(set(codes)) == 1:
        return codes[0]
    for code in _SEVERITY:
        if code in codes:
            return code
    return ExitCode.FAILURE


def _same_failure(failed: Sequence[EdgeResult]) -> bool:
    return len({(e.error, e.hint) for e in failed}) == 1


def failure(report: SyncReport) -> SocialdeskError | None:
    """The error a round amounts to (``None`` when every edge synced or the round skipped).

    When every edge failed the same way (an invalid token) it is that one error; otherwise the
    message names each failed edge and its cause, the hint is the first failure's fix.
    """
    failed = report.failed_edges
    if report.skipped or not failed:
        return None
    code = exit_code(report)
    if _same_failure(failed):
        message = failed[0].error or "sync failed"
        if len(failed) < len(report.edges):
            message = f"{', '.join(e.edge for e in failed)} failed: {message}"
    else:
        message = "; ".join(f"{e.edge}: {e.error}" for e in failed)
    if len(failed) < len(report.edges):
        synced = [e.edge for e in report.edges if e.ok]
        message += f" ({', '.join(synced)} synced)"
    cls = _CLASSES.get(int(code), SocialdeskError)
    error = cls(message, failed[0].hint, reason=failed[0].reason)
    if cls is SocialdeskError:
        error.exit_code = code
    return error


# ---- the watch policy --------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchDecision:
    """How long to wait before the next round, why, and whether to stop watching."""

    seconds: float
    reason: str
    stop: bool = False


DAY = timedelta(hours=24)
TARGET_SHARE = 0.5
"""Share of the estimated Messenger budget our rounds may use."""
ESTIMATE_FROM_PCT = 10
"""Below this percentage the header's rounding makes a budget estimate too coarse."""
SLOW_PCT = 75
PAUSE_PCT = 90
SLOW_SECONDS = 900.0
PAUSE_SECONDS = 3600.0
MAX_SECONDS = 6 * 3600.0
ERROR_BACKOFF_MAX = 900.0


def _messenger_pct(usage: RateUsage | None) -> int | None:
    """The Messenger budget's percentage (the peak of all entries when not typed)."""
    if usage is None:
        return None
    typed = usage.of_type("messenger")
    return typed if typed is not None else usage.peak


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def plan_interval(
    poll_seconds: float,
    usage: RateUsage | None,
    calls_24h: int,
    calls_per_round: float,
) -> WatchDecision:
    """The interval the Messenger budget allows (pure; see the module docstring).

    Args:
        poll_seconds: the configured (or requested) interval: never shortened.
        usage: the latest usage headers (``None``: Meta sent none).
        calls_24h: Messenger calls our rounds made in the last 24 h.
        calls_per_round: their mean per round (at least 1).
    """
    pct = _messenger_pct(usage)
    per_round = max(1.0, calls_per_round)
    if pct is None:
        return WatchDecision(
            poll_seconds, f"every {_human(poll_seconds)} (no usage headers yet: usage is low)"
        )
    if usage is not None and usage.regain_access_minutes > 0:
        wait = max(poll_seconds, usage.regain_access_minutes * 60.0)
        return WatchDecision(wait, f"throttled by Meta: waiting {_human(wait)} to regain access")
    if pct >= PAUSE_PCT:
        wait = max(poll_seconds, PAUSE_SECONDS)
        return WatchDecision(wait, f"Messenger budget {pct} % used: pausing {_human(wait)}")
    seconds = poll_seconds
    reason = f"Messenger budget {pct} % used: every {_human(poll_seconds)}"
    if pct >= ESTIMATE_FROM_PCT and calls_24h >= 5:
        budget = calls_24h * 100 / pct
        sustainable = DAY.total_seconds() * per_round / (TARGET_SHARE * budget)
        if sustainable > seconds:
            seconds = sustainable
            reason = (
                f"Messenger budget about {budget:.0f} calls a day, {pct} % used: every"
                f" {_human(seconds)} keeps sync under half of it"
            )
    if pct >= SLOW_PCT and seconds < SLOW_SECONDS:
        seconds = SLOW_SECONDS
        reason = f"Messenger budget {pct} % used: slowing to every {_human(seconds)}"
    seconds = min(seconds, max(poll_seconds, MAX_SECONDS))
    return WatchDecision(seconds, reason)


class WatchPolicy:
    """Decides each ``sync --watch`` / background interval from usage headers and errors."""

    def __init__(
        self,
        poll_seconds: float,
        *,
        clock: Clock,
        history: Sequence[tuple[datetime, int]] = (),
        usage: RateUsage | None = None,
    ) -> None:
        """Args:
        poll_seconds: the configured interval (a floor: the policy only lengthens it).
        clock: the time source.
        history: (finished at, Messenger calls) of earlier rounds (``sync_log``).
        usage: the latest usage headers known before the first round.
        """
        self.poll_seconds = poll_seconds
        self._clock = clock
        self._history: deque[tuple[datetime, int]] = deque(sorted(history))
        self._usage = usage
        self._errors = 0
        self.current: WatchDecision | None = None
        """The latest decision (what ``doctor`` shows for a live watch)."""

    def _trim(self, now: datetime) -> None:
        while self._history and self._history[0][0] <= now - DAY:
            self._history.popleft()

    def next_interval(
        self, report: SyncReport | None, error: SocialdeskError | None
    ) -> WatchDecision:
        """The wait after a round that produced ``report`` (or raised ``error``)."""
        now = self._clock.now()
        decision = self._decide(report, error, now)
        self.current = decision
        return decision

    def _decide(
        self, report: SyncReport | None, error: SocialdeskError | None, now: datetime
    ) -> WatchDecision:
        if report is not None and not report.skipped:
            self._history.append((now, report.messenger_calls))
            if report.usage is not None:
                self._usage = report.usage
        self._trim(now)
        problem = error
        if problem is None and report is not None:
            problem = failure(report)
            if problem is not None and len(report.failed_edges) < len(report.edges):
                problem = None  # a partial round: the healthy edges keep the watch going
        if isinstance(problem, AuthError) and (
            error is not None
            or (report is not None and len(report.failed_edges) == len(report.edges))
        ):
            return WatchDecision(0.0, f"stopping: {problem.message}", stop=True)
        if report is not None and report.skipped:
            return WatchDecision(self.poll_seconds, "another sync of this page is running")
        if problem is not None:
            self._errors += 1
            wait = min(ERROR_BACKOFF_MAX, self.poll_seconds * 2 ** min(self._errors, 10))
            wait = max(wait, self.poll_seconds)
            retry_after = getattr(problem, "retry_after", None)
            if isinstance(retry_after, int | float) and retry_after > 0:
                wait = max(wait, float(retry_after))
            if self._usage is not None and self._usage.regain_access_minutes > 0:
                wait = max(wait, self._usage.regain_access_minutes * 60.0)
            return WatchDecision(
                wait, f"the last round failed ({problem.message}): retry in {_human(wait)}"
            )
        self._errors = 0
        calls = sum(c for _, c in self._history)
        rounds = len(self._history)
        return plan_interval(self.poll_seconds, self._usage, calls, calls / rounds if rounds else 1)


def _history(conn: sqlite3.Connection, page_id: str, now: datetime) -> list[tuple[datetime, int]]:
    """Messenger-budget calls per round in the last day: the conversations edge's runs, each
    with the Instagram DM calls of the same round added (they follow it in the round)."""
    runs = watermarks.recent_runs(conn, page_id, EDGE_CONVERSATIONS, now - DAY)
    ig_runs = watermarks.recent_runs(conn, page_id, "ig_conversations", now - DAY)
    if not ig_runs or not runs:
        return runs
    times = [at for at, _ in runs]
    counts = [n for _, n in runs]
    i = 0
    for at, calls in ig_runs:
        while i + 1 < len(times) and times[i + 1] <= at:
            i += 1
        if times[i] <= at:
            counts[i] += calls
    return list(zip(times, counts, strict=True))


def watch_policy(
    conn: sqlite3.Connection, page_id: str, *, poll_seconds: float, clock: Clock
) -> WatchPolicy:
    """A policy seeded from the Page's ``sync_log`` (so a new watch knows the last 24 h)."""
    now = clock.now()
    latest = watermarks.latest_usage(conn, page_id)
    usage = latest[1] if latest is not None and now - latest[0] < DAY else None
    return WatchPolicy(poll_seconds, clock=clock, history=_history(conn, page_id, now), usage=usage)


def watch_advice(
    conn: sqlite3.Connection, page_id: str, *, poll_seconds: float, now: datetime
) -> WatchDecision:
    """The interval and reason a watch would use now, from the database alone (``doctor``)."""
    history = _history(conn, page_id, now)
    latest = watermarks.latest_usage(conn, page_id)
    usage = latest[1] if latest is not None and now - latest[0] < DAY else None
    calls = sum(c for _, c in history)
    return plan_interval(poll_seconds, usage, calls, calls / len(history) if history else 1)
