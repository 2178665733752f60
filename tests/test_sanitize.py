"""sanitize.py: no control byte or escape sequence survives; invisible characters are shown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.sanitize import FORBIDDEN, VISIBLE, clean, csv_cell, is_clean

C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
DANGEROUS = sorted({*C0, "\x7f", *C1, *VISIBLE, "\x1b", "\x9b", "[", "]", "\\", ";", "\n", "\t"})

# Text biased towards what attacks terminals: escapes, controls, bidi, brackets, plus anything.
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS),
        st.sampled_from(["\x1b[31m", "\x1b]8;;http://evil\x07", "\x1bP1$r", "\x1b\\", "\x9b2J"]),
        st.characters(),
    ),
    max_size=40,
).map("".join)


@given(hostile_text, st.booleans())
@settings(max_examples=400, deadline=None)
def test_output_never_holds_forbidden_characters(text: str, single_line: bool) -> None:
    """Whatever the input, the output has no C0 (but \\n/\\t), DEL, C1, bidi or zero-width."""
    out = clean(text, single_line=single_line)
    assert not any(ch in FORBIDDEN for ch in out)
    assert is_clean(out, single_line=single_line)
    if single_line:
        assert "\n" not in out and "\t" not in out


@given(hostile_text)
@settings(max_examples=200, deadline=None)
def test_clean_is_idempotent(text: str) -> None:
    """Cleaning twice changes nothing more (the visible markers are themselves clean)."""
    once = clean(text)
    assert clean(once) == once


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs"))))
@settings(max_examples=200, deadline=None)
def test_ordinary_text_is_unchanged(text: str) -> None:
    """Text without control or format characters passes through exactly."""
    assert clean(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b]8;;http://evil.example\x07click\x1b]8;;\x07", "click"),
        ("\x1b]0;pwned title\x1b\\after", "after"),
        ("\x1bP+q544e\x1b\\x", "x"),
        ("\x1b_apc payload\x1b\\y", "y"),
        ("\x1b(Bz", "z"),
        ("bell\x07 back\x08space\x00nul\x7fdel", "bell backspacenuldel"),
        ("cr\r\nlf", "cr\nlf"),
        ("tab\there", "tab\there"),
        ("[URGENT] [bold]x[/bold]", "[URGENT] [bold]x[/bold]"),
        ("zażółć 🙂 Привет", "zażółć 🙂 Привет"),
    ],
)
def test_known_sequences(raw: str, expected: str) -> None:
    """Escape sequences go whole; markup-like brackets and non-ASCII text stay."""
    assert clean(raw) == expected


def test_c1_removed_before_sequences_so_text_is_not_swallowed() -> None:
    """An 8-bit CSI (U+009B) is dropped by code point and cannot eat the following text."""
    assert clean("\x9bHello") == "Hello"
    assert clean("a\x9d0;title\x9cb") == "a0;titleb"
    assert clean("\x85next line") == "next line"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("admin\u202egnp.exe", "admin⟨U+202E⟩gnp.exe"),
        ("a\u2066b\u2069", "a⟨U+2066⟩b⟨U+2069⟩"),
        ("x\u200by\u200dz\ufeff", "x⟨U+200B⟩y⟨U+200D⟩z⟨U+FEFF⟩"),
        ("\u200e\u200f\u061c\u2060", "⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩⟨U+2060⟩"),
    ],
)
def test_bidi_and_zero_width_made_visible(raw: str, expected: str) -> None:
    """Characters that reorder or hide text are shown as ⟨U+XXXX⟩."""
    assert clean(raw) == expected


def test_single_line() -> None:
    """single_line turns newlines into ' ⏎ ' and tabs into spaces."""
    assert clean("one\ntwo\tthree", single_line=True) == "one ⏎ two three"
    assert clean("", single_line=True) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=1", "'=1"),
        ("\x1b[0m=1", "'=1"),
        ("normal", "normal"),
        ("a=b", "a=b"),
        (-3, "-3"),
        (0.5, "0.5"),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cell(value: object, expected: str) -> None:
    """Text cells never start a formula (after cleaning); our numbers stay numbers."""
    assert csv_cell(value) == expected


@given(hostile_text)
@settings(max_examples=300, deadline=None)
def test_csv_cell_never_starts_a_formula(text: str) -> None:
    """No text cell starts with = + - @ TAB or CR, and none holds a forbidden character."""
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not any(ch in FORBIDDEN for ch in cell)
