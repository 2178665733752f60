"""Moving operator state between machines: ``state export`` and ``state import``.

Called by the ``state`` commands. The file format and the row-by-row import are
``store.state_io``'s; the merge policy is here. ``state import`` never silently undoes newer
operator state: :func:`plan_import` compares each thread's status, snooze, note and tags in the
file with the database's and, for a thread whose state here changed after the file's
(``updated_at``), keeps what is here unless ``force``. The plan says what would change, so a
dry run shows it without writing.
"""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialdesk.core.context import AppContext
from socialdesk.errors import StoreError
from socialdesk.format import iso
from socialdesk.models import utc
from socialdesk.store import state_io, state_merge
from socialdesk.store import threads as store_threads
from socialdesk.store import triage as store_triage

__all__ = ["Export", "ImportPlan", "ThreadChange", "apply_import", "export_text", "plan_import"]


@dataclass(frozen=True)
class Export:
    """An export: the JSON lines, how many rows, and what a damaged database kept back."""

    text: str
    rows: int
    problems: tuple[str, ...] = ()
    """Parts of a damaged database that could not be read (empty for a sound one)."""


def export_text(ctx: AppContext) -> Export:
    """The operator state as JSON lines. A damaged database is rescued row by row wherever
    SQLite can still read it (``store.state_io.rescue_state``); what it could not read is
    named in ``problems``."""
    from contextlib import closing

    now = ctx.clock.now()
    buffer = io.StringIO()
    try:
        with closing(ctx.connect()) as conn:
            count = state_io.export_state(conn, buffer, now=now)
    except (StoreError, sqlite3.DatabaseError) as exc:
        if isinstance(exc, StoreError) and exc.reason != "corrupt":
            raise
        buffer = io.StringIO()
        report = state_io.rescue_state(ctx.paths.db_file, buffer, now=now)
        return Export(buffer.getvalue(), report.rows, tuple(report.problems))
    return Export(buffer.getvalue(), count)


@dataclass(frozen=True)
class ThreadChange:
    """What importing the file does to one thread's operator state."""

    thread_id: str
    number: int | None
    changes: tuple[str, ...]
    """``status open → done``, ``note set``, ``+vip``… (empty: nothing differs)."""
    kept_here: bool = False
    """The state here is newer than the file's: the file's values are not imported."""
    here_changed_at: datetime | None = None


@dataclass(frozen=True)
class ImportPlan:
    """What an import of one file would do."""

    text: str
    """The rows to import (the file without the threads kept as they are here)."""
    rows: int
    """Rows that would be written."""
    threads: list[ThreadChange] = field(default_factory=list)
    """Threads whose state differs, those kept here included."""

    @property
    def changed(self) -> list[ThreadChange]:
        return [t for t in self.threads if not t.kept_here]

    @property
    def kept(self) -> list[ThreadChange]:
        return [t for t in self.threads if t.kept_here]


def _lines(text: str) -> list[tuple[str, dict[str, Any] | None]]:
    """Each line with its object when it is one (validation is the import's job)."""
    out: list[tuple[str, dict[str, Any] | None]] = []
    for line in text.splitlines():
        try:
            obj = json.loads(line) if line.strip() else None
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            obj = None
        out.append((line, obj if isinstance(obj, dict) else None))
    return out


def _differences(
    here: store_triage.TriageState | None, theirs: dict[str, Any] | None, tags: set[str]
) -> tuple[str, ...]:
    out: list[str] = []
    if theirs is not None:
        old = here.status if here is not None else "open"
        if theirs.get("status") not in (None, old):
            out.append(f"status {old} → {theirs['status']}")
        until = theirs.get("snoozed_until")
        if until is not None and (here is None or until != here.snoozed_until):
            out.append(f"snoozed until {iso(utc(until))}")
        if (theirs.get("note") or None) != (here.note if here is not None else None):
            out.append("note cleared" if not theirs.get("note") else "note set")
    have = {t for t, _ in here.tags} if here is not None else set()
    out.extend(f"+{t}" for t in sorted(tags - have))
    return tuple(out)


def plan_import(conn: sqlite3.Connection, text: str, *, force: bool = False) -> ImportPlan:
    """What importing ``text`` would change; newer state here is kept unless ``force``.

    Every line is checked as the real import checks it (a bad file is a UsageError naming the
    line, before anything is written).
    """
    lines = _lines(text)
    states: dict[str, dict[str, Any]] = {}
    tags: dict[str, set[str]] = {}
    for _line, obj in lines:
        if obj is None:
            continue
        tid = obj.get("thread_id")
        if not isinstance(tid, str):
            continue
        if obj.get("type") == "thread_state":
            states[tid] = obj
        elif obj.get("type") == "thread_tag" and isinstance(obj.get("tag"), str):
            tags.setdefault(tid, set()).add(obj["tag"])
    ids = sorted(set(states) | set(tags))
    here = {s.thread_id: s for s in store_triage.snapshot(conn, ids)}
    numbers = store_threads.numbers_of(conn, ids)
    threads: list[ThreadChange] = []
    kept: set[str] = set()
    for tid in ids:
        changes = _differences(here.get(tid), states.get(tid), tags.get(tid, set()))
        if not changes:
            continue
        mine, theirs = here.get(tid), states.get(tid)
        newer_here = (
            mine is not None
            and mine.updated_at is not None
            and theirs is not None
            and isinstance(theirs.get("updated_at"), int)
            and mine.updated_at > theirs["updated_at"]
        )
        keep = newer_here and not force
        if keep:
            kept.add(tid)
        when = utc(mine.updated_at) if mine is not None and mine.updated_at else None
        threads.append(ThreadChange(tid, numbers.get(tid), changes, keep, when))
    filtered = "\n".join(
        line
        for line, obj in lines
        if obj is None
        or obj.get("type") not in ("thread_state", "thread_tag")
        or obj.get("thread_id") not in kept
    )
    filtered += "\n" if filtered else ""
    return ImportPlan(filtered, state_merge.rows_importable(conn, filtered), threads)


def apply_import(conn: sqlite3.Connection, plan: ImportPlan) -> int:
    """Write the plan's rows; how many were written."""
    return state_io.import_state(conn, io.StringIO(plan.text))
