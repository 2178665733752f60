"""``socialdesk state export [FILE]`` / ``state import FILE``: operator state as JSON lines.

Operator state (local numbers, statuses, tags, notes, the outbox, watermarks) is the only data
that cannot be re-fetched; this pair moves it between machines or keeps a backup. The export
file is written 0600, atomically; without FILE (or with ``-``) the export goes to stdout.
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
    """Write operator state as JSON lines."""
    from socialdesk.cli.common import session
    from socialdesk.core.state_transfer import export_text
    from socialdesk.paths import atomic_write

    with session() as s:
        text, count = export_text(s.db, now=s.clock.now())
    if file is None or str(file) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        typer.echo(f"exported {count} rows", err=True)
        return
    atomic_write(file, text.encode("utf-8"), mode=0o600)
    typer.echo(f"Exported {count} rows to {file}.")


@state_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="A file written by `state export` ('-' reads stdin).")
    ],
) -> None:
    """Read operator state written by `state export`; rows with the same key are replaced."""
    from socialdesk.cli.common import session
    from socialdesk.core.state_transfer import import_text
    from socialdesk.errors import UsageError

    if str(file) == "-":
        source = sys.stdin.read()
    else:
        try:
            source = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"no such file: {file}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{file} is not UTF-8 text") from None
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    with session() as s:
        count = import_text(s.db, source)
    typer.echo(f"Imported {count} rows.")
