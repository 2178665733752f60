"""Outgoing text rules and grapheme-safe splitting (PRODUCT.md §5; PERF_RELIABILITY.md §10.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialdesk.core.textcheck import MAX_CHARS, check_text, graphemes, prepare, split_text
from socialdesk.errors import ExitCode, RefusedError, UsageError

FAMILY = "👩\u200d👩\u200d👧\u200d👦"
FLAG_PL = "🇵🇱"
FLAG_DE = "🇩🇪"
THUMB = "👍🏽"
E_ACUTE = "e\u0301"
HEART = "❤\ufe0f"
HANGUL = "\u1112\u1161\u11ab"  # 한 as jamo


def test_empty_is_usage_error() -> None:
    """Empty or whitespace-only text is a usage error (exit 2)."""
    with pytest.raises(UsageError) as exc:
        check_text("  \n\t ")
    assert exc.value.exit_code is ExitCode.USAGE


def test_too_long_is_refused_counting_code_points() -> None:
    """2,000 code points pass; 2,001 are refused with exit 6 and the reason to offer a split."""
    assert check_text("é" * MAX_CHARS) == "é" * MAX_CHARS
    with pytest.raises(RefusedError) as exc:
        check_text("x" * (MAX_CHARS + 1))
    assert exc.value.exit_code is ExitCode.REFUSED
    assert exc.value.reason == "text_too_long" and "several messages" in (exc.value.hint or "")


@pytest.mark.parametrize("ch", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_bidi_controls_refused(ch: str) -> None:
    """Bidi control characters are refused and named."""
    with pytest.raises(RefusedError, match=f"U\\+{ord(ch):04X}"):
        check_text(f"hello {ch}world")


def test_control_chars_refused_but_newlines_kept() -> None:
    """Escape and other control bytes are refused; newlines and ZWJ emoji are fine."""
    with pytest.raises(RefusedError):
        check_text("hi \x1b[31mred")
    assert check_text(f"line1\nline2 {FAMILY}") == f"line1\nline2 {FAMILY}"


def test_graphemes_keep_clusters_together() -> None:
    """ZWJ sequences, flags, skin tones, combining marks, VS16 and Hangul stay one cluster."""
    text = f"a{FAMILY}{FLAG_PL}{FLAG_DE}{THUMB}{E_ACUTE}{HEART}{HANGUL}\r\nz"
    assert graphemes(text) == [
        "a",
        FAMILY,
        FLAG_PL,
        FLAG_DE,
        THUMB,
        E_ACUTE,
        HEART,
        HANGUL,
        "\r\n",
        "z",
    ]


def test_split_prefers_whitespace() -> None:
    """A long text splits at a space near the limit, each part within the limit."""
    words = " ".join(["word"] * 1000)  # 4999 chars
    parts = split_text(words, limit=2000)
    assert all(len(p) <= 2000 for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    assert all(p.endswith("word") for p in parts)


def test_split_never_cuts_a_cluster() -> None:
    """Without whitespace the cut falls between clusters, never inside a family emoji."""
    text = FAMILY * 700  # 7 code points each
    parts = split_text(text, limit=2000)
    assert "".join(parts) == text
    for p in parts:
        assert len(p) <= 2000
        assert len(p) % len(FAMILY) == 0


def test_prepare_split_only_when_asked() -> None:
    """Without --split a long text is refused; with it, several checked parts come back."""
    long = "hello there " * 300
    with pytest.raises(RefusedError):
        prepare(long)
    parts = prepare(long, split=True)
    assert len(parts) == 2
    with pytest.raises(RefusedError):
        prepare(long + "\u202e", split=True)
    assert prepare("  short  ", split=True) == ["short"]


@given(st.text(min_size=1, max_size=300))
def test_split_roundtrip_property(text: str) -> None:
    """Splitting loses no non-whitespace content and never exceeds the limit (by clusters)."""
    parts = split_text(text, limit=20)
    for p in parts:
        clusters = graphemes(p)
        assert len(p) <= 20 or len(clusters) == 1
    assert "".join("".join(parts).split()) == "".join(text.split())
    assert "".join(graphemes(text)) == text


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        pytest.param("a" + FLAG_PL * 1100, FLAG_PL, id="flags-at-odd-offset"),
        pytest.param(("e\u0301\u0302") * 800, "e\u0301\u0302", id="stacked-combining-marks"),
        pytest.param("x" + FAMILY * 400, FAMILY, id="zwj-family-at-odd-offset"),
        pytest.param("b" + (THUMB + HEART) * 700, THUMB + HEART, id="skin-tone-and-vs16"),
    ],
)
def test_split_cuts_only_between_clusters(text: str, unit: str) -> None:
    """Flags, combining marks and ZWJ/modifier emoji are never cut, whatever the offset."""
    parts = prepare(text, split=True)
    assert len(parts) >= 2 and "".join(parts) == text
    assert [g for p in parts for g in graphemes(p)] == graphemes(text)
    for p in parts:
        assert len(p) <= 2000
        assert set(graphemes(p.lstrip("axb"))) <= set(graphemes(unit))
