"""A demo sandbox wired into the environment, in-process or served on loopback.

``sandbox_env`` (tests/conftest.py) is in-process: commands run by :func:`tests.support.cli.run`
reach the sandbox through its httpx transport, with no socket and no thread, because the CLI's
context factory is pointed at it (``cli.common.use_context_factory``). ``served_sandbox_env`` is
for tests that run ``socialdesk`` in subprocesses: a real loopback server (commands run
in-process reach it over HTTP too, without the client's pacing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from socialdesk.sandbox import Sandbox, build_demo
from socialdesk.sandbox.server import SandboxServer

INPROCESS_URL = "http://sandbox.invalid"
"""The base URL of an in-process sandbox (never resolved: the transport answers)."""


@dataclass
class SandboxEnv:
    """A demo sandbox with one page, and what the environment knows of it."""

    sandbox: Sandbox
    page_id: str
    token: str
    base_url: str
    server: SandboxServer | None = None
    """The loopback server (``None`` for an in-process sandbox)."""


@contextmanager
def sandbox_env(
    monkeypatch: pytest.MonkeyPatch, *, served: bool = False, threads: int = 24
) -> Iterator[SandboxEnv]:
    """A small demo sandbox with SOCIALDESK_GRAPH_URL/TOKEN pointing at it.

    The sandbox's 2 calls/s conversations limit is off so tests stay fast; tests of pacing and
    throttling build their own Sandbox.
    """
    from socialdesk.cli.common import use_context_factory
    from socialdesk.core.context import AppContext

    sandbox, page_id, token = build_demo(seed=7, threads=threads)
    sandbox.rate_limit = False
    server = sandbox.serve(host="127.0.0.1", port=0) if served else None
    base_url = server.base_url if server is not None else INPROCESS_URL
    monkeypatch.setenv("SOCIALDESK_GRAPH_URL", base_url)
    monkeypatch.setenv("SOCIALDESK_TOKEN", token)
    env = SandboxEnv(sandbox, page_id, token, base_url, server)
    try:
        if served:
            # Commands run in-process still go over loopback HTTP, unpaced: the sandbox's rate
            # limit is off, so the client's 0.6 s spacing only slept (subprocesses keep it).
            with use_context_factory(
                lambda *, create_home=False: AppContext.open(create_home=create_home, pace=False)
            ):
                yield env
        else:
            with use_context_factory(
                lambda *, create_home=False: AppContext.open(
                    transport=sandbox.transport(), create_home=create_home, pace=False
                )
            ):
                yield env
    finally:
        if server is not None:
            server.shutdown()
