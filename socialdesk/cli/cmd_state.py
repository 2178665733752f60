"""``socialdesk state export [FILE]`` / ``state import FILE``: operator state as JSON lines.

Operator state (local numbers, statuses, tags, notes, the outbox, watermarks) is the only data
that cannot be re-fetched; this pair moves it between machines or keeps a backup. The export
file is written 0600, atomically; without FILE (or with ``-``) the export goes to stdout. The
import never silently undoes newer state: it shows what changes per thread and keeps the newer
value per thread unless ``--force``; ``--dry-run`` writes nothing (``core.state_transfer``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from socialdesk.cli.app import app

state_app = typer.Typer(
    name="state",
    help="Export or import operator state (tags, statuses, notes, outbox, watermarks).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(state_app, name="state")


@state_app.command("export")
def export(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Write here (0600, atomically); '-' or nothing: stdout.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write operator state as JSON lines (a damaged database: what can still be read)."""
    from socialdesk.cli.common import session, warn_line
    from socialdesk.core.state_transfer import export_text
    from socialdesk.errors import PartialFailure
    from socialdesk.format import plural
    from socialdesk.paths import atomic_write

    with session() as s:
        result = export_text(s.ctx)
    for problem in result.problems:
        warn_line(problem)
    if file is None or str(file) == "-":
        sys.stdout.write(result.text)
        sys.stdout.flush()
        typer.echo(f"exported {result.rows} rows", err=True)
    else:
        atomic_write(file, result.text.encode("utf-8"), mode=0o600)
        typer.echo(f"Exported {result.rows} rows to {file}.")
    if result.problems:
        raise PartialFailure(
            f"the database is damaged: {plural(len(result.problems), 'part')} could not be read"
            " (above)",
            hint="keep this export; then move the database away or restore it from a backup, "
            "and `state import` the export into the new one",
        )


@state_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="A file written by `state export` ('-' reads stdin).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Take the file's state even where the state here is newer."),
    ] = False,
) -> None:
    """Read operator state written by `state export`, showing what changes per thread.

    A thread whose state here changed after the file's is kept as it is here (the newer value
    wins) unless --force; --dry-run shows the changes and writes nothing.
    """
    from socialdesk.cli.common import echo_line, session
    from socialdesk.core.state_transfer import apply_import, plan_import
    from socialdesk.errors import UsageError
    from socialdesk.format import iso, plural
    from socialdesk.sanitize import clean

    if str(file) == "-":
        source = sys.stdin.read()
    else:
        from socialdesk.paths import MIB, read_bounded_text

        try:
            # Bounded, regular files only (a FIFO or a link to /dev/zero must not hang).
            source = read_bounded_text(file, 512 * MIB, "the state file")
        except FileNotFoundError:
            raise UsageError(f"no such file: {file}") from None
    with session() as s:
        plan = plan_import(s.db, source, force=force)
        for t in plan.threads:
            name = f"#{t.number}" if t.number is not None else clean(t.thread_id, single_line=True)
            what = "; ".join(t.changes)
            if t.kept_here:
                echo_line(
                    f"{name}: kept as it is here (changed {iso(t.here_changed_at)}, after the "
                    f"file's): not {what}; --force takes the file's"
                )
            else:
                echo_line(f"{name}: {what}")
        if dry_run:
            echo_line(
                f"dry run: {plural(plan.rows, 'row')} would be imported, "
                f"{plural(len(plan.changed), 'thread')} would change; nothing was written"
            )
            return
        count = apply_import(s.db, plan)
    kept = f", {plural(len(plan.kept), 'thread')} kept as here (newer)" if plan.kept else ""
    echo_line(
        f"Imported {plural(count, 'row')}; {plural(len(plan.changed), 'thread')} changed{kept}."
    )
