"""Client-side pacing: stay under the Conversations API's 2 calls/s per Page and slow down early.

Meta limits the Conversations API to 2 calls per second per Page (GRAPH_API.md §10.4) and
extends a block when a throttled client keeps calling, so the client spaces conversation calls
itself and adds a growing delay to every call once the usage headers pass ~75 % (a peer client
treats 95 % as critical: "penalty is measured in hours"). ``Pacer.reserve`` only computes the
wait and books the slot; the client loop does the sleeping. One pacer per client, and one client
per page token, so the interval is per Page. Called by ``api/client.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from socialdesk.models import RateUsage

PACED_EDGES = frozenset({"conversations", "messages"})
"""Edges served by the Conversations API (listing and a conversation's messages)."""


class Pacer:
    """Minimum spacing for Conversations API calls plus a usage-driven slowdown for all calls."""

    def __init__(
        self,
        *,
        rate: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        slow_from: int = 75,
        critical: int = 95,
        max_extra: float = 5.0,
        paced_edges: frozenset[str] = PACED_EDGES,
    ) -> None:
        """Args:
        rate: paced calls per second.
        monotonic: the clock (injectable for tests).
        slow_from: usage percentage where the extra delay starts.
        critical: usage percentage where the extra delay reaches ``max_extra``.
        max_extra: extra seconds per call at ``critical``; twice that at 100 % and above.
        paced_edges: edges that count against the per-second limit.
        """
        self.interval = 1.0 / rate
        self._monotonic = monotonic
        self.slow_from = slow_from
        self.critical = critical
        self.max_extra = max_extra
        self.paced_edges = paced_edges
        self._next_slot: float | None = None

    def extra_delay(self, usage: RateUsage | None) -> float:
        """Extra seconds before any call at this usage: 0 below ``slow_from``, then growing."""
        if usage is None:
            return 0.0
        peak = usage.peak
        if peak < self.slow_from:
            return 0.0
        if peak >= 100:
            return 2 * self.max_extra
        if peak >= self.critical:
            span = 100 - self.critical
            return self.max_extra * (1 + (peak - self.critical) / span)
        return self.max_extra * (peak - self.slow_from) / (self.critical - self.slow_from)

    def reserve(self, edge: str, usage: RateUsage | None = None) -> float:
        """Seconds to wait before a call on ``edge``; books the call's slot at now + that wait."""
        now = self._monotonic()
        wait = self.extra_delay(usage)
        if edge in self.paced_edges:
            if self._next_slot is not None:
                wait = max(wait, self._next_slot - now)
            self._next_slot = now + wait + self.interval
        return max(0.0, wait)
