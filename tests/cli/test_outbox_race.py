"""`outbox resolve --resend` run by many processes at once delivers the message exactly once.

The attack of issue 8: a failed row (the customer blocked the Page, then unblocked it) resent by
2 and by 20 processes started together against the same loopback sandbox and database. Before
the fix the claim on the old row was checked outside any transaction: 6 of 8 two-process trials
delivered twice, and 20 processes sent one customer 8 copies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.robust.crowd import run_crowd
from tests.support.cli import deliveries, new_dm, run
from tests.support.sandbox import SandboxEnv


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
    # Every process has imported the CLI and waits at the start line: then they go at once.
    results = run_crowd(
        [["cli", "outbox", "resolve", oid, "--resend", "--json"]] * processes,
        tmp_path,
        env={"SOCIALDESK_TOKEN": sandbox_env.token},
    )
    codes = [r.returncode for r in results]
    assert [d.text for d in deliveries(sandbox_env, user)] == ["your order ships Monday"]
    assert sorted(codes) == [0] + [2] * (processes - 1), [(r.returncode, r.stderr) for r in results]
    rows = json.loads(run("outbox", "--json", "--all", "--offline").stdout)
    assert sorted(r["state"] for r in rows) == ["failed", "sent"]
