"""The root Typer application and the error handling shared by every command.

Each command group lives in ``cli/cmd_<group>.py`` and registers itself on :data:`app`
(``from socialdesk.cli.app import app`` then ``@app.command()`` or ``app.add_typer(...)``);
``cli/__init__.py`` imports every ``cmd_*`` module and runs :data:`app` from ``main()``.

Errors are handled once, around the whole command tree (:class:`SocialdeskGroup`), so commands
written by anyone get the same behaviour without opting in:

- a :class:`~socialdesk.errors.SocialdeskError` prints ``error: <message>`` and ``hint: <hint>``
  (sanitised, secrets redacted) on stderr and exits with the error's exit code; an error with a
  machine ``reason`` gets this front end's advice (:func:`advice`: the options to use), since
  core and store hints never name a flag;
- a reader that goes away (``socialdesk doctor | head -1``) ends the command quietly;
- Ctrl-C exits 130 quietly;
- anything unexpected prints one line and "run with --debug", exit 1 (``--debug`` adds a
  redacted traceback);
- usage errors from Typer itself keep their exit code 2.

:func:`run_command` / :func:`handle_errors` apply the same handling to code run outside the
command tree (threads, the demo's serving loop).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from socialdesk import __version__
from socialdesk.errors import ExitCode, Reason, SocialdeskError

try:  # Typer ≥ 0.20 vendors Click; older versions depend on it.
    from typer._click.exceptions import ClickException as _ClickException
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import ClickException as _ClickException  # type: ignore[import-not-found,no-redef]

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 failure; 2 usage error; 3 not authenticated or token invalid; "
    "4 rate-limited or the Graph API unavailable (try later); 5 partial success (some items of "
    "a bulk command failed); 6 refused by platform rules (window closed, private reply already "
    "used, text too long); 130 interrupted."
)

ENV_HELP = (
    "Environment: SOCIALDESK_HOME keeps every file in one directory; SOCIALDESK_TOKEN overrides "
    "the stored page token; SOCIALDESK_GRAPH_URL overrides the Graph API base URL; "
    "SOCIALDESK_APP_SECRET enables appsecret_proof; NO_COLOR turns colour off."
)

_state: dict[str, bool] = {"debug": False}


def debug_enabled() -> bool:
    """Whether ``--debug`` (or ``SOCIALDESK_DEBUG=1``) was given for this run."""
    return _state["debug"] or os.environ.get("SOCIALDESK_DEBUG", "") not in ("", "0")


def _redact(text: str) -> str:
    try:
        from socialdesk.api.redact import redact
    except ImportError:  # pragma: no cover - api is part of the package; stay safe if it is not
        return text
    return redact(text)


def _clean_line(text: str) -> str:
    from socialdesk.sanitize import clean

    return clean(_redact(text), single_line=True)


def _eprint(line: str) -> None:
    # Plain writes, never Rich: error text may hold customer text with markup-like brackets.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


_ADVICE: dict[str, str] = {
    Reason.PRIVATE_ON_DM: "reply without --private",
    Reason.PRIVATE_REPLY_USED: "reply publicly (without --private)",
    Reason.PRIVATE_REPLY_NO_COMMENT: "reply publicly (without --private)",
    Reason.PRIVATE_REPLY_CLOSED: "reply publicly (without --private)",
    Reason.PRIVATE_REPLY_ONE_MESSAGE: "shorten the text instead of --split",
    Reason.PRIVATE_REPLY_ELSEWHERE: "reply publicly (without --private)",
    Reason.PRIVATE_REPLY_BAD_COMMENT: (
        "pass --comment with the id of a customer's comment in this thread "
        "(`socialdesk show N --json` lists them)"
    ),
    Reason.HUMAN_AGENT_NEEDS_PERSON: "answer this thread with `socialdesk reply` instead",
    Reason.TEXT_TOO_LONG: "shorten it, or pass --split to send it as several messages",
    Reason.SNOOZE_TIME: (
        "pass --until with a future time, e.g. --until 2h or --until 'tomorrow 9:00'"
    ),
    Reason.THREAD_OTHER_PAGE: "pass --page with that page to act on it",
    Reason.OUTBOX_OTHER_PAGE: "pass --page with that page",
    Reason.PAGE_UNKNOWN: "pass --page with one of them ({hint})",
    Reason.PAGE_AMBIGUOUS: "pass --page with one of them ({hint})",
    Reason.PLAN_INVALID: "make a new plan with --plan FILE",
    Reason.PLAN_CHANGED: "make a new plan with --plan FILE; edit the template, not the plan",
    Reason.RATE_INVALID: "pass a positive --rate",
    Reason.TEMPLATE_EXISTS: "pass --replace to overwrite it",
}
"""A front-end-neutral error's advice in this front end's words: its options.

``{hint}`` stands for the error's own (neutral) hint.
"""


def advice(exc: SocialdeskError) -> str | None:
    """The hint the command line prints for ``exc``: flag advice for its reason, else its own."""
    template = _ADVICE.get(exc.reason or "")
    if template is None:
        return exc.hint
    return template.format(hint=exc.hint or "")


def report_error(exc: SocialdeskError) -> int:
    """Print ``exc`` as ``error:``/``hint:`` lines on stderr; return its exit code."""
    _eprint(f"error: {_clean_line(exc.message)}")
    hint = advice(exc)
    if hint:
        _eprint(f"hint: {_clean_line(hint)}")
    if debug_enabled():
        _print_traceback(exc)
    return int(exc.exit_code)


def _print_traceback(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    from socialdesk.sanitize import clean

    sys.stderr.write(clean(_redact(text)))
    sys.stderr.flush()


def report_unexpected(exc: BaseException) -> int:
    """Print one line for an unexpected exception (traceback only with --debug); return 1."""
    summary = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    _eprint(f"error: unexpected failure: {_clean_line(summary)}")
    if debug_enabled():
        _print_traceback(exc)
    else:
        _eprint("hint: run with --debug for details, and report it if it persists")
    return int(ExitCode.FAILURE)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn the exceptions of the block into the CLI's messages and exit codes (``typer.Exit``)."""
    try:
        yield
    except (_ClickException, typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:
        raise  # the reader went away (`| head`): Typer's main leaves quietly
    except SocialdeskError as exc:
        raise typer.Exit(report_error(exc)) from None
    except KeyboardInterrupt:
        _eprint("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        from socialdesk.core.context import storage_failure

        failure = storage_failure(exc)
        if failure is not None:
            raise typer.Exit(report_error(failure)) from None
        raise typer.Exit(report_unexpected(exc)) from None


def run_command(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`handle_errors` (the root group already applies it to commands)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with handle_errors():
            return fn(*args, **kwargs)

    return wrapper


def fail(message: str, hint: str | None = None, code: ExitCode = ExitCode.FAILURE) -> NoReturn:
    """Stop the command with ``error:``/``hint:`` lines and ``code``."""
    err = SocialdeskError(message, hint)
    err.exit_code = code
    raise err


HELP_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Start here", ("demo", "inbox", "init", "auth", "pages", "doctor")),
    ("Read", ("sync", "list", "count", "show")),
    ("Reply and triage", ("reply", "done", "snooze", "reopen", "tag", "note", "hide", "unhide")),
    ("In bulk", ("ack", "outbox", "templates", "rules")),
    ("Statistics and data", ("stats", "state", "sandbox")),
)
"""How ``--help`` groups the commands, in the order of a working day."""


class SocialdeskGroup(TyperGroup):
    """The root command group: every subcommand runs inside :func:`handle_errors`."""

    def invoke(self, ctx: Any) -> Any:
        if ctx.params.get("debug"):
            _state["debug"] = True
        with handle_errors():
            return super().invoke(ctx)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in :data:`HELP_SECTIONS` (any other one under "More")."""
        commands = {
            name: cmd
            for name in self.list_commands(ctx)
            if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden
        }
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name in commands)
        placed: set[str] = set()
        sections = [*HELP_SECTIONS, ("More", tuple(commands))]
        for title, names in sections:
            rows = [
                (n, commands[n].get_short_help_str(limit))
                for n in names
                if n in commands and n not in placed
            ]
            placed.update(n for n, _ in rows)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


app = typer.Typer(
    name="socialdesk",
    cls=SocialdeskGroup,
    help=(
        "A terminal-first social inbox for a Facebook Page: Messenger conversations and comments, "
        "bulk acknowledgements and response statistics.\n\n"
        "Without a command it opens the full-screen inbox on the configured page; "
        "`socialdesk demo` tries everything on the built-in sandbox."
    ),
    epilog=f"{EXIT_CODES_HELP}\n\n{ENV_HELP}",
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"socialdesk {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show a (redacted) traceback when something fails."),
    ] = False,
) -> None:
    """Without a command: open the inbox."""
    _state["debug"] = debug
    if debug:
        _debug_logging()
    if ctx.invoked_subcommand is not None:
        return
    _open_inbox()


def _debug_logging() -> None:
    """Log everything at DEBUG on stderr, through the redacting filter (never a token)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    try:
        from socialdesk.api.redact import RedactingFilter, install_log_filter
    except ImportError:  # pragma: no cover - api is part of the package
        pass
    else:
        handler.addFilter(RedactingFilter())
        install_log_filter()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def _open_inbox() -> None:
    # The inbox (Textual) is imported only here, so every other command starts without it.
    import socialdesk.tui as tui

    raise typer.Exit(tui.run_inbox())
