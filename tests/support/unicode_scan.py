"""The whole code space, scanned once per test process, for the Unicode tests
(``tests/robust/test_unicode_sets.py``, ``tests/robust/test_unicode_oracle.py``).

Several checks need every code point as text, or this Python's general category of every code
point; each of them used to loop over the 1,114,112 code points itself. Here the string and the
categories are computed once and cached, and the sets of one category are taken from them with
C-level iteration (:func:`itertools.compress`), not a Python loop per code point.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable
from functools import cache
from itertools import compress

CODE_SPACE = 0x110000
"""The number of code points, U+0000 to U+10FFFF."""


@cache
def everything() -> str:
    """Every code point once, in order (surrogates included: a Python str may hold them)."""
    # The code points as UTF-32 code units, decoded at once: a third of the time of joining
    # 1.1 M one-character strings. "surrogatepass" lets the surrogates through as they are.
    return array("I", range(CODE_SPACE)).tobytes().decode("utf-32-le", "surrogatepass")


def one_per_line(text: str) -> str:
    """``"\\n".join(text)`` (each character of ``text`` on a line of its own), built as UTF-32
    code units with a newline between each two, decoded at once: a quarter of the time of the
    join over a million characters."""
    if not text:
        return ""
    units = array("I", text.encode("utf-32-le", "surrogatepass"))
    lines = array("I", [0x0A]) * (2 * len(units) - 1)
    lines[0::2] = units
    return lines.tobytes().decode("utf-32-le", "surrogatepass")


@cache
def categories() -> tuple[str, ...]:
    """This Python's general category of each code point, by code point."""
    return tuple(map(unicodedata.category, everything()))


@cache
def in_category(category: str) -> frozenset[str]:
    """The code points this Python's UCD gives general category ``category`` (e.g. ``Cf``)."""
    return frozenset(compress(everything(), map(category.__eq__, categories())))


def char_class(chars: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any one of ``chars``, written as ranges of consecutive code points: a
    class of ~50 ranges is searched in C, where one listing 8,000 single characters took
    seconds over the code space."""
    points = sorted({ord(ch) for ch in chars})
    parts: list[str] = []
    start = 0
    for i, point in enumerate(points):
        if i + 1 == len(points) or points[i + 1] != point + 1:
            low = points[start]
            parts.append(f"\\U{low:08x}" if low == point else f"\\U{low:08x}-\\U{point:08x}")
            start = i + 1
    return re.compile("[" + "".join(parts) + "]")
