"""Replay a rule over history: "would have fired 42 times on 40 threads" (``rules test --since``).

Called by ``core.rules.replay_rule``. The rule is simulated as if it had run ``lag`` seconds
after every customer message of the period (a sync's latency; default the poll interval): at
each such tick ``T`` the thread's request is rebuilt from the messages stored up to ``T`` and
the guards run with ``now = T``, their limits (``once``, ``cooldown``, the daily cap, one send
per thread per tick) kept in memory. What it cannot rebuild it judges on the thread as it is
now, and says so (the result is an *estimate*):

- as of ``T``: ``is:awaiting`` and ``is:unanswered`` (true at a customer message, by
  definition), ``said:`` (the request's customer messages up to ``T``), ``older:``/``newer:``
  (from the request at ``T``), business hours, ``active``, ``max_age``, the reply window, a
  person's reply in the last ``human_quiet`` (the page's human replies up to ``T``);
- as now: every other term (status, tags, channel, customer, page, ``rule:``), and the live-since
  rail (a replay asks "what if it had been live all along").

Cost: one query per distinct query term and one pass over the period's messages (docs/RULES.md
§Replay; the bar is 7 days over 10,000 threads in ≤ 5 s, ``benchmarks/bench_rules.py``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk.core.rules.evaluate import Env, open_at
from socialdesk.core.rules.model import Hours, Once, Rule
from socialdesk.models import STANDARD_WINDOW, epoch
from socialdesk.store import rules as store
from socialdesk.store.query import Term, compile_query, parse_duration, parse_query

_AS_OF = frozenset({("is", "awaiting"), ("is", "unanswered")})


@dataclass
class Fire:
    """One simulated fire."""

    thread_id: str
    at: int
    customer_key: str


@dataclass
class ReplayReport:
    """The replay's answer."""

    rule: str
    start: int
    end: int
    lag: int
    fires: list[Fire] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    ticks: int = 0
    numbers: dict[str, int] = field(default_factory=dict)

    @property
    def threads(self) -> int:
        """Distinct threads it would have acted on."""
        return len({f.thread_id for f in self.fires})


def _term_sets(
    conn: sqlite3.Connection, rule: Rule, page_id: str, ids: list[str], now: datetime
) -> dict[str, set[str]]:
    """For every term judged "as now": the candidate threads it holds for (one query each)."""
    out: dict[str, set[str]] = {}
    for term in parse_query(rule.query).terms():
        if term.key == "said" or (term.key, term.value) in _AS_OF or term.key in ("older", "newer"):
            continue
        key = _key(term)
        if key in out:
            continue
        # The term alone, un-negated: the tree's own negation is applied by Query.matches.
        text = f'{term.key}:"{term.value}"' if term.kind == "filter" else f'"{term.value}"'
        compiled = compile_query(text, now=now)
        out[key] = store.matching(conn, compiled, ids, page_id)
    return out


def _key(term: Term) -> str:
    return f"{term.kind}\x00{term.key}\x00{term.value}"


class _Tester:
    """Decides one query term for one tick (see the module doc for "as of" and "as now")."""

    def __init__(
        self,
        tid: str,
        req_ids: set[str],
        age: int,
        said: dict[str, set[str]],
        sets: dict[str, set[str]],
    ) -> None:
        self.tid, self.req_ids, self.age, self.said, self.sets = tid, req_ids, age, said, sets

    def __call__(self, term: Term) -> bool:
        if term.key == "said":
            return not self.req_ids.isdisjoint(self.said[term.value])
        if (term.key, term.value) in _AS_OF:
            return True
        if term.key in ("older", "newer"):
            limit = parse_duration(term.value)
            return self.age > limit if term.key == "older" else self.age <= limit
        return self.tid in self.sets.get(_key(term), set())


def replay(
    conn: sqlite3.Connection,
    env: Env,
    rule: Rule,
    *,
    page_id: str,
    start: datetime,
    end: datetime,
    lag: int,
) -> ReplayReport:
    """Simulate ``rule`` over ``[start, end)`` (see the module doc)."""
    s, e = epoch(start), epoch(end)
    rep = ReplayReport(rule.name, s, e, lag)
    arrivals = store.inbound_threads_between(conn, page_id, s, e)
    ids = list(dict.fromkeys(t for t, _ in arrivals))
    if not ids:
        return rep
    query = parse_query(rule.query)
    sets = _term_sets(conn, rule, page_id, ids, end)
    history = store.replay_messages(conn, ids, since=s - int(STANDARD_WINDOW.total_seconds()))
    said = {
        t.value: store.said_message_ids(conn, ids, t.value)
        for t in query.terms()
        if t.key == "said"
    }
    info = store.thread_facts(conn, ids)
    human_times = sorted(store.human_reply_times(conn, page_id, s - env.settings.human_quiet, e))
    fired_keys: set[str] = set()
    last_for_customer: dict[str, int] = {}
    auto_sends: dict[str, list[int]] = defaultdict(list)
    settings = env.settings
    import bisect

    for tid, t_in in arrivals:
        T = t_in + lag
        if e < T:
            continue
        rep.ticks += 1
        msgs = [m for m in history.get(tid, []) if m.at <= T]
        last_human = max((m.at for m in msgs if m.human_out), default=None)
        req = [m for m in msgs if m.inbound and (last_human is None or m.at > last_human)]
        if not req:
            rep.skipped["request"] = rep.skipped.get("request", 0) + 1
            continue
        anchor, last_in = req[0], req[-1]
        facts = info.get(tid)
        if facts is None:
            continue
        channel, customer = facts

        req_ids = {m.id for m in req}
        test = _Tester(tid, req_ids, T - anchor.at, said, sets)
        if not query.matches(test):
            continue

        def skip(code: str) -> None:
            rep.skipped[code] = rep.skipped.get(code, 0) + 1

        if rule.active is not None:
            local = datetime.fromtimestamp(T, tz=env.tz).date()
            if not rule.active[0] <= local <= rule.active[1]:
                skip("active")
                continue
        if not customer or customer == page_id or customer in settings.ignore_authors:
            skip("author")
            continue
        if rule.hours is not Hours.ANY:
            want = rule.hours is Hours.OPEN
            if open_at(env, anchor.at) != want or open_at(env, T) != want:
                skip("hours")
                continue
        if rule.max_age is not None and T - last_in.at > rule.max_age:
            skip("max_age")
            continue
        ckey = f"{channel}:{customer}"
        if rule.once is Once.THREAD:
            okey = f"thread:{tid}"
        elif rule.once is Once.CUSTOMER:
            okey = f"customer:{ckey}"
        elif rule.once is Once.ALWAYS:
            okey = f"always:{tid}:{anchor.id}:{last_in.at}"
        else:
            okey = f"request:{tid}:{anchor.id}"
        if okey in fired_keys:
            skip("once")
            continue
        if rule.cooldown is not None and T - last_for_customer.get(ckey, -(10**12)) < rule.cooldown:
            skip("cooldown")
            continue
        if rule.sends:
            closes = last_in.at + int(STANDARD_WINDOW.total_seconds())
            if channel == "dm" and rule.reply is not None and closes - T <= settings.window_margin:
                skip("window")
                continue
            i = bisect.bisect_left(human_times, T - settings.human_quiet)
            if i < len(human_times) and human_times[i] <= T:
                skip("human_quiet")
                continue
            recent = [x for x in auto_sends[tid] if x > T - 86400]
            if len(recent) >= settings.max_auto_per_thread_day:
                skip("thread_cap")
                continue
            auto_sends[tid].append(T)
        fired_keys.add(okey)
        last_for_customer[ckey] = T
        rep.fires.append(Fire(tid, T, ckey))
    rep.numbers = store.numbers_for(conn, [f.thread_id for f in rep.fires])
    return rep
