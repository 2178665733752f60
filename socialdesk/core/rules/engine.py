"""A rules run: candidates, rules in file order, local actions, then the paced sends.

Called by ``core.rules`` (``rules run``, ``sync --rules`` and ``after_sync``). One run of a page:

1. The kill switches: ``[settings] enabled``, ``SOCIALDESK_RULES=off``, and the database pause
   (``rules pause``, or an automatic pause by a trip wire). Paused: nothing is evaluated.
2. With a live rule that sends: the outbox is recovered and reconciled first (as ``ack`` does),
   so a killed earlier run's ``sending`` rows are settled before anything is decided.
3. Candidates: threads with a customer message stored since the page's watermark (a
   ``messages.rowid``; the first run sets it to the newest message, so history is never a
   candidate), plus matches deferred by a limit that may lift (``rule_pending``).
4. Rules in file order, each thread oldest request first: the guards (``evaluate``); a local
   rule's actions are applied at once with its ledger row in one transaction, so later rules see
   them; a sending rule's fire becomes an intent. ``stop`` hides the thread from later rules.
5. More intents than ``surge_pause``: nothing is sent and the rules pause (trip wire).
6. Each intent: in ONE durable transaction the sending guards are re-checked, the ledger row is
   inserted (the unique index refuses a second fire of the same (rule, once key)) and the outbox
   row queued; then the send, paced. Error 368, an invalid token, a window refusal the guards
   did not predict, or ``refusal_burst`` refusals pause the rules.
7. The watermark advances and the run row is closed.

A kill at any point and a re-run never send twice: the ledger row and the outbox row commit
together before the HTTP call, a ``sending`` row becomes ``unknown`` and is never resent, and
the guards skip a thread with an unknown outcome.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.core import outbox as core_outbox
from socialdesk.core.clock import Clock
from socialdesk.core.rules.evaluate import Decision, Env, Refuse, evaluate, send_guards
from socialdesk.core.rules.model import Rule, RuleSet, RuleState
from socialdesk.core.templates import Template, render_for
from socialdesk.errors import AuthError, SocialdeskError
from socialdesk.models import Channel, SendKind, Status, Thread, epoch
from socialdesk.store import rules as store
from socialdesk.store import triage
from socialdesk.store.db import transaction
from socialdesk.store.query import compile_query
from socialdesk.store.threads import get_thread

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient

ENV_SWITCH = "SOCIALDESK_RULES"
"""``SOCIALDESK_RULES=off`` stops every rule (cron can be silenced without editing a file)."""
MAX_UNKNOWN = 3


def env_switch_off() -> bool:
    """Whether the environment's kill switch is set."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("off", "0", "false", "no")


@dataclass(frozen=True)
class Action:
    """One decided (or done) action of a run, for the report and ``--dry-run``."""

    rule: str
    thread_id: str
    number: int
    customer: str
    outcome: str
    """``fired`` (local actions done), ``sent``, ``would`` (shadow or dry run), ``skipped``,
    ``failed``, ``unknown``, ``deferred``."""
    actions: tuple[str, ...] = ()
    text: str | None = None
    kind: str | None = None
    reason: str | None = None


@dataclass
class RunReport:
    """What a run did."""

    page_id: str
    run_id: int | None = None
    dry_run: bool = False
    candidates: int = 0
    actions: list[Action] = field(default_factory=list)
    paused: store.Pause | None = None
    """The pause that stopped (or tripped during) the run."""
    switched_off: str | None = None
    """``config`` or ``environment`` when a kill switch kept the run from starting."""
    tripped: str | None = None
    """The trip wire's reason when this run paused the rules."""
    stopped: SocialdeskError | None = None
    notices: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Actions with this outcome."""
        return sum(1 for a in self.actions if a.outcome == outcome)


@dataclass
class _Intent:
    decision: Decision
    text: str
    kind: SendKind
    rule: Rule


def make_env(ruleset: RuleSet, *, page_id: str, now: datetime, config: object) -> Env:
    """The guards' environment from the config (business hours, timezone, human agent)."""
    from socialdesk.business_hours import parse_business_hours
    from socialdesk.config import Config
    from socialdesk.core.timezones import load_timezone

    assert isinstance(config, Config)
    spec = config.stats.business_hours
    return Env(
        page_id=page_id,
        now=now,
        settings=ruleset.settings,
        hours=parse_business_hours(spec) if spec else None,
        tz=load_timezone(config.stats.timezone),
        human_agent=config.messaging.human_agent,
    )


def _template(ruleset: RuleSet, name: str) -> Template:
    return Template(name, ruleset.templates[name])


def render_reply(
    ruleset: RuleSet, rule: Rule, thread: Thread, page_name: str, *, private: bool
) -> str:
    """The exact text a rule sends this customer (variant stable per customer; a DM, or a
    private reply, carries the disclosure)."""
    from socialdesk.core.textcheck import check_text

    name = rule.reply_private if private else rule.reply
    assert name is not None
    body = render_for(
        _template(ruleset, name),
        customer_id=thread.customer.id,
        customer_name=thread.customer.name,
        page_name=page_name,
    )
    dm_like = private or thread.channel is Channel.DM
    text = (ruleset.settings.disclosure + body) if dm_like else body
    return check_text(text)


def _kind(rule: Rule, thread: Thread) -> SendKind:
    if rule.reply_private is not None:
        return SendKind.COMMENT_PRIVATE
    return SendKind.DM_RESPONSE if thread.channel is Channel.DM else SendKind.COMMENT_PUBLIC


def _apply_local(
    conn: sqlite3.Connection, rule: Rule, thread: Thread, *, now: datetime, sending: bool
) -> None:
    """Tag, untag, note (and, for a rule that does not send, done/snooze), in the caller's
    transaction."""
    if rule.tag:
        triage.add_tags(conn, thread.id, rule.tag, now=now)
    if rule.untag:
        triage.remove_tags(conn, thread.id, rule.untag, now=now)
    if rule.note:
        line = f"[rule {rule.name}] {rule.note}"
        note = f"{thread.note}\n{line}" if thread.note else line
        triage.set_note(conn, thread.id, note[-2000:], now=now)
    if sending:
        return
    if rule.done:
        triage.set_status(conn, thread.id, Status.DONE, now=now)
    elif rule.snooze:
        triage.set_status(
            conn,
            thread.id,
            Status.SNOOZED,
            now=now,
            snoozed_until=now + timedelta(seconds=rule.snooze),
        )


def _pause_checks(
    conn: sqlite3.Connection, ruleset: RuleSet, page_id: str, report: RunReport
) -> bool:
    """The kill switches; ``True`` when the run may go on."""
    if not ruleset.settings.enabled:
        report.switched_off = "config"
        return False
    if env_switch_off():
        report.switched_off = "environment"
        return False
    pause = store.pause_state(conn, page_id)
    if pause is not None:
        report.paused = pause
        return False
    return True


def _trip(
    conn: sqlite3.Connection, page_id: str, reason: str, report: RunReport, now: datetime
) -> None:
    with transaction(conn):
        store.set_pause(conn, page_id, by="trip", reason=reason, now=now)
    report.tripped = reason
    report.paused = store.pause_state(conn, page_id)


def run_rules(
    conn: sqlite3.Connection,
    client: GraphClient | None,
    ruleset: RuleSet,
    env_for: Callable[[datetime], Env],
    *,
    page_id: str,
    page_name: str,
    clock: Clock,
    dry_run: bool = False,
    trigger: str = "manual",
    only: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> RunReport:
    """One run of the page's rules (see the module doc)."""
    report = RunReport(page_id=page_id, dry_run=dry_run)
    rules = [r for r in ruleset.rules if r.state is not RuleState.OFF]
    if only:
        rules = [r for r in rules if r.name in only]
    if not dry_run and not _pause_checks(conn, ruleset, page_id, report):
        return report
    live_sending = any(r.sends and r.state is RuleState.LIVE for r in rules)
    if live_sending and not dry_run:
        if client is None:
            raise AuthError(
                "rules that send need the page's token", hint="run `socialdesk auth login`"
            )
        rec = core_outbox.startup(conn, client, page_id, now=clock.now())
        report.notices.extend(rec.notices())
    now = clock.now()
    env = env_for(now)
    # -- candidates (and the version each rule acts as)
    with transaction(conn):
        top = store.max_rowid(conn)
        mark = store.watermark(conn, page_id)
        if dry_run:
            ids = [] if mark is None else store.new_inbound_threads(conn, page_id, mark, top)
            ids = list(dict.fromkeys([*ids, *store.pending_threads(conn, page_id, now=now)]))
        else:
            if mark is None:
                store.set_watermark(conn, page_id, top)
                ids = []
            else:
                ids = store.new_inbound_threads(conn, page_id, mark, top)
            # A run of some rules only (--rule) leaves the deferred matches to a full run.
            pending = store.pending_threads(conn, page_id, now=now, take=not only)
            ids = list(dict.fromkeys([*ids, *pending]))
            report.run_id = store.start_run(conn, page_id, trigger, now=now)
        since: dict[str, int | None] = {}
        for r in rules:
            if dry_run:
                since[r.name] = store.known_since(conn, page_id, r.name, r.digest)
                if since[r.name] is None:
                    since[r.name] = epoch(now)
            else:
                since[r.name] = store.live_since(
                    conn, page_id, r.name, r.digest, r.state.value, now=now
                )
    report.candidates = len(ids)
    threads: dict[str, Thread] = {}
    for tid in ids:
        th = get_thread(conn, tid, now=now)
        if th is not None and th.page_id == page_id:
            threads[tid] = th
    order = sorted(
        threads,
        key=lambda i: (
            epoch(threads[i].request_at or threads[i].last_message_at),
            threads[i].number,
        ),
    )
    offered = list(order)
    sending_threads: set[str] = set()
    intents: list[_Intent] = []
    for rule in rules:
        if not offered:
            break
        compiled = compile_query(rule.query, now=now, human_agent=env.human_agent)
        matched = store.matching(conn, compiled, offered, page_id)
        fired = 0
        stopped: set[str] = set()
        for tid in offered:
            if tid not in matched:
                continue
            th = get_thread(conn, tid, now=now) or threads[tid]
            d = evaluate(
                conn,
                env,
                rule,
                th,
                matched=True,
                since=since[rule.name],
                sent_this_run=tid in sending_threads,
                rule_count=fired,
            )
            shadow = dry_run or rule.state is RuleState.SHADOW
            if not d.fire:
                _skipped(conn, report, d, rule, th, now, dry_run=dry_run)
                continue
            text = kind = None
            if rule.sends:
                try:
                    text = render_reply(
                        ruleset, rule, th, page_name, private=rule.reply_private is not None
                    )
                except SocialdeskError as exc:
                    _skipped(
                        conn,
                        report,
                        d,
                        rule,
                        th,
                        now,
                        dry_run=dry_run,
                        reason="text",
                        detail=exc.message,
                    )
                    continue
                kind = _kind(rule, th)
            fired += 1
            if shadow:
                report.actions.append(
                    Action(
                        rule.name,
                        tid,
                        th.number,
                        th.customer.name,
                        "would",
                        tuple(rule.actions()),
                        text,
                        str(kind) if kind else None,
                    )
                )
                if not dry_run:
                    with transaction(conn):
                        store.record_event(
                            conn,
                            run_id=report.run_id,
                            page_id=page_id,
                            rule=rule.name,
                            thread_id=tid,
                            customer_key=d.customer_key,
                            anchor_id=d.request.anchor_id if d.request else None,
                            once_key=d.once_key,
                            outcome="would",
                            actions=" ".join(rule.actions()),
                            now=now,
                        )
                continue  # a shadow rule's stop is ignored: shadow never changes live behaviour
            if rule.sends:
                assert text is not None and kind is not None
                intents.append(_Intent(d, text, kind, rule))
                sending_threads.add(tid)
            else:
                acted = _fire_local(conn, report, d, rule, th, now)
                if acted and rule.hide and th.channel is Channel.COMMENT and client is not None:
                    _hide(conn, client, th, report, clock)
            if rule.stop:
                stopped.add(tid)
        offered = [t for t in offered if t not in stopped]
    if not dry_run:
        _send_phase(
            conn,
            client,
            ruleset,
            env,
            intents,
            report,
            clock=clock,
            sleep=sleep,
            monotonic=monotonic,
        )
        with transaction(conn):
            if not only:  # the other rules have not seen these messages yet
                store.set_watermark(conn, page_id, top)
            assert report.run_id is not None
            store.finish_run(
                conn,
                report.run_id,
                now=clock.now(),
                candidates=report.candidates,
                fired=report.count("fired") + report.count("sent"),
                sent=report.count("sent"),
                would=report.count("would"),
                skipped=report.count("skipped") + report.count("deferred"),
                failed=report.count("failed") + report.count("unknown"),
                stopped=report.tripped or (report.stopped.message if report.stopped else None),
            )
    else:
        for it in intents:
            d = it.decision
            report.actions.append(
                Action(
                    it.rule.name,
                    d.thread.id,
                    d.thread.number,
                    d.thread.customer.name,
                    "would",
                    tuple(it.rule.actions()),
                    it.text,
                    str(it.kind),
                )
            )
    return report


def _skipped(
    conn: sqlite3.Connection,
    report: RunReport,
    d: Decision,
    rule: Rule,
    th: Thread,
    now: datetime,
    *,
    dry_run: bool,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    code = reason or d.reason or "skipped"
    deferred = reason is None and d.deferrable
    outcome = "deferred" if deferred else "skipped"
    why = detail or next((v.detail for v in d.verdicts if not v.ok), "")
    report.actions.append(
        Action(rule.name, th.id, th.number, th.customer.name, outcome, reason=f"{code}: {why}")
    )
    if dry_run:
        return
    # "once" skips repeat on every new message of a request: logged without noise, once per
    # run, as all skips; a deferred match is offered to the next runs until it is too old.
    with transaction(conn):
        store.record_event(
            conn,
            run_id=report.run_id,
            page_id=report.page_id,
            rule=rule.name,
            thread_id=th.id,
            customer_key=d.customer_key or "",
            anchor_id=d.request.anchor_id if d.request else None,
            once_key=d.once_key or "-",
            outcome="skipped",
            reason=f"{code}: {why}",
            now=now,
        )
        if deferred and d.request is not None:
            age = rule.max_age if rule.max_age is not None else 24 * 3600
            store.add_pending(
                conn, report.page_id, rule.name, th.id, expires_at=d.request.last_in_at + age
            )


def _fire_local(
    conn: sqlite3.Connection, report: RunReport, d: Decision, rule: Rule, th: Thread, now: datetime
) -> bool:
    """A local rule's fire: its ledger row and actions in one transaction; ``False`` when
    another run took the slot first."""
    with transaction(conn):
        event = store.record_fire(
            conn,
            run_id=report.run_id,
            page_id=report.page_id,
            rule=rule.name,
            thread_id=th.id,
            customer_key=d.customer_key,
            anchor_id=d.request.anchor_id if d.request else None,
            once_key=d.once_key,
            actions=" ".join(rule.actions()),
            now=now,
        )
        if event is not None:
            _apply_local(conn, rule, th, now=now, sending=False)
    outcome = "fired" if event is not None else "skipped"
    report.actions.append(
        Action(
            rule.name,
            th.id,
            th.number,
            th.customer.name,
            outcome,
            tuple(rule.actions()),
            reason=None if event is not None else "once: taken by another run",
        )
    )
    return event is not None


def _send_phase(
    conn: sqlite3.Connection,
    client: GraphClient | None,
    ruleset: RuleSet,
    env: Env,
    intents: list[_Intent],
    report: RunReport,
    *,
    clock: Clock,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> None:
    from socialdesk.api import errors as gerr

    s = ruleset.settings
    if not intents:
        return
    if len(intents) > s.surge_pause:
        _trip(
            conn,
            report.page_id,
            f"surge: one run wanted {len(intents)} automated sends (limit {s.surge_pause})",
            report,
            clock.now(),
        )
        for it in intents:
            d = it.decision
            report.actions.append(
                Action(
                    it.rule.name,
                    d.thread.id,
                    d.thread.number,
                    d.thread.customer.name,
                    "skipped",
                    reason="surge: nothing sent, rules paused",
                    text=it.text,
                )
            )
        return
    assert client is not None
    refusals = unknowns = 0
    last_start: float | None = None
    for pos, it in enumerate(intents):
        d, rule = it.decision, it.rule
        th = d.thread
        if report.tripped or report.stopped is not None:
            report.actions.append(
                Action(
                    rule.name,
                    th.id,
                    th.number,
                    th.customer.name,
                    "skipped",
                    reason="not attempted: the run stopped",
                )
            )
            continue
        now = clock.now()
        try:
            prepared = _queue_intent(conn, it, env, report, now)
        except Refuse as exc:
            report.actions.append(
                Action(
                    rule.name,
                    th.id,
                    th.number,
                    th.customer.name,
                    "skipped",
                    reason=f"{exc.check}: {exc.detail}",
                )
            )
            continue
        except SocialdeskError as exc:
            report.actions.append(
                Action(
                    rule.name,
                    th.id,
                    th.number,
                    th.customer.name,
                    "skipped",
                    reason=f"refused: {exc.message}",
                )
            )
            continue
        if last_start is not None:
            wait = last_start + s.pace_seconds - monotonic()
            if wait > 0:
                sleep(wait)
        last_start = monotonic()
        try:
            core_outbox.send_prepared(conn, client, prepared, clock=clock)
        except core_outbox.SendUnknown as exc:
            unknowns += 1
            report.actions.append(
                Action(
                    rule.name,
                    th.id,
                    th.number,
                    th.customer.name,
                    "unknown",
                    text=it.text,
                    reason=exc.message,
                )
            )
            if unknowns >= MAX_UNKNOWN:
                report.stopped = exc
            continue
        except gerr.TokenInvalid as exc:
            report.actions.append(
                Action(rule.name, th.id, th.number, th.customer.name, "failed", reason=exc.message)
            )
            report.stopped = exc
            _trip(
                conn,
                report.page_id,
                "invalid token (190): the rules are paused until `rules resume`",
                report,
                clock.now(),
            )
            continue
        except (AuthError, gerr.Throttled) as exc:
            report.actions.append(
                Action(rule.name, th.id, th.number, th.customer.name, "failed", reason=exc.message)
            )
            report.stopped = exc
            continue
        except gerr.PolicyRefused as exc:
            refusals += 1
            report.actions.append(
                Action(rule.name, th.id, th.number, th.customer.name, "failed", reason=exc.message)
            )
            if exc.code == 368:
                _trip(
                    conn,
                    report.page_id,
                    f"error 368 (Meta: deemed abusive/spam) on #{th.number}",
                    report,
                    clock.now(),
                )
            elif exc.reason == "window_closed":
                _trip(
                    conn,
                    report.page_id,
                    f"an unexpected window refusal on #{th.number}",
                    report,
                    clock.now(),
                )
            elif refusals >= s.refusal_burst:
                _trip(
                    conn,
                    report.page_id,
                    f"a burst of refusals: {refusals} in one run",
                    report,
                    clock.now(),
                )
            continue
        except SocialdeskError as exc:
            report.actions.append(
                Action(rule.name, th.id, th.number, th.customer.name, "failed", reason=exc.message)
            )
            continue
        if rule.snooze and not rule.done:
            with transaction(conn):
                triage.set_status(
                    conn,
                    th.id,
                    Status.SNOOZED,
                    now=clock.now(),
                    snoozed_until=clock.now() + timedelta(seconds=rule.snooze),
                )
        if rule.hide and th.channel is Channel.COMMENT:
            _hide(conn, client, th, report, clock)
        report.actions.append(
            Action(
                rule.name,
                th.id,
                th.number,
                th.customer.name,
                "sent",
                tuple(rule.actions()),
                it.text,
                str(it.kind),
            )
        )
        del pos


def _queue_intent(
    conn: sqlite3.Connection, it: _Intent, env: Env, report: RunReport, now: datetime
) -> core_outbox.Prepared:
    """Re-check, take the ledger slot and queue the send, all in one durable transaction;
    :class:`Refuse` when a guard fails there."""
    d, rule = it.decision, it.rule
    th = d.thread
    fresh_env = Env(env.page_id, now, env.settings, env.hours, env.tz, env.human_agent)
    event_ids: list[int] = []

    def guard(c: sqlite3.Connection) -> None:
        # Inside the queueing transaction: another process may have acted meanwhile.
        fresh = get_thread(c, th.id, now=now)
        if fresh is None:
            raise Refuse("gone", "the thread is no longer stored")
        req = store.current_request(c, th.id)
        if req is None or (d.request is not None and req.anchor_id != d.request.anchor_id):
            raise Refuse("changed", "a person answered meanwhile")
        send_guards(c, fresh_env, rule, fresh)
        if store.pause_state(c, report.page_id) is not None:
            raise Refuse("paused", "the rules were paused meanwhile")
        event = store.record_fire(
            c,
            run_id=report.run_id,
            page_id=report.page_id,
            rule=rule.name,
            thread_id=th.id,
            customer_key=d.customer_key,
            anchor_id=req.anchor_id,
            once_key=d.once_key,
            actions=" ".join(rule.actions()),
            now=now,
        )
        if event is None:
            raise Refuse("once", "another run fired this rule for this request")
        event_ids.append(event)
        _apply_local(c, rule, fresh, now=now, sending=True)

    def link(c: sqlite3.Connection, ids: tuple[int, ...]) -> None:
        store.set_event_outbox(c, event_ids[0], ids[0])

    return core_outbox.queue(
        conn,
        th,
        [it.text],
        now=now,
        human_agent=False,
        human_written=False,
        private=it.kind is SendKind.COMMENT_PRIVATE,
        origin="rule",
        batch=f"rule:{rule.name}:{report.run_id}",
        kind=it.kind,
        done=rule.done,
        guard=guard,
        on_queued=link,
    )


def _hide(
    conn: sqlite3.Connection, client: GraphClient, th: Thread, report: RunReport, clock: Clock
) -> None:
    from socialdesk.core.triage import set_hidden

    try:
        set_hidden(conn, client, th, True, now=clock.now())
    except SocialdeskError as exc:
        report.notices.append(f"#{th.number}: hide failed ({exc.message})")
