"""Rules: automation that never sends twice, never on history, and can be tried on history first.

Called by ``cli/cmd_rules.py`` (``rules list | check | test | run | log | pause | resume``),
``cli/cmd_sync.py`` (``sync --rules`` and the opt-in ``after_sync``), ``core.health`` (a pause
in ``doctor``) and ``core.inbox`` (which rule acted on a thread). The parts:

- :mod:`.model` — the rules file (``rules.toml`` beside ``config.toml``) and its validation;
- :mod:`.evaluate` — one rule against one thread: the guards in order, with reasons;
- :mod:`.engine` — a run: candidates, rules in order, local actions, the paced sends through
  the outbox with the ledger and the re-check inside the queueing transaction, trip wires;
- :mod:`.replay` — the rule simulated over a past period (an estimate);
- ``socialdesk.store.rules`` — every SQL statement of the above.

docs/RULES.md is the user's reference (file format, every key, the away-message recipe).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.core.rules.engine import (
    ENV_SWITCH,
    Action,
    RunReport,
    env_switch_off,
    make_env,
    run_rules,
)
from socialdesk.core.rules.evaluate import Decision, Env, Verdict, evaluate
from socialdesk.core.rules.model import (
    Rule,
    RuleSet,
    RuleState,
    load_rules,
    rules_path,
)
from socialdesk.core.rules.replay import ReplayReport, replay
from socialdesk.errors import SocialdeskError
from socialdesk.models import SyncReport
from socialdesk.store import rules as store
from socialdesk.store.db import transaction

if TYPE_CHECKING:
    from socialdesk.config import PageConfig
    from socialdesk.core.context import AppContext

__all__ = [
    "ENV_SWITCH",
    "Action",
    "Decision",
    "Overview",
    "ReplayReport",
    "Rule",
    "RuleSet",
    "RunReport",
    "Verdict",
    "after_sync",
    "check",
    "load",
    "log",
    "overview",
    "pause",
    "pause_line",
    "replay_rule",
    "resume",
    "run",
    "thread_rules",
    "trace",
]


def load(ctx: AppContext) -> RuleSet:
    """The validated rules file of this home (ConfigError, exit 2, when it is invalid)."""
    return load_rules(ctx.paths, ctx.config)


def check(ctx: AppContext) -> tuple[RuleSet, list[str]]:
    """Validate the rules file; the rules and the warnings (a valid file may still be unwise)."""
    rs = load(ctx)
    warnings: list[str] = []
    if not rs.exists:
        warnings.append(f"no rules file at {rs.path}")
    for r in rs.rules:
        if r.sends and r.state is RuleState.LIVE and not rs.settings.enabled:
            warnings.append(f"rule {r.name!r} is live but [settings] enabled = false")
        if r.sends and r.reply is not None and r.once.value == "customer" and r.cooldown is None:
            warnings.append(f"rule {r.name!r}: once = customer sends one reply ever per customer")
    return rs, warnings


@dataclass(frozen=True)
class RuleRow:
    """A rule with its recent activity (``rules list``)."""

    rule: Rule
    fired_24h: int
    fired_7d: int
    would_7d: int
    last_fired: int | None
    since: int | None


@dataclass(frozen=True)
class Overview:
    """``rules list``: the rules in order and the page's switches."""

    ruleset: RuleSet
    rows: tuple[RuleRow, ...]
    pause: store.Pause | None
    env_off: bool
    last_run: store.RunRow | None
    pending: int


def overview(ctx: AppContext, conn: sqlite3.Connection, page: PageConfig) -> Overview:
    """Every rule with its counts, the pause and the last run."""
    rs = load(ctx)
    now = ctx.clock.now()
    day = store.counts_by_rule(conn, page.id, since=now - timedelta(days=1))
    week = store.counts_by_rule(conn, page.id, since=now - timedelta(days=7))
    rows: list[RuleRow] = []
    for r in rs.rules:
        last = store.events(conn, page.id, rule=r.name, outcomes=["fired"], limit=1)
        rows.append(
            RuleRow(
                r,
                day.get((r.name, "fired"), 0),
                week.get((r.name, "fired"), 0),
                week.get((r.name, "would"), 0),
                last[0].at if last else None,
                store.known_since(conn, page.id, r.name, r.digest),
            )
        )
    return Overview(
        rs,
        tuple(rows),
        store.pause_state(conn, page.id),
        env_switch_off(),
        store.last_run(conn, page.id),
        store.pending_count(conn, page.id),
    )


def _env_for(ctx: AppContext, rs: RuleSet, page_id: str):  # type: ignore[no-untyped-def]
    def make(now: datetime) -> Env:
        return make_env(rs, page_id=page_id, now=now, config=ctx.config)

    return make


def run(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    *,
    dry_run: bool = False,
    trigger: str = "manual",
    only: tuple[str, ...] = (),
    ruleset: RuleSet | None = None,
) -> RunReport:
    """One run of the page's rules (``core.rules.engine``)."""
    from socialdesk.store.pages import page_name

    rs = ruleset if ruleset is not None else load(ctx)
    for name in only:
        rs.rule(name)
    needs_client = not dry_run and any(
        (r.sends or r.hide) and r.state is RuleState.LIVE for r in rs.rules
    )
    client = None
    if needs_client:
        client = ctx.client(page)
    return run_rules(
        conn,
        client,
        rs,
        _env_for(ctx, rs, page.id),
        page_id=page.id,
        page_name=page_name(conn, page.id),
        clock=ctx.clock,
        dry_run=dry_run,
        trigger=trigger,
        only=only,
    )


def after_sync(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    report: SyncReport,
    *,
    forced: bool,
) -> RunReport | None:
    """After a sync round: run the rules when asked (``sync --rules``) or opted in
    (``[settings] after_sync``) and the round succeeded; ``None`` when not run."""
    from socialdesk.core.syncing import exit_code
    from socialdesk.errors import ExitCode

    if not forced:
        path = rules_path(ctx.paths)
        if not path.exists():
            return None
        rs = load(ctx)
        if not rs.settings.after_sync:
            return None
    else:
        rs = load(ctx)
    if exit_code(report) is not ExitCode.OK:
        return None  # a failed round runs no rules: the store may be behind
    return run(ctx, conn, page, trigger="after_sync", ruleset=rs)


def trace(
    ctx: AppContext, conn: sqlite3.Connection, page: PageConfig, name: str, thread_ref: str
) -> tuple[Decision, str | None]:
    """``rules test NAME THREAD``: every guard's verdict for one thread now, and the text it
    would send."""
    from socialdesk.core.rules.engine import render_reply
    from socialdesk.store.pages import page_name
    from socialdesk.store.query import compile_query
    from socialdesk.store.threads import resolve_thread

    rs = load(ctx)
    rule = rs.rule(name)
    now = ctx.clock.now()
    th = resolve_thread(conn, thread_ref, page_id=page.id, now=now)
    env = make_env(rs, page_id=page.id, now=now, config=ctx.config)
    compiled = compile_query(rule.query, now=now, human_agent=env.human_agent)
    matched = th.id in store.matching(conn, compiled, [th.id], page.id)
    since = store.known_since(conn, page.id, rule.name, rule.digest)
    d = evaluate(conn, env, rule, th, matched=matched, since=since, full=True)
    text = None
    if rule.sends:
        try:
            text = render_reply(
                rs, rule, th, page_name(conn, page.id), private=rule.reply_private is not None
            )
        except SocialdeskError as exc:
            text = f"(refused: {exc.message})"
    return d, text


def replay_rule(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    name: str,
    *,
    seconds: int,
    lag: int | None = None,
) -> ReplayReport:
    """``rules test NAME --since D``: the rule simulated over the last ``seconds``."""
    rs = load(ctx)
    rule = rs.rule(name)
    now = ctx.clock.now()
    env = make_env(rs, page_id=page.id, now=now, config=ctx.config)
    use_lag = ctx.config.sync.poll_seconds if lag is None else lag
    return replay(
        conn,
        env,
        rule,
        page_id=page.id,
        start=now - timedelta(seconds=seconds),
        end=now,
        lag=use_lag,
    )


def parse_span(text: str, *, what: str = "--since") -> int:
    """Seconds in a duration such as ``7d`` or ``1h30m`` (UsageError naming ``what``)."""
    from socialdesk.errors import UsageError
    from socialdesk.store.query import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise UsageError(f"{what}: bad duration {text!r}", hint="use e.g. 30m, 2h, 7d") from None


@dataclass(frozen=True)
class LogEntry:
    """A log event with its thread's number."""

    event: store.Event
    number: int | None


def log(
    ctx: AppContext,
    conn: sqlite3.Connection,
    page: PageConfig,
    *,
    rule: str | None = None,
    thread_ref: str | None = None,
    since: str | None = None,
    limit: int = 100,
) -> list[LogEntry]:
    """The rules' audit log, newest first (``rules log``)."""
    from socialdesk.store.threads import resolve_thread

    now = ctx.clock.now()
    tid = resolve_thread(conn, thread_ref, page_id=page.id, now=now).id if thread_ref else None
    start = now - timedelta(seconds=parse_span(since)) if since else None
    found = store.events(conn, page.id, rule=rule, thread_id=tid, since=start, limit=limit)
    numbers = store.numbers_for(conn, [e.thread_id for e in found])
    return [LogEntry(e, numbers.get(e.thread_id)) for e in found]


def pause(conn: sqlite3.Connection, page: PageConfig, *, reason: str, now: datetime) -> store.Pause:
    """``rules pause``: the database kill switch (no file edit)."""
    with transaction(conn):
        store.set_pause(
            conn, page.id, by="operator", reason=reason or "paused by the operator", now=now
        )
        p = store.pause_state(conn, page.id)
    assert p is not None
    return p


def resume(conn: sqlite3.Connection, page: PageConfig) -> store.Pause | None:
    """``rules resume``: lift the pause (an operator's or a trip wire's); the one lifted."""
    with transaction(conn):
        return store.clear_pause(conn, page.id)


def pause_line(conn: sqlite3.Connection, page_id: str) -> tuple[bool, str] | None:
    """For ``doctor``: (tripped, words) when the page's rules are paused, else ``None``."""
    from socialdesk.format import iso
    from socialdesk.models import utc

    p = store.pause_state(conn, page_id)
    if p is None:
        return None
    who = "automatically" if p.by == "trip" else "by the operator"
    return p.by == "trip", f"paused {who} at {iso(utc(p.paused_at))}: {p.reason}"


def thread_rules(conn: sqlite3.Connection, thread_id: str) -> list[tuple[str, int]]:
    """(rule, when) of every rule that acted on a thread, newest first (the inbox)."""
    return store.fired_rules(conn, thread_id)
