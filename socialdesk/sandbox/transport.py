"""An ``httpx.BaseTransport`` that answers from a ``Sandbox`` in-process (tests, benchmarks).

Injected ``timeout`` faults raise ``httpx.ReadTimeout`` AFTER the handler ran: a write has
happened on the "server" although the client never saw the answer (the case outbox
reconciliation exists for). Streamed answers (``huge-body``) reach the client as a lazy byte
stream; ``drip`` answers come one byte per read, calling ``sleep(drip)`` before each byte
(``time.sleep`` unless the test passes its own, e.g. ``sb.advance``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx

from .handler import Reply, handle

if TYPE_CHECKING:
    from .engine import Sandbox


class _Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def _drip(body: bytes, seconds: float, sleep: Callable[[float], None]) -> Iterator[bytes]:
    for i in range(len(body)):
        sleep(seconds)
        yield body[i : i + 1]


class SandboxTransport(httpx.BaseTransport):
    """Route every httpx request to ``handler.handle``; ``calls`` counts requests seen."""

    def __init__(self, sandbox: Sandbox, *, sleep: Callable[[float], None] | None = None) -> None:
        self.sandbox = sandbox
        self.calls = 0
        self.sleep = sleep or time.sleep

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
        return self._response(reply, request)

    def _response(self, reply: Reply, request: httpx.Request) -> httpx.Response:
        headers = list(reply.headers)
        if reply.stream is not None:
            headers.append(("Content-Length", str(reply.length)))
            return httpx.Response(
                reply.status, headers=headers, stream=_Chunks(reply.stream), request=request
            )
        if reply.drip > 0:
            headers.append(("Content-Length", str(len(reply.body))))
            chunks = _drip(reply.body, reply.drip, self.sleep)
            return httpx.Response(
                reply.status, headers=headers, stream=_Chunks(chunks), request=request
            )
        return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)
