"""cli/app.py: error lines and exit codes, --version, --debug, the bare command."""

from __future__ import annotations

import sys

import pytest
import typer
from typer.testing import CliRunner

from socialdesk import __version__
from socialdesk.cli import app
from socialdesk.cli.app import EXIT_CODES_HELP, SocialdeskGroup, report_error
from socialdesk.errors import (
    AuthError,
    ConfigError,
    PartialFailure,
    RefusedError,
    SocialdeskError,
    StoreError,
    UnavailableError,
    UsageError,
)

runner = CliRunner()


def _app_raising(exc: BaseException) -> typer.Typer:
    """A throwaway app with the same root group and one command that raises ``exc``."""
    test_app = typer.Typer(cls=SocialdeskGroup)

    @test_app.callback()
    def root(debug: bool = typer.Option(False, "--debug")) -> None:
        """Root."""

    @test_app.command()
    def boom() -> None:
        """Raise."""
        raise exc

    @test_app.command()
    def fine(n: int = typer.Option(..., "--n")) -> None:
        """Needs --n."""

    return test_app


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (SocialdeskError("plain failure"), 1),
        (UsageError("bad argument", "try --help"), 2),
        (ConfigError("config.toml: unknown key 'x'"), 2),
        (AuthError("token invalid", "run `socialdesk auth login`"), 3),
        (UnavailableError("throttled"), 4),
        (PartialFailure("2 of 5 failed"), 5),
        (RefusedError("window closed"), 6),
        (StoreError("database is locked"), 1),
    ],
)
def test_errors_map_to_exit_codes(exc: SocialdeskError, code: int) -> None:
    """Each error class exits with its documented code and prints error:/hint: on stderr."""
    result = runner.invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {exc.message}\n")
    if exc.hint:
        assert f"hint: {exc.hint}\n" in result.stderr
    assert "Traceback" not in result.stderr


def test_graph_errors_keep_their_exit_codes() -> None:
    """The api layer's typed errors reach the user with their mapped exit code (3 for 190)."""
    from socialdesk.api.errors import classify

    err = classify(400, {"error": {"code": 190, "message": "Invalid OAuth access token."}})
    result = runner.invoke(_app_raising(err), ["boom"])
    assert result.exit_code == 3 and result.stderr.startswith("error: ")


def test_error_text_is_sanitised() -> None:
    """Escape sequences and bidi controls in an error message never reach stderr."""
    result = runner.invoke(
        _app_raising(UsageError("unknown thread \x1b[2J\u202eevil", "hint \x1b]0;x\x07")), ["boom"]
    )
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "⟨U+202E⟩" in result.stderr


def test_unexpected_exception_is_one_line_exit_1() -> None:
    """A bug prints one error line and a --debug hint, no traceback, exit 1."""
    result = runner.invoke(_app_raising(ZeroDivisionError("division by zero")), ["boom"])
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "error: unexpected failure: ZeroDivisionError: division by zero"
    )
    assert "--debug" in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_a_redacted_traceback() -> None:
    """--debug adds the traceback, with secrets masked."""
    from socialdesk.api.redact import register_secret

    secret = "EAAsecretTOKENvalue123"
    register_secret(secret)
    result = runner.invoke(
        _app_raising(RuntimeError(f"failed GET /me?access_token={secret}")), ["--debug", "boom"]
    )
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert secret not in result.stderr


def test_keyboard_interrupt_exits_130() -> None:
    """Ctrl-C is a quiet exit 130."""
    result = runner.invoke(_app_raising(KeyboardInterrupt()), ["boom"])
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_typer_usage_errors_keep_exit_2() -> None:
    """A missing option or unknown command is Typer's usage error, exit 2."""
    assert runner.invoke(_app_raising(ValueError()), ["fine"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_version() -> None:
    """--version prints the version and exits 0."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"socialdesk {__version__}"


def test_help_lists_exit_codes() -> None:
    """The top-level help documents every exit code."""
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    assert " ".join(EXIT_CODES_HELP.split()) in flat
    for code in range(7):
        assert f"{code} " in flat


def test_bare_command_mentions_the_inbox_and_alternatives() -> None:
    """`socialdesk` alone opens the inbox; without a terminal it says so and points to
    list/demo (exit 2)."""
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "needs a terminal" in result.stderr
    assert "socialdesk list" in result.stderr and "socialdesk demo" in result.stderr


def test_bare_command_imports_tui_lazily() -> None:
    """Only the bare command imports socialdesk.tui."""
    sys.modules.pop("socialdesk.tui", None)
    runner.invoke(app, ["--version"])
    assert "socialdesk.tui" not in sys.modules
    runner.invoke(app, [])
    assert "socialdesk.tui" in sys.modules


def test_report_error_returns_code(capsys: pytest.CaptureFixture[str]) -> None:
    """report_error prints both lines and returns the exit code."""
    assert report_error(RefusedError("no", "because")) == 6
    assert capsys.readouterr().err == "error: no\nhint: because\n"


def test_main_builds_only_the_invoked_command() -> None:
    """main() hands Typer only the named command; its help equals the full tree's, and the
    full registration is back afterwards."""
    from typer.main import get_command

    from socialdesk.cli import command_names, invoked_name, only_command

    full = get_command(app)
    names = command_names(app)
    assert names is not None and sorted(names) == sorted(full.commands)  # type: ignore[attr-defined]
    before = (list(app.registered_commands), list(app.registered_groups))
    for name in names:
        expected = runner.invoke(app, [name, "--help"]).stdout
        with only_command(app, ["--debug", name, "--help"]) as trimmed:
            assert trimmed
            built = get_command(app)
            assert list(built.commands) == [name]  # type: ignore[attr-defined]
            assert runner.invoke(app, [name, "--help"]).stdout == expected
    assert (app.registered_commands, app.registered_groups) == before
    assert invoked_name(["--version"]) == "" and invoked_name(["--help", "stats"]) is None
    with only_command(app, ["no-such-command"]) as trimmed:
        assert not trimmed


def test_cli_start_loads_no_pydantic_textual_or_httpx(isolated_home: object) -> None:
    """`python -m socialdesk stats --json` and `list --json` load no pydantic (Typer ≥ 0.29
    pulls it in), Textual or httpx: these are the start-up budget's big imports."""
    import os
    import subprocess

    code = (
        "import sys\n"
        "from socialdesk.cli import main\n"
        "sys.argv = ['socialdesk'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'pydantic', 'textual', 'httpx'}\n"
        "sys.stderr.write('HEAVY=' + ','.join(sorted(heavy)) + '\\n')\n"
    )
    for args in (["stats", "--json"], ["list", "--json"], ["--version"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            env={**os.environ},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "HEAVY=\n" in proc.stderr, (args, proc.stderr)
