"""Client-side pacing, one pacer per Page: under 2 conversation calls/s, with headroom.

Meta limits the Conversations API to "2 calls per second per Facebook Page" (GRAPH_API.md
§10.4) and extends a block when a throttled client keeps calling. Spacing calls exactly 0.5 s
apart leaves no room for jitter: a call that reaches Meta 10 ms early makes three in one second
and costs an 80006 (``sandbox serve --threads 1500 --latency-ms 30`` once took 427 s for 23
calls that way). So paced calls start at least ``1/rate + headroom`` apart (0.6 s by default),
which tolerates up to 2 × ``headroom`` of jitter between our clock and Meta's counter. Every
call also gets a growing delay once the usage headers pass ~75 % (a peer client treats 95 % as
critical: "penalty is measured in hours").

The limit is per Page, and several clients (the inbox's workers, a reply sent while a sync
runs) may talk to one Page from one process, so a pacer belongs to the Page:
:func:`pacer_for` keeps one per page id for the whole process, and the pacer also holds the
latest usage headers seen for that Page. ``Pacer.reserve`` only computes the wait and books the
slot (under a lock, so two threads never get the same slot); the client loop does the sleeping.
Called by ``api/client.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from socialdesk.models import RateUsage

PACED_EDGES = frozenset({"conversations", "messages", "ig_conversations", "ig_messages"})
"""Edges served by the Conversations API (listing and a conversation's messages)."""
LANES = {"ig_conversations": "instagram", "ig_messages": "instagram"}
"""Paced edges with a budget of their own: Instagram's 2 calls/s are per Instagram account,
separate from the Page's Messenger slot (INSTAGRAM_API.md §8). A Page has at most one linked
account, so the lane is keyed by (page, platform). Other paced edges share the ``messenger``
lane."""

DEFAULT_HEADROOM = 0.1
"""Seconds added to the 0.5 s spacing of paced calls."""


class Pacer:
    """Minimum spacing for Conversations API calls plus a usage-driven slowdown for all calls.

    Thread-safe. ``usage`` is the latest usage seen by any client sharing this pacer.
    """

    def __init__(
        self,
        *,
        rate: float = 2.0,
        headroom: float = DEFAULT_HEADROOM,
        monotonic: Callable[[], float] = time.monotonic,
        slow_from: int = 75,
        critical: int = 95,
        max_extra: float = 5.0,
        paced_edges: frozenset[str] = PACED_EDGES,
    ) -> None:
        """Args:
        rate: the documented limit, in paced calls per second.
        headroom: seconds added to ``1/rate`` between two paced calls (never 0: jitter).
        monotonic: the clock (injectable for tests).
        slow_from: usage percentage where the extra delay starts.
        critical: usage percentage where the extra delay reaches ``max_extra``.
        max_extra: extra seconds per call at ``critical``; twice that at 100 % and above.
        paced_edges: edges that count against the per-second limit.
        """
        if headroom <= 0:
            raise ValueError("pacing needs some headroom above 1/rate")
        self.interval = 1.0 / rate + headroom
        self._monotonic = monotonic
        self.slow_from = slow_from
        self.critical = critical
        self.max_extra = max_extra
        self.paced_edges = paced_edges
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()
        self._usage: RateUsage | None = None

    @property
    def usage(self) -> RateUsage | None:
        """The usage headers of the latest response (from any client of this Page)."""
        with self._lock:
            return self._usage

    def record_usage(self, usage: RateUsage) -> None:
        """Remember the usage headers of a response."""
        with self._lock:
            self._usage = usage

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
        """Seconds to wait before a call on ``edge``; books the call's slot at now + that wait.

        ``usage`` defaults to the latest usage recorded on this pacer.
        """
        with self._lock:
            now = self._monotonic()
            wait = self.extra_delay(usage if usage is not None else self._usage)
            if edge in self.paced_edges:
                lane = LANES.get(edge, "messenger")
                booked = self._next_slot.get(lane)
                if booked is not None:
                    wait = max(wait, booked - now)
                self._next_slot[lane] = now + wait + self.interval
            return max(0.0, wait)


_REGISTRY: dict[str, Pacer] = {}
_REGISTRY_LOCK = threading.Lock()


def pacer_for(page_id: str) -> Pacer:
    """The process-wide pacer of one Page (created on first use, real monotonic clock)."""
    with _REGISTRY_LOCK:
        pacer = _REGISTRY.get(page_id)
        if pacer is None:
            pacer = _REGISTRY[page_id] = Pacer()
        return pacer
