"""`outbox resolve --resend` run by many processes at once delivers the message exactly once.

The attack of issue 8: a failed row (the customer blocked the Page, then unblocked it) resent by
2 and by 20 processes started together against the same loopback sandbox and database. Before
the fix the claim on the old row was checked outside any transaction: 6 of 8 two-process trials
delivered twice, and 20 processes sent one customer 8 copies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import deliveries, new_dm, run
from tests.support.sandbox import SandboxEnv

_RESENDER = textwrap.dedent(
    """
    import os, sys, time
    go = sys.argv[1]
    from socialdesk.cli import main  # import first, so every process is ready at the barrier
    open(go + f".ready-{os.getpid()}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.002)
    sys.argv = ["socialdesk", "outbox", "resolve", sys.argv[2], "--resend", "--json"]
    main()
    """
)


def _failed_row(env: SandboxEnv) -> tuple[str, str]:
    """A customer whose reply failed while they had blocked the Page; returns (user, row id)."""
    sb: Any = env.sandbox
    user, ref = new_dm(env, "Rhea Race")
    sb.block_user(user)
    res = run("reply", ref, "--text", "your order ships Monday")
    assert res.exit_code == 6, res.output
    sb.block_user(user, False)
    rows = json.loads(run("outbox", "--json", "--offline").stdout)
    assert [(r["state"], r["can_resend"]) for r in rows] == [("failed", True)]
    return user, str(rows[0]["id"])


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 20])
def test_concurrent_resends_deliver_once(
    served_sandbox_env: SandboxEnv, tmp_path: Path, processes: int
) -> None:
    """N processes resend one failed row together: one delivery, one success, the rest exit 2."""
    sandbox_env = served_sandbox_env
    user, oid = _failed_row(sandbox_env)
    go = tmp_path / "go"
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RESENDER, str(go), oid],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    # Every interpreter has imported the CLI and waits at the barrier: then they go at once.
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready-*"))) < processes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(list(tmp_path.glob("go.ready-*"))) == processes
    go.touch()
    codes = []
    for p in procs:
        _out, _err = p.communicate(timeout=120)
        codes.append(p.returncode)
    assert [d.text for d in deliveries(sandbox_env, user)] == ["your order ships Monday"]
    assert sorted(codes) == [0] + [2] * (processes - 1), codes
    rows = json.loads(run("outbox", "--json", "--all", "--offline").stdout)
    assert sorted(r["state"] for r in rows) == ["failed", "sent"]
