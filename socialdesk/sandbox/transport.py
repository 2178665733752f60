"""An ``httpx.BaseTransport`` that answers from a ``Sandbox`` in-process (tests, benchmarks).

Injected ``timeout`` faults raise ``httpx.ReadTimeout`` AFTER the handler ran: a write has
happened on the "server" although the client never saw the answer (the case outbox
reconciliation exists for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from .handler import handle

if TYPE_CHECKING:
    from .engine import Sandbox


class SandboxTransport(httpx.BaseTransport):
    """Route every httpx request to ``handler.handle``; ``calls`` counts requests seen."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (or raise ``httpx.ReadTimeout`` for a stalled one)."""
        self.calls += 1
        body = request.read()
        headers = {k: v for k, v in request.headers.items()}
        reply = handle(self.sandbox, request.method, str(request.url), headers, body)
        if reply.stall:
            raise httpx.ReadTimeout(
                "sandbox: injected timeout (the request was processed, the answer lost)",
                request=request,
            )
        return httpx.Response(
            reply.status, headers=reply.headers, content=reply.body, request=request
        )
