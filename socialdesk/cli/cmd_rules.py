"""``socialdesk rules``: list, check, test, run, log, pause, resume (issue 14; docs/RULES.md).

Registered on the root app; the work is in ``core.rules``. Each command parses, makes one core
call and renders (``--json`` for every one). Exit codes (README "Rules"):

- 0: done (also when a kill switch or the operator's pause kept the run from acting: a line
  on stderr says which);
- 2: the rules file is invalid (file, rule and key named) or a bad argument;
- 3: the token is invalid (the rules are paused too);
- 4: throttled or the API unavailable;
- 5: some actions failed;
- 6: the rules are paused by a trip wire (368, a burst of refusals, an invalid token, a
  surge), so cron notices until ``rules resume``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, echo_line, note_line, open_context, session

if TYPE_CHECKING:
    from socialdesk.core.rules import Overview, ReplayReport, RunReport
    from socialdesk.core.rules.evaluate import Decision

rules_app = typer.Typer(
    name="rules",
    help="Automation: rules that tag, note, close, hide and reply, tried on history first.",
    no_args_is_help=True,
)
app.add_typer(rules_app)


def _when(ts: int | None) -> str | None:
    from socialdesk.format import iso

    return iso(datetime.fromtimestamp(ts, tz=UTC)) if ts is not None else None


def _clean(text: str) -> str:
    from socialdesk.sanitize import clean

    return clean(text, single_line=True)


# ---- list / check -------------------------------------------------------------------------------


def _rule_json(row: Any) -> dict[str, Any]:
    r = row.rule
    return {
        "position": r.position,
        "name": r.name,
        "state": r.state.value,
        "query": r.query,
        "hours": r.hours.value,
        "active": [str(r.active[0]), str(r.active[1])] if r.active else None,
        "actions": r.actions(),
        "once": r.once.value,
        "cooldown_s": r.cooldown,
        "max_age_s": r.max_age,
        "max_per_run": r.max_per_run,
        "stop": r.stop,
        "fired_24h": row.fired_24h,
        "fired_7d": row.fired_7d,
        "would_7d": row.would_7d,
        "last_fired": _when(row.last_fired),
        "live_since": _when(row.since),
    }


def _print_overview(ov: Overview) -> None:
    from socialdesk.format import plural

    if not ov.ruleset.rules:
        echo_line(f"no rules (the rules file is {ov.ruleset.path})")
    for row in ov.rows:
        r = row.rule
        extra = f" (hours {r.hours.value})" if r.hours.value != "any" else ""
        echo_line(
            f"{r.position:>2} {r.name:<16} {r.state.value:<6} fired {row.fired_24h}/{row.fired_7d}"
            f" (24h/7d) would {row.would_7d}  {_clean(r.query)}{extra} → {' '.join(r.actions())}"
        )
    live = sum(1 for r in ov.ruleset.rules if r.state.value == "live")
    shadow = sum(1 for r in ov.ruleset.rules if r.state.value == "shadow")
    s = ov.ruleset.settings
    paused = "not paused"
    if ov.pause is not None:
        paused = (
            f"PAUSED ({'trip wire' if ov.pause.by == 'trip' else 'operator'}: {ov.pause.reason})"
        )
    if not s.enabled:
        paused = "OFF ([settings] enabled = false)"
    if ov.env_off:
        paused = "OFF (SOCIALDESK_RULES=off)"
    last = f"last run {_when(ov.last_run.started_at)}" if ov.last_run else "never run"
    echo_line(
        f"rules: {live} live, {shadow} shadow · after sync: {'on' if s.after_sync else 'off'}"
        f" · {paused} · {last} · {plural(ov.pending, 'deferred match', 'deferred matches')}"
    )


@rules_app.command("list")
def list_(as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """The rules in order, with their state, activity and the page's switches."""
    from socialdesk.cli import output
    from socialdesk.core import rules

    with session() as s:
        ov = rules.overview(s.ctx, s.db, s.page(page))
    if as_json:
        output.print_json(
            {
                "file": str(ov.ruleset.path),
                "rules": [_rule_json(r) for r in ov.rows],
                "enabled": ov.ruleset.settings.enabled,
                "environment_off": ov.env_off,
                "after_sync": ov.ruleset.settings.after_sync,
                "paused": _pause_json(ov.pause),
                "last_run": _when(ov.last_run.started_at) if ov.last_run else None,
                "deferred": ov.pending,
            }
        )
        return
    _print_overview(ov)


@rules_app.command("check")
def check(as_json: JsonOpt = False) -> None:
    """Validate the rules file (exit 2 naming the file, the rule and the key)."""
    from socialdesk.cli import output
    from socialdesk.core import rules

    with open_context() as ctx:
        rs, warnings = rules.check(ctx)
    if as_json:
        output.print_json(
            {"file": str(rs.path), "ok": True, "rules": len(rs.rules), "warnings": warnings}
        )
        return
    for w in warnings:
        note_line(f"warning: {w}")
    echo_line(f"{rs.path}: ok, {len(rs.rules)} rule{'s' if len(rs.rules) != 1 else ''}")


# ---- test -------------------------------------------------------------------------------------


def _trace_json(d: Decision, text: str | None) -> dict[str, Any]:
    return {
        "rule": d.rule.name,
        "thread": d.thread.number,
        "fires": d.fire,
        "reason": d.reason,
        "checks": [{"check": v.check, "ok": v.ok, "detail": v.detail} for v in d.verdicts],
        "actions": d.rule.actions(),
        "text": text,
    }


def _replay_json(rep: ReplayReport) -> dict[str, Any]:
    return {
        "rule": rep.rule,
        "estimate": True,
        "from": _when(rep.start),
        "to": _when(rep.end),
        "lag_s": rep.lag,
        "fires": len(rep.fires),
        "threads": rep.threads,
        "ticks": rep.ticks,
        "skipped": rep.skipped,
        "list": [{"thread": rep.numbers.get(f.thread_id), "at": _when(f.at)} for f in rep.fires],
    }


@rules_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    thread: Annotated[
        str | None, typer.Argument(metavar="[THREAD]", help="One thread: each guard's verdict now.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Replay the rule over this past period, e.g. 7d.")
    ] = None,
    lag: Annotated[
        str | None,
        typer.Option(
            "--lag", help="Replay: the sync latency to assume (default: the poll interval)."
        ),
    ] = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Try a rule: on one thread (a decision trace) or over history (`--since 7d`)."""
    from socialdesk.cli import output
    from socialdesk.core import rules
    from socialdesk.errors import UsageError

    if (thread is None) == (since is None):
        raise UsageError(
            "give a THREAD or --since PERIOD (not both)", hint="e.g. rules test away --since 7d"
        )
    with session() as s:
        page_cfg = s.page(page)
        if thread is not None:
            d, text = rules.trace(s.ctx, s.db, page_cfg, name, thread)
            if as_json:
                output.print_json(_trace_json(d, text))
                return
            th = d.thread
            echo_line(f"#{th.number} {th.channel} · {_clean(th.customer.name)}")
            for v in d.verdicts:
                echo_line(f"  {'✓' if v.ok else '✗'} {v.check:<12} {_clean(v.detail)}")
            if d.fire:
                echo_line(f"  → {' '.join(d.rule.actions())}")
                if text:
                    echo_line(f"  → text: {_clean(text)}")
            else:
                echo_line(f"  → does not fire ({d.reason})")
            return
        assert since is not None
        rep = rules.replay_rule(
            s.ctx,
            s.db,
            page_cfg,
            name,
            seconds=rules.parse_span(since),
            lag=rules.parse_span(lag, what="--lag") if lag else None,
        )
    if as_json:
        output.print_json(_replay_json(rep))
        return
    echo_line(
        f"{rep.rule}: would have fired {len(rep.fires)} time{'s' if len(rep.fires) != 1 else ''}"
        f" on {rep.threads} thread{'s' if rep.threads != 1 else ''} since {_when(rep.start)}"
        " (an estimate: see docs/RULES.md, Replay)"
    )
    if rep.skipped:
        echo_line("skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.skipped.items())))
    for f in rep.fires[:50]:
        echo_line(f"  #{rep.numbers.get(f.thread_id, '?')} at {_when(f.at)}")
    if len(rep.fires) > 50:
        echo_line(f"  … and {len(rep.fires) - 50} more (--json for all)")


# ---- run ----------------------------------------------------------------------------------------


def _action_json(a: Any) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "thread": a.number,
        "customer": a.customer,
        "outcome": a.outcome,
        "actions": list(a.actions),
        "text": a.text,
        "kind": a.kind,
        "reason": a.reason,
    }


def _pause_json(p: Any) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"by": p.by, "reason": p.reason, "at": _when(p.paused_at)}


def run_json(rep: RunReport) -> dict[str, Any]:
    """The JSON of a run (``rules run --json`` and ``sync --rules --json``)."""
    return {
        "page": rep.page_id,
        "run": rep.run_id,
        "dry_run": rep.dry_run,
        "candidates": rep.candidates,
        "sent": rep.count("sent"),
        "fired": rep.count("fired"),
        "would": rep.count("would"),
        "skipped": rep.count("skipped"),
        "deferred": rep.count("deferred"),
        "failed": rep.count("failed"),
        "unknown": rep.count("unknown"),
        "switched_off": rep.switched_off,
        "paused": _pause_json(rep.paused),
        "tripped": rep.tripped,
        "actions": [_action_json(a) for a in rep.actions],
    }


def summary(rep: RunReport) -> str:
    """One line for a run."""
    if rep.switched_off:
        where = (
            "[settings] enabled = false" if rep.switched_off == "config" else "SOCIALDESK_RULES=off"
        )
        return f"rules: off ({where}); nothing done"
    if rep.paused is not None and rep.tripped is None:
        return (
            f"rules: paused ({rep.paused.reason}); nothing done; `socialdesk rules resume` to go on"
        )
    parts = [f"{rep.candidates} new thread{'s' if rep.candidates != 1 else ''}"]
    for outcome in ("sent", "fired", "would", "deferred", "skipped", "failed", "unknown"):
        n = rep.count(outcome)
        if n:
            parts.append(f"{n} {'acted' if outcome == 'fired' else outcome}")
    line = "rules: " + " · ".join(parts) + (" (dry run)" if rep.dry_run else "")
    if rep.tripped:
        line += f"; PAUSED: {rep.tripped}"
    return line


def exit_for(rep: RunReport) -> int:
    """The documented exit code of a run."""
    from socialdesk.errors import ExitCode

    if rep.paused is not None and rep.paused.by == "trip":
        if rep.stopped is not None and rep.stopped.exit_code is ExitCode.AUTH:
            return int(ExitCode.AUTH)
        return int(ExitCode.REFUSED)
    if rep.stopped is not None:
        return int(rep.stopped.exit_code)
    if rep.count("failed") or rep.count("unknown"):
        return int(ExitCode.PARTIAL)
    return 0


def render_run(rep: RunReport, as_json: bool) -> None:
    """Print a run (lines or JSON); notices on stderr."""
    from socialdesk.cli import output

    for n in rep.notices:
        note_line(n)
    if as_json:
        output.print_json(run_json(rep))
        return
    echo_line(summary(rep))
    for a in rep.actions:
        if a.outcome in ("sent", "fired", "would"):
            text = f": {_clean(a.text)}" if a.text else ""
            echo_line(f"  {a.outcome} {a.rule} #{a.number} {' '.join(a.actions)}{text}")
        elif a.outcome in ("failed", "unknown"):
            note_line(f"  {a.outcome} {a.rule} #{a.number}: {_clean(a.reason or '')}")


@rules_app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and print; change and send nothing.")
    ] = False,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Run the rules once on the threads with new customer messages."""
    from socialdesk.core import rules

    with session() as s:
        rep = rules.run(s.ctx, s.db, s.page(page), dry_run=dry_run, only=tuple(rule or ()))
    render_run(rep, as_json)
    code = exit_for(rep)
    if code:
        raise typer.Exit(code)


# ---- log / pause / resume ---------------------------------------------------------------------


@rules_app.command("log")
def log(
    thread: Annotated[
        str | None, typer.Argument(metavar="[THREAD]", help="Only this thread.")
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only this recent, e.g. 1d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """The rules' audit log, newest first, with the reason of every skip."""
    from socialdesk.cli import output
    from socialdesk.core import rules

    with session() as s:
        entries = rules.log(
            s.ctx, s.db, s.page(page), rule=rule, thread_ref=thread, since=since, limit=limit
        )
    if as_json:
        output.print_json(
            [
                {
                    "at": _when(e.event.at),
                    "run": e.event.run_id,
                    "rule": e.event.rule,
                    "thread": e.number,
                    "outcome": e.event.outcome,
                    "reason": e.event.reason,
                    "actions": e.event.actions.split(),
                    "outbox_id": e.event.outbox_id,
                }
                for e in entries
            ]
        )
        return
    if not entries:
        echo_line("no rule events")
    for e in entries:
        ev = e.event
        why = f" ({_clean(ev.reason)})" if ev.reason else ""
        echo_line(f"{_when(ev.at)} {ev.rule} #{e.number} {ev.outcome} {ev.actions}{why}")


@rules_app.command("pause")
def pause(
    reason: Annotated[str, typer.Option("--reason", help="Why (shown by list and doctor).")] = "",
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Stop every rule of the page until `rules resume` (stored in the database)."""
    from socialdesk.cli import output
    from socialdesk.core import rules

    with session() as s:
        p = rules.pause(s.db, s.page(page), reason=reason, now=s.clock.now())
    if as_json:
        output.print_json({"paused": _pause_json(p)})
        return
    echo_line(f"rules paused: {_clean(p.reason)}")


@rules_app.command("resume")
def resume(as_json: JsonOpt = False, page: PageOpt = None) -> None:
    """Lift the pause (the operator's, or a trip wire's once its cause is dealt with)."""
    from socialdesk.cli import output
    from socialdesk.core import rules

    with session() as s:
        p = rules.resume(s.db, s.page(page))
    if as_json:
        output.print_json({"resumed": _pause_json(p)})
        return
    echo_line("rules resumed" if p is not None else "rules were not paused")
