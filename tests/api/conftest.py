"""Shared helpers for the api tests: Graph JSON fixtures, a recording mock transport, fake time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.api.client import GraphClient

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "EAAsecretTOKEN123"
PAGE_ID = "111"

Handler = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> dict[str, Any]:
    """A Graph JSON fixture from tests/api/fixtures."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def error_body(
    code: int,
    message: str = "An error",
    *,
    subcode: int | None = None,
    is_transient: bool | None = None,
    fbtrace_id: str = "AbCdEf123",
) -> dict[str, Any]:
    """A Graph error envelope in the real shape."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": fbtrace_id,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    return {"error": error}


class FakeTime:
    """A monotonic clock whose sleep advances it and records each duration."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """A MockTransport that records requests and answers from a handler or a queue."""

    def __init__(self, responses: Iterable[httpx.Response | Exception] | Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler: Handler | None = None
        self._queue: list[httpx.Response | Exception] = []
        if callable(responses):
            self._handler = responses
        else:
            self._queue = list(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self._handler is not None:
            return self._handler(request)
        if not self._queue:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        item = self._queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def ok(body: Any, headers: dict[str, str] | None = None, status: int = 200) -> httpx.Response:
    """A JSON response."""
    return httpx.Response(status, json=body, headers=headers)


def make_client(recorder: Recorder, fake: FakeTime | None = None, **kwargs: Any) -> GraphClient:
    """A client on the recorder with fake time, zero jitter and no env base URL."""
    fake = fake or FakeTime()
    kwargs.setdefault("base_url", "https://graph.facebook.com")
    kwargs.setdefault("rand", lambda: 0.5)
    return GraphClient(
        TOKEN,
        transport=recorder.transport(),
        sleep=fake.sleep,
        monotonic=fake.monotonic,
        **kwargs,
    )


@pytest.fixture
def fake_time() -> FakeTime:
    """Fresh fake time for one test."""
    return FakeTime()
