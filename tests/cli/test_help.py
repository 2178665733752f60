"""Every command of the app (whoever wrote it) has help, reachable with -h and --help."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from socialdesk.cli import app

runner = CliRunner()


def _walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    commands = getattr(command, "commands", None) or {}
    for name, sub in sorted(commands.items()):
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, (*path, name))


ALL_COMMANDS = list(_walk(get_command(app)))


def test_the_walk_finds_the_documented_commands() -> None:
    """The walk reaches nested groups (so the parametrised test covers them)."""
    found = {" ".join(p) for p in ALL_COMMANDS}
    for expected in (
        "init",
        "auth login",
        "auth status",
        "auth logout",
        "pages",
        "doctor",
        "state export",
        "state import",
        "sandbox serve",
        "demo",
    ):
        assert expected in found


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "socialdesk")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    """`… --help` and `… -h` exit 0 with a usage line and a description."""
    for flag in ("--help", "-h"):
        result = runner.invoke(app, [*path, flag])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Usage: ")
        body = result.stdout.split("\n", 2)[-1].strip()
        assert body, f"{' '.join(path)} has no description"
