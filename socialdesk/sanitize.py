"""Make untrusted text (customer names, messages, comments) safe to show and to export.

Customer text can carry terminal escape sequences (colour, cursor moves, OSC 8 links, window
title and clipboard writes, DCS payloads), raw control bytes, and invisible characters that
reorder or hide text (bidi overrides, zero-width joiners, soft hyphens, Unicode tag characters,
Hangul fillers). :func:`clean` removes the first two entirely and makes the invisible ones
visible as ``⟨U+202E⟩``, so what the operator sees is what was sent. Lone surrogates (JSON from
the API may carry ``"\\ud800"``) are shown the same way, because they cannot be encoded and
would crash the write to the terminal or a file. Unicode line/paragraph separators become
newlines. :func:`strip` removes all of them (a customer's name filled into a template),
:func:`csv_cell` also keeps a cell from being read as a spreadsheet formula,
:func:`escape_json_text` writes them as ``\\u`` escapes in JSON output, and :func:`editable`
removes them from text put into an input box (an operator's paste), keeping its lines.

Every set of dangerous characters in socialdesk is defined here, once, and derived from the
Unicode Character Database that ships with Python (:mod:`unicodedata`), not from a hand list:

- :data:`CONTROLS`: general category Cc (C0, DEL, C1);
- :data:`FORMAT`: general category Cf;
- :data:`DEFAULT_IGNORABLE`: the Default_Ignorable_Code_Point property, built by its
  definition in UAX #44 / DerivedCoreProperties.txt (``Other_Default_Ignorable_Code_Point +
  Cf + Variation_Selector - White_Space - FFF9..FFFB - 13430..1343F -
  Prepended_Concatenation_Mark``). :mod:`unicodedata` has no property lookup, so the three
  short PropList.txt lists the definition names are written out below; the result is tested
  against a list generated from the UCD file itself (``tests/robust/data/``, provenance in its
  header);
- :data:`BIDI_CONTROLS`: the Bidi_Control property (explicit embeddings, overrides and
  isolates, and the zero-width directional marks), from :func:`unicodedata.bidirectional`;
- :data:`NONCHARACTERS` (U+FDD0–FDEF and the last two code points of every plane) and the
  surrogates.

Called by the CLI's output helpers, the inbox, the stats/state exports, ``core.textcheck``,
``config`` (templates), ``api.surrogates`` and ``store.db``. Pure standard library: no Rich, no
Textual (the layer test enforces it).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BIDI_CONTROLS",
    "CONTROLS",
    "DEFAULT_IGNORABLE",
    "FORBIDDEN",
    "FORMAT",
    "LONE_SURROGATE_RE",
    "NONCHARACTERS",
    "UNICODE_VERSION",
    "VARIATION_SELECTORS",
    "VISIBLE",
    "clean",
    "csv_cell",
    "editable",
    "escape_json_text",
    "is_clean",
    "replace_surrogates",
    "strip",
]

UNICODE_VERSION = unicodedata.unidata_version
"""The UCD version the sets below were derived from (the running Python's)."""

# --- the character sets ----------------------------------------------------------------------

# Planes 0, 1 and 14 hold every Cc and Cf code point (planes 2-3 are CJK ideographs, 4-13 are
# unassigned, 15-16 private use); scanning only them keeps the import ~10 ms instead of ~90.
# tests/robust/test_unicode_sets.py checks the whole code space.
_SCANNED = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))

# The property lists the Default_Ignorable_Code_Point definition is built from (PropList.txt);
# they are the UCD's own short lists, not a choice of ours.
_OTHER_DEFAULT_IGNORABLE = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG/JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ/AA
    (0x2065, 0x2065),  # reserved, in the invisible-operators block
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # reserved
    (0xE0000, 0xE0000),  # reserved, tag block
    (0xE0002, 0xE001F),  # reserved, tag block
    (0xE0080, 0xE00FF),  # reserved
    (0xE01F0, 0xE0FFF),  # reserved
)
_VARIATION_SELECTOR = (
    (0x180B, 0x180D),  # MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180F, 0x180F),  # MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16 (VS-16 makes ❤ an emoji)
    (0xE0100, 0xE01EF),  # VARIATION SELECTOR-17..256 (ideographic variants)
)
_PREPENDED_CONCATENATION_MARK = (
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
)
# Format characters the definition keeps visible: interlinear annotation and Egyptian
# hieroglyph format controls.
_IGNORABLE_EXCEPTIONS = ((0xFFF9, 0xFFFB), (0x13430, 0x1343F))
_EXPLICIT_BIDI_CLASSES = frozenset({"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"})


def _expand(ranges: Iterable[tuple[int, int]]) -> set[str]:
    return {chr(c) for low, high in ranges for c in range(low, high + 1)}


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class body for ``chars``, as ``\\U`` escapes and ranges."""
    points = sorted({ord(ch) for ch in chars})
    parts: list[str] = []
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        low, high = points[i], points[j]
        parts.append(f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}")
        i = j + 1
    return "".join(parts)


# Cc is closed by Unicode's stability policy (exactly U+0000-001F and U+007F-009F, forever), so
# scanning Latin-1 finds all of it; the test checks the whole code space anyway.
CONTROLS: frozenset[str] = frozenset(
    ch for ch in map(chr, range(0x100)) if unicodedata.category(ch) == "Cc"
)
"""General category Cc: U+0000–001F, U+007F–009F."""

SURROGATES = "\ud800-\udfff"
"""Lone surrogates (a regex range): not encodable as UTF-8, so shown as ``⟨U+D800⟩`` too."""
LONE_SURROGATE_RE = re.compile("[" + SURROGATES + "]")

# The order matters (research/PERF_RELIABILITY.md §10.1):
# 1. C1 controls, DEL and C0 controls go first, by code point — except ESC and BEL, which the
#    next step needs to find sequences. Removing C1 first means an 8-bit CSI (U+009B) can never
#    make step 2 swallow the customer text that follows it.
# 2. ESC-introduced sequences are stripped whole, so their payload ("[31m", "]8;;https://…")
#    does not survive as garbage: CSI, OSC/DCS/SOS/PM/APC up to their terminator, and the short
#    two-byte escapes. An unterminated OSC/DCS is not matched (a terminal would hide the rest
#    of the text; we show it), and its ESC goes in step 3.
# 3. Whatever ESC or BEL is left is removed.
_EARLY_CONTROL_RE = re.compile("[" + _char_class(CONTROLS - {"\t", "\n", "\x07", "\x1b"}) + "]")
_SEQUENCE_RE = re.compile(
    r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI … final byte
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC/DCS/SOS/PM/APC … BEL or ST
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # two-byte and nF escapes
)
_LATE_CONTROL_RE = re.compile(r"[\x07\x1b]")
# U+2028/U+2029 break lines in some renderers and not in others: make them plain newlines.
_SEPARATOR_RE = re.compile("[\u2028\u2029]")


@dataclass(frozen=True)
class _Tables:
    """The sets that need a scan of the code space, and the regexes built from them."""

    format: frozenset[str]
    default_ignorable: frozenset[str]
    bidi_controls: frozenset[str]
    noncharacters: frozenset[str]
    variation_selectors: frozenset[str]
    visible: frozenset[str]
    forbidden: frozenset[str]
    visible_re: re.Pattern[str]
    base_re: re.Pattern[str]
    json_unsafe_re: re.Pattern[str]


@functools.cache
def _tables() -> _Tables:
    # Built on first use (10-30 ms), so ASCII-only output and commands that print no
    # customer text never pay for the scan.
    cat = unicodedata.category
    fmt = frozenset(ch for r in _SCANNED for ch in map(chr, r) if cat(ch) == "Cf")
    selectors = frozenset(_expand(_VARIATION_SELECTOR))
    ignorable = frozenset(
        (_expand(_OTHER_DEFAULT_IGNORABLE) | fmt | selectors)
        - {ch for ch in fmt if ch.isspace()}
        - _expand(_IGNORABLE_EXCEPTIONS)
        - _expand(_PREPENDED_CONCATENATION_MARK)
    )
    bidi = frozenset(
        ch
        for ch in fmt
        if unicodedata.bidirectional(ch) in _EXPLICIT_BIDI_CLASSES
        or (ch in ignorable and unicodedata.bidirectional(ch) in ("L", "R", "AL"))
    )
    nonchars = frozenset(
        [chr(c) for c in range(0xFDD0, 0xFDF0)]
        + [chr((plane << 16) | low) for plane in range(17) for low in (0xFFFE, 0xFFFF)]
    )
    visible = fmt | ignorable | nonchars
    forbidden = frozenset(
        (CONTROLS - {"\t", "\n"})
        | (visible - selectors)
        | {chr(c) for c in range(0xD800, 0xE000)}
        | {"\u2028", "\u2029"}
    )
    invisible = _char_class(visible - selectors) + SURROGATES
    vs = _char_class(selectors)
    # One character class for every invisible character and selector: re skips in C to the
    # next character of a pattern that starts with a class (an alternation led by a lookbehind
    # was tried at every position: 3-4 times slower on non-ASCII text). Whether a selector is
    # kept, right after a visible character (not whitespace, not itself invisible or a
    # selector: base_re), is decided per match by _kept_selector.
    visible_re = re.compile(f"[{invisible}{vs}]")
    base_re = re.compile(f"[^\\s{invisible}{vs}]")
    # JSON output: C0 is escaped by json.dumps itself; the rest of what clean() touches is
    # escaped as \\u (a surrogate pair above U+FFFF), which parses back to the same string.
    c1 = CONTROLS - {chr(c) for c in range(0x20)}
    json_unsafe = _char_class(c1 | visible | selectors) + "\u2028\u2029" + SURROGATES
    return _Tables(
        format=fmt,
        default_ignorable=ignorable,
        bidi_controls=bidi,
        noncharacters=nonchars,
        variation_selectors=selectors,
        visible=visible,
        forbidden=forbidden,
        visible_re=visible_re,
        base_re=base_re,
        json_unsafe_re=re.compile(f"[{json_unsafe}]"),
    )


_LAZY_SETS = {
    "FORMAT": "format",
    "DEFAULT_IGNORABLE": "default_ignorable",
    "BIDI_CONTROLS": "bidi_controls",
    "NONCHARACTERS": "noncharacters",
    "VARIATION_SELECTORS": "variation_selectors",
    "VISIBLE": "visible",
    "FORBIDDEN": "forbidden",
}
"""The public sets, computed on first access (PEP 562):

- ``FORMAT``: general category Cf (soft hyphen, bidi controls, zero-width characters, tags…);
- ``DEFAULT_IGNORABLE``: Default_Ignorable_Code_Point, characters a renderer shows as nothing;
- ``BIDI_CONTROLS``: Bidi_Control (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM);
- ``NONCHARACTERS``: Noncharacter_Code_Point, never interchanged, so never customer text;
- ``VARIATION_SELECTORS``: the Variation_Selector property. One directly after a visible
  character is kept raw (it picks the emoji or text form of ❤ and ☺); anywhere else it is shown
  like other invisibles, so a run of them cannot carry hidden data;
- ``VISIBLE``: what :func:`clean` shows as ⟨U+XXXX⟩ (Cf, default-ignorables, noncharacters);
- ``FORBIDDEN``: what never appears in the output of :func:`clean` (variation selectors may,
  one directly after a visible character).
"""


# Declared for type checkers and linters; the values come from __getattr__ below.
FORMAT: frozenset[str]
DEFAULT_IGNORABLE: frozenset[str]
BIDI_CONTROLS: frozenset[str]
NONCHARACTERS: frozenset[str]
VARIATION_SELECTORS: frozenset[str]
VISIBLE: frozenset[str]
FORBIDDEN: frozenset[str]


def __getattr__(name: str) -> frozenset[str]:
    field_name = _LAZY_SETS.get(name)
    if field_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: frozenset[str] = getattr(_tables(), field_name)
    return value


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _kept_selector(match: re.Match[str]) -> bool:
    """Whether ``match`` (of ``visible_re``) is a variation selector right after a visible
    character: the emoji or text form of the character before it, kept raw."""
    start = match.start()
    tables = _tables()
    return (
        start > 0
        and match.group() in tables.variation_selectors
        and tables.base_re.match(match.string, start - 1) is not None
    )


def _show(match: re.Match[str]) -> str:
    if _kept_selector(match):
        return match.group()
    return f"⟨U+{ord(match.group()):04X}⟩"


def _without_controls(text: str) -> str:
    out = _EARLY_CONTROL_RE.sub("", text)
    out = _SEQUENCE_RE.sub("", out)
    return _LATE_CONTROL_RE.sub("", out)


def clean(text: str, *, single_line: bool = False) -> str:
    """``text`` without escape sequences and control characters, invisible characters shown.

    With ``single_line`` (list rows, table cells, one-line messages) a newline becomes ``" ⏎ "``
    and a tab a space, so one item can never take more than its line.
    """
    if not text:
        return ""
    out = _without_controls(text)
    if not out.isascii():
        out = _tables().visible_re.sub(_show, out)
        out = _SEPARATOR_RE.sub("\n", out)
    if single_line:
        out = out.replace("\t", " ").replace("\n", " ⏎ ")
    return out


def strip(text: str) -> str:
    """``text`` with escape sequences, control and invisible characters *removed*, on one line.

    For untrusted text that leaves socialdesk inside a message (a customer's name filled into a
    template): the customer must receive neither escape payloads nor ``⟨U+…⟩`` markers, nor
    characters that hide text (tags, soft hyphens, fillers, variation selectors).
    """
    if not text:
        return ""
    out = _without_controls(text)
    if not out.isascii():
        out = _tables().visible_re.sub("", out)  # every invisible character and selector
    return " ".join(out.split())


def _keep_selector(match: re.Match[str]) -> str:
    return match.group() if _kept_selector(match) else ""


def editable(text: str) -> str:
    """``text`` fit to stand in an input box: escape sequences, control characters (but tab and
    newline) and invisible characters removed, line breaks kept.

    For what the operator pastes into the inbox's boxes (bracketed paste passes whatever was
    copied, escapes and bidi controls included, and a box echoes it to the terminal as it is)
    and for stored text loaded into one (a note from an imported state file). The marks
    :func:`clean` shows would become part of the text, so they are removed instead; one
    variation selector right after a visible character stays (the emoji form of ❤).
    """
    if not text:
        return ""
    out = _without_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not out.isascii():
        out = _tables().visible_re.sub(_keep_selector, out)
        out = _SEPARATOR_RE.sub("\n", out)
    return out


def is_clean(text: str, *, single_line: bool = False) -> bool:
    """Whether ``text`` holds none of the characters :func:`clean` removes or replaces."""
    if single_line and ("\n" in text or "\t" in text):
        return False
    return clean(text) == text


def replace_surrogates(value: str) -> str:
    """``value`` with every lone surrogate replaced by U+FFFD (for storage, not display)."""
    if value.isascii():
        return value
    return LONE_SURROGATE_RE.sub("\ufffd", value)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def escape_json_text(document: str) -> str:
    """A JSON document (from ``json.dumps(ensure_ascii=False)``) with every control, invisible,
    separator and surrogate character written as a ``\\u`` escape.

    Outside strings a JSON document is ASCII, so this only touches string contents, and
    ``json.loads`` gives back exactly the same values.
    """
    if document.isascii() and "\x7f" not in document:  # DEL is the one ASCII to escape
        return document
    return _tables().json_unsafe_re.sub(_json_escape, document)


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
