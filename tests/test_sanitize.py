"""sanitize.py: no control byte or escape sequence survives; invisible characters are shown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.sanitize import FORBIDDEN, VARIATION_SELECTORS, VISIBLE, clean, csv_cell, is_clean

C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
DANGEROUS = sorted({*C0, "\x7f", *C1, *VISIBLE, "\x1b", "\x9b", "[", "]", "\\", ";", "\n", "\t"})

# Text biased towards what attacks terminals: escapes, controls, bidi, brackets, plus anything.
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS),
        st.sampled_from(
            [
                "\x1b[31m",
                "\x1b]8;;http://evil\x07",
                "\x1bP1$r",
                "\x1b\\",
                "\x9b2J",
                "\x1b]52;c;SGk=\x07",
                "\ud800",
                "\udfff",
                "\u2028",
                "[bold red]",
                "[/]",
            ]
        ),
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


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")).filter(
            lambda ch: ch not in VISIBLE and ch not in VARIATION_SELECTORS
        )
    )
)
@settings(max_examples=200, deadline=None)
def test_ordinary_text_is_unchanged(text: str) -> None:
    """Text without control, format or default-ignorable characters passes through exactly."""
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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b]52;c;cm0gLXJmIH4=\x07after", "after"),  # OSC 52 clipboard write, BEL
        ("\x1b]52;c;cm0=\x1b\\after", "after"),  # OSC 52, ST
        ("\x9b2Jafter", "2Jafter"),  # 8-bit CSI: its introducer goes, the text stays
        ("\x1bPq#0;2;0;0;0#0~~\x1b\\after", "after"),  # DCS (sixel)
        ("\x1bX sos \x1b\\a\x1b^ pm \x1b\\b\x1b_ apc \x07c", "abc"),
        ("\x1b]0;title\x9cshown", "0;titleshown"),  # 8-bit ST: unterminated, shown inert
        ("[bold red]x[/]", "[bold red]x[/]"),
        ("[/b]", "[/b]"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        ("in\u180evisible\u2062\ufff9hid\ufffb", "in⟨U+180E⟩visible⟨U+2062⟩⟨U+FFF9⟩hid⟨U+FFFB⟩"),
    ],
)
def test_nasty_inputs(raw: str, expected: str) -> None:
    """Clipboard/title writes, 8-bit CSI, DCS/SOS/PM/APC go; markup stays literal text."""
    assert clean(raw) == expected


def test_lone_surrogates_are_shown_and_encodable() -> None:
    """A lone surrogate (from a JSON \\ud800 escape) is shown as ⟨U+D800⟩, so it can be written."""
    import json

    text = json.loads('"a\\ud800b\\udfff"')
    assert clean(text) == "a⟨U+D800⟩b⟨U+DFFF⟩"
    clean(text).encode("utf-8")
    assert csv_cell(text) == "a⟨U+D800⟩b⟨U+DFFF⟩"
    assert not is_clean(text)


def test_separators_in_single_line() -> None:
    """Unicode line/paragraph separators cannot break a one-line cell."""
    assert clean("a\u2028b", single_line=True) == "a ⏎ b"


def test_very_long_hostile_lines_are_linear() -> None:
    """Long unterminated sequences are handled in linear time (no regex blow-up)."""
    import time

    for text in ("\x1b[" + "0" * 200_000, "\x1b]" * 100_000, "\x1b[1" * 100_000,
                 "\x1bP" + "\x1b" * 100_000, "x" * 1_000_000):  # fmt: skip
        started = time.perf_counter()
        out = clean(text)
        assert time.perf_counter() - started < 2.0
        assert "\x1b" not in out


@given(hostile_text)
@settings(max_examples=200, deadline=None)
def test_output_helpers_never_emit_controls(text: str) -> None:
    """Rich output of customer_text and to_json: no ESC/C1/lone surrogate, markup printed as is."""
    import io
    import json

    from rich.console import Console

    from socialdesk.cli.output import customer_text, to_json

    buf = io.StringIO()
    con = Console(file=buf, markup=False, emoji=False, highlight=False, color_system=None)
    con.print(customer_text(text, single_line=True), "[bold]x[/bold]")
    printed = buf.getvalue()
    printed.encode("utf-8")
    assert not any(ch in FORBIDDEN for ch in printed.replace("\n", ""))
    assert "[bold]x[/bold]" in printed
    doc = to_json({"t": text})
    doc.encode("utf-8")
    assert "\x1b" not in doc and not any("\x7f" <= ch <= "\x9f" for ch in doc)
    # A Python str may hold a surrogate *pair* as two characters; JSON reads it back as one.
    paired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    assert json.loads(doc) == {"t": paired}


def test_markup_in_customer_text_prints_literally() -> None:
    """Rich markup in a customer's name is printed as typed by the CLI console."""
    import io

    from rich.console import Console

    from socialdesk.cli.output import customer_text

    buf = io.StringIO()
    Console(file=buf, color_system=None).print(
        customer_text("[bold red]x[/] [/b] [link=http://e]y")
    )
    assert buf.getvalue() == "[bold red]x[/] [/b] [link=http://e]y\n"
