"""The sandbox as a real HTTP server on loopback (standard library ``ThreadingHTTPServer``).

Used by ``Sandbox.serve`` (tests, benchmarks) and ``serve_forever`` (the CLI's ``socialdesk
sandbox serve``). Each request goes through ``handler.handle`` under the sandbox lock; latency and
stalls sleep outside it so other requests proceed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .handler import handle

if TYPE_CHECKING:
    from .engine import Sandbox


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the kill and soak tests do it hundreds of times) is normal
        # for a server; only unexpected errors deserve the standard traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A running server: ``base_url`` (``http://127.0.0.1:PORT``) and ``shutdown()``."""

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0.0,
        stall_s: float | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.latency_ms = latency_ms
        self.stall_s = stall_s
        """Seconds a ``timeout`` fault stalls (default: the fault spec's ``stall``)."""
        self.stopping = threading.Event()
        """Set by ``shutdown``: dripping answers stop at once."""
        self._httpd = _Server((host, port), _make_handler(self))
        address = self._httpd.server_address
        bound_host = address[0] if isinstance(address[0], str) else address[0].decode()
        bound_port = int(address[1])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"http://{shown}:{bound_port}"
        # A short poll interval: shutdown() waits for the next poll (0.5 s by default, paid by
        # every test and every `demo` quit).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="socialdesk-sandbox",
            daemon=True,
        )
        self._thread.start()

    def stall_seconds(self) -> float:
        """How long a stalled (``timeout``) response is held back."""
        if self.stall_s is not None:
            return self.stall_s
        faults = self.sandbox.faults
        return faults.stall if faults is not None else 35.0

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The status line and headers go out in one write, the body in another: with Nagle on,
        # the body waits for the client's delayed ACK (~40 ms on Linux), a latency no real
        # server adds. ``latency_ms`` is the only latency the sandbox should have.
        disable_nagle_algorithm = True
        server_version = "socialdesk-sandbox"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            # Request lines may carry access_token parameters: never log them.
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or server.base_url.split("//", 1)[1]
            url = f"http://{host}{self.path}"
            if server.latency_ms > 0:
                time.sleep(server.latency_ms / 1000)
            reply = handle(server.sandbox, self.command, url, dict(self.headers.items()), body)
            if reply.stall:
                time.sleep(server.stall_seconds())
            length = reply.length if reply.stream is not None else len(reply.body)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if reply.stream is not None:
                    for chunk in reply.stream:
                        self.wfile.write(chunk)
                elif reply.drip > 0:
                    # One byte at a time: every read is quick, the whole answer never is.
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i : i + 1])
                        self.wfile.flush()
                        if server.stopping.wait(reply.drip):
                            break
                elif reply.body:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_DELETE = _serve

    return Handler


def serve_forever(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0.0,
    activity_s: float | None = None,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    seed: int = 0,
) -> None:
    """Serve until ``stop`` is set or Ctrl-C; ``on_ready(base_url)`` once listening.

    With ``activity_s``, customers keep writing (a message or comment every ``activity_s``
    seconds of real time, stamped with the sandbox clock).
    """
    from .demo import Activity

    stop = stop or threading.Event()
    srv = SandboxServer(sandbox, host, port, latency_ms=latency_ms)
    activity = Activity(sandbox, activity_s, seed=seed) if activity_s else None
    try:
        if activity is not None:
            activity.start()
        if on_ready is not None:
            on_ready(srv.base_url)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if activity is not None:
            activity.stop()
        srv.shutdown()
