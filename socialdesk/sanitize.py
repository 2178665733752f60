"""Make untrusted text (customer names, messages, comments) safe to show and to export.

Customer text can carry terminal escape sequences (colour, cursor moves, OSC 8 links, window
title and clipboard writes, DCS payloads), raw control bytes, and invisible characters that
reorder or hide text (bidi overrides, zero-width joiners). :func:`clean` removes the first two
entirely and makes the invisible ones visible as ``⟨U+202E⟩``, so what the operator sees is
what was sent. Lone surrogates (JSON from the API may carry ``"\\ud800"``) are shown the same
way, because they cannot be encoded and would crash the write to the terminal or a file.
Unicode line/paragraph separators become newlines. :func:`csv_cell` also keeps a cell from
being read as a spreadsheet formula.

Called by the CLI's output helpers, the inbox, and the stats/state exports. Pure standard
library: no Rich, no Textual (the layer test enforces it).
"""

from __future__ import annotations

import re

__all__ = ["FORBIDDEN", "VISIBLE", "clean", "csv_cell", "is_clean"]

# The order matters (research/PERF_RELIABILITY.md §10.1):
# 1. C1 controls, DEL and C0 controls go first, by code point — except ESC and BEL, which the
#    next step needs to find sequences. Removing C1 first means an 8-bit CSI (U+009B) can never
#    make step 2 swallow the customer text that follows it.
# 2. ESC-introduced sequences are stripped whole, so their payload ("[31m", "]8;;https://…")
#    does not survive as garbage: CSI, OSC/DCS/SOS/PM/APC up to their terminator, and the short
#    two-byte escapes. An unterminated OSC/DCS is not matched (a terminal would hide the rest
#    of the text; we show it), and its ESC goes in step 3.
# 3. Whatever ESC or BEL is left is removed.
_EARLY_CONTROL_RE = re.compile(r"[\x00-\x06\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")
_SEQUENCE_RE = re.compile(
    r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI … final byte
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC/DCS/SOS/PM/APC … BEL or ST
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # two-byte and nF escapes
)
_LATE_CONTROL_RE = re.compile(r"[\x07\x1b]")

# Invisible characters that reorder or hide text: shown as ⟨U+XXXX⟩ instead.
VISIBLE: frozenset[str] = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM RLM ALM
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # zero-width space/joiners, WJ, BOM
    + ["\u180e", "\u2061", "\u2062", "\u2063", "\u2064"]  # MVS, invisible math operators
    + ["\ufff9", "\ufffa", "\ufffb"]  # interlinear annotation marks (can hide text)
)
SURROGATES = "\ud800-\udfff"
"""Lone surrogates: not encodable as UTF-8, so shown as ``⟨U+D800⟩`` too."""
_VISIBLE_RE = re.compile("[" + "".join(sorted(VISIBLE)) + SURROGATES + "]")
# U+2028/U+2029 break lines in some renderers and not in others: make them plain newlines.
_SEPARATOR_RE = re.compile("[\u2028\u2029]")

FORBIDDEN: frozenset[str] = frozenset(
    [chr(c) for c in range(0x00, 0x20) if chr(c) not in "\t\n"]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + sorted(VISIBLE)
    + [chr(c) for c in range(0xD800, 0xE000)]
    + ["\u2028", "\u2029"]
)
"""Characters that never appear in the output of :func:`clean`."""

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _show(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group()):04X}⟩"


def clean(text: str, *, single_line: bool = False) -> str:
    """``text`` without escape sequences and control characters, invisible characters shown.

    With ``single_line`` (list rows, table cells, one-line messages) a newline becomes ``" ⏎ "``
    and a tab a space, so one item can never take more than its line.
    """
    if not text:
        return ""
    out = _EARLY_CONTROL_RE.sub("", text)
    out = _SEQUENCE_RE.sub("", out)
    out = _LATE_CONTROL_RE.sub("", out)
    out = _VISIBLE_RE.sub(_show, out)
    out = _SEPARATOR_RE.sub("\n", out)
    if single_line:
        out = out.replace("\t", " ").replace("\n", " ⏎ ")
    return out


def strip(text: str) -> str:
    """``text`` with escape sequences, control and invisible characters *removed*, on one line.

    For untrusted text that leaves socialdesk inside a message (a customer's name filled into a
    template): the customer must receive neither escape payloads nor ``⟨U+…⟩`` markers.
    """
    if not text:
        return ""
    out = _EARLY_CONTROL_RE.sub("", text)
    out = _SEQUENCE_RE.sub("", out)
    out = _LATE_CONTROL_RE.sub("", out)
    out = _VISIBLE_RE.sub("", out)
    return " ".join(out.split())


def is_clean(text: str, *, single_line: bool = False) -> bool:
    """Whether ``text`` holds none of the characters :func:`clean` removes or replaces."""
    if single_line and ("\n" in text or "\t" in text):
        return False
    return not any(ch in FORBIDDEN for ch in text)


def csv_cell(value: object) -> str:
    """A CSV cell for ``value``: text is cleaned and never starts a spreadsheet formula.

    Numbers (our own computed values) are written as they are, so ``-3`` stays a number; text
    that starts with ``= + - @``, a tab or a carriage return gets a leading single quote.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = clean(str(value))
    if text.startswith(_CSV_TRIGGERS):
        return "'" + text
    return text
