"""The words and times both front ends show: one time format for JSON, durations, window labels.

Called by ``cli/views.py`` (every ``--json`` shape), ``cli/render.py`` (tables) and the inbox, so
a thread reads the same everywhere. Standard library only: no Rich, no Textual, no I/O.
:func:`iso` is THE time formatter of the JSON output contract (README "JSON output").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import overload

from socialdesk.models import Channel, Thread, Window, WindowKind

__all__ = [
    "CHANNEL_LABELS",
    "age",
    "channel_label",
    "human_duration",
    "iso",
    "plural",
    "window_label",
]

CHANNEL_LABELS: Mapping[str, str] = {
    Channel.DM.value: "✉ dm",
    Channel.COMMENT.value: "💬 comment",
    Channel.IG_DM.value: "✉ ig",
    Channel.IG_COMMENT.value: "💬 ig",
}
"""How a channel is named in tables and in the inbox."""


@overload
def iso(dt: datetime) -> str: ...
@overload
def iso(dt: None) -> None: ...
def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC, whole seconds, ending in ``Z`` (``2026-12-03T14:37:46Z``); None stays."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_duration(seconds: float) -> str:
    """``42s``, ``5m``, ``3h 20m``, ``2d 4h`` (negative values get a leading ``-``)."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 86_400:
        hours, minutes = divmod(s // 60, 60)
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    days, hours = divmod(s // 3600, 24)
    return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 warning``, ``2 warnings``, ``0 warnings`` (``many`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def channel_label(channel: Channel | str) -> str:
    """The label of a channel (its raw name when unknown)."""
    value = channel.value if isinstance(channel, Channel) else channel
    return CHANNEL_LABELS.get(value, value)


def window_label(window: Window, now: datetime) -> str:
    """A window in a table cell: time left, and which window when it is not the standard one."""
    if window.kind is WindowKind.PUBLIC:
        return "public"
    if window.kind is WindowKind.CLOSED or window.closes_at is None:
        return "closed"
    left = human_duration(max(0.0, (window.closes_at - now).total_seconds()))
    if window.kind is WindowKind.HUMAN_AGENT:
        return f"{left} (agent)"
    if window.kind is WindowKind.PRIVATE_REPLY:
        return f"{left} (private)"
    return left


def age(thread: Thread, now: datetime) -> str:
    """How long the customer has waited (awaiting threads), else since the newest message."""
    since = thread.request_at if thread.awaiting_reply and thread.request_at else None
    return human_duration(max(0.0, (now - (since or thread.last_message_at)).total_seconds()))
