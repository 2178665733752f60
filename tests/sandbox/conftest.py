"""Shared fixtures for the sandbox contract tests: a small hand-built page and an httpx client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from socialdesk.sandbox import Sandbox

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
BASE = "https://graph.facebook.com"
V = "/v26.0"


@dataclass
class World:
    """A sandbox with one page, two customers, a post with comments, and a bearer client."""

    sb: Sandbox
    page: str
    token: str
    alice: str
    bob: str
    post: str
    comment: str
    client: httpx.Client

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET ``/v26.0{path}`` with the bearer token."""
        return self.client.get(V + path, params={k: str(v) for k, v in params.items()})

    def post_json(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST a JSON body to ``/v26.0{path}``."""
        return self.client.post(V + path, json=body)

    def send(self, text: str, *, to: str | None = None, **extra: Any) -> httpx.Response:
        """POST /{page}/messages to ``to`` (default alice)."""
        body: dict[str, Any] = {
            "recipient": {"id": to or self.alice},
            "message": {"text": text},
            "messaging_type": "RESPONSE",
        }
        body.update(extra)
        return self.post_json(f"/{self.page}/messages", body)


def make_world(*, human_agent: bool = False, rate_limit: bool = False) -> World:
    """Build the small world (rate limit off unless asked: most tests are not about it)."""
    sb = Sandbox(rate_limit=rate_limit, seed=3)
    sb.set_time(NOW)
    page = sb.add_page("Test Shop", human_agent=human_agent)
    token = sb.issue_token(page)
    alice = sb.add_user("Alice Ånd")
    bob = sb.add_user("Bob")
    sb.add_message(page, alice, "hello", at=NOW - timedelta(hours=2))
    sb.add_message(page, bob, "hi there", at=NOW - timedelta(hours=30))
    post = sb.add_post(page, "New scarves", at=NOW - timedelta(days=1))
    comment = sb.add_comment(post, alice, "How much?", at=NOW - timedelta(hours=3))
    client = httpx.Client(
        transport=sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    return World(sb, page, token, alice, bob, post, comment, client)


@pytest.fixture
def world() -> Iterator[World]:
    """The small world with the conversations rate limit off."""
    w = make_world()
    yield w
    w.client.close()


def client_for(sb: Sandbox, token: str) -> httpx.Client:
    """A bearer client for ``token`` (the app token ``sb.app_token()`` for debug_token)."""
    return httpx.Client(
        transport=sb.transport(), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )


def error_of(resp: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a Graph error response (asserting the envelope's shape)."""
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert isinstance(err, dict)
    assert {"message", "type", "code", "fbtrace_id"} <= set(err)
    assert set(err) <= {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient"}
    return err
