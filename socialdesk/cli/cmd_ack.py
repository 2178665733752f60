"""``socialdesk ack``: bulk acknowledgements (PRODUCT.md §6).

Registered on the root app; the work is in ``core.ack``. Before planning, the outbox is recovered
and reconciled (so a re-run after a kill never sends a second copy). ``--dry-run`` prints the plan,
``--plan FILE`` writes it, ``--apply FILE`` sends a written plan; otherwise the plan is sent after
a confirmation on a terminal (``--yes`` skips it; without a terminal ``--yes`` is required).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.cmd_reply import JsonOpt, PageOpt, echo_line, note_line

if TYPE_CHECKING:
    from socialdesk.core.ack import AckReport, Plan


def _plan_lines(plan: Plan) -> list[str]:
    from socialdesk.sanitize import clean

    lines = []
    for it in plan.items:
        who = clean(it.customer_name or it.customer_id, single_line=True)
        text = clean(it.text, single_line=True)
        lines.append(f"#{it.number:<5} {who[:24]:<24} {it.channel:<8} {it.kind!s:<15} {text}")
    return lines


def _skip_summary(counts: dict[str, int]) -> str:
    from socialdesk.sanitize import clean

    return ", ".join(f"{n} {clean(r, single_line=True)}" for r, n in sorted(counts.items()))


def _plan_json(plan: Plan) -> dict[str, object]:
    return {
        "plan_id": plan.plan_id,
        "page_id": plan.page_id,
        "query": plan.query,
        "template": plan.template,
        "done": plan.done,
        "items": [
            {
                "thread": it.number,
                "thread_id": it.thread_id,
                "customer": {"id": it.customer_id, "name": it.customer_name},
                "channel": it.channel,
                "send_kind": str(it.kind),
                "text": it.text,
            }
            for it in plan.items
        ],
        "skipped": [
            {"thread": s.number, "thread_id": s.thread_id, "reason": s.reason} for s in plan.skipped
        ],
    }


def _print_plan(plan: Plan, *, err: bool = False) -> None:
    """The plan, one line per thread and a count line (on stderr with ``err``)."""
    say = note_line if err else echo_line
    for line in _plan_lines(plan):
        say(line)
    counts: dict[str, int] = {}
    for s in plan.skipped:
        counts[s.reason] = counts.get(s.reason, 0) + 1
    tail = f"; skipped {len(plan.skipped)} ({_skip_summary(counts)})" if plan.skipped else ""
    say(f"plan: {len(plan.items)} to send{tail}")


def _summary(report: AckReport) -> str:
    parts = [f"{len(report.sent)} sent"]
    by_reason = report.skipped_by_reason()
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped ({_skip_summary(by_reason)})")
    else:
        parts.append("0 skipped")
    parts.append(f"{len(report.failed)} failed")
    if report.unknown:
        parts.append(f"{len(report.unknown)} unknown")
    return "ack: " + ", ".join(parts)


@app.command()
def ack(
    query: Annotated[
        str | None,
        typer.Argument(help="Which threads, e.g. 'is:awaiting older:1h is:dm' (see README)."),
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="The template to send (see `templates`).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; send nothing.")
    ] = False,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="Write the plan to FILE (sends nothing).")
    ] = None,
    apply_file: Annotated[
        Path | None, typer.Option("--apply", help="Send exactly the plan in FILE.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    done: Annotated[
        bool, typer.Option("--done", help="Also mark acknowledged threads done.")
    ] = False,
    rate: Annotated[
        float, typer.Option("--rate", min=0.01, help="Sends per second at most (default 5).")
    ] = 5.0,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Acknowledge many threads at once with a template (never outside the 24-hour window)."""
    from socialdesk.cli import output
    from socialdesk.core import ack as core_ack
    from socialdesk.core.session import Session
    from socialdesk.core.templates import get_template
    from socialdesk.errors import AuthError, PartialFailure, UsageError

    if apply_file is not None:
        if query is not None or template is not None or done:
            raise UsageError(
                "--apply sends the plan as written: QUERY, --template and --done come from it"
            )
        if plan_file is not None:
            raise UsageError("give either --plan or --apply, not both")
    elif query is None or template is None:
        raise UsageError(
            "ack needs a QUERY and --template NAME (or --apply FILE)",
            hint="e.g. socialdesk ack 'is:awaiting is:dm' --template thanks --dry-run",
        )
    sending = not dry_run and plan_file is None
    if sending and not yes and not sys.stdin.isatty():
        raise UsageError(
            "refusing to send without confirmation: stdin is not a terminal",
            hint="pass --yes to send, or --dry-run to look first",
        )
    session = Session.open()
    try:
        conn = session.db
        clock = session.clock
        plan: Plan
        if apply_file is not None:
            plan = core_ack.read_plan(apply_file, conn)
            page_cfg = session.page(page if page is not None else plan.page_id)
            if page_cfg.id != plan.page_id:
                raise UsageError(
                    f"the plan is for page {plan.page_id}, not {page_cfg.id}",
                    hint=f"pass --page {plan.page_id} (or no --page)",
                )
        else:
            page_cfg = session.page(page)
        try:
            client = session.client(page_cfg)
        except AuthError:
            if sending:
                raise
            client = None  # a dry run or a plan can be made without a token
        if client is not None:
            core_ack.prepare_run(conn, client, page_cfg.id, clock=clock)
        else:
            from socialdesk.core.outbox import recover

            recover(conn, now=clock.now(), page_id=page_cfg.id)
        if apply_file is None:
            assert query is not None and template is not None
            tpl = get_template(session.config.templates, template)
            plan = core_ack.build_plan(
                conn, page_id=page_cfg.id, query=query, template=tpl, now=clock.now(), done=done
            )
        if plan_file is not None:
            core_ack.write_plan(plan_file, plan, conn)
        if not sending:
            if as_json:
                output.print_json(_plan_json(plan))
            else:
                _print_plan(plan)
                if plan_file is not None:
                    echo_line(f"plan written to {plan_file}; send it with --apply {plan_file}")
            return
        if not plan.items:
            report = core_ack.AckReport(skipped=list(plan.skipped))
        else:
            if not yes:
                # The plan and the question go to stderr: stdout keeps only the outcome (pure
                # JSON with --json), and a redirected stdout cannot hide the question.
                _print_plan(plan, err=True)
                if not typer.confirm(
                    f"Send {len(plan.items)} acknowledgements?", default=False, err=True
                ):
                    if as_json:
                        output.print_json({**core_ack.AckReport().as_dict(), "cancelled": True})
                    else:
                        echo_line("ack: cancelled; nothing sent")
                    return
            assert client is not None
            with output.progress("acknowledging", total=len(plan.items)) as bar:
                report = core_ack.apply_plan(
                    conn,
                    client,
                    plan,
                    clock=clock,
                    rate=rate,
                    progress=lambda done_n, total: bar.update(completed=done_n),
                )
        if as_json:
            output.print_json(report.as_dict())
        else:
            echo_line(_summary(report))
            from socialdesk.sanitize import clean

            for number, reason in report.failed:
                note_line(f"failed #{number}: {clean(reason, single_line=True)}")
            for number, reason in report.unknown:
                note_line(f"unknown #{number}: {clean(reason, single_line=True)}")
        if report.stopped is not None:
            raise report.stopped
        if report.failed or report.unknown:
            raise PartialFailure(
                f"{len(report.failed) + len(report.unknown)} acknowledgement(s) not confirmed",
                hint="see `socialdesk outbox` for each one",
            )
    finally:
        session.close()
