"""Typed Graph API errors and the one place that maps a Graph error body to them.

:func:`classify` reads ``error.code`` / ``error_subcode`` / ``is_transient`` from the body
(GRAPH_API.md §13) and never the HTTP status or the message text, with documented exceptions where
the text is the only thing telling two cases apart: a 5xx without a parseable error body is
transient; code 1 carrying "reduce the amount of data" becomes :class:`ReduceData`; a bare
code 200 "This person isn't available right now" is a refusal for that recipient
(:class:`RecipientUnavailable`, never a re-login); and a 230 or 200-series message naming a
permission ("Requires pages_messaging permission…") names it in the hint and in
:attr:`GraphError.permission`.
Every class subclasses a ``socialdesk.errors`` class so the CLI maps it to its exit code.
Messages and reprs are redacted: they never carry the token, the proof or a URL with either.
Each error carries a ``reason`` (``"missing_permission"``, ``"private_reply_used"``…) that front
ends map to their own advice. Raised by ``api/client.py``, ``api/paging.py`` and
``api/parse.py``; caught by core and the CLI.
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
from socialdesk.models import REQUIRED_SCOPES, RateUsage

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80006})
TOKEN_CODES = frozenset({190, 102})
TRANSIENT_CODES = frozenset({1, 2, 1200})
REFUSED_CODES = frozenset({551, 368})
REFUSED_PAIRS: dict[tuple[int, int], str] = {
    (10, 2018278): "window_closed",  # outside the allowed window
    (10, 2018065): "window_closed",  # outside the window (legacy)
    (10, 2018108): "recipient_unavailable",  # person not receiving messages from you
    (10, 2534022): "window_closed",  # Instagram window (reported)
    (100, 2018292): "private_reply_used",  # private reply: invalid / used comment_id
    (200, 1545041): "recipient_unavailable",  # person not available
    (2, 2018344): "privacy_terms",  # privacy terms not accepted: retrying never helps
    (4, 2018354): "marketing_frequency",  # marketing message frequency
    # Instagram (INSTAGRAM_API.md §4.5; messages are localised: codes only)
    (100, 2534025): "private_reply_used",  # private reply: > 7 days, already sent, deleted
    (100, 2534014): "ig_no_user",  # not an IGSID / unresolvable comment_id
    (100, 2534029): "refused",  # blocked from sending via the Instagram Messaging API
    (10, 1893063): "refused",  # temporarily restricted from sending messages
}
"""(code, subcode) pairs that are platform refusals, with their machine reason."""
PRIVATE_REPLY_CODES: dict[int, str] = {
    # "Activity already replied to": also after a reply sent from Meta's inbox.
    10900: "private_reply_used",
    10903: "private_reply_refused",  # "This user can't reply to this activity"
}
"""Private-reply refusals integrations see in the wild (research/GRAPH_FIDELITY.md R3)."""
IG_MESSAGES_DISABLED = (200, 2534041)
"""The owner's in-app "Allow access to messages" toggle is off: not a token problem."""
IG_TOGGLE_HINT = (
    "in the Instagram app: Settings > Messages and story replies > Message controls >"
    " Connected tools > Allow access to messages (turn it on); Messenger and comments keep syncing"
)
ADVANCED_ACCESS = (1, 99)
"""``1/99`` "An unknown error occurred": missing permissions or Advanced Access (Messenger
error-codes page); never transient."""
RELOGIN_HINT = "run `socialdesk auth login` to store a new token"

_PERMISSION_RE = re.compile(
    r"\b((?:pages|instagram|business|ads|read|publish)_[a-z_]+|public_profile|email)\b"
)
_REDUCE_DATA_RE = re.compile(r"reduce the amount of data", re.IGNORECASE)
_UNAVAILABLE_RE = re.compile(r"isn.t available right now", re.IGNORECASE)


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
        reason: str | None = None,
        permission: str | None = None,
    ) -> None:
        safe_message = redact(message)
        safe_hint = redact(hint) if hint else None
        super().__init__(safe_message, safe_hint, reason=reason)
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
        self.permission = permission
        """The missing permission the error names (``pages_messaging``…), when it names one."""

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
    """The token lacks a permission or capability (10, 200–299, 3, 230 naming a permission)."""


class AdvancedAccessNeeded(PermissionDenied):
    """``1/99``: a missing permission, Advanced Access or Business Verification (not transient)."""


class ModerateTaskMissing(PermissionDenied):
    """Comments came back without ids: the token's user cannot perform the MODERATE task."""


class Throttled(GraphError, UnavailableError):
    """A rate limit was hit (4, 17, 32, 341, 613, 80001, 80002, 80006)."""


class TransientError(GraphError, UnavailableError):
    """A temporary failure worth retrying (1, 2, 1200, 5xx, ``is_transient``)."""


class ReduceData(TransientError):
    """Code 1 "Please reduce the amount of data you're asking for": ask for smaller pages."""


class MalformedResponse(TransientError):
    """The response body was not the JSON the client expected (truncated, garbled, missing ids)."""


class MalformedItem(MalformedResponse):
    """One item of an answer could not be read (a null id, a field of the wrong type).

    ``field`` names the field and ``raw`` its value as ASCII (cut short): the sync skips and
    reports the item instead of failing the page.
    """

    def __init__(self, message: str, hint: str | None = None, *, field: str, raw: str) -> None:
        super().__init__(message, hint, reason="malformed_item")
        self.field = field
        self.raw = raw


class PagingLoop(MalformedResponse):
    """A ``next`` link led back to a page already read: the walk stopped before its end."""


class PagingLimit(MalformedResponse):
    """A walk passed its page bound (an endless chain of fresh ``next`` cursors)."""


class ForeignLink(MalformedResponse):
    """A ``next`` link pointed at another host: refused, the token never goes there."""


class ResponseTooLarge(MalformedResponse):
    """A response body passed the client's size cap; it was not read further."""


class DeadlineExceeded(GraphError, UnavailableError):
    """A request (a drip of bytes) or a whole operation (a sync) ran past its deadline."""


class GraphTimeout(TransientError):
    """The request timed out; ``request_sent`` tells whether it may have been processed."""


class RequestDeadline(GraphTimeout):
    """The body kept trickling in past the client's per-request deadline."""


class GraphConnectionError(TransientError):
    """The connection failed or broke; ``request_sent`` tells whether it may have been processed."""


class PolicyRefused(GraphError, RefusedError):
    """A platform rule refused the action (window closed, private reply used, user unavailable)."""


class RecipientUnavailable(PolicyRefused):
    """The person cannot receive messages from the Page now (blocked, deactivated…)."""


class PrivateReplyRefused(PolicyRefused):
    """Graph refused a private reply (10900 already replied to, 10903, 100/2018292)."""


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
        + ", ".join(REQUIRED_SCOPES)
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
    named = permissions_named(raw_message)
    if named:
        common["permission"] = named[0]
    if code in TOKEN_CODES:
        return TokenInvalid(message, _token_hint(subcode), reason="token_invalid", **common)
    refused = _refusal(message, raw_message, named, common)
    if refused is not None:
        return refused
    if (code, subcode) == IG_MESSAGES_DISABLED:
        return PermissionDenied(message, IG_TOGGLE_HINT, reason="ig_messages_disabled", **common)
    if (code, subcode) == ADVANCED_ACCESS:
        return AdvancedAccessNeeded(
            message,
            "Meta answers this when the app lacks a permission, Advanced Access or Business"
            " Verification: check the app's permissions (" + ", ".join(REQUIRED_SCOPES) + ")"
            " in the app dashboard, then run `socialdesk auth login`",
            reason="advanced_access",
            **common,
        )
    if code in THROTTLE_CODES:
        retry_after = None
        if usage is not None and usage.regain_access_minutes > 0:
            retry_after = float(usage.regain_access_minutes * 60)
        return Throttled(
            f"rate limited by the Graph API ({label})",
            _when(retry_after),
            retry_after=retry_after,
            reason="throttled",
            **common,
        )
    if code in (10, 3, 230) or (code is not None and 200 <= code <= 299):
        return PermissionDenied(
            message, _permission_hint(raw_message), reason="missing_permission", **common
        )
    if code == 1 and _REDUCE_DATA_RE.search(raw_message):
        return ReduceData(
            message, "socialdesk asks for smaller pages and retries", reason="reduce_data", **common
        )
    # 100 is a bad parameter whatever else the body says; other unknown codes on a 5xx are
    # server trouble, worth a retry.
    if code in TRANSIENT_CODES or (code != 100 and (is_transient or status >= 500)):
        return TransientError(
            message, "wait a few minutes and try again", reason="transient", **common
        )
    hint: str | None = None
    if code == 104 or "appsecret_proof" in raw_message:
        hint = "check the app secret (`socialdesk auth login`) or remove it from the config"
    elif named:
        hint = _permission_hint(raw_message)
    return InvalidRequest(message, hint, **common)


def _refusal(
    message: str, raw_message: str, named: list[str], common: dict[str, Any]
) -> PolicyRefused | None:
    """The platform refusal an envelope stands for, or None."""
    code, subcode = common["code"], common["subcode"]
    user_hint = common["user_msg"]
    if code is not None and code in PRIVATE_REPLY_CODES:
        return PrivateReplyRefused(
            message,
            user_hint or "this comment cannot get a private reply (one per comment, ever)",
            reason=PRIVATE_REPLY_CODES[code],
            **common,
        )
    pair = (code, subcode) if code is not None and subcode is not None else None
    pair_reason = REFUSED_PAIRS.get(pair) if pair is not None else None
    if pair_reason == "private_reply_used":
        return PrivateReplyRefused(
            message,
            user_hint or "this comment's private reply is used",
            reason=pair_reason,
            **common,
        )
    unavailable = code == 551 or pair_reason == "recipient_unavailable"
    if code == 200 and subcode is None and _UNAVAILABLE_RE.search(raw_message):
        unavailable = True
    if unavailable:
        return RecipientUnavailable(
            message,
            "this person cannot receive messages from the Page right now (blocked or"
            " unavailable); there is nothing to fix on this side",
            reason="recipient_unavailable",
            **common,
        )
    if pair_reason is not None:
        return PolicyRefused(
            message, user_hint or "the platform refused this", reason=pair_reason, **common
        )
    if code in REFUSED_CODES or (code == 230 and not named):
        return PolicyRefused(
            message, user_hint or "the platform refused this", reason="refused", **common
        )
    return None
