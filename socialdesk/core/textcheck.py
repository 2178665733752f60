"""Rules for outgoing text, checked before anything is queued, and grapheme-safe splitting.

Called by ``core.outbox`` (every send), ``core.ack`` (rendered acknowledgements) and the
``reply``/``templates`` commands. Pure standard library.

- Empty after stripping whitespace → :class:`UsageError` (exit 2): nothing to send.
- Over :data:`MAX_CHARS` (2,000, Messenger's limit, counted in code points) →
  :class:`RefusedError` (exit 6), reason ``text_too_long`` (a front end offers splitting).
- Instagram DMs and private replies: over :data:`IG_MAX_BYTES` (1,000 UTF-8 bytes: "must be
  UTF-8 and be 1,000 bytes or less", INSTAGRAM_API.md §4.1) → the same refusal, checked before
  anything is queued; :func:`limits_for` gives a thread's limits and splitting counts bytes.
- Bidi control characters (they reorder what the customer sees) or other control characters
  than newline and tab → :class:`RefusedError` (exit 6).

:func:`graphemes` is a compact take on Unicode's extended grapheme clusters (UAX #29) without a
new dependency: it keeps combining marks, variation selectors, emoji modifiers and tag sequences,
ZWJ sequences, regional-indicator pairs (flags), CR LF and Hangul syllable sequences together.
:func:`split_text` cuts only between clusters, preferring whitespace.
"""

from __future__ import annotations

import unicodedata

from socialdesk import sanitize
from socialdesk.errors import Reason, RefusedError, UsageError
from socialdesk.models import IG_TEXT_MAX_BYTES, Channel
from socialdesk.sanitize import CONTROLS

MAX_CHARS = 2000
"""Messenger's ``message.text`` limit (GRAPH_API.md §4.1), counted in code points."""

IG_MAX_BYTES = IG_TEXT_MAX_BYTES
"""Instagram's Send API text limit, in UTF-8 bytes (the stricter of the page's two readings)."""


def limits_for(channel: Channel, *, private: bool = False) -> tuple[int, int | None]:
    """(characters, UTF-8 bytes or ``None``) a text sent to a thread of ``channel`` may hold.

    An Instagram DM, and a private reply to an Instagram comment (the Send API too), is capped
    at 1,000 bytes; public Instagram replies keep the 2,000 characters (comment limits are not
    documented; 2,200 is reported, so 2,000 is the safe side).
    """
    if channel is Channel.IG_DM or (channel is Channel.IG_COMMENT and private):
        return MAX_CHARS, IG_MAX_BYTES
    return MAX_CHARS, None


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# The character sets are defined once, in sanitize (derived from Unicode data). The bidi set
# is read at call time: importing it would run sanitize's scan of the code space (~60 ms) in
# every command, cron's `sync` included, whether or not it ever checks a text.
_CONTROLS: frozenset[str] = CONTROLS - frozenset("\t\n\r")

ZWJ = "\u200d"


def check_text(text: str, *, limit: int = MAX_CHARS, max_bytes: int | None = None) -> str:
    """``text`` with surrounding whitespace stripped, or the error that refuses it."""
    out = text.strip()
    if not out:
        raise UsageError("the reply is empty", hint="write some text", reason=Reason.TEXT_EMPTY)
    bidi = sanitize.BIDI_CONTROLS
    bad = sorted({ch for ch in out if ch in bidi})
    if bad:
        names = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
        raise RefusedError(
            f"the text holds bidirectional control characters ({names})",
            hint="remove them: they reorder what the customer sees",
            reason=Reason.TEXT_BIDI,
        )
    ctrl = sorted({ch for ch in out if ch in _CONTROLS})
    if ctrl:
        names = ", ".join(f"U+{ord(ch):04X}" for ch in ctrl)
        raise RefusedError(
            f"the text holds control characters ({names})",
            hint="remove them",
            reason=Reason.TEXT_CONTROL,
        )
    if len(out) > limit:
        raise RefusedError(
            f"the text is {len(out)} characters long; the limit is {limit}",
            hint="shorten it, or send it as several messages",
            reason=Reason.TEXT_TOO_LONG,
        )
    if max_bytes is not None and _bytes(out) > max_bytes:
        raise RefusedError(
            f"the text is {_bytes(out)} bytes long in UTF-8; Instagram's limit is {max_bytes}",
            hint="shorten it, or send it as several messages (--split)",
            reason=Reason.TEXT_TOO_LONG,
        )
    return out


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Me", "Mc"):
        return True
    return (
        ch == ZWJ
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF  # variation selectors supplement
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or ch == "\u200c"  # ZWNJ is Extend in UAX #29
    )


def _is_ri(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _hangul(ch: str) -> str:
    cp = ord(ch)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def _joins(prev: str, ch: str, ri_run: int) -> bool:
    """Whether ``ch`` continues the cluster whose last character is ``prev``."""
    if prev == "\r" and ch == "\n":
        return True
    if prev in "\r\n" or ch in "\r\n":
        return False
    if _is_extend(ch):
        return True
    if prev == ZWJ:
        return True  # ZWJ sequences (👩‍💻): the next pictograph belongs to the cluster
    if _is_ri(prev) and _is_ri(ch):
        return ri_run % 2 == 1
    hp, hc = _hangul(prev), _hangul(ch)
    if hp and hc:
        if hp == "L":
            return hc in ("L", "V", "LV", "LVT")
        if hp in ("LV", "V"):
            return hc in ("V", "T")
        if hp in ("LVT", "T"):
            return hc == "T"
    return False


def graphemes(text: str) -> list[str]:
    """``text`` cut into user-perceived characters (extended grapheme clusters, simplified)."""
    out: list[str] = []
    ri_run = 0  # regional indicators in a row so far, to pair them into flags
    for ch in text:
        if out and _joins(out[-1][-1], ch, ri_run):
            out[-1] += ch
        else:
            out.append(ch)
        ri_run = ri_run + 1 if _is_ri(ch) else 0
    return out


def split_text(text: str, *, limit: int = MAX_CHARS, max_bytes: int | None = None) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` code points, only between grapheme clusters.

    A cut prefers the last whitespace of a part (if it falls in the part's second half), else
    any cluster boundary. Parts are stripped; empty parts dropped. With ``max_bytes``, a part
    also holds at most that many UTF-8 bytes.
    """
    clusters = graphemes(text.strip())
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    nbytes = 0
    for g in clusters:
        over_bytes = max_bytes is not None and nbytes + _bytes(g) > max_bytes
        if (size + len(g) > limit or over_bytes) and cur:
            cut = len(cur)
            for i in range(len(cur) - 1, len(cur) // 2, -1):
                if cur[i].isspace():
                    cut = i
                    break
            parts.append("".join(cur[:cut]))
            cur = cur[cut:]
            size = sum(len(x) for x in cur)
            nbytes = sum(_bytes(x) for x in cur)
        cur.append(g)
        size += len(g)
        nbytes += _bytes(g)
    if cur:
        parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def prepare(
    text: str, *, split: bool = False, limit: int = MAX_CHARS, max_bytes: int | None = None
) -> list[str]:
    """The messages to send for ``text``: one checked text, or checked parts with ``split``."""
    stripped = text.strip()
    too_long = len(stripped) > limit or (max_bytes is not None and _bytes(stripped) > max_bytes)
    if split and too_long:
        check_text(stripped, limit=len(stripped))  # every rule but the length
        return [
            check_text(p, limit=limit, max_bytes=max_bytes)
            for p in split_text(stripped, limit=limit, max_bytes=max_bytes)
        ]
    return [check_text(text, limit=limit, max_bytes=max_bytes)]
