"""Start many real socialdesk processes at the same instant, for the concurrency tests.

:func:`run_crowd` starts one process per argv: ``["open", DB]`` opens (and migrates) ``DB``;
``["cli", ARGS…]`` runs the real CLI with ``ARGS``. Each waits, fully imported, until a start
file exists, so twenty of them really start together (Python's start-up would otherwise spread
them over a second and hide the races).

The processes are forked from one already imported interpreter
(:mod:`tests.support.crowd_forkserver`): separate processes with their own connections and
locks, as before, but without twenty interpreter start-ups on two cores (~5 s of CPU a crowd)
ahead of the start line.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.crowd_forkserver import REPO, Child, Result, shared

__all__ = ["READY_SUFFIX", "REPO", "Result", "run_crowd"]

READY_SUFFIX = ".ready"


def run_crowd(
    argvs: Sequence[Sequence[str]],
    work: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
    on_release: Callable[[], None] | None = None,
) -> list[Result]:
    """Run one process per ``argv`` (each ``["open", DB]`` or ``["cli", …]``), released at once
    (``on_release`` is called at that moment). The environment is this process's, without the
    editor and token variables, plus ``env``."""
    go = Path(tempfile.mkdtemp(prefix="crowd-", dir=work)) / "go"
    base = {
        k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR", "SOCIALDESK_TOKEN")
    }
    base.update(env or {})
    base["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    server = shared()
    deadline = time.monotonic() + timeout
    children: list[Child] = []
    finished = False
    try:
        for i, argv in enumerate(argvs):
            ready = Path(f"{go}.{i}{READY_SUFFIX}")
            children.append(server.launch(argv, env=base, cwd=REPO, ready=ready, go=go))
        # Release them once every one is waiting at the start line (or after 60 s regardless).
        ready_by = time.monotonic() + 60
        while time.monotonic() < ready_by:
            ready_count = sum(
                1 for i in range(len(children)) if Path(f"{go}.{i}{READY_SUFFIX}").exists()
            )
            if ready_count >= len(children):
                break
            time.sleep(0.005)
        go.touch()
        if on_release is not None:
            on_release()
        finished = True  # finish() reaps them whatever happens
        return server.finish(children, deadline=deadline)
    finally:
        if not finished:
            server.kill(children)
