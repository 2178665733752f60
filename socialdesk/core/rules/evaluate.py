"""One rule against one thread now: every guard's verdict, in a fixed order.

Called by ``core.rules.engine`` (a run: stops at the first failing guard) and by
``rules test NAME THREAD`` (a trace: every guard's verdict). The guards are the safety rails of
issue 14; each has a reason code (``Verdict.check``) that the log, the trace and the JSON use.
Nothing here writes: the run re-checks the sending guards inside the queueing transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from socialdesk.business_hours import BusinessCalendar, BusinessHours
from socialdesk.core.rules.model import Hours, Once, Rule, RuleState, Settings
from socialdesk.models import PRIVATE_REPLY_WINDOW, STANDARD_WINDOW, Channel, Thread, epoch
from socialdesk.store import rules as store

DEFERRABLE = frozenset({"human_quiet", "run_cap", "run_thread"})
"""Guards whose failure may lift by the next run (the match is kept pending)."""


@dataclass(frozen=True)
class Verdict:
    """One guard's verdict."""

    check: str
    ok: bool
    detail: str


@dataclass
class Decision:
    """What a rule decides for a thread."""

    rule: Rule
    thread: Thread
    verdicts: list[Verdict] = field(default_factory=list)
    request: store.Request | None = None
    once_key: str = ""
    customer_key: str = ""

    @property
    def fire(self) -> bool:
        """Every guard passed."""
        return bool(self.verdicts) and all(v.ok for v in self.verdicts)

    @property
    def reason(self) -> str | None:
        """The first failing guard's code, or ``None`` when the rule fires."""
        return next((v.check for v in self.verdicts if not v.ok), None)

    @property
    def deferrable(self) -> bool:
        """The failure may lift by the next run."""
        return self.reason in DEFERRABLE


@dataclass(frozen=True)
class Env:
    """What the guards need besides the thread: the page, the time, the settings."""

    page_id: str
    now: datetime
    settings: Settings
    hours: BusinessHours | None
    tz: ZoneInfo
    human_agent: bool = False


_CALENDARS: dict[tuple[str, str], BusinessCalendar] = {}


def open_at(env: Env, ts: int) -> bool:
    """Whether business hours are open at ``ts`` (always, when none are configured)."""
    if env.hours is None:
        return True
    key = (env.hours.spec, env.tz.key)
    cal = _CALENDARS.get(key)
    if cal is None:
        # One calendar per spec and zone: it extends itself on demand (a replay asks often).
        cal = _CALENDARS[key] = BusinessCalendar(env.hours, env.tz)
    return cal.open_seconds(ts, ts + 1) > 0


def once_key(rule: Rule, thread: Thread, request: store.Request | None) -> str:
    """The ledger key of a fire: one per request, thread or customer (see docs/RULES.md)."""
    if rule.once is Once.THREAD:
        return f"thread:{thread.id}"
    if rule.once is Once.CUSTOMER:
        return f"customer:{thread.channel}:{thread.customer.id}"
    anchor = request.anchor_id if request is not None else "-"
    if rule.once is Once.ALWAYS:
        # A local-only rule re-fires per customer message, not per run.
        last = request.last_in_at if request is not None else 0
        return f"always:{thread.id}:{anchor}:{last}"
    return f"request:{thread.id}:{anchor}"


def customer_key(thread: Thread) -> str:
    """A customer, per channel (ids are app-scoped per channel)."""
    return f"{thread.channel}:{thread.customer.id}"


class _Trace:
    def __init__(self, decision: Decision, full: bool) -> None:
        self.d = decision
        self.full = full

    def add(self, check: str, ok: bool, detail: str) -> bool:
        """Record; ``True`` when the evaluation should go on."""
        self.d.verdicts.append(Verdict(check, ok, detail))
        return ok or self.full


def _span(seconds: int) -> str:
    from socialdesk.format import human_duration

    return human_duration(max(0, seconds))


def evaluate(
    conn: sqlite3.Connection,
    env: Env,
    rule: Rule,
    thread: Thread,
    *,
    matched: bool,
    since: int | None,
    full: bool = False,
    sent_this_run: bool = False,
    rule_count: int = 0,
) -> Decision:
    """Run the guards in order; with ``full`` every one (a trace), else up to the first failure.

    ``since``: when this version of the rule went live (``None``: not yet: only a trace or a
    dry run asks). ``sent_this_run``: another rule already sends to this thread in this run;
    ``rule_count``: how many times this rule fired in this run.
    """
    d = Decision(rule, thread)
    t = _Trace(d, full)
    now_s = epoch(env.now)
    s = env.settings
    if not t.add("state", rule.state is not RuleState.OFF, rule.state.value):
        return d
    if not t.add("query", matched, "matches" if matched else "does not match"):
        return d
    if rule.active is not None:
        local = env.now.astimezone(env.tz).date()
        ok = rule.active[0] <= local <= rule.active[1]
        span = f"{rule.active[0]}..{rule.active[1]}"
        if not t.add("active", ok, f"{local} {'in' if ok else 'outside'} {span}"):
            return d
    cust = thread.customer.id
    own = not cust or cust == env.page_id or cust in s.ignore_authors
    if not t.add("author", not own, "the Page itself or ignored" if own else "a customer"):
        return d
    req = store.current_request(conn, thread.id)
    d.request = req
    d.once_key = once_key(rule, thread, req)
    d.customer_key = customer_key(thread)
    if not t.add(
        "request",
        req is not None,
        "a customer message no person has answered" if req else "answered by a person",
    ):
        return d
    anchor = req.anchor_at if req else now_s
    last_in = req.last_in_at if req else now_s
    if rule.hours is not Hours.ANY:
        at_start, at_now = open_at(env, anchor), open_at(env, now_s)
        want_open = rule.hours is Hours.OPEN
        ok = at_start == want_open and at_now == want_open
        word = {True: "open", False: "closed"}
        detail = f"{word[want_open]} wanted; request began {word[at_start]}, now {word[at_now]}"
        if not t.add("hours", ok, detail):
            return d
    if since is None:
        live_ok, detail = True, "not live yet (a trace)"
    else:
        live_ok = anchor >= since
        detail = (
            "request began after the rule went live"
            if live_ok
            else f"request began {_span(since - anchor)} before the rule went live (history)"
        )
    if not t.add("live_since", live_ok, detail):
        return d
    if rule.max_age is not None:
        age = now_s - last_in
        if not t.add(
            "max_age", age <= rule.max_age, f"{_span(age)} old, max {_span(rule.max_age)}"
        ):
            return d
    outcome = "fired" if rule.state is RuleState.LIVE else "would"
    taken = store.ledger_taken(conn, env.page_id, rule.name, d.once_key, outcome=outcome)
    if not t.add("once", not taken, f"once={rule.once.value}: {'taken' if taken else 'free'}"):
        return d
    if rule.cooldown is not None:
        last = store.last_fire_for_customer(
            conn, env.page_id, rule.name, d.customer_key, outcome=outcome
        )
        ok = last is None or now_s - last >= rule.cooldown
        detail = (
            "never fired for this customer" if last is None else f"last {_span(now_s - last)} ago"
        )
        if not t.add("cooldown", ok, detail):
            return d
    if not t.add(
        "run_cap", rule_count < rule.max_per_run, f"{rule_count}/{rule.max_per_run} this run"
    ):
        return d
    if rule.sends:
        send_guards(conn, env, rule, thread, t, sent_this_run=sent_this_run)
    return d


def send_guards(
    conn: sqlite3.Connection,
    env: Env,
    rule: Rule,
    thread: Thread,
    t: _Trace | None = None,
    *,
    sent_this_run: bool = False,
) -> bool:
    """The guards of a send (also re-run inside the queueing transaction): ``True`` if all pass.

    Without a trace, the first failure raises :class:`Refuse` with its code.
    """
    from socialdesk.core.ack import why_not
    from socialdesk.store.outbox import private_reply_used
    from socialdesk.store.threads import comment_created_at

    def add(check: str, ok: bool, detail: str) -> bool:
        if t is not None:
            return t.add(check, ok, detail)
        if not ok:
            raise Refuse(check, detail)
        return True

    now_s = epoch(env.now)
    s = env.settings
    if not add("run_thread", not sent_this_run, "one automated send per thread per run"):
        return False
    ok_channel = thread.channel in (Channel.DM, Channel.COMMENT)
    if not add("channel", ok_channel, str(thread.channel)):
        return False
    unknown = store.outbox_unknown_on_thread(conn, thread.id)
    if not add(
        "outbox", not unknown, "an earlier send's outcome is unknown" if unknown else "clear"
    ):
        return False
    why = why_not(conn, thread, now=env.now, include_snoozed=True)
    if not add("eligible", why is None, why.label if why is not None else "awaiting a reply"):
        return False
    margin = s.window_margin
    if thread.channel is Channel.DM and rule.reply is not None:
        closes = (
            epoch(thread.last_inbound_at) + int(STANDARD_WINDOW.total_seconds())
            if thread.last_inbound_at
            else now_s
        )
        left = closes - now_s
        if not add("window", left > margin, f"{_span(left)} left (margin {_span(margin)})"):
            return False
    if rule.reply_private is not None:
        used = private_reply_used(conn, thread.id)
        at = comment_created_at(conn, thread.id) or thread.last_inbound_at
        closes = (epoch(at) + int(PRIVATE_REPLY_WINDOW.total_seconds())) if at else now_s
        left = closes - now_s
        ok = not used and left > margin
        detail = "private reply already used" if used else f"{_span(left)} left"
        if not add("window", ok, detail):
            return False
    quiet = store.last_human_reply_at(
        conn, env.page_id, since=env.now - timedelta(seconds=s.human_quiet)
    )
    detail = (
        "no human reply lately" if quiet is None else f"a person replied {_span(now_s - quiet)} ago"
    )
    if not add("human_quiet", quiet is None, detail):
        return False
    n = store.auto_sends_since(conn, thread.id, since=env.now - timedelta(days=1))
    cap = s.max_auto_per_thread_day
    return add("thread_cap", n < cap, f"{n}/{cap} automated sends in 24 h")


class Refuse(Exception):
    """A sending guard failed inside the queueing transaction."""

    def __init__(self, check: str, detail: str = "") -> None:
        super().__init__(check)
        self.check = check
        self.detail = detail
