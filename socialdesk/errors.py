"""The project's error base and the exit codes of the public CLI (PRODUCT.md §3).

Every layer raises subclasses of :class:`SocialdeskError` carrying a one-line message and a hint
that names the fix. The CLI turns them into one clear line on stderr and the exit code below;
never a traceback (``--debug`` shows one, still redacted).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


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


class Reason(StrEnum):
    """Machine causes of errors that a front end words in its own terms (flags, keys, buttons).

    Core and store attach one to an error whose fix depends on the front end; the CLI maps it to
    flag advice (``cli/app.py``), the inbox to its own words. Values are stable.
    """

    PRIVATE_ON_DM = "private_on_dm"
    """A private reply was asked for a Messenger thread."""
    PRIVATE_REPLY_USED = "private_reply_used"
    """The comment's one private reply is already used (or in flight)."""
    PRIVATE_REPLY_NO_COMMENT = "private_reply_no_comment"
    """The comment thread holds no customer comment to answer privately."""
    PRIVATE_REPLY_CLOSED = "private_reply_closed"
    IG_REPLY_TO_HIDDEN = "ig_reply_to_hidden"
    """Instagram: "You cannot reply to hidden comments" (unhide first)."""
    """The private reply's 7 days have passed."""
    PRIVATE_REPLY_ONE_MESSAGE = "private_reply_one_message"
    """A private reply cannot be split into several messages."""
    PRIVATE_REPLY_ELSEWHERE = "private_reply_elsewhere"
    """Graph shows the comment already answered privately (Meta's inbox, another tool)."""
    PRIVATE_REPLY_BAD_COMMENT = "private_reply_bad_comment"
    """The comment named for a private reply is not a customer comment of the thread."""
    WINDOW_CLOSED = "window_closed"
    """The Messenger reply window is closed."""
    NO_CUSTOMER_MESSAGE = "no_customer_message"
    """The customer never wrote: no window ever opened."""
    HUMAN_AGENT_NEEDS_PERSON = "human_agent_needs_person"
    """Only a reply a person wrote may use HUMAN_AGENT (bulk acknowledgements may not)."""
    HUMAN_AGENT_PERMISSION = "human_agent_permission"
    """The app lacks the Human Agent permission the HUMAN_AGENT tag needs."""
    TEXT_EMPTY = "text_empty"
    TEXT_TOO_LONG = "text_too_long"
    """Over the 2,000-character limit (it may be split into several messages)."""
    TEXT_BIDI = "text_bidi"
    TEXT_CONTROL = "text_control"
    SNOOZE_TIME = "snooze_time"
    """A snooze time is missing, unreadable or in the past."""
    THREAD_UNKNOWN = "thread_unknown"
    THREAD_OTHER_PAGE = "thread_other_page"
    """The thread belongs to another page than the one acted on."""
    PAGE_UNKNOWN = "page_unknown"
    PAGE_AMBIGUOUS = "page_ambiguous"
    """Several pages are configured and none is the default."""
    NO_PAGE = "no_page"
    """No page is configured."""
    OUTBOX_OTHER_PAGE = "outbox_other_page"
    OUTBOX_NOT_RESENDABLE = "outbox_not_resendable"
    PLAN_INVALID = "plan_invalid"
    """The ack plan file is unreadable, not a plan, or of another format."""
    PLAN_CHANGED = "plan_changed"
    """The ack plan file was edited after it was written."""
    PLAN_OTHER_DATABASE = "plan_other_database"
    PLAN_OTHER_PAGE = "plan_other_page"
    RATE_INVALID = "rate_invalid"
    NO_TOKEN = "no_token"
    TOKEN_FROM_ENV = "token_from_env"
    """The rejected token came from ``SOCIALDESK_TOKEN``."""
    TAG_INVALID = "tag_invalid"
    STATE_CONFLICT = "state_conflict"
    """Importing operator state would overwrite newer local state."""
    HOME_MISSING = "home_missing"
    """``SOCIALDESK_HOME`` names a directory that does not exist."""
    NOT_A_DEMO_HOME = "not_a_demo_home"
    VIEW_UNKNOWN = "view_unknown"
    TEMPLATE_EXISTS = "template_exists"


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
