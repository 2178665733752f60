"""The project's error base and the exit codes of the public CLI (PRODUCT.md §3).

Every layer raises subclasses of :class:`SocialdeskError` carrying a one-line message and a hint
that names the fix. The CLI turns them into one clear line on stderr and the exit code below;
never a traceback (``--debug`` shows one, still redacted).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes of every command."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    AUTH = 3
    """Not authenticated, or the token is invalid."""
    UNAVAILABLE = 4
    """Rate-limited or the Graph API unavailable: try later."""
    PARTIAL = 5
    """Some items of a bulk command failed."""
    REFUSED = 6
    """Refused by platform rules (window closed, private reply used, text too long)."""
    SKIPPED = 7
    """Skipped: another run of the same job holds its lock (``sync`` of the same Page)."""


class SocialdeskError(Exception):
    """Base of every expected failure: a message for the user and a hint naming the fix.

    ``reason`` is a short machine-readable cause (``"window_closed"``, ``"private_reply_used"``…)
    that front ends map to their own advice: core and store hints never name a CLI flag.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.reason = reason

    def __str__(self) -> str:
        return self.message


class UsageError(SocialdeskError):
    """Bad arguments, a bad query, an unknown thread: exit 2."""

    exit_code = ExitCode.USAGE


class ConfigError(SocialdeskError):
    """The config file is malformed or holds an unknown key or a wrong type: exit 2."""

    exit_code = ExitCode.USAGE


class AuthError(SocialdeskError):
    """No token, or the token was rejected: exit 3."""

    exit_code = ExitCode.AUTH


class UnavailableError(SocialdeskError):
    """Throttled or the API is down: exit 4."""

    exit_code = ExitCode.UNAVAILABLE


class RefusedError(SocialdeskError):
    """A platform rule forbids the action (checked locally or by the API): exit 6."""

    exit_code = ExitCode.REFUSED


class StoreError(SocialdeskError):
    """The database cannot be opened, migrated or is locked."""

    exit_code = ExitCode.FAILURE


class PartialFailure(SocialdeskError):
    """Some items of a bulk command failed: exit 5."""

    exit_code = ExitCode.PARTIAL
