"""Typed Graph API errors and the one place that maps a Graph error body to them.

:func:`classify` reads ``error.code`` / ``error_subcode`` / ``is_transient`` from the body
(GRAPH_API.md §13) and never the HTTP status or the message text, with two documented exceptions:
a 5xx without a parseable error body is transient, and code 1 carrying "reduce the amount of
data" (the only thing telling it apart from a plain code 1) becomes :class:`ReduceData`.
Every class subclasses a ``socialdesk.errors`` class so the CLI maps it to its exit code.
Messages and reprs are redacted: they never carry the token, the proof or a URL with either.
Raised by ``api/client.py``; caught by core and the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from socialdesk.api.redact import redact
from socialdesk.api.surrogates import scrub
from socialdesk.errors import (
    AuthError,
    RefusedError,
    SocialdeskError,
    UnavailableError,
    UsageError,
)
from socialdesk.models import RateUsage

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80006})
TOKEN_CODES = frozenset({190, 102})
TRANSIENT_CODES = frozenset({1, 2, 1200})
REFUSED_CODES = frozenset({230, 551, 368})
REFUSED_PAIRS = frozenset(
    {
        (10, 2018278),  # outside the allowed window
        (10, 2018065),  # outside the window (legacy)
        (10, 2018108),  # person not receiving messages from you
        (10, 2534022),  # Instagram window (reported)
        (100, 2018292),  # private reply: invalid / used comment_id
        (200, 1545041),  # person not available
        (2, 2018344),  # privacy terms not accepted: retrying never helps
        (4, 2018354),  # marketing message frequency
    }
)
NEEDED_PERMISSIONS = ("pages_messaging", "pages_read_engagement", "pages_manage_metadata")
RELOGIN_HINT = "run `socialdesk auth login` to store a new token"

_PERMISSION_RE = re.compile(
    r"\b((?:pages|instagram|business|ads|read|publish)_[a-z_]+|public_profile|email)\b"
)
_REDUCE_DATA_RE = re.compile(r"reduce the amount of data", re.IGNORECASE)


class GraphError(SocialdeskError):
    """An error answered by (or on the way to) the Graph API.

    Attributes mirror the Graph error envelope; ``request_sent`` says whether the request may
    have reached Meta (always true when a response came back).
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool = False,
        http_status: int | None = None,
        user_msg: str | None = None,
        error_type: str | None = None,
        request_sent: bool = True,
        retry_after: float | None = None,
    ) -> None:
        safe_message = redact(message)
        safe_hint = redact(hint) if hint else None
        super().__init__(safe_message, safe_hint)
        self.code = code
        """``error.code`` (``None`` when the body held no error envelope)."""
        self.subcode = subcode
        """``error.error_subcode``."""
        self.fbtrace_id = fbtrace_id
        """Meta's support id for this failure; quote it in bug reports."""
        self.is_transient = is_transient
        """``error.is_transient`` as the API sent it."""
        self.http_status = http_status
        self.user_msg = redact(user_msg) if user_msg else None
        """``error_user_msg``: Meta's localised explanation for the end user, when present."""
        self.error_type = error_type
        """``error.type`` (``OAuthException``, ``GraphMethodException``…)."""
        self.request_sent = request_sent
        """False only when the request certainly never left (connect failure)."""
        self.retry_after = retry_after
        """Seconds to wait before calling again, when the API said so."""

    def __str__(self) -> str:
        parts = [self.message]
        if self.fbtrace_id:
            parts.append(f"(fbtrace_id {self.fbtrace_id})")
        return redact(" ".join(parts))

    def __repr__(self) -> str:
        return redact(
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, "
            f"subcode={self.subcode!r}, fbtrace_id={self.fbtrace_id!r}, "
            f"http_status={self.http_status!r})"
        )


class TokenInvalid(GraphError, AuthError):
    """The token is expired, revoked or invalid (190, 102): re-authenticate."""


class PermissionDenied(GraphError, AuthError):
    """The token lacks a permission or capability (10, 200–299, 3)."""


class Throttled(GraphError, UnavailableError):
    """A rate limit was hit (4, 17, 32, 341, 613, 80001, 80002, 80006)."""


class TransientError(GraphError, UnavailableError):
    """A temporary failure worth retrying (1, 2, 1200, 5xx, ``is_transient``)."""


class ReduceData(TransientError):
    """Code 1 "Please reduce the amount of data you're asking for": ask for smaller pages."""


class MalformedResponse(TransientError):
    """The response body was not the JSON the client expected (truncated, garbled, missing ids)."""


class PagingLoop(MalformedResponse):
    """A ``next`` link led back to a page already read: the walk stopped before its end."""


class GraphTimeout(TransientError):
    """The request timed out; ``request_sent`` tells whether it may have been processed."""


class GraphConnectionError(TransientError):
    """The connection failed or broke; ``request_sent`` tells whether it may have been processed."""


class PolicyRefused(GraphError, RefusedError):
    """A platform rule refused the action (window closed, private reply used, user unavailable)."""


class InvalidRequest(GraphError, UsageError):
    """A parameter, object id or field was rejected (100 and anything not classified above)."""


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _as_str(value: object) -> str | None:
    # Error messages end up in sync_log and on the terminal: no lone surrogates past here.
    return scrub(value) if isinstance(value, str) and value else None


def permissions_named(text: str) -> list[str]:
    """Permission names (``pages_messaging``…) that an error message mentions, in order."""
    seen: list[str] = []
    for name in _PERMISSION_RE.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def _permission_hint(message: str) -> str:
    named = permissions_named(message)
    if named:
        return f"grant the {', '.join(named)} permission to the app and run `socialdesk auth login`"
    return (
        "make sure the token has the "
        + ", ".join(NEEDED_PERMISSIONS)
        + " permissions and run `socialdesk auth login`"
    )


def _token_hint(subcode: int | None) -> str:
    if subcode == 459:
        return "log in on facebook.com to clear the checkpoint, then " + RELOGIN_HINT
    if subcode == 464:
        return "confirm the Facebook account, then " + RELOGIN_HINT
    if subcode == 492:
        return "the token's user needs a role on the Page; then " + RELOGIN_HINT
    return RELOGIN_HINT


def _when(retry_after: float | None) -> str:
    if retry_after is None or retry_after <= 0:
        return "wait a few minutes and try again"
    minutes = max(1, round(retry_after / 60))
    return f"try again in about {minutes} minute{'s' if minutes != 1 else ''}"


def classify(
    status: int,
    body: object,
    *,
    usage: RateUsage | None = None,
) -> GraphError:
    """The typed error for an HTTP ``status`` and a parsed JSON ``body`` (or ``None``).

    Args:
        status: the HTTP status of the response.
        body: the decoded JSON body; anything without an ``error`` object counts as unparseable.
        usage: the usage headers of the same response, for :attr:`Throttled.retry_after`.
    """
    envelope = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(envelope, Mapping):
        if status >= 500:
            return TransientError(
                f"the Graph API is unavailable (HTTP {status})",
                "wait a few minutes and try again",
                http_status=status,
                is_transient=True,
            )
        return MalformedResponse(
            f"the Graph API answered HTTP {status} without a readable error",
            "try again; if it persists, check the Graph URL (SOCIALDESK_GRAPH_URL)",
            http_status=status,
        )
    return _from_envelope(status, envelope, usage)


def _from_envelope(status: int, error: Mapping[str, Any], usage: RateUsage | None) -> GraphError:
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    raw_message = _as_str(error.get("message")) or "unknown Graph API error"
    is_transient = error.get("is_transient") is True
    label = f"#{code}" if subcode is None else f"#{code}/{subcode}"
    message = f"Graph API error {label}: {raw_message}"
    common: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "fbtrace_id": _as_str(error.get("fbtrace_id")),
        "is_transient": is_transient,
        "http_status": status,
        "user_msg": _as_str(error.get("error_user_msg")),
        "error_type": _as_str(error.get("type")),
    }
    if code in TOKEN_CODES:
        return TokenInvalid(message, _token_hint(subcode), **common)
    if (code, subcode) in REFUSED_PAIRS or code in REFUSED_CODES:
        return PolicyRefused(message, common["user_msg"] or "the platform refused this", **common)
    if code in THROTTLE_CODES:
        retry_after = None
        if usage is not None and usage.regain_access_minutes > 0:
            retry_after = float(usage.regain_access_minutes * 60)
        return Throttled(
            f"rate limited by the Graph API ({label})",
            _when(retry_after),
            retry_after=retry_after,
            **common,
        )
    if code == 10 or code == 3 or (code is not None and 200 <= code <= 299):
        return PermissionDenied(message, _permission_hint(raw_message), **common)
    if code == 1 and _REDUCE_DATA_RE.search(raw_message):
        return ReduceData(message, "socialdesk asks for smaller pages and retries", **common)
    # 100 is a bad parameter whatever else the body says; other unknown codes on a 5xx are
    # server trouble, worth a retry.
    if code in TRANSIENT_CODES or (code != 100 and (is_transient or status >= 500)):
        return TransientError(message, "wait a few minutes and try again", **common)
    hint: str | None = None
    if code == 104 or "appsecret_proof" in raw_message:
        hint = "check the app secret (`socialdesk auth login`) or remove it from the config"
    elif permissions_named(raw_message):
        hint = _permission_hint(raw_message)
    return InvalidRequest(message, hint, **common)
