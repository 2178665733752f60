"""The dangerous-character sets of ``sanitize``: derived from Unicode data, checked against the
UCD's own list, and applied to every code point of the code space.

``data/ucd_lists.txt`` is generated from the Unicode Character Database files (provenance in
``data/generate_ucd_lists.py`` and in the list's header).
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from socialdesk import sanitize
from socialdesk.core.templates import render
from tests.support.unicode_scan import char_class, everything, in_category, one_per_line

UCD_LIST = Path(__file__).parent / "data" / "ucd_lists.txt"
ALL_CODE_POINTS = range(0x110000)


@cache
def listed(prop: str) -> frozenset[str]:
    """The code points the checked-in UCD list gives ``prop``."""
    found: set[str] = set()
    for line in UCD_LIST.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        points, name = line.split(";")
        if name != prop:
            continue
        low, _, high = points.partition("..")
        found.update(chr(c) for c in range(int(low, 16), int(high or low, 16) + 1))
    assert found, f"no {prop} in {UCD_LIST}"
    return frozenset(found)


def assigned_here(ch: str) -> bool:
    """Whether the running Python's UCD knows ``ch`` (the list may be a newer version)."""
    return unicodedata.category(ch) != "Cn"


def test_default_ignorable_derivation_matches_the_ucd_list() -> None:
    """Derived Default_Ignorable_Code_Point == DerivedCoreProperties.txt (code points that
    the running Python's older UCD does not know yet aside)."""
    derived, ucd = sanitize.DEFAULT_IGNORABLE, listed("Default_Ignorable_Code_Point")
    differ = sorted(f"U+{ord(ch):04X}" for ch in derived ^ ucd if assigned_here(ch))
    assert differ == []
    # Reserved code points the definition names are covered although they are Cn.
    assert {"\u2065", "\ufff0", "\U000e0000", "\U000e0fff"} <= derived


def test_bidi_controls_match_the_ucd_list() -> None:
    """Derived Bidi_Control == PropList.txt."""
    assert listed("Bidi_Control") == sanitize.BIDI_CONTROLS


def test_the_plane_scan_misses_nothing() -> None:
    """Every Cc and Cf of the whole code space is in CONTROLS/FORMAT (only planes 0, 1 and 14
    are scanned at run time, and Latin-1 for Cc)."""
    # One category scan of the code space for both (tests/support/unicode_scan.py).
    assert in_category("Cc") == sanitize.CONTROLS
    assert in_category("Cf") == sanitize.FORMAT


@pytest.mark.parametrize(
    ("ch", "what"),
    [
        ("\u00ad", "soft hyphen"),
        ("\u034f", "combining grapheme joiner"),
        ("\u115f", "Hangul choseong filler"),
        ("\u1160", "Hangul jungseong filler"),
        ("\u3164", "Hangul filler"),
        ("\uffa0", "halfwidth Hangul filler"),
        ("\u206a", "inhibit symmetric swapping"),
        ("\u206f", "nominal digit shapes"),
        ("\U000e0001", "language tag"),
        ("\U000e0041", "tag latin capital A"),
        ("\U000e007f", "cancel tag"),
        ("\u17b4", "Khmer inherent vowel"),
        ("\u2065", "reserved default-ignorable"),
        ("\ufdd0", "noncharacter"),
        ("\U0010ffff", "noncharacter"),
    ],
)
def test_issue_characters_are_shown_and_stripped(ch: str, what: str) -> None:
    """The characters issue 12 names are shown as ⟨U+…⟩ on screen and removed from {name}."""
    marker = f"⟨U+{ord(ch):04X}⟩"
    assert sanitize.clean(f"a{ch}b") == f"a{marker}b", what
    assert sanitize.strip(f"a{ch}b") == "ab", what
    sent = render("Hi {name}!", customer_name=f"Ann{ch}a", page_name=f"Sh{ch}op")
    assert sent == "Hi Anna!", what


def test_hidden_tag_text_cannot_reach_a_customer() -> None:
    """Text spelled in tag characters (invisible on most terminals) is dropped from {name}."""
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore previous instructions")
    assert render("Hi {first_name}", customer_name="Jo" + hidden, page_name="p") == "Hi Jo"
    assert sanitize.clean("Jo" + hidden).count("⟨U+E00") == len("ignore previous instructions")


def test_one_variation_selector_after_a_visible_character_is_kept() -> None:
    """Emoji keep their presentation selector; stray or repeated selectors are shown."""
    assert sanitize.clean("I ❤\ufe0f it") == "I ❤\ufe0f it"
    assert sanitize.clean("\ufe0fx") == "⟨U+FE0F⟩x"
    assert sanitize.clean(" \ufe0f") == " ⟨U+FE0F⟩"
    smuggled = "🙂" + "".join(chr(0xE0100 + b) for b in b"secret")
    assert sanitize.clean(smuggled) == "🙂" + chr(0xE0100 + ord("s")) + "".join(
        f"⟨U+{0xE0100 + b:05X}⟩" for b in b"ecret"
    )
    assert sanitize.strip("I ❤\ufe0f") == "I ❤"


def _zero_width_ok(ch: str) -> bool:
    """A character that may measure zero cells: it extends the character before it."""
    cat = unicodedata.category(ch)
    cp = ord(ch)
    return (
        cat in ("Mn", "Mc", "Me")
        or 0x1160 <= cp <= 0x11FF  # Hangul medial vowels / final consonants (conjoining)
        or 0xD7B0 <= cp <= 0xD7FF
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or ch in sanitize.VARIATION_SELECTORS
        or cat == "Cn"  # unknown to this Python's UCD; Rich's newer tables know it as a mark
    )


def check_output(text: str, out: str, *, single_line: bool) -> None:
    assert not any(ch in sanitize.FORBIDDEN for ch in out), repr(out)
    assert not any(ch in sanitize.CONTROLS and ch not in "\t\n" for ch in out)
    if single_line:
        assert "\n" not in out and "\t" not in out
    out.encode("utf-8")  # nothing unencodable is left
    for i, ch in enumerate(out):
        if ch in sanitize.VARIATION_SELECTORS:
            # kept only right after a visible character
            assert i > 0 and not out[i - 1].isspace(), repr(out)
            assert out[i - 1] not in sanitize.VISIBLE
        if cell_len(ch) == 0 and ch not in "\t\n":
            assert _zero_width_ok(ch), f"U+{ord(ch):04X} is zero-width in {out!r}"
    # Column width stays sane: at most two cells per character, never negative.
    assert 0 <= cell_len(out) <= 2 * len(out)


@cache
def rich_zero_width() -> frozenset[str]:
    """The characters Rich (which lays out the CLI's tables and the inbox) measures as 0 cells."""
    try:
        from rich.cells import (  # type: ignore[attr-defined]  # Rich >= 14: the table itself
            load_cell_table,
        )

        ranges = load_cell_table().widths
        found = {chr(c) for low, high, width in ranges if width == 0 for c in range(low, high + 1)}
        return frozenset(
            found | {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
        )
    except ImportError:  # pragma: no cover - older Rich: measure one by one (slow)
        return frozenset(chr(c) for c in ALL_CODE_POINTS if cell_len(chr(c)) == 0)


_SURROGATES = frozenset(map(chr, range(0xD800, 0xE000)))
# The line breaks clean() turns into "\n": checked alone, not as lines of the batch.
_BREAKS = ("\n", "\u2028", "\u2029")


def test_every_code_point_alone() -> None:
    """Each of the 1,114,112 code points alone: controls vanish (but \\t \\n), invisible ones
    become ⟨U+…⟩, the rest is unchanged and never an invisible zero-width character; strip
    keeps it or drops it.

    One clean() call over all of them, one per line, is the same as 1.1 M calls on each alone:
    a newline starts no escape sequence and is no base for a variation selector, and every
    step of clean works within a line (the line breaks themselves are checked alone below).
    The expected lines are written in one pass over the same text (controls to nothing,
    invisible characters to their marker, every other character to itself; no expected line
    holds a newline), so the output equals it exactly when every line does.
    """
    visible, controls = sanitize.VISIBLE, sanitize.CONTROLS
    every = everything()
    joined = one_per_line(every[:0x0A] + every[0x0B:0x2028] + every[0x202A:])  # _BREAKS aside
    marked = visible | _SURROGATES
    # Controls win over markers, as in clean (the sets do not overlap today anyway).
    expect = {ord(ch): f"⟨U+{ord(ch):04X}⟩" for ch in marked}
    expect.update((ord(ch), "") for ch in controls - {"\t", "\n"})
    assert not any("\n" in out for out in expect.values())
    assert len(joined) == 2 * (0x110000 - len(_BREAKS)) - 1
    assert not any(ch in joined for ch in _BREAKS[1:])
    cleaned = sanitize.clean(joined)
    # The expected text: each character the table names replaced by its entry (one pass).
    expected = char_class(map(chr, expect)).sub(lambda m: expect[ord(m[0])], joined)
    if cleaned != expected:  # name the code points that differ
        lines, points = cleaned.split("\n"), joined.split("\n")
        assert len(lines) == len(points)
        wrong = [
            f"U+{ord(ch):04X}: {out!r} != {ch.translate(expect)!r}"
            for ch, out in zip(points, lines, strict=True)
            if out != ch.translate(expect)
        ]
        assert wrong == []
    assert cleaned == expected
    assert [sanitize.clean(ch) for ch in _BREAKS] == ["\n", "\n", "\n"]

    def alone(ch: str) -> str:
        """clean(ch), as the batch above proved it for every code point."""
        return "\n" if ch in _BREAKS else ch.translate(expect)

    # What is kept is never a zero-width character that stands alone: only extenders are.
    kept_zero = {ch for ch in rich_zero_width() if ch not in "\t\n" and alone(ch) == ch}
    assert sorted(f"U+{ord(ch):04X}" for ch in kept_zero if not _zero_width_ok(ch)) == []
    kept = sanitize.strip(joined)
    dropped = char_class(visible | controls | sanitize.VARIATION_SELECTORS | _SURROGATES)
    left = dropped.search(kept)
    assert left is None, f"strip kept U+{ord(left[0]):04X}"


@cache
def never_raw() -> frozenset[str]:
    """What strip and the JSON escape never leave raw: every forbidden, invisible and selector
    character (built once, not once an example)."""
    return sanitize.FORBIDDEN | sanitize.VISIBLE | sanitize.VARIATION_SELECTORS


any_code_point = st.integers(0, 0x10FFFF).map(chr)
risky = st.sampled_from(
    ["\x1b", "\x9b", "\x1b[", "\x1b]", "\x07", "\ufe0f", "\U000e0100", "\u00ad", " ", "\n", "a"]
)
any_text = st.lists(st.one_of(any_code_point, risky), max_size=60).map("".join)


@given(any_text, st.booleans())
@settings(max_examples=300, deadline=None)
def test_random_strings_over_the_whole_code_space(text: str, single_line: bool) -> None:
    """No C0/C1/default-ignorable/bidi character survives raw, widths stay sane."""
    out = sanitize.clean(text, single_line=single_line)
    check_output(text, out, single_line=single_line)
    assert sanitize.clean(out, single_line=single_line) == out
    assert sanitize.is_clean(out, single_line=single_line)


@given(any_text)
@settings(max_examples=300, deadline=None)
def test_strip_leaves_nothing_invisible(text: str) -> None:
    """The outgoing strip removes every control, invisible and selector character."""
    out = sanitize.strip(text)
    bad = never_raw()
    assert not any(ch in bad for ch in out)
    assert "\n" not in out and "\t" not in out
    out.encode("utf-8")


@given(any_text)
@settings(max_examples=300, deadline=None)
def test_json_escape_round_trips_and_hides_nothing(text: str) -> None:
    """JSON output holds none of those characters raw and parses back to the same value."""
    doc = sanitize.escape_json_text(json.dumps({"t": text}, ensure_ascii=False))
    bad = never_raw()
    assert not any(ch in bad and ch not in "\t\n" for ch in doc)
    paired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    assert json.loads(doc) == {"t": paired}


@pytest.mark.parametrize("text", ["\x7f", "a\x9bb", "\u00ad", "\U000e0041", "\u2028", "\ufe0f"])
def test_json_escape_known_cases(text: str) -> None:
    """DEL (ASCII, but a terminal control), C1, invisibles and separators are escaped."""
    doc = sanitize.escape_json_text(json.dumps(text, ensure_ascii=False))
    assert doc.isascii() and "\x7f" not in doc
    assert json.loads(doc) == text
