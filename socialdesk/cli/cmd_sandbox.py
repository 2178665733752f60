"""``socialdesk sandbox serve``: the Graph API fake as a standalone loopback server.

Line 1 of stdout is the base URL, line 2 a valid Page token (scripts read them with ``head -2``);
a short how-to goes to stderr: lines that, pasted into another shell, sync and then list the
sandbox page. It serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from socialdesk.cli.app import app

sandbox_app = typer.Typer(
    name="sandbox",
    help="The built-in Graph API sandbox (no account, no network).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(sandbox_app, name="sandbox")


def _check_loopback(host: str) -> None:
    from socialdesk.errors import UsageError

    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise UsageError(
            f"refusing to serve the sandbox on {host!r}",
            hint="the sandbox hands out tokens to anyone who asks: keep it on 127.0.0.1",
        )


@sandbox_app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).", min=0)] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo data.")] = 0,
    threads: Annotated[
        int, typer.Option("--threads", help="Number of demo threads.", min=1, max=100_000)
    ] = 60,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Added latency per request.", min=0)
    ] = 0.0,
    faults: Annotated[
        str | None,
        typer.Option("--faults", help="Fault spec, e.g. 'rate=0.05,kinds=500:2,1,613,timeout'."),
    ] = None,
    activity: Annotated[
        float | None,
        typer.Option("--activity", help="Customers write a new message every SECONDS.", min=0.05),
    ] = None,
    hostile: Annotated[
        bool,
        typer.Option("--hostile", help="Add customers and texts built to break terminals."),
    ] = False,
) -> None:
    """Serve the sandbox Graph API on loopback; print its base URL and a Page token."""
    from socialdesk.cli.serving import stop_on_sigterm
    from socialdesk.errors import UsageError
    from socialdesk.sandbox import build_demo
    from socialdesk.sandbox.server import serve_forever

    _check_loopback(host)
    sandbox, page_id, token = build_demo(seed=seed, threads=threads, hostile=hostile)
    if faults:
        try:
            sandbox.faults = faults
        except ValueError as exc:
            raise UsageError(f"bad --faults spec: {exc}") from None

    def on_ready(base_url: str) -> None:
        sys.stdout.write(f"{base_url}\n{token}\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"sandbox: serving page {page_id} on {base_url} (Ctrl-C to stop)\n"
            "try, in another shell (a throwaway home keeps the sandbox out of your own):\n"
            f"  export SOCIALDESK_HOME=$(mktemp -d) SOCIALDESK_GRAPH_URL={base_url}"
            f" SOCIALDESK_TOKEN={token}\n"
            "  socialdesk sync && socialdesk list\n"
        )
        sys.stderr.flush()

    with stop_on_sigterm() as stop:
        try:
            serve_forever(
                sandbox,
                host,
                port,
                latency_ms=latency_ms,
                activity_s=activity,
                on_ready=on_ready,
                stop=stop,
                seed=seed,
            )
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
