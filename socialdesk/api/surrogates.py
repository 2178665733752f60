"""Lone UTF-16 surrogates out of strings decoded from Graph JSON.

JSON may carry ``"\\ud800"`` (Graph's truncated ``snippet`` can even split a UTF-16 pair), which
Python decodes to a lone surrogate: a ``str`` that cannot be encoded as UTF-8, so SQLite, a
terminal or a file write raises on it. ``api/parse.py``, ``api/errors.py`` and
``api/paging.py`` pass every string they take from a response through :func:`scrub`, so
nothing past the api boundary ever holds one.
"""

from __future__ import annotations

from socialdesk.sanitize import LONE_SURROGATE_RE as _LONE_SURROGATE

__all__ = ["scrub"]


def scrub(value: str) -> str:
    """``value`` with every lone surrogate replaced by U+FFFD (the replacement character)."""
    if value.isascii():
        return value
    return _LONE_SURROGATE.sub("\ufffd", value)
