"""The sanitiser's character sets against an independent oracle, and the CLI's table layout
with invisible characters in every cell.

The oracle is the ``regex`` package (test extra), which carries its own copy of the Unicode
Character Database and answers ``\\p{Default_Ignorable_Code_Point}`` and ``\\p{Cf}`` directly:
a second derivation, independent of ``sanitize``'s (which builds the sets from
:mod:`unicodedata` and the UAX #44 definition) and of the checked-in UCD list.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache

import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from socialdesk import sanitize
from socialdesk.cli import render
from socialdesk.core.inbox import ThreadRow
from socialdesk.core.templates import render as render_template
from socialdesk.core.windows import window_for
from socialdesk.models import Channel, Person, Status, Thread
from tests.support import unicode_scan

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_DI = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_CF = regex.compile(r"\p{Cf}")
_ASSIGNED = regex.compile(r"\P{Cn}")


@cache
def oracle() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(Default_Ignorable_Code_Point, Cf, code points only the oracle knows) as the oracle
    sees them, found with one ``findall`` pass over the whole code space each.

    The last set holds what the oracle's UCD (``regex``'s may be newer) assigns and this
    Python's does not: every other code point is known to both (assigned in this Python's UCD,
    or unassigned in both), and the comparisons below cover all of those."""
    everything = unicode_scan.everything()
    di, cf = frozenset(_DI.findall(everything)), frozenset(_CF.findall(everything))
    # Only the ~290,000 code points the oracle assigns are looked up here, not 1.1 million.
    only_there = frozenset(
        ch for ch in _ASSIGNED.findall(everything) if unicodedata.category(ch) == "Cn"
    )
    return di, cf, only_there


def test_default_ignorable_and_format_sets_equal_the_regex_oracle() -> None:
    """Over the whole code space, DEFAULT_IGNORABLE == \\p{Default_Ignorable_Code_Point} and
    FORMAT == \\p{Cf} (code points only the oracle's newer Unicode assigns aside)."""
    di, cf, only_there = oracle()
    known = unicode_scan.CODE_SPACE - len(only_there)
    assert known > 1_000_000  # the comparison really covers the code space
    assert len(di) > 4000 and len(cf) > 150  # and the oracle answers
    di_wrong = sorted(f"U+{ord(ch):04X}" for ch in (di ^ sanitize.DEFAULT_IGNORABLE) - only_there)
    cf_wrong = sorted(f"U+{ord(ch):04X}" for ch in (cf ^ sanitize.FORMAT) - only_there)
    assert di_wrong == [] and cf_wrong == []


def test_every_oracle_character_is_shown_on_screen_and_stripped_from_templates() -> None:
    """Each DI or Cf character the oracle knows is ⟨U+…⟩ on screen and gone from {name}."""
    di, cf, only_there = oracle()
    wrong = []
    for ch in sorted((di | cf) - only_there):
        cp = ord(ch)
        if ch in sanitize.VARIATION_SELECTORS:
            shown_ok = sanitize.clean(f" {ch}") == f" ⟨U+{cp:04X}⟩"  # no base: shown
        else:
            shown_ok = sanitize.clean(f"a{ch}b") == f"a⟨U+{cp:04X}⟩b"
        sent = render_template("{name}", customer_name=f"A{ch}n", page_name="p")
        if not shown_ok or sent != "An":
            wrong.append(f"U+{cp:04X}")
    assert wrong == []


_invisible = st.sampled_from(sorted(sanitize.VISIBLE | sanitize.VARIATION_SELECTORS))
_cell_text = st.lists(
    st.one_of(_invisible, st.sampled_from(list("ab 漢é[]"))), min_size=1, max_size=30
).map("".join)


@cache
def _never_in_table() -> frozenset[str]:
    """What never reaches the table raw: forbidden and invisible characters but selectors and
    the newline (built once, not once an example)."""
    return (sanitize.FORBIDDEN | sanitize.VISIBLE) - sanitize.VARIATION_SELECTORS - {"\n"}


@cache
def _shown_as_marks() -> frozenset[str]:
    """The invisible characters but selectors (built once, not once a character)."""
    return sanitize.VISIBLE - sanitize.VARIATION_SELECTORS


def _row(number: int, name: str, snippet: str, tag: str) -> ThreadRow:
    th = Thread(
        number=number,
        id=f"t_{number}",
        page_id="p1",
        channel=Channel.DM,
        status=Status.OPEN,
        customer=Person(f"u{number}", name),
        last_message_at=NOW - timedelta(hours=2),
        awaiting_reply=True,
        request_at=NOW - timedelta(hours=3),
        last_inbound_at=NOW - timedelta(hours=2),
        snippet=snippet,
        tags=(tag,) if tag else (),
    )
    return ThreadRow(th, window_for(th, NOW, False), True)


@given(st.lists(st.tuples(_cell_text, _cell_text, _cell_text), min_size=1, max_size=4),
       st.sampled_from([60, 100, 160]))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_list_table_stays_aligned_with_invisible_characters(
    cells: list[tuple[str, str, str]], width: int
) -> None:
    """`list`'s table with invisible characters in names, snippets and tags: nothing invisible
    reaches the output raw, every line has the same width in cells, and the age column (``2h``)
    starts at the same cell in every row."""
    rows = [_row(i + 1, n, s, t.replace(" ", "")) for i, (n, s, t) in enumerate(cells)]
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, markup=True)
    render.thread_table(rows, console, now=NOW)
    lines = buf.getvalue().rstrip("\n").split("\n")
    out = "\n".join(lines)
    raw = _never_in_table()
    assert not any(ch in raw for ch in out), ascii(out)
    # A variation selector may stay only right after a visible base character.
    for i, ch in enumerate(out):
        if ch in sanitize.VARIATION_SELECTORS:
            assert i > 0 and not out[i - 1].isspace() and out[i - 1] not in sanitize.VISIBLE
    assert len({cell_len(line) for line in lines}) == 1, lines
    assert all(cell_len(line) <= width for line in lines)
    body = lines[2:]
    assert len(body) == len(rows)
    starts = {cell_len(line[: line.rindex(" 2h ")]) for line in body if " 2h " in line}
    assert len(starts) <= 1, body


_any_text = st.lists(
    st.one_of(
        st.integers(0, 0x10FFFF).map(chr),
        st.sampled_from(["\x1b", "\x9b", "\x1b]0;", "\x07", "\r\n", "\n", "\t", "\ufe0f", "a"]),
    ),
    max_size=60,
).map("".join)


@given(_any_text)
@settings(max_examples=300, deadline=None)
def test_editable_text_holds_nothing_a_box_would_echo_raw(text: str) -> None:
    """What a paste leaves for an input box: no control but tab and newline, nothing invisible
    (a selector only right after a visible character), lines kept, and stable."""
    out = sanitize.editable(text)
    assert not any(ch in sanitize.FORBIDDEN for ch in out), ascii(out)
    assert not any(ch in _shown_as_marks() for ch in out)
    for i, ch in enumerate(out):
        if ch in sanitize.VARIATION_SELECTORS:
            assert i > 0 and not out[i - 1].isspace() and out[i - 1] not in sanitize.VISIBLE
    out.encode("utf-8")
    assert sanitize.editable(out) == out
    if "\x1b" not in text:  # (an OSC/DCS string is removed whole, line breaks inside it too)
        assert out.count("\n") >= text.count("\n") + text.count("\r") - text.count("\r\n")


def test_editable_keeps_what_was_meant() -> None:
    """Plain lines, tabs and an emoji's presentation selector survive; payloads do not."""
    assert sanitize.editable("Hi,\r\nyour order\tships ❤\ufe0f") == "Hi,\nyour order\tships ❤\ufe0f"
    assert sanitize.editable("Ann\u202e\U000e0041\x1b]0;t\x07e") == "Anne"
