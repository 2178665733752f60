"""Time, injectable: every core function takes a :class:`Clock` (or a ``now``) from its caller.

The CLI and the inbox use :class:`SystemClock`; tests use :class:`FixedClock` so windows,
snoozes, "older:2h" and stats never depend on when the test runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that only moves when told to (tests, replays)."""

    def __init__(self, dt: datetime | None = None) -> None:
        self._now = _aware(dt) if dt is not None else datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by ``seconds`` (and/or ``minutes=``, ``hours=``, ``days=``…)."""
        self._now += timedelta(seconds=seconds, **delta)
        return self._now

    def set(self, dt: datetime) -> None:
        """Jump to ``dt`` (naive datetimes are taken as UTC)."""
        self._now = _aware(dt)

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
