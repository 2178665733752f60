"""One measured figure of the benchmark suite, and how it compares with its bar.

Every benchmark module returns a list of :class:`Figure` from ``run(quick: bool)``; the runner
prints them as one table and writes them as JSON (``--json FILE``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """A figure: its value, its unit, and the bar it must meet (if any)."""

    name: str
    """Stable snake_case id (``sync_initial_calls_ratio``)."""
    value: float
    unit: str
    """``ms``, ``s``, ``calls``, ``MB``, ``msg/s``, ``x`` (a ratio), ``%``…"""
    bar: str | None = None
    """The bar in words, as PRODUCT.md §10 or the issue states it (``<= 500 ms``)."""
    passed: bool | None = None
    """Whether the value meets the bar (``None``: no bar, informational)."""
    note: str = ""
    """What was measured, at which size (``100k threads / 1M messages, median of 5``)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
