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
   reason: not awaiting a reply, done, snoozed (unless asked), already acknowledged since the
   last inbound message, an earlier send still unresolved, outside the 24-hour window (``ack``
   never uses HUMAN_AGENT). Comments get a public reply.
3. ``core.ack_plan`` — the plan's types, the skip reasons (:class:`SkipReason` codes) and the
   plan file (signed JSON, refused when edited or made against another database).
4. :func:`apply_plan` — each item is re-checked against the database (new message, now done,
   window closed, already acknowledged), then queued and sent through the outbox, paced by
   ``rate`` sends per second. The ``acked`` tag (and ``done``) is set in the transaction that
   marks the row ``sent``. Auth errors and throttling stop the run; other refusals are recorded
   ``failed`` with the API's reason; ambiguous outcomes stay ``unknown``. An interrupt
   (Ctrl-C, or SIGTERM turned into one by the caller) ends the run with the report so far.

A kill at any point then a re-run sends no customer a second copy: a thread with a ``queued``,
``sending``, ``sent`` or ``unknown`` row created since its last inbound message is skipped, and
an ``ack`` row is re-planned only once read-back has proven it absent.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.core import outbox as core_outbox
from socialdesk.core.ack_plan import Plan, PlanItem, Skipped, SkipReason
from socialdesk.core.clock import Clock
from socialdesk.core.templates import Template, assign_variants, render
from socialdesk.core.windows import choose_send_kind
from socialdesk.errors import (
    AuthError,
    Reason,
    RefusedError,
    SocialdeskError,
    UnavailableError,
    UsageError,
)
from socialdesk.models import Channel, OutboxState, SendKind, Status, Thread, epoch
from socialdesk.store import meta, pages, triage
from socialdesk.store import outbox as store
from socialdesk.store.db import transaction

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient
    from socialdesk.config import PageConfig
    from socialdesk.core.context import AppContext

__all__ = [
    "DEFAULT_RATE",
    "AckReport",
    "Plan",
    "PlanItem",
    "SkipReason",
    "Skipped",
    "apply_plan",
    "build_plan",
    "plan_for",
    "prepare_run",
    "settle_outbox",
    "why_not",
]

DEFAULT_RATE = 5.0
"""Sends per second by default: far under the Send API's limits (GRAPH_API.md §10.4)."""
MAX_UNKNOWN_IN_A_ROW = 3
"""Ambiguous outcomes in a row after which the run stops (the API is likely down)."""


@dataclass
class AckReport:
    """What :func:`apply_plan` did (so far, when it was interrupted)."""

    sent: list[tuple[int, int, str]] = field(default_factory=list)
    """(thread number, outbox id, message id)."""
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    stopped: SocialdeskError | None = None
    """The error that stopped the run early (auth, throttling, API down)."""
    interrupted: bool = False
    """An interrupt ended the run before every item was tried."""
    cancelled: bool = False
    """The operator declined to send (nothing was tried)."""

    def skipped_by_reason(self) -> dict[SkipReason, int]:
        """How many threads were skipped for each reason."""
        out: dict[SkipReason, int] = {}
        for s in self.skipped:
            out[s.reason] = out.get(s.reason, 0) + 1
        return out


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


def settle_outbox(
    ctx: AppContext, conn: sqlite3.Connection, page: PageConfig, *, need_client: bool
) -> GraphClient | None:
    """Before planning: with the page's token, :func:`prepare_run` (recover, read back, re-plan
    absent ``ack`` rows) and return the client; without one, recover only and return ``None``
    (a dry run or a plan file needs no token) unless ``need_client`` (sending does)."""
    try:
        client = ctx.client(page)
    except AuthError:
        if need_client:
            raise
        core_outbox.recover(conn, now=ctx.clock.now(), page_id=page.id)
        return None
    prepare_run(conn, client, page.id, clock=ctx.clock)
    return client


def plan_for(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    *,
    query: str,
    template: str,
    done: bool = False,
    include_snoozed: bool = False,
) -> Plan:
    """:func:`build_plan` with the template named in the config and the saved views expanded."""
    from socialdesk.core.templates import get_template
    from socialdesk.store.query import expand_views

    return build_plan(
        conn,
        page_id=page.id,
        query=expand_views(query, ctx.config.views),
        template=get_template(ctx.config.templates, template),
        now=ctx.clock.now(),
        done=done,
        include_snoozed=include_snoozed,
    )


# ---- eligibility ------------------------------------------------------------------------------


def _ts(dt: datetime | None) -> int | None:
    return epoch(dt) if dt is not None else None


def why_not(
    conn: sqlite3.Connection, thread: Thread, *, now: datetime, include_snoozed: bool = False
) -> SkipReason | None:
    """Why this thread must not be acknowledged now, or ``None`` when it may be."""
    if thread.status is Status.DONE:
        return SkipReason.DONE
    if thread.status is Status.SNOOZED and not include_snoozed:
        return SkipReason.SNOOZED
    if not thread.awaiting_reply:
        return SkipReason.NOT_AWAITING
    since = thread.last_inbound_at
    refused = False
    for rec in store.list_records(conn, thread_id=thread.id):
        entry = rec.entry
        if since is not None and entry.created_at < since - timedelta(seconds=1):
            continue
        if entry.state is OutboxState.FAILED:
            refused = refused or entry.refused
            continue
        if entry.state is OutboxState.UNKNOWN:
            return SkipReason.OUTCOME_UNKNOWN
        if entry.origin == "ack":
            return SkipReason.ALREADY_ACKNOWLEDGED
        return SkipReason.ALREADY_ANSWERED
    if refused:
        return SkipReason.REFUSED_EARLIER
    acked_at = triage.tag_added_at(conn, thread.id, "acked")
    if acked_at is not None and (since is None or acked_at >= since):
        return SkipReason.ALREADY_ACKNOWLEDGED
    try:
        choose_send_kind(thread, now, False, private=False, human_written=False)
    except RefusedError:
        return SkipReason.OUTSIDE_WINDOW
    return None


def _kind(thread: Thread) -> SendKind:
    dm = thread.channel in (Channel.DM, Channel.IG_DM)
    return SendKind.DM_RESPONSE if dm else SendKind.COMMENT_PUBLIC


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
    include_snoozed: bool = False,
) -> Plan:
    """Select threads with ``query`` (no limit) and render each acknowledgement.

    Snoozed threads are left out unless ``include_snoozed``: a snooze is the operator saying
    "not now", which a bulk run should respect.
    """
    from socialdesk.core.templates import name_for_template
    from socialdesk.core.textcheck import check_text, limits_for
    from socialdesk.store.threads import list_threads

    threads = list_threads(conn, query, page_id=page_id, now=now, sort="oldest", limit=None)
    name = page_name if page_name is not None else pages.page_name(conn, page_id)
    eligible: list[Thread] = []
    skipped: list[Skipped] = []
    for th in threads:
        if th.channel not in (Channel.DM, Channel.COMMENT, Channel.IG_DM, Channel.IG_COMMENT):
            skipped.append(
                Skipped(th.number, th.id, SkipReason.CHANNEL_UNSUPPORTED, str(th.channel))
            )
            continue
        reason = why_not(conn, th, now=now, include_snoozed=include_snoozed)
        if reason is None:
            eligible.append(th)
        else:
            skipped.append(Skipped(th.number, th.id, reason))
    indexes = assign_variants(
        template.name, [th.customer.id for th in eligible], len(template.variants)
    )
    items: list[PlanItem] = []
    for th, i in zip(eligible, indexes, strict=True):
        text = render(
            template.variants[i], customer_name=name_for_template(th.customer), page_name=name
        )
        chars, max_bytes = limits_for(th.channel)
        try:
            check_text(text, limit=chars, max_bytes=max_bytes)
        except SocialdeskError as exc:
            # One customer's unusual name must not stop everyone else's acknowledgement.
            skipped.append(Skipped(th.number, th.id, SkipReason.TEXT_REFUSED, exc.message))
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
                last_message_at=epoch(th.last_message_at),
                last_inbound_at=_ts(th.last_inbound_at),
                status=str(th.status),
            )
        )
    with transaction(conn):
        ident = meta.db_id(conn)
    return Plan(
        plan_id=secrets.token_hex(8),
        db_id=ident,
        page_id=page_id,
        query=query,
        template=template.name,
        done=done,
        created_at=now.replace(microsecond=0),  # as the plan file writes it
        items=tuple(items),
        skipped=tuple(skipped),
    )


# ---- applying ---------------------------------------------------------------------------------


class _Skip(Exception):
    def __init__(self, reason: SkipReason, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _recheck(
    conn: sqlite3.Connection, item: PlanItem, page_id: str, *, now: datetime
) -> tuple[Thread, SkipReason | None]:
    from socialdesk.store.threads import get_thread

    th = get_thread(conn, item.thread_id, now=now)
    if th is None or th.page_id != page_id:
        raise _Skip(SkipReason.GONE)
    if th.status is Status.DONE:
        return th, SkipReason.NOW_DONE
    if (
        epoch(th.last_message_at) != item.last_message_at
        or _ts(th.last_inbound_at) != item.last_inbound_at
    ):
        return th, SkipReason.CHANGED
    # A thread planned while snoozed (the operator asked for it) stays planned.
    reason = why_not(conn, th, now=now, include_snoozed=item.status == Status.SNOOZED.value)
    if reason is SkipReason.OUTSIDE_WINDOW:
        reason = SkipReason.WINDOW_CLOSED
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
    report: AckReport | None = None,
) -> AckReport:
    """Send the plan's acknowledgements through the outbox (see the module doc).

    ``report`` (default a new one) is filled as the run goes, so a caller that is interrupted
    itself still holds the summary so far. An interrupt (``KeyboardInterrupt``) inside the run
    ends it: the item being sent is reported ``unknown`` when its request may have left, the
    rest ``not attempted``, and the report comes back with ``interrupted`` set.
    """
    from socialdesk.api import errors as gerr

    if rate <= 0:
        raise UsageError("the send rate must be positive", reason=Reason.RATE_INVALID)
    interval = 1.0 / rate
    report = report if report is not None else AckReport()
    report.skipped.extend(plan.skipped)
    last_start: float | None = None
    unknown_in_a_row = 0
    total = len(plan.items)
    items = list(plan.items)
    for pos, item in enumerate(items):
        if progress is not None:
            progress(pos, total)
        if report.stopped is not None or report.interrupted:
            report.skipped.append(Skipped(item.number, item.thread_id, SkipReason.NOT_ATTEMPTED))
            continue
        try:
            sent = _apply_item(conn, client, plan, item, clock, report)
        except KeyboardInterrupt:
            report.interrupted = True
            continue
        if sent is None:
            continue
        prepared = sent
        if last_start is not None:
            wait = last_start + interval - monotonic()
            if wait > 0:
                try:
                    sleep(wait)
                except KeyboardInterrupt:
                    _interrupted(conn, prepared, item, clock, report)
                    continue
        last_start = monotonic()
        try:
            entry = core_outbox.send_prepared(conn, client, prepared, clock=clock)[0]
        except KeyboardInterrupt:
            _interrupted(conn, prepared, item, clock, report)
            continue
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
    if report.interrupted:
        # An interrupt inside the queueing itself leaves a row queued that no one will send.
        batch = f"ack:{plan.plan_id}"
        queued = store.list_records(conn, page_id=plan.page_id, states=[OutboxState.QUEUED])
        core_outbox.settle_interrupted(
            conn, [r.entry.id for r in queued if r.batch == batch], now=clock.now()
        )
    if progress is not None:
        progress(total, total)
    return report


def _apply_item(
    conn: sqlite3.Connection,
    client: GraphClient,
    plan: Plan,
    item: PlanItem,
    clock: Clock,
    report: AckReport,
) -> core_outbox.Prepared | None:
    """Re-check and queue one item; ``None`` when it is skipped (recorded in ``report``)."""
    now = clock.now()
    try:
        th, reason = _recheck(conn, item, plan.page_id, now=now)
    except _Skip as skip:
        report.skipped.append(Skipped(item.number, item.thread_id, skip.reason, skip.detail))
        return None
    if reason is not None:
        report.skipped.append(Skipped(item.number, item.thread_id, reason))
        return None
    include_snoozed = item.status == Status.SNOOZED.value

    def guard(c: sqlite3.Connection) -> None:
        # Inside the queueing transaction: another process may have acted meanwhile.
        why = why_not(c, th, now=now, include_snoozed=include_snoozed)
        if why is not None:
            raise _Skip(why)

    try:
        return core_outbox.queue(
            conn,
            th,
            [item.text],
            now=now,
            human_agent=False,
            human_written=False,
            origin="ack",
            batch=f"ack:{plan.plan_id}",
            done=plan.done,
            kind=item.kind,
            guard=guard,
        )
    except _Skip as skip:
        report.skipped.append(Skipped(item.number, item.thread_id, skip.reason, skip.detail))
    except RefusedError as exc:
        report.skipped.append(
            Skipped(item.number, item.thread_id, SkipReason.TEXT_REFUSED, exc.message)
        )
    return None


def _interrupted(
    conn: sqlite3.Connection,
    prepared: core_outbox.Prepared,
    item: PlanItem,
    clock: Clock,
    report: AckReport,
) -> None:
    """An interrupt around this item's send: settle its rows now and report what they became
    (a request that may have left is ``unknown``; one never made, not attempted)."""
    report.interrupted = True
    states = core_outbox.settle_interrupted(conn, prepared.ids, now=clock.now())
    if OutboxState.SENT in states:
        entry = store.get(conn, prepared.ids[0]).entry
        report.sent.append((item.number, entry.id, entry.message_id or ""))
    elif OutboxState.UNKNOWN in states:
        report.unknown.append((item.number, "interrupted while sending"))
    else:
        report.skipped.append(Skipped(item.number, item.thread_id, SkipReason.NOT_ATTEMPTED))
