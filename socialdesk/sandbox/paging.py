"""Cursor paging for the sandbox: opaque base64 cursors and absolute ``next``/``previous`` links.

A cursor encodes the sort key of an item (keyset paging), so a page boundary stays put when new
items arrive at the top, as on Graph. ``handler`` and ``render`` call ``paginate`` on lists already
sorted ascending by their key, then ``paging_block`` to build the ``paging`` object.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
Key = tuple[Any, ...]


class CursorError(Exception):
    """A cursor that this sandbox did not issue."""


def encode_cursor(key: Key) -> str:
    """An opaque cursor for a sort key."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The sort key inside a cursor; ``CursorError`` when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise CursorError(cursor) from exc
    if not isinstance(value, list):
        raise CursorError(cursor)
    return tuple(value)


@dataclass
class Page(Generic[T]):
    """One page of a list: the items, and whether more exist either side."""

    items: list[T]
    first_key: Key | None
    last_key: Key | None
    has_next: bool
    has_previous: bool
    previous_item: T | None
    """The item just before this page (what ``dup-page`` repeats)."""


def paginate(
    items: Sequence[T],
    key: Callable[[T], Key],
    limit: int,
    *,
    after: str | None = None,
    before: str | None = None,
) -> Page[T]:
    """Slice ``items`` (sorted ascending by ``key``) after/before a cursor."""
    keys = [key(item) for item in items]
    if after:
        start = bisect_right(keys, decode_cursor(after))
        end = min(len(items), start + limit)
    elif before:
        end = bisect_left(keys, decode_cursor(before))
        start = max(0, end - limit)
    else:
        start, end = 0, min(len(items), limit)
    chunk = list(items[start:end])
    return Page(
        items=chunk,
        first_key=keys[start] if chunk else None,
        last_key=keys[end - 1] if chunk else None,
        has_next=end < len(items),
        has_previous=start > 0,
        previous_item=items[start - 1] if start > 0 else None,
    )


def link(base: str, path: str, params: dict[str, str]) -> str:
    """An absolute Graph URL: ``base`` is ``scheme://host``, ``path`` starts with ``/vNN.0/``."""
    return f"{base}{path}?{urlencode(params)}"


def paging_block(
    page: Page[Any], base: str, path: str, params: dict[str, str], limit: int
) -> dict[str, Any]:
    """The ``paging`` object: cursors, and ``next``/``previous`` only when more exist."""
    if not page.items:
        return {}
    assert page.first_key is not None and page.last_key is not None
    before = encode_cursor(page.first_key)
    after = encode_cursor(page.last_key)
    block: dict[str, Any] = {"cursors": {"before": before, "after": after}}
    clean = {k: v for k, v in params.items() if k not in ("after", "before")}
    clean["limit"] = str(limit)
    if page.has_previous:
        block["previous"] = link(base, path, {**clean, "before": before})
    if page.has_next:
        block["next"] = link(base, path, {**clean, "after": after})
    return block
