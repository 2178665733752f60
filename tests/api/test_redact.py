"""Secret redaction in text, logs (ours and httpx's) and errors (api/redact.py)."""

from __future__ import annotations

import logging

import httpx
import pytest

from socialdesk.api.errors import GraphError
from socialdesk.api.redact import RedactingFilter, redact, register_secret
from tests.api.conftest import TOKEN, FakeTime, Recorder, error_body, make_client, ok

SECRET = "EAAotherSECRETvalue987"


@pytest.mark.parametrize(
    "text",
    [
        f"https://graph.facebook.com/v26.0/me?access_token={SECRET}&fields=id",
        f"GET /me?fields=id&appsecret_proof={SECRET}",
        f"Authorization: Bearer {SECRET}",
        f"authorization: OAuth {SECRET}",
        f"headers={{'authorization': 'Bearer {SECRET}'}}",
        f"(b'Authorization', b'Bearer {SECRET}')",
        f"token was bearer {SECRET}.",
        f'{{"access_token": "{SECRET}", "id": "1"}}',
        f"/debug_token?input_token={SECRET}",
        f"access_token%3D{SECRET}",
    ],
)
def test_patterns_are_masked(text: str) -> None:
    """Every credential carrier is masked even when the value was never registered."""
    out = redact(text)
    assert SECRET not in out
    assert "[REDACTED]" in out


def test_registered_token_is_masked_anywhere() -> None:
    """A registered token is masked even in free text."""
    register_secret("EAAfreeTextToken42")
    assert redact("oops EAAfreeTextToken42 leaked") == "oops [REDACTED] leaked"


def test_ordinary_text_is_unchanged() -> None:
    """Text without secrets passes through untouched."""
    text = "GET https://graph.facebook.com/v26.0/111/conversations?limit=100 200 OK"
    assert redact(text) == text


def test_filter_masks_args_and_tracebacks() -> None:
    """The logging filter masks the formatted message and the exception text."""
    register_secret(TOKEN)
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "socialdesk.x", logging.ERROR, __file__, 1, "token %s", (TOKEN,), sys.exc_info()
        )
    RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()
    assert record.exc_text is not None and TOKEN not in record.exc_text


def test_logs_at_debug_never_contain_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """Client, httpx and httpcore logs at DEBUG carry neither the token nor the proof."""
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(
        [
            ok({"id": "111", "name": "P"}),
            httpx.Response(400, json=error_body(190, f"bad token {TOKEN}")),
        ]
    )
    client = make_client(recorder, FakeTime(), app_secret="appsecret-xyz-123")
    client.get("/me")
    with pytest.raises(GraphError):
        client.get("/me")
    logging.getLogger("socialdesk.api.client").debug("echo %s", TOKEN)
    logging.getLogger("httpx").info("url %s", f"https://x/?access_token={TOKEN}")
    assert any(r.name == "httpx" and "HTTP Request" in r.getMessage() for r in caplog.records)
    proof = recorder.requests[0].url.params["appsecret_proof"]
    for record in caplog.records:
        text = record.getMessage()
        assert TOKEN not in text
        assert proof not in text
        assert "appsecret-xyz-123" not in text
    assert TOKEN not in caplog.text and proof not in caplog.text


def test_error_from_a_failed_request_hides_token(caplog: pytest.LogCaptureFixture) -> None:
    """str/repr of a timeout or connection error never includes the token or the proof."""
    req = httpx.Request("GET", f"https://graph.facebook.com/v26.0/me?access_token={TOKEN}")
    recorder = Recorder([httpx.ConnectError(f"refused {req.url}", request=req)] * 6)
    client = make_client(recorder, FakeTime(), app_secret="appsecret-xyz-123")
    with pytest.raises(GraphError) as info:
        client.get("/me")
    proof = recorder.requests[0].url.params["appsecret_proof"]
    for text in (str(info.value), repr(info.value), str(info.value.hint)):
        assert TOKEN not in text and proof not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_client_repr_has_no_token() -> None:
    """repr(client) does not show the token."""
    client = make_client(Recorder([]), FakeTime())
    assert TOKEN not in repr(client)
