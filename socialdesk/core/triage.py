"""Triage actions as services, each returning what it did and how to undo it.

Called by the ``tag``/``done``/``reopen``/``snooze``/``note``/``hide``/``unhide`` commands and
the inbox. Local actions (done, reopen, snooze, tag, note) run in one transaction over every
thread they name; threads are all resolved before anything changes, so a typo in the third of
three thread numbers changes nothing. Every action returns a :class:`TriageResult` whose
:class:`UndoToken` carries the previous state of each thread; :func:`undo` puts it back (an
undone ``done`` no longer counts as done that day in stats). Hide/unhide is an API call on a
comment; its undo is the opposite call. :func:`parse_when` reads snooze times.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from socialdesk.errors import Reason, UsageError
from socialdesk.format import human_duration, iso
from socialdesk.models import Channel, Status, Thread, WindowKind
from socialdesk.store import threads as store_threads
from socialdesk.store import triage as store_triage
from socialdesk.store.db import transaction

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

__all__ = [
    "Outcome",
    "TriageResult",
    "UndoToken",
    "note",
    "parse_when",
    "resolve_all",
    "set_hidden",
    "set_status",
    "tag",
    "undo",
]

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
    detail: tuple[str, ...] = ()
    """For tag actions: the tags that changed (``+vip``, ``-old``)."""


@dataclass(frozen=True)
class UndoToken:
    """How to undo one action: the state each thread had before it."""

    label: str
    """What was done, for "undone: …" (``done #12``)."""
    states: tuple[store_triage.TriageState, ...]
    log_ids: tuple[int, ...]
    """The ``triage_log`` rows the action wrote (marked undone by :func:`undo`)."""
    numbers: tuple[int, ...]
    hidden_before: bool | None = None
    """For hide/unhide: the state to go back to (an API call, not a local change)."""


@dataclass(frozen=True)
class TriageResult:
    """What one action did."""

    action: str
    """``done``, ``reopen``, ``snooze``, ``tag``, ``note``, ``hide``, ``unhide`` or ``undo``."""
    outcomes: list[Outcome]
    undo: UndoToken | None
    """``None`` when nothing changed (or for an undo itself)."""
    until: datetime | None = None
    """For ``snooze``: when the threads wake."""
    warnings: list[str] = field(default_factory=list)
    """What the operator should know (a snooze that wakes after the reply window closes)."""

    @property
    def changed(self) -> list[Thread]:
        """The threads the action changed."""
        return [o.thread for o in self.outcomes if o.changed]


def resolve_all(
    conn: sqlite3.Connection, refs: Sequence[str], *, page_id: str, now: datetime
) -> list[Thread]:
    """Every thread named in ``refs`` (``#N``, ``N`` or Graph id), or the first UsageError."""
    if not refs:
        raise UsageError(
            "name at least one thread",
            hint="e.g. 12 (see `socialdesk list`)",
            reason=Reason.THREAD_UNKNOWN,
        )
    out: list[Thread] = []
    seen: set[str] = set()
    for ref in refs:
        th = store_threads.resolve_thread(conn, ref, page_id=page_id, now=now)
        if th.id not in seen:
            seen.add(th.id)
            out.append(th)
    return out


def _act(
    conn: sqlite3.Connection,
    threads: Sequence[Thread],
    label: str,
    apply: Callable[[Thread], tuple[bool, tuple[str, ...]]],
    *,
    now: datetime,
) -> tuple[list[Outcome], UndoToken | None]:
    """Run ``apply`` on each thread in one transaction, recording what undo needs."""
    ids = [th.id for th in threads]
    with transaction(conn):
        before = store_triage.snapshot(conn, ids)
        position = store_triage.log_position(conn)
        changes = [apply(th) for th in threads]
        log_ids = store_triage.logged_since(conn, position, ids)
        fresh = {
            t.id: t
            for t in store_threads.threads_by_number(conn, [th.number for th in threads], now=now)
        }
    outcomes = [
        Outcome(fresh.get(th.id, th), changed, detail)
        for th, (changed, detail) in zip(threads, changes, strict=True)
    ]
    changed = [o for o in outcomes if o.changed]
    if not changed:
        return outcomes, None
    numbers = tuple(o.thread.number for o in changed)
    what = f"{label} {', '.join(f'#{n}' for n in numbers)}"
    kept = tuple(s for s in before if s.thread_id in {o.thread.id for o in changed})
    return outcomes, UndoToken(what, kept, log_ids, numbers)


def set_status(
    conn: sqlite3.Connection,
    threads: Sequence[Thread],
    status: Status,
    *,
    now: datetime,
    until: datetime | None = None,
    human_agent: bool = False,
) -> TriageResult:
    """Mark threads done, open (reopen) or snoozed until ``until``, in one transaction.

    A snooze that wakes after a thread's reply window closes comes with a warning naming it.
    """
    action = {Status.DONE: "done", Status.OPEN: "reopen", Status.SNOOZED: "snooze"}[status]

    def apply(th: Thread) -> tuple[bool, tuple[str, ...]]:
        changed = store_triage.set_status(
            conn,
            th.id,
            status,
            now=now,
            snoozed_until=until if status is Status.SNOOZED else None,
        )
        return changed, ()

    outcomes, token = _act(conn, threads, action, apply, now=now)
    warnings: list[str] = []
    if status is Status.SNOOZED and until is not None:
        warnings = _snooze_warnings(conn, threads, until, now=now, human_agent=human_agent)
    return TriageResult(action, outcomes, token, until=until, warnings=warnings)


def _snooze_warnings(
    conn: sqlite3.Connection,
    threads: Sequence[Thread],
    until: datetime,
    *,
    now: datetime,
    human_agent: bool,
) -> list[str]:
    from socialdesk.core.windows import window_for_conn

    out: list[str] = []
    for th in threads:
        window = window_for_conn(conn, th, now, human_agent)
        if window.closes_at is None or window.closes_at >= until:
            continue
        which = "private-reply window" if window.kind is WindowKind.PRIVATE_REPLY else "window"
        left = human_duration((window.closes_at - now).total_seconds())
        out.append(
            f"#{th.number} wakes at {iso(until)}, after its reply {which} closes "
            f"({iso(window.closes_at)}, in {left})"
        )
    return out


def tag(
    conn: sqlite3.Connection,
    threads: Sequence[Thread],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    now: datetime,
) -> TriageResult:
    """Add and remove tags on every thread, in one transaction (tags are checked first)."""
    if not add and not remove:
        raise UsageError(
            "name at least one tag to add or remove",
            hint="e.g. +vip -later",
            reason=Reason.TAG_INVALID,
        )
    wanted_add = [store_triage.normalize_tag(t) for t in add]
    wanted_remove = [store_triage.normalize_tag(t) for t in remove]

    def apply(th: Thread) -> tuple[bool, tuple[str, ...]]:
        added = store_triage.add_tags(conn, th.id, wanted_add, now=now) if wanted_add else []
        gone = (
            store_triage.remove_tags(conn, th.id, wanted_remove, now=now) if wanted_remove else []
        )
        detail = tuple([f"+{t}" for t in added] + [f"-{t}" for t in gone])
        return bool(detail), detail

    outcomes, token = _act(conn, threads, "tagged", apply, now=now)
    return TriageResult("tag", outcomes, token)


def note(conn: sqlite3.Connection, thread: Thread, text: str, *, now: datetime) -> TriageResult:
    """Set the thread's note (empty text clears it)."""

    def apply(th: Thread) -> tuple[bool, tuple[str, ...]]:
        return store_triage.set_note(conn, th.id, text, now=now), ()

    outcomes, token = _act(conn, [thread], "note on", apply, now=now)
    return TriageResult("note", outcomes, token)


def set_hidden(
    conn: sqlite3.Connection,
    client: GraphClient,
    thread: Thread,
    hidden: bool,
    *,
    now: datetime,
) -> TriageResult:
    """Hide or unhide a comment thread's top-level comment on Facebook, then locally."""
    from socialdesk.api import graph

    if thread.channel not in (Channel.COMMENT, Channel.IG_COMMENT):
        raise UsageError(
            f"#{thread.number} is a {thread.channel} thread; only comments can be hidden"
        )
    before = thread.is_hidden
    if thread.channel is Channel.IG_COMMENT:
        from socialdesk.api import graph_ig

        # Instagram takes ``hide=``; Facebook's ``is_hidden`` would be refused (code 100).
        graph_ig.set_ig_comment_hidden(client, thread.id, hidden)
    else:
        graph.set_comment_hidden(client, thread.id, hidden)
    with transaction(conn):
        store_threads.set_hidden_cached(conn, thread.id, hidden)
    fresh = store_threads.get_thread(conn, thread.id, now=now) or thread
    action = "hide" if hidden else "unhide"
    token = None
    if before != hidden:
        label = f"{'hidden' if hidden else 'unhidden'} #{thread.number}"
        token = UndoToken(label, (), (), (thread.number,), hidden_before=before)
    return TriageResult(action, [Outcome(fresh, before != hidden)], token)


def undo(
    conn: sqlite3.Connection,
    token: UndoToken,
    *,
    now: datetime,
    client: GraphClient | None = None,
) -> TriageResult:
    """Put back the state before ``token``'s action (a hide/unhide needs ``client``)."""
    if token.hidden_before is not None:
        (number,) = token.numbers
        (thread,) = store_threads.threads_by_number(conn, [number], now=now)
        if client is None:
            raise UsageError("undoing a hide or unhide needs the Graph API")
        res = set_hidden(conn, client, thread, token.hidden_before, now=now)
        return TriageResult("undo", res.outcomes, None)
    with transaction(conn):
        store_triage.restore(conn, token.states, token.log_ids, now=now)
    restored = store_threads.threads_by_number(conn, list(token.numbers), now=now)
    return TriageResult("undo", [Outcome(th, True) for th in restored], None)


def parse_when(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """A snooze time as an aware UTC time in the future.

    Accepts ``30m``, ``2h``, ``3d``, ``1w``; ``tomorrow [H:MM]``, ``today H:MM``, a weekday
    (``mon``…``sun``, full names too) with an optional time (the next such day); ``H:MM`` alone
    (today, or tomorrow if already past); an ISO date or date-time (naive means ``tz``).
    """
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise UsageError(
            "the snooze time is empty",
            hint="e.g. 2h, 'tomorrow 9:00' or 2026-05-01",
            reason=Reason.SNOOZE_TIME,
        )
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
            raise UsageError(
                f"the snooze time {text!r} is not in the future", reason=Reason.SNOOZE_TIME
            )
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
        raise UsageError(
            f"the snooze time {text!r} is in the past",
            hint="give a future time",
            reason=Reason.SNOOZE_TIME,
        )
    return out


def _bad(text: str) -> UsageError:
    return UsageError(
        f"cannot read the time {text!r}",
        hint="use e.g. 30m, 2h, 3d, 'tomorrow 9:00', 'mon 9:00', 17:30 or 2026-05-01T09:00",
        reason=Reason.SNOOZE_TIME,
    )
