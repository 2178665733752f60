"""Graph error envelopes as the sandbox answers them.

``ApiError`` is raised anywhere inside ``render``/``handler`` and turned into the exact Graph
envelope ``{"error": {"message", "type", "code", "error_subcode"?, "is_transient"?,
"fbtrace_id"}}`` by ``handler``. The constructors below hold the real messages (GRAPH_API.md §4.4,
§9.3, §10.3, §13) so tests and handler share one wording.
"""

from __future__ import annotations

from typing import Any

TRANSIENT_CODES = frozenset({2, 4, 17, 32, 341, 613, 1200, 80001, 80002, 80006})
UNSUPPORTED = (
    "Unsupported {method} request. Object with ID '{obj}' does not exist, cannot be loaded due "
    "to missing permissions, or does not support this operation. Please read the Graph API "
    "documentation at https://developers.facebook.com/docs/graph-api"
)
THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again. "
        "For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
    80002: (
        "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
        "again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
    80006: (
        "(#80006) There have been too many messenger api calls to this Page account. "
        "Wait a bit and try again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
}


class ApiError(Exception):
    """One Graph error; ``status`` is the HTTP status (400, or 500 for codes 1 and 2)."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        type_: str = "OAuthException",
        status: int | None = None,
        regain_minutes: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type_
        self.status = status if status is not None else (500 if code in (1, 2) else 400)
        self.regain_minutes = regain_minutes

    def envelope(self, fbtrace_id: str) -> dict[str, Any]:
        """The JSON body Graph sends for this error."""
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.code != 1:  # captured code-1 errors came without is_transient (GRAPH_API §0.7)
            err["is_transient"] = self.code in TRANSIENT_CODES
        err["fbtrace_id"] = fbtrace_id
        return {"error": err}


def unsupported(method: str, obj: str) -> ApiError:
    """100/33: unknown object, another page's object, or a method the node does not take."""
    return ApiError(
        UNSUPPORTED.format(method=method.lower(), obj=obj),
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def nonexisting_field(name: str, node_type: str) -> ApiError:
    """The real ``(#100)`` error for an unknown field or edge."""
    return ApiError(
        f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})", 100
    )


def invalid_param(message: str, subcode: int | None = None) -> ApiError:
    """A code-100 parameter error; ``message`` without the ``(#100)`` prefix."""
    return ApiError(f"(#100) {message}", 100, subcode=subcode)


def throttled(code: int, regain_minutes: int = 0) -> ApiError:
    """A rate-limit error (HTTP 400, transient).

    ``regain_minutes`` > 0 forces the usage header to 100 % with that regain time (injected
    faults); 0 leaves the header to the real counts (BUC exhaustion shows its own regain time,
    the 2 calls/s bucket none: it refills within a second).
    """
    return ApiError(THROTTLE_MESSAGES[code], code, regain_minutes=regain_minutes)


def transient_500() -> ApiError:
    """Code 2, the generic transient failure."""
    return ApiError(
        "An unexpected error has occurred. Please retry your request later.", 2, status=500
    )


def reduce_data() -> ApiError:
    """Code 1, answered when a field expansion asks for too much."""
    return ApiError(
        "Please reduce the amount of data you're asking for, then retry your request", 1, status=500
    )
