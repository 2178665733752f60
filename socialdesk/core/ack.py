"""Bulk acknowledgements: plan, write/read a plan file, apply (PRODUCT.md §6).

Called by the ``ack`` command. The flow:

1. :func:`prepare_run` — before anything is planned: ``sending`` rows become ``unknown`` and
   every ``unknown`` row is read back (``core.outbox``). Rows too young to call absent are waited
   for (the settle delay). An ``ack`` row proven absent after read-back was never delivered; it
   is closed (``failed``, resolution ``replanned``) so its thread is planned again — the policy
   flag research/PERF_RELIABILITY.md §7 allows for acknowledgements. Rows written by a person
   (``reply``) are never resolved automatically.
2. :func:`build_plan` — threads from the query (no limit), each either a :class:`PlanItem`
   (customer, channel, exact text, send kind, and a fingerprint of the thread) or skipped with a
   reason: not awaiting a reply, done, already acknowledged since the last inbound message, an
   earlier send still unresolved, outside the 24-hour window (``ack`` never uses HUMAN_AGENT).
   Comments get a public reply.
3. :func:`write_plan` / :func:`read_plan` — JSON (format version, this database's ``db_id``,
   an HMAC-SHA256 signature keyed by a secret kept in this database), written 0600 atomically.
   A plan edited by hand or made against another database is refused with the reason.
4. :func:`apply_plan` — each item is re-checked against the database (new message, now done,
   window closed, already acknowledged), then queued and sent through the outbox, paced by
   ``rate`` sends per second. The ``acked`` tag (and ``done``) is set in the transaction that
   marks the row ``sent``. Auth errors and throttling stop the run; other refusals are recorded
   ``failed`` with the API's reason; ambiguous outcomes stay ``unknown``.

A kill at any point then a re-run sends no customer a second copy: a thread with a ``queued``,
``sending``, ``sent`` or ``unknown`` row created since its last inbound message is skipped, and
an ``ack`` row is re-planned only once read-back has proven it absent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.core import outbox as core_outbox
from socialdesk.core.clock import Clock
from socialdesk.core.templates import Template, assign_variants, render
from socialdesk.core.windows import choose_send_kind
from socialdesk.errors import (
    AuthError,
    RefusedError,
    SocialdeskError,
    UnavailableError,
    UsageError,
)
from socialdesk.models import Channel, OutboxState, SendKind, Status, Thread
from socialdesk.paths import MIB, atomic_write, read_bounded_text
from socialdesk.store import outbox as store
from socialdesk.store.db import transaction

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

PLAN_FORMAT = 1
PLAN_KIND = "socialdesk-ack-plan"
DEFAULT_RATE = 5.0
"""Sends per second by default: far under the Send API's limits (GRAPH_API.md §10.4)."""
MAX_UNKNOWN_IN_A_ROW = 3
"""Ambiguous outcomes in a row after which the run stops (the API is likely down)."""


@dataclass(frozen=True)
class PlanItem:
    """One acknowledgement to send, with the thread state it was planned against."""

    number: int
    thread_id: str
    customer_id: str
    customer_name: str
    channel: str
    kind: SendKind
    text: str
    last_message_at: int
    last_inbound_at: int | None
    status: str


@dataclass(frozen=True)
class Skipped:
    """A thread left out, and why (one short reason)."""

    number: int
    thread_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """A rendered acknowledgement run."""

    plan_id: str
    db_id: str
    page_id: str
    query: str
    template: str
    done: bool
    created_at: datetime
    items: tuple[PlanItem, ...]
    skipped: tuple[Skipped, ...] = ()


@dataclass
class AckReport:
    """What :func:`apply_plan` did."""

    sent: list[tuple[int, int, str]] = field(default_factory=list)
    """(thread number, outbox id, message id)."""
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    stopped: SocialdeskError | None = None
    """The error that stopped the run early (auth, throttling, API down)."""

    def skipped_by_reason(self) -> dict[str, int]:
        """How many threads were skipped for each reason."""
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s.reason] = out.get(s.reason, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        """The ``ack --json`` summary."""
        return {
            "sent": len(self.sent),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "unknown": len(self.unknown),
            "skipped_by_reason": self.skipped_by_reason(),
            "sent_items": [
                {"thread": n, "outbox_id": oid, "message_id": mid} for n, oid, mid in self.sent
            ],
            "skipped_items": [
                {"thread": s.number, "thread_id": s.thread_id, "reason": s.reason}
                for s in self.skipped
            ],
            "failed_items": [{"thread": n, "reason": r} for n, r in self.failed],
            "unknown_items": [{"thread": n, "reason": r} for n, r in self.unknown],
            "stopped": self.stopped.message if self.stopped else None,
        }


# ---- before planning --------------------------------------------------------------------------


def prepare_run(
    conn: sqlite3.Connection,
    client: GraphClient,
    page_id: str,
    *,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
    settle_s: float | None = None,
    max_wait_rounds: int = 3,
) -> core_outbox.ReconcileReport:
    """Recover and reconcile the outbox; re-open ``ack`` rows proven absent (see module doc)."""
    settle = core_outbox.settle_seconds() if settle_s is None else settle_s
    report = core_outbox.startup(conn, client, page_id, now=clock.now(), settle_s=settle)
    rounds = 0
    while rounds < max_wait_rounds and _young_ack_unknowns(conn, page_id, clock.now(), settle):
        rounds += 1
        sleep(settle)
        again = core_outbox.reconcile(conn, client, page_id, now=clock.now(), settle_s=settle)
        report = core_outbox.ReconcileReport(
            found=report.found + again.found,
            absent=again.absent,
            pending=again.pending,
            recovered=report.recovered,
            errors=report.errors + again.errors,
        )
    now = clock.now()
    with transaction(conn, durable=True):
        for rec in store.list_records(conn, page_id=page_id, states=[OutboxState.UNKNOWN]):
            if rec.entry.origin == "ack" and rec.absent_at is not None and rec.resolution is None:
                store.mark_failed(conn, rec.entry.id, "absent after read-back; re-planned", now=now)
                store.set_resolution(conn, rec.entry.id, "replanned", now=now)
    return report


def _young_ack_unknowns(
    conn: sqlite3.Connection, page_id: str, now: datetime, settle: float
) -> bool:
    """Unknown ``ack`` rows that waiting the settle delay may still prove absent.

    Older rows whose absence read-back cannot prove (a busy conversation) are not waited for:
    their threads are skipped until the operator resolves them.
    """
    limit = timedelta(seconds=settle)
    return any(
        rec.entry.origin == "ack"
        and rec.absent_at is None
        and now - (rec.entry.started_at or rec.entry.created_at) < limit
        for rec in store.list_records(conn, page_id=page_id, states=[OutboxState.UNKNOWN])
    )


# ---- eligibility ------------------------------------------------------------------------------


def _ts(dt: datetime | None) -> int | None:
    return int(dt.timestamp()) if dt is not None else None


def why_not(conn: sqlite3.Connection, thread: Thread, *, now: datetime) -> str | None:
    """The reason this thread must not be acknowledged now, or ``None`` when it may be."""
    if thread.status is Status.DONE:
        return "done"
    if not thread.awaiting_reply:
        return "not awaiting a reply"
    since = thread.last_inbound_at
    refused = False
    for rec in store.list_records(conn, thread_id=thread.id):
        entry = rec.entry
        if since is not None and entry.created_at < since - timedelta(seconds=1):
            continue
        if entry.state is OutboxState.FAILED:
            refused = refused or (entry.error or "").startswith(core_outbox.REFUSED_PREFIX)
            continue
        if entry.state is OutboxState.UNKNOWN:
            return "an earlier send's outcome is unknown (see `socialdesk outbox`)"
        return "already acknowledged" if entry.origin == "ack" else "already answered"
    if refused:
        return "refused by the API earlier (see `socialdesk outbox`)"
    acked_at = store.tag_added_at(conn, thread.id, "acked")
    if acked_at is not None and (since is None or acked_at >= since):
        return "already acknowledged"
    try:
        choose_send_kind(thread, now, False, private=False, human_written=False)
    except RefusedError as exc:
        return "outside the 24-hour window" if thread.channel is Channel.DM else exc.message
    return None


def _kind(thread: Thread) -> SendKind:
    return SendKind.DM_RESPONSE if thread.channel is Channel.DM else SendKind.COMMENT_PUBLIC


# ---- planning ---------------------------------------------------------------------------------


def build_plan(
    conn: sqlite3.Connection,
    *,
    page_id: str,
    query: str,
    template: Template,
    now: datetime,
    done: bool = False,
    page_name: str | None = None,
) -> Plan:
    """Select threads with ``query`` (no limit) and render each acknowledgement."""
    from socialdesk.store.threads import list_threads

    threads = list_threads(conn, query, page_id=page_id, now=now, sort="oldest", limit=None)
    name = page_name if page_name is not None else store.page_name(conn, page_id)
    eligible: list[Thread] = []
    skipped: list[Skipped] = []
    for th in threads:
        if th.channel not in (Channel.DM, Channel.COMMENT):
            skipped.append(Skipped(th.number, th.id, f"channel {th.channel} not supported yet"))
            continue
        reason = why_not(conn, th, now=now)
        if reason is None:
            eligible.append(th)
        else:
            skipped.append(Skipped(th.number, th.id, reason))
    indexes = assign_variants(
        template.name, [th.customer.id for th in eligible], len(template.variants)
    )
    from socialdesk.core.textcheck import check_text

    items: list[PlanItem] = []
    for th, i in zip(eligible, indexes, strict=True):
        text = render(template.variants[i], customer_name=th.customer.name, page_name=name)
        try:
            check_text(text)
        except SocialdeskError as exc:
            # One customer's unusual name must not stop everyone else's acknowledgement.
            skipped.append(Skipped(th.number, th.id, f"reply refused: {exc.message}"))
            continue
        items.append(
            PlanItem(
                number=th.number,
                thread_id=th.id,
                customer_id=th.customer.id,
                customer_name=th.customer.name,
                channel=str(th.channel),
                kind=_kind(th),
                text=text,
                last_message_at=int(th.last_message_at.timestamp()),
                last_inbound_at=_ts(th.last_inbound_at),
                status=str(th.status),
            )
        )
    with transaction(conn):
        ident = store.db_id(conn)
    return Plan(
        plan_id=secrets.token_hex(8),
        db_id=ident,
        page_id=page_id,
        query=query,
        template=template.name,
        done=done,
        created_at=now,
        items=tuple(items),
        skipped=tuple(skipped),
    )


# ---- plan files -------------------------------------------------------------------------------


def _body(plan: Plan) -> dict[str, Any]:
    return {
        "kind": PLAN_KIND,
        "format": PLAN_FORMAT,
        "plan_id": plan.plan_id,
        "db_id": plan.db_id,
        "page_id": plan.page_id,
        "query": plan.query,
        "template": plan.template,
        "done": plan.done,
        "created_at": plan.created_at.isoformat(),
        "items": [
            {
                "thread": it.number,
                "thread_id": it.thread_id,
                "customer_id": it.customer_id,
                "customer_name": it.customer_name,
                "channel": it.channel,
                "send_kind": str(it.kind),
                "text": it.text,
                "fingerprint": {
                    "last_message_at": it.last_message_at,
                    "last_inbound_at": it.last_inbound_at,
                    "status": it.status,
                },
            }
            for it in plan.items
        ],
        "skipped": [
            {"thread": s.number, "thread_id": s.thread_id, "reason": s.reason} for s in plan.skipped
        ],
    }


def _sign(key: bytes, body: dict[str, Any]) -> str:
    canon = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hmac.new(key, canon.encode(), hashlib.sha256).hexdigest()


def plan_to_json(plan: Plan, conn: sqlite3.Connection) -> dict[str, Any]:
    """The plan as written to a file: its body plus ``signature``."""
    with transaction(conn):
        key = store.plan_key(conn)
    body = _body(plan)
    return {**body, "signature": _sign(key, body)}


def write_plan(path: Path, plan: Plan, conn: sqlite3.Connection) -> None:
    """Write the plan file atomically, mode 0600 (it holds customers' names)."""
    # ASCII-only: a plan file is meant to be read (`cat`, an editor), and customer names must
    # not carry control, bidi or line-separator characters to whoever reads it.
    data = json.dumps(plan_to_json(plan, conn), indent=2, ensure_ascii=True) + "\n"
    atomic_write(Path(path), data.encode(), mode=0o600)


def read_plan(path: Path, conn: sqlite3.Connection) -> Plan:
    """Read and verify a plan file; :class:`UsageError` saying why it is refused."""
    try:
        raw = read_bounded_text(Path(path), 64 * MIB, "the plan file", error=UsageError)
    except FileNotFoundError:
        raise UsageError(f"no such plan file: {path}", hint="write one with --plan FILE") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise UsageError("the plan file is not valid JSON", hint="write one with --plan") from exc
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise UsageError("this is not a socialdesk ack plan", hint="write one with --plan FILE")
    if data.get("format") != PLAN_FORMAT:
        raise UsageError(
            f"unsupported plan format {data.get('format')!r} (expected {PLAN_FORMAT})",
            hint="make a new plan with this version of socialdesk",
        )
    with transaction(conn):
        ident = store.db_id(conn)
        key = store.plan_key(conn)
    if data.get("db_id") != ident:
        raise UsageError(
            "the plan was made against another database",
            hint="make the plan with the same SOCIALDESK_HOME you apply it with",
        )
    signature = data.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(key, data)):
        raise UsageError(
            "the plan file was changed after it was written (checksum mismatch)",
            hint="make a new plan with --plan FILE; edit the template, not the plan",
        )
    try:
        return Plan(
            plan_id=str(data["plan_id"]),
            db_id=str(data["db_id"]),
            page_id=str(data["page_id"]),
            query=str(data["query"]),
            template=str(data["template"]),
            done=bool(data["done"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            items=tuple(
                PlanItem(
                    number=int(it["thread"]),
                    thread_id=str(it["thread_id"]),
                    customer_id=str(it["customer_id"]),
                    customer_name=str(it["customer_name"]),
                    channel=str(it["channel"]),
                    kind=SendKind(it["send_kind"]),
                    text=str(it["text"]),
                    last_message_at=int(it["fingerprint"]["last_message_at"]),
                    last_inbound_at=it["fingerprint"]["last_inbound_at"],
                    status=str(it["fingerprint"]["status"]),
                )
                for it in data["items"]
            ),
            skipped=tuple(
                Skipped(int(s["thread"]), str(s["thread_id"]), str(s["reason"]))
                for s in data["skipped"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"the plan file is incomplete ({exc})") from exc


# ---- applying ---------------------------------------------------------------------------------


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _recheck(
    conn: sqlite3.Connection, item: PlanItem, page_id: str, *, now: datetime
) -> tuple[Thread, str | None]:
    from socialdesk.store.threads import get_thread

    th = get_thread(conn, item.thread_id, now=now)
    if th is None or th.page_id != page_id:
        raise _Skip("no longer in the database")
    if th.status is Status.DONE:
        return th, "now done"
    if (
        int(th.last_message_at.timestamp()) != item.last_message_at
        or _ts(th.last_inbound_at) != item.last_inbound_at
    ):
        return th, "changed since planning (new message)"
    reason = why_not(conn, th, now=now)
    if reason == "outside the 24-hour window":
        reason = "window closed since planning"
    return th, reason


def apply_plan(
    conn: sqlite3.Connection,
    client: GraphClient,
    plan: Plan,
    *,
    clock: Clock,
    rate: float = DEFAULT_RATE,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    progress: Callable[[int, int], None] | None = None,
) -> AckReport:
    """Send the plan's acknowledgements through the outbox (see the module doc)."""
    from socialdesk.api import errors as gerr

    if rate <= 0:
        raise UsageError("--rate must be positive")
    interval = 1.0 / rate
    report = AckReport(skipped=list(plan.skipped))
    batch = core_outbox.effects_batch(f"ack:{plan.plan_id}", done=plan.done)
    last_start: float | None = None
    unknown_in_a_row = 0
    total = len(plan.items)
    for pos, item in enumerate(plan.items):
        if progress is not None:
            progress(pos, total)
        if report.stopped is not None:
            report.skipped.append(Skipped(item.number, item.thread_id, "not attempted (stopped)"))
            continue
        now = clock.now()
        try:
            th, reason = _recheck(conn, item, plan.page_id, now=now)
        except _Skip as skip:
            report.skipped.append(Skipped(item.number, item.thread_id, skip.reason))
            continue
        if reason is not None:
            report.skipped.append(Skipped(item.number, item.thread_id, reason))
            continue

        def guard(c: sqlite3.Connection, th: Thread = th, now: datetime = now) -> None:
            # Inside the queueing transaction: another process may have acted meanwhile.
            why = why_not(c, th, now=now)
            if why is not None:
                raise _Skip(why)

        try:
            prepared = core_outbox.queue(
                conn,
                th,
                [item.text],
                now=now,
                human_agent=False,
                human_written=False,
                origin="ack",
                batch=batch,
                kind=item.kind,
                guard=guard,
            )
        except _Skip as skip:
            report.skipped.append(Skipped(item.number, item.thread_id, skip.reason))
            continue
        except RefusedError as exc:
            report.skipped.append(Skipped(item.number, item.thread_id, exc.message))
            continue
        if last_start is not None:
            wait = last_start + interval - monotonic()
            if wait > 0:
                sleep(wait)
        last_start = monotonic()
        try:
            entry = core_outbox.send_prepared(conn, client, prepared, clock=clock)[0]
        except core_outbox.SendUnknown as exc:
            report.unknown.append((item.number, exc.message))
            unknown_in_a_row += 1
            if unknown_in_a_row >= MAX_UNKNOWN_IN_A_ROW:
                report.stopped = UnavailableError(
                    f"{unknown_in_a_row} sends in a row had an unknown outcome; stopped",
                    hint="the Graph API looks unavailable: re-run `ack` later (it checks first)",
                )
            continue
        except (AuthError, gerr.Throttled) as exc:
            report.failed.append((item.number, exc.message))
            report.stopped = exc
            continue
        except SocialdeskError as exc:
            report.failed.append((item.number, exc.message))
            unknown_in_a_row = 0
            continue
        unknown_in_a_row = 0
        report.sent.append((item.number, entry.id, entry.message_id or ""))
    if progress is not None:
        progress(total, total)
    return report
