"""Bar charts drawn with eighth blocks, crisp at any width (no plotting dependency).

Called by :mod:`socialdesk.tui.screens.stats`. Pure functions over numbers: one column (or two)
per day, ``height`` rows, each cell one of `` ▁▂▃▄▅▆▇█``. research/TUI.md §7: a 30-bar plotext
chart squeezed into 34 columns aliases; hand-drawn bars read well at 80 columns and cost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"
MISSING = "·"


def levels(value: float | None, height: int, top: float) -> int | None:
    """How many eighths of ``height`` rows ``value`` fills on a 0..``top`` axis."""
    if value is None:
        return None
    if top <= 0:
        return 0
    filled = round(max(0.0, min(value, top)) / top * height * 8)
    return max(1, filled) if value > 0 else 0


def bar_rows(values: Sequence[float | None], height: int, top: float, cell: int = 1) -> list[str]:
    """Rows of the chart, top row first; each value ``cell`` columns wide (``·`` = no data)."""
    out: list[str] = []
    eighths = [levels(v, height, top) for v in values]
    for row in range(height - 1, -1, -1):
        line = []
        for e in eighths:
            if e is None:
                ch = MISSING if row == 0 else " "
            else:
                part = e - row * 8
                ch = BLOCKS[max(0, min(8, part))]
            line.append(ch * cell)
        out.append("".join(line))
    return out


def nice_top(values: Sequence[float | None], floor: float = 1.0) -> float:
    """A round axis maximum at or above every value (1, 2, 5 × 10ⁿ)."""
    peak = max([v for v in values if v is not None] or [0.0])
    peak = max(peak, floor)
    exp = 10 ** math.floor(math.log10(peak))
    for m in (1, 2, 5, 10):
        if peak <= m * exp:
            return float(m * exp)
    return float(10 * exp)
