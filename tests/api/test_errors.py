"""Classification of Graph error bodies into typed exceptions (api/errors.py)."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.api.errors import (
    AdvancedAccessNeeded,
    GraphError,
    InvalidRequest,
    MalformedResponse,
    PermissionDenied,
    PolicyRefused,
    PrivateReplyRefused,
    RecipientUnavailable,
    ReduceData,
    Throttled,
    TokenInvalid,
    TransientError,
    classify,
)
from socialdesk.errors import ExitCode
from socialdesk.models import RateUsage
from tests.api.conftest import TOKEN, error_body

REDUCE = "Please reduce the amount of data you're asking for, then retry your request"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, error_body(190, "Invalid OAuth access token."), TokenInvalid),
        (400, error_body(190, "Session invalidated", subcode=460), TokenInvalid),
        (400, error_body(102, "API session"), TokenInvalid),
        (400, error_body(10, "(#10) Permission denied"), PermissionDenied),
        (400, error_body(200, "(#200) Permissions error"), PermissionDenied),
        (400, error_body(299, "(#299) x"), PermissionDenied),
        (400, error_body(3, "(#3) capability"), PermissionDenied),
        (400, error_body(10, "outside of allowed window", subcode=2018278), PolicyRefused),
        (400, error_body(551, "This person isn't available right now"), RecipientUnavailable),
        (
            400,
            error_body(100, "Invalid comment_id parameter", subcode=2018292),
            PrivateReplyRefused,
        ),
        (400, error_body(230, "Permissions disallow message to user"), PolicyRefused),
        (
            400,
            error_body(230, "(#230) Requires pages_messaging permission to manage the object"),
            PermissionDenied,
        ),
        (400, error_body(200, "Message Not Sent", subcode=1545041), RecipientUnavailable),
        (
            400,
            error_body(200, "(#200) This person isn't available right now."),
            RecipientUnavailable,
        ),
        (400, error_body(10900, "(#10900) Activity already replied to"), PrivateReplyRefused),
        (400, error_body(10903, "This user can't reply to this activity"), PrivateReplyRefused),
        (400, error_body(1, "An unknown error occurred", subcode=99), AdvancedAccessNeeded),
        (
            500,
            error_body(1, "An unknown error occurred", subcode=99, is_transient=True),
            AdvancedAccessNeeded,
        ),
        (
            400,
            error_body(4, "(#4) Application request limit reached", is_transient=True),
            Throttled,
        ),
        (400, error_body(17, "User request limit reached"), Throttled),
        (400, error_body(32, "Page request limit reached"), Throttled),
        (400, error_body(341, "Application limit reached"), Throttled),
        (400, error_body(613, "Calls to this api have exceeded the rate limit"), Throttled),
        (400, error_body(80001, "too many calls to this Page account"), Throttled),
        (400, error_body(80002, "too many calls to this Instagram account"), Throttled),
        (400, error_body(80006, "too many messenger api calls"), Throttled),
        (500, error_body(1, "An unknown error occurred"), TransientError),
        (500, error_body(1, REDUCE), ReduceData),
        (
            500,
            error_body(2, "An unexpected error has occurred.", is_transient=True),
            TransientError,
        ),
        (400, error_body(1200, "Temporary send message failure"), TransientError),
        (400, error_body(9999, "Something odd", is_transient=True), TransientError),
        (400, error_body(100, "(#100) Invalid parameter"), InvalidRequest),
        (400, error_body(100, "Unsupported get request", subcode=33), InvalidRequest),
        (400, error_body(506, "Duplicate status message"), InvalidRequest),
        (400, error_body(100, "Invalid parameter", is_transient=True), InvalidRequest),
        (500, error_body(100, "Invalid parameter"), InvalidRequest),
        (500, error_body(9999, "Something broke"), TransientError),
        (502, None, TransientError),
        (503, {"unexpected": "shape"}, TransientError),
        (200, None, MalformedResponse),
        (404, None, MalformedResponse),
    ],
)
def test_classification_table(status: int, body: Any, cls: type[GraphError]) -> None:
    """Each code/subcode (or bodiless status) maps to exactly the documented class."""
    error = classify(status, body)
    assert type(error) is cls


def test_code_wins_over_http_status() -> None:
    """A token error delivered with HTTP 500 is still a token error, a code 2 with 400 transient."""
    assert isinstance(classify(500, error_body(190)), TokenInvalid)
    assert isinstance(classify(400, error_body(2)), TransientError)


def test_error_keeps_envelope_fields() -> None:
    """code, subcode, fbtrace_id, is_transient, http_status and user_msg are kept."""
    body = error_body(190, "Error validating access token", subcode=460, fbtrace_id="EJplcsCHuLu")
    body["error"]["error_user_msg"] = "Please log in again"
    error = classify(400, body)
    assert (error.code, error.subcode, error.fbtrace_id) == (190, 460, "EJplcsCHuLu")
    assert error.http_status == 400
    assert error.user_msg == "Please log in again"
    assert error.is_transient is False
    assert "EJplcsCHuLu" in str(error)


def test_token_invalid_hint_names_the_login_command() -> None:
    """An invalid token tells the user which command re-authenticates, and exits 3."""
    error = classify(400, error_body(190, "Invalid OAuth access token."))
    assert error.hint is not None and "socialdesk auth login" in error.hint
    assert error.exit_code == ExitCode.AUTH


def test_permission_hint_names_the_permission_from_the_message() -> None:
    """A permission error naming pages_messaging puts that name in the hint."""
    error = classify(400, error_body(200, "(#200) Requires pages_messaging permission to manage"))
    assert error.hint is not None and "pages_messaging" in error.hint
    assert "pages_read_engagement" not in error.hint


def test_permission_hint_lists_needed_permissions_otherwise() -> None:
    """Without a named permission the hint lists the three the tool needs."""
    error = classify(400, error_body(10, "(#10) Permission denied"))
    assert error.hint is not None
    for name in ("pages_messaging", "pages_read_engagement", "pages_manage_metadata"):
        assert name in error.hint


def test_invalid_request_naming_a_permission_gets_a_permission_hint() -> None:
    """The real (#100) 'requires the X permission' error names X in its hint."""
    message = "(#100) This endpoint requires the 'pages_read_engagement' permission"
    error = classify(400, error_body(100, message))
    assert isinstance(error, InvalidRequest)
    assert error.hint is not None and "pages_read_engagement" in error.hint


def test_throttled_says_when_to_try_again() -> None:
    """Throttled carries retry_after from estimated_time_to_regain_access (minutes)."""
    usage = RateUsage(call_count=100, regain_access_minutes=7)
    error = classify(400, error_body(80006), usage=usage)
    assert isinstance(error, Throttled)
    assert error.retry_after == 420.0
    assert error.hint is not None and "7 minutes" in error.hint
    assert error.exit_code == ExitCode.UNAVAILABLE


def test_throttled_without_estimate_has_no_retry_after() -> None:
    """Without usage headers retry_after stays None and the hint still says to wait."""
    error = classify(400, error_body(4, is_transient=True))
    assert error.retry_after is None
    assert error.hint is not None and "try again" in error.hint


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (PolicyRefused, ExitCode.REFUSED),
        (InvalidRequest, ExitCode.USAGE),
        (TransientError, ExitCode.UNAVAILABLE),
        (PermissionDenied, ExitCode.AUTH),
    ],
)
def test_exit_codes(cls: type[GraphError], code: ExitCode) -> None:
    """Every class maps to the exit code of the socialdesk.errors base it extends."""
    assert cls("x").exit_code == code


def test_rendering_never_shows_the_token_or_its_url() -> None:
    """str/repr of an error whose Graph message echoes a token and a URL carry neither."""
    from socialdesk.api.redact import register_secret

    register_secret(TOKEN)
    message = (
        f"Invalid token {TOKEN} for https://graph.facebook.com/v26.0/me?access_token={TOKEN}"
        "&appsecret_proof=abcdef0123456789"
    )
    error = classify(400, error_body(190, message))
    for text in (str(error), repr(error), error.message):
        assert TOKEN not in text
        assert "abcdef0123456789" not in text
        assert "access_token=[REDACTED]" in text or "[REDACTED]" in text


@pytest.mark.parametrize(
    ("body", "permission"),
    [
        (
            error_body(230, "(#230) Requires pages_messaging permission to manage the object"),
            "pages_messaging",
        ),
        (
            error_body(200, "(#200) Requires pages_read_engagement permission"),
            "pages_read_engagement",
        ),
        (
            error_body(230, "(#230) Requires pages_messaging_phone_number permission"),
            "pages_messaging_phone_number",
        ),
    ],
)
def test_permission_errors_name_the_missing_permission(body: Any, permission: str) -> None:
    """230 and 200 "requires … permission": the hint and .permission name it (exit 3)."""
    error = classify(400, body)
    assert isinstance(error, PermissionDenied)
    assert error.permission == permission and error.reason == "missing_permission"
    assert error.hint is not None and permission in error.hint
    assert error.exit_code == ExitCode.AUTH


def test_person_unavailable_is_a_refusal_never_a_relogin() -> None:
    """Bare 200 "This person isn't available right now": exit 6, no login hint, not retried."""
    from socialdesk.api.retry import decide

    error = classify(400, error_body(200, "(#200) This person isn't available right now."))
    assert isinstance(error, RecipientUnavailable)
    assert error.exit_code == ExitCode.REFUSED and error.reason == "recipient_unavailable"
    assert "login" not in (error.hint or "")
    assert decide(error, 1).retry is False


def test_advanced_access_is_a_permission_problem_not_transient() -> None:
    """1/99 names Advanced Access in its hint, exits 3 and is never retried."""
    from socialdesk.api.retry import decide

    error = classify(400, error_body(1, "An unknown error occurred", subcode=99, is_transient=True))
    assert isinstance(error, AdvancedAccessNeeded) and error.reason == "advanced_access"
    assert error.hint is not None and "Advanced Access" in error.hint
    assert error.exit_code == ExitCode.AUTH
    assert decide(error, 1).retry is False


@pytest.mark.parametrize(
    ("code", "reason"), [(10900, "private_reply_used"), (10903, "private_reply_refused")]
)
def test_private_reply_refusals_are_platform_refusals(code: int, reason: str) -> None:
    """10900 ("Activity already replied to") and 10903: exit 6 with a machine reason."""
    error = classify(400, error_body(code, "(#10900) Activity already replied to"))
    assert isinstance(error, PrivateReplyRefused)
    assert error.exit_code == ExitCode.REFUSED and error.reason == reason
