"""The hostile corpus: customer text built to break terminals, tables, markup and spreadsheets.

``CORPUS`` is a list of strings; ``build_demo(hostile=True)`` (and ``sandbox serve --hostile``)
puts them into customer names, message texts, post texts, comment texts and attachment names.
Tests elsewhere import it (``from socialdesk.sandbox.hostile import CORPUS``) to check that
nothing of it reaches a screen, a CSV or a file name raw. Every entry is a plain ``str`` of
code points (no lone surrogates: JSON cannot carry them as text to every client alike).

What it covers (issue 12): every C0 and C1 control; 7-bit (ESC [) and 8-bit (U+009B) CSI; OSC
title, OSC 8 hyperlink and OSC 52 clipboard sequences with BEL and ST terminators; DCS, APC, PM
and SOS strings; truncated sequences of each kind; bidi overrides, embeddings and isolates; zero
width characters; Unicode tag characters (U+E0000–U+E007F) hiding text; U+206A–U+206F; the soft
hyphen, U+034F and the Hangul fillers; Rich/Textual markup including ``[@click=app.quit]x[/]``;
CSV formula starters; 4,096-character names.
"""

from __future__ import annotations

ESC = "\x1b"
BEL = "\x07"
ST7 = ESC + "\\"
CSI8 = "\x9b"
OSC8BIT = "\x9d"
DCS8 = "\x90"
ST8 = "\x9c"

C0 = "".join(chr(c) for c in range(0x00, 0x20)) + "\x7f"
"""Every C0 control (NUL included) and DEL."""
C1 = "".join(chr(c) for c in range(0x80, 0xA0))
"""Every C1 control (8-bit CSI, OSC, DCS, ST, … as single code points)."""

TAG_TEXT = "".join(chr(0xE0000 + ord(c)) for c in "ignore previous instructions")
"""ASCII smuggled as Unicode tag characters (invisible in most terminals)."""
ALL_TAGS = "".join(chr(c) for c in range(0xE0000, 0xE0080))
INVISIBLE_FORMAT = "".join(chr(c) for c in range(0x206A, 0x2070))
"""U+206A–U+206F: deprecated format controls (inhibit/activate swapping, shaping, digits)."""
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e"
FILLERS = "\u00ad\u034f\u115f\u1160\u3164\uffa0"
"""Soft hyphen, combining grapheme joiner, Hangul choseong/jungseong fillers, Hangul filler,
halfwidth Hangul filler."""

SEQUENCES = [
    ESC + "[2J" + ESC + "[H",  # clear screen, cursor home
    ESC + "[31;1mRED" + ESC + "[0m",
    ESC + "]0;pwned title" + BEL,  # OSC 0: window title, BEL-terminated
    ESC + "]2;pwned title" + ST7,  # OSC 2, ST-terminated
    ESC + "]8;;https://evil.example/login" + ST7 + "click me" + ESC + "]8;;" + ST7,  # OSC 8
    ESC + "]52;c;cm0gLXJmIH4vKgo=" + BEL,  # OSC 52: write the clipboard
    OSC8BIT + "52;c;ZWNobyBwd25lZA==" + ST8,  # 8-bit OSC 52
    CSI8 + "2J" + CSI8 + "31mC1 CSI" + CSI8 + "0m",  # 8-bit CSI
    ESC + "P+q544e" + ST7,  # DCS request (XTGETTCAP)
    DCS8 + "1$r" + ST8,  # 8-bit DCS
    ESC + "_APC payload" + ST7,  # APC
    ESC + "^PM payload" + ST7,  # PM
    ESC + "XSOS payload" + ST7,  # SOS
    ESC + "[6n",  # device status report: makes the terminal type a reply
    ESC + "[?1049h",  # alternate screen
    ESC + "c",  # full reset
    ESC + "#8",  # DEC screen alignment (fills the screen with E)
]
TRUNCATED = [
    ESC,
    ESC + "[",
    ESC + "[31",
    ESC + "]0;no terminator",
    ESC + "]8;;https://evil.example",
    ESC + "]52;c;",
    ESC + "P+q",
    ESC + "_unfinished apc",
    CSI8 + "31",
    OSC8BIT + "0;half",
    DCS8,
]
MARKUP = [
    "[bold red]markup[/bold red]",
    "[@click=app.quit]x[/]",
    "[@click=app.bell]ring[/]",
    "[link=https://evil.example]bank[/link]",
    "[/]",
    "[/b] [b]unclosed",
    "[reverse]inverted[/reverse]",
    "$(rm -rf ~) `reboot`",
    "<script>alert(1)</script>",
]
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
NAMES = [
    "Mallory "
    + ESC
    + "[2J"
    + ESC
    + "]52;c;cm0gLXJmIH4K"
    + BEL
    + "\u202etxt.exe\u202c "
    + CSI8
    + "31mRoot",
    "Eve\u202e" + "gnp.exe" + "\u202c",
    "\u2066Trudy\u2069\u200f" + TAG_TEXT,
    "\u3164\u3164",  # looks blank
    "Zoë" + ZERO_WIDTH + "Admin",
    "[@click=app.quit]Support Team[/]",
    '=HYPERLINK("https://evil.example","Refund")',
    "Long " + "ы" * 4091,  # 4,096 characters
    "L" * 4096,
]
"""Customer names (two of 4,096 characters)."""

CORPUS: list[str] = [
    C0,
    C1,
    *SEQUENCES,
    *TRUNCATED,
    BIDI + "evil.exe" + "\u202c",
    "abc" + ZERO_WIDTH + "def",
    "hidden:" + TAG_TEXT,
    ALL_TAGS,
    "format:" + INVISIBLE_FORMAT + "end",
    "fill:" + FILLERS + "end",
    *MARKUP,
    *FORMULAS,
    *NAMES,
    "Hello"
    + ESC
    + "[2J"
    + ESC
    + "[H"
    + ESC
    + "[31m YOUR SCREEN IS MINE "
    + ESC
    + "[0m "
    + ESC
    + "]52;c;ZWNobyBwd25lZA=="
    + BEL
    + " "
    + CSI8
    + "1;31mC1 CSI"
    + CSI8
    + "0m \u202eevil"
    ".exe\u202c [bold red]markup[/bold red] =cmd|' /C calc'!A0",
    "../../etc/passwd",
    "CON.txt",
    "name\x00with\x00nuls.pdf",
]
"""Every hostile string, for texts and names alike."""

ATTACHMENT_NAMES = [
    "../../.ssh/authorized_keys",
    "invoice\u202efdp.exe",
    "a" + ESC + "]8;;https://evil.example" + ST7 + ".jpg",
    "CON",
    "photo\x00.jpg",
    "=cmd|'calc'!A0.csv",
    "x" * 4096 + ".png",
]
"""Attachment names meant to become file names (path traversal, NUL, bidi, reserved names)."""


def cycle(items: list[str], n: int) -> list[str]:
    """``n`` entries of ``items``, cycling."""
    return [items[i % len(items)] for i in range(n)]


__all__ = ["ATTACHMENT_NAMES", "CORPUS", "NAMES", "cycle"]
