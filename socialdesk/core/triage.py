"""Triage actions as services: done, reopen, snooze, tag, note (local) and hide/unhide (API).

Called by the ``tag``/``done``/``reopen``/``snooze``/``note``/``hide``/``unhide`` commands and
the inbox. Threads are all resolved before anything changes, so a typo in the third of three
thread numbers changes nothing. :func:`parse_when` reads ``snooze --until`` times.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialdesk.errors import UsageError
from socialdesk.models import Channel, Status, Thread
from socialdesk.store import triage as store_triage
from socialdesk.store.db import transaction

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

_REL_RE = re.compile(r"^(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)$")
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOUR = time(9, 0)
"""``tomorrow`` or a weekday without a time means 9:00."""


@dataclass(frozen=True)
class Outcome:
    """What one action did to one thread."""

    thread: Thread
    changed: bool
    detail: str = ""


def resolve_all(
    conn: sqlite3.Connection, refs: Sequence[str], *, page_id: str, now: datetime
) -> list[Thread]:
    """Every thread named in ``refs`` (``#N``, ``N`` or Graph id), or the first UsageError."""
    from socialdesk.store.threads import resolve_thread

    if not refs:
        raise UsageError("name at least one thread", hint="e.g. `#12` (see `socialdesk list`)")
    out: list[Thread] = []
    seen: set[str] = set()
    for ref in refs:
        th = resolve_thread(conn, ref, page_id=page_id, now=now)
        if th.id not in seen:
            seen.add(th.id)
            out.append(th)
    return out


def set_status(
    conn: sqlite3.Connection,
    threads: Sequence[Thread],
    status: Status,
    *,
    now: datetime,
    until: datetime | None = None,
) -> list[Outcome]:
    """Mark threads done, open (reopen) or snoozed until ``until``, in one transaction."""
    with transaction(conn):
        return [
            Outcome(
                th,
                store_triage.set_status(
                    conn,
                    th.id,
                    status,
                    now=now,
                    snoozed_until=until if status is Status.SNOOZED else None,
                ),
            )
            for th in threads
        ]


def tag(
    conn: sqlite3.Connection,
    thread: Thread,
    tags: Sequence[str],
    *,
    now: datetime,
    remove: bool = False,
) -> list[str]:
    """Add (or remove) tags; return those that changed."""
    if not tags:
        raise UsageError("name at least one tag")
    with transaction(conn):
        if remove:
            return store_triage.remove_tags(conn, thread.id, tags, now=now)
        return store_triage.add_tags(conn, thread.id, tags, now=now)


def note(conn: sqlite3.Connection, thread: Thread, text: str, *, now: datetime) -> bool:
    """Set the thread's note (empty text clears it)."""
    with transaction(conn):
        return store_triage.set_note(conn, thread.id, text, now=now)


def set_hidden(conn: sqlite3.Connection, client: GraphClient, thread: Thread, hidden: bool) -> None:
    """Hide or unhide a comment thread's top-level comment on Facebook, then locally."""
    from socialdesk.api import graph
    from socialdesk.store import outbox as store_outbox

    if thread.channel not in (Channel.COMMENT, Channel.IG_COMMENT):
        raise UsageError(
            f"#{thread.number} is a {thread.channel} thread; only comments can be hidden"
        )
    graph.set_comment_hidden(client, thread.id, hidden)
    with transaction(conn):
        store_outbox.mark_hidden_cached(conn, thread.id, hidden)


def timezone_of(name: str | None) -> tzinfo:
    """The zone named in config (``stats.timezone``), else the local zone."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


def parse_when(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """A ``--until`` value as an aware UTC time in the future.

    Accepts ``30m``, ``2h``, ``3d``, ``1w``; ``tomorrow [H:MM]``, ``today H:MM``, a weekday
    (``mon``…``sun``, full names too) with an optional time (the next such day); ``H:MM`` alone
    (today, or tomorrow if already past); an ISO date or date-time (naive means ``tz``).
    """
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise UsageError("--until is empty", hint="e.g. --until 2h, 'tomorrow 9:00', 2026-05-01")
    m = _REL_RE.match(raw)
    if m:
        n, unit = int(m.group(1)), m.group(2)[0]
        delta = {
            "m": timedelta(minutes=n),
            "h": timedelta(hours=n),
            "d": timedelta(days=n),
            "w": timedelta(weeks=n),
        }[unit]
        if n <= 0:
            raise UsageError(f"--until {text!r} is not in the future")
        return now + delta
    local_now = now.astimezone(tz)
    words = raw.split(" ")
    day_word, time_word = (words[0], words[1] if len(words) > 1 else None)
    if len(words) <= 2 and (day_word in ("today", "tomorrow") or day_word[:3] in _DAYS):
        if day_word[:3] in _DAYS and not _is_day_name(day_word):
            raise _bad(text)
        at = _parse_clock(time_word, text) if time_word else DEFAULT_HOUR
        if day_word == "today":
            day = local_now.date()
        elif day_word == "tomorrow":
            day = local_now.date() + timedelta(days=1)
        else:
            ahead = (_DAYS.index(day_word[:3]) - local_now.weekday()) % 7 or 7
            day = local_now.date() + timedelta(days=ahead)
        result = datetime.combine(day, at, tzinfo=tz)
        return _future(result, text, now)
    if len(words) == 1 and _TIME_RE.match(raw):
        at = _parse_clock(raw, text)
        result = datetime.combine(local_now.date(), at, tzinfo=tz)
        if result <= now:
            result = datetime.combine(local_now.date() + timedelta(days=1), at, tzinfo=tz)
        return result.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _bad(text) from None
    if parsed.tzinfo is None:
        if len(text.strip()) == 10:  # a date alone: 9:00 that day
            parsed = datetime.combine(parsed.date(), DEFAULT_HOUR)
        parsed = parsed.replace(tzinfo=tz)
    return _future(parsed, text, now)


def _is_day_name(word: str) -> bool:
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return word in _DAYS or word in full


def _parse_clock(word: str, text: str) -> time:
    m = _TIME_RE.match(word)
    if not m:
        raise _bad(text)
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        raise _bad(text)
    return time(hour, minute)


def _future(dt: datetime, text: str, now: datetime) -> datetime:
    out = dt.astimezone(UTC)
    if out <= now:
        raise UsageError(f"--until {text!r} is in the past", hint="pass a future time")
    return out


def _bad(text: str) -> UsageError:
    return UsageError(
        f"cannot read the time {text!r}",
        hint="use e.g. 30m, 2h, 3d, 'tomorrow 9:00', 'mon 9:00', 17:30 or 2026-05-01T09:00",
    )
