"""``socialdesk ack``: bulk acknowledgements (PRODUCT.md §6).

Registered on the root app; the work is in ``core.ack`` (the plan and its file: ``core.ack_plan``).
Before planning, the outbox is recovered and reconciled (so a re-run after a kill never sends a
second copy). ``--dry-run`` prints the plan, ``--plan FILE`` writes it (into a directory that
must exist), ``--apply FILE`` sends a written plan; otherwise the plan is sent after a
confirmation on a terminal (``--yes`` skips it; without a terminal ``--yes`` is required).
Snoozed threads are left out unless ``--snoozed``. Ctrl-C or SIGTERM while sending prints the
summary so far (JSON with ``--json``) and exits 130 or 143.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, PageOpt, echo_line, note_line, session

if TYPE_CHECKING:
    from socialdesk.api.client import GraphClient
    from socialdesk.core.ack import AckReport, Plan
    from socialdesk.core.session import Session


def _print_plan(plan: Plan, *, err: bool = False) -> None:
    """The plan, one line per thread and a count line (on stderr with ``err``)."""
    from socialdesk.cli.render import plan_lines

    say = note_line if err else echo_line
    for line in plan_lines(plan):
        say(line)


def _summary(report: AckReport) -> str:
    from socialdesk.cli.render import skip_summary

    by_reason = {r.label: n for r, n in report.skipped_by_reason().items()}
    parts = [f"{len(report.sent)} sent"]
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped ({skip_summary(by_reason)})")
    else:
        parts.append("0 skipped")
    parts.append(f"{len(report.failed)} failed")
    if report.unknown:
        parts.append(f"{len(report.unknown)} unknown")
    tail = "; interrupted" if report.interrupted else ""
    return "ack: " + ", ".join(parts) + tail


def _report(report: AckReport, as_json: bool) -> None:
    from socialdesk.cli import output, views
    from socialdesk.sanitize import clean

    if as_json:
        output.print_json(views.ack_report(report))
        return
    echo_line(_summary(report))
    for number, reason in report.failed:
        note_line(f"failed #{number}: {clean(reason, single_line=True)}")
    for number, reason in report.unknown:
        note_line(f"unknown #{number}: {clean(reason, single_line=True)}")


@app.command()
def ack(
    query: Annotated[
        str | None,
        typer.Argument(help="Which threads, e.g. 'is:awaiting older:1h is:dm' (see list --help)."),
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
    snoozed: Annotated[
        bool, typer.Option("--snoozed", help="Acknowledge snoozed threads too.")
    ] = False,
    rate: Annotated[
        float, typer.Option("--rate", min=0.01, help="Sends per second at most (default 5).")
    ] = 5.0,
    as_json: JsonOpt = False,
    page: PageOpt = None,
) -> None:
    """Acknowledge many threads at once with a template (never outside the 24-hour window)."""
    from socialdesk.core import ack as core_ack
    from socialdesk.core import ack_plan
    from socialdesk.errors import UsageError

    sending = _check_arguments(query, template, plan_file, apply_file, dry_run, done, snoozed, yes)
    with session() as s:
        plan = ack_plan.read_plan(apply_file, s.db) if apply_file is not None else None
        page_cfg = s.page(page if page is not None or plan is None else plan.page_id)
        if plan is not None and page_cfg.id != plan.page_id:
            raise UsageError(f"the plan is for page {plan.page_id}, not {page_cfg.id}")
        client = core_ack.settle_outbox(s.ctx, s.db, page_cfg, need_client=sending)
        if plan is None:
            assert query is not None and template is not None
            plan = core_ack.plan_for(
                s.ctx,
                s.db,
                page_cfg,
                query=query,
                template=template,
                done=done,
                include_snoozed=snoozed,
            )
        if plan_file is not None:
            ack_plan.write_plan(plan_file, plan, s.db)
        if not sending:
            _show_plan(plan, plan_file, as_json)
            return
        assert client is not None
        _send(s, client, plan, rate=rate, yes=yes, as_json=as_json)


def _check_arguments(
    query: str | None,
    template: str | None,
    plan_file: Path | None,
    apply_file: Path | None,
    dry_run: bool,
    done: bool,
    snoozed: bool,
    yes: bool,
) -> bool:
    """Refuse contradicting or missing options before anything is read; whether it sends."""
    from socialdesk.core import ack_plan
    from socialdesk.errors import UsageError

    if apply_file is not None:
        if query is not None or template is not None or done or snoozed:
            raise UsageError(
                "--apply sends the plan as written: QUERY, --template, --done and --snoozed "
                "come from it"
            )
        if plan_file is not None:
            raise UsageError("give either --plan or --apply, not both")
    elif query is None or template is None:
        raise UsageError(
            "ack needs a QUERY and --template NAME (or --apply FILE)",
            hint="e.g. socialdesk ack 'is:awaiting is:dm' --template thanks --dry-run",
        )
    if plan_file is not None:
        ack_plan.check_plan_path(plan_file)
    sending = not dry_run and plan_file is None
    if sending and not yes and not sys.stdin.isatty():
        raise UsageError(
            "refusing to send without confirmation: stdin is not a terminal",
            hint="pass --yes to send, or --dry-run to look first",
        )
    return sending


def _show_plan(plan: Plan, plan_file: Path | None, as_json: bool) -> None:
    """A plan that is not sent now: JSON, or its lines and where it was written."""
    from socialdesk.cli import output, views

    if as_json:
        output.print_json(views.ack_plan(plan))
        return
    _print_plan(plan)
    if plan_file is not None:
        echo_line(f"plan written to {plan_file}; send it with --apply {plan_file}")
    elif plan.items:
        note_line(
            "next: the same command without --dry-run sends it (asks first); or --plan FILE "
            "to review it, then --apply FILE"
        )


def _send(
    s: Session,
    client: GraphClient,
    plan: Plan,
    *,
    rate: float,
    yes: bool,
    as_json: bool,
) -> None:
    """Confirm (unless ``yes``), send the plan, report; exit 130/143 when interrupted."""
    from socialdesk.cli import output
    from socialdesk.cli.serving import interrupts_as_keyboard
    from socialdesk.core import ack as core_ack
    from socialdesk.errors import PartialFailure
    from socialdesk.format import plural

    report = core_ack.AckReport()
    if not plan.items:
        report.skipped.extend(plan.skipped)
        _report(report, as_json)
        return
    if not yes:
        # The plan and the question go to stderr: stdout keeps only the outcome (pure JSON
        # with --json), and a redirected stdout cannot hide the question.
        _print_plan(plan, err=True)
        question = f"Send {plural(len(plan.items), 'acknowledgement')}?"
        if not typer.confirm(question, default=False, err=True):
            report.cancelled = True
            if as_json:
                _report(report, as_json)
            else:
                echo_line("ack: cancelled; nothing sent")
            return
    with (
        interrupts_as_keyboard() as signals,
        output.progress("acknowledging", total=len(plan.items)) as bar,
    ):
        try:
            core_ack.apply_plan(
                s.db,
                client,
                plan,
                clock=s.clock,
                rate=rate,
                report=report,
                progress=lambda done_n, total: bar.update(completed=done_n),
            )
        except KeyboardInterrupt:
            report.interrupted = True
    _report(report, as_json)
    if report.interrupted:
        raise typer.Exit(signals.exit_code)
    if report.stopped is not None:
        raise report.stopped
    if report.failed or report.unknown:
        n = len(report.failed) + len(report.unknown)
        raise PartialFailure(
            f"{plural(n, 'acknowledgement')} not confirmed",
            hint="see `socialdesk outbox` for each one",
        )
