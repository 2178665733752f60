"""`socialdesk outbox` (list) and `outbox resolve --resend|--drop` against the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from socialdesk.paths import resolve_paths
from tests.support.cli import deliveries, new_dm, run
from tests.support.sandbox import SandboxEnv


def _configure(env: SandboxEnv) -> None:
    """Name the page in config, so no `GET /me` is needed (faults below hit every request)."""
    cfg = resolve_paths().config_file
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'default_page = "shop"\n[pages.shop]\nid = "{env.page_id}"\n')


def test_unknown_absent_then_resend(
    sandbox_env: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 leaves the send unknown (exit 4); once shown absent it can be resent, once."""
    monkeypatch.setenv("SOCIALDESK_OUTBOX_SETTLE_S", "0")
    _configure(sandbox_env)
    user, ref = new_dm(sandbox_env, "Una Unknown")
    sb: Any = sandbox_env.sandbox
    sb.faults = "rate=1.0,kinds=500:2"
    res = run("reply", ref, "--text", "hello Una")
    sb.faults = None
    assert res.exit_code == 4 and "unknown" in res.output
    rows = json.loads(run("outbox", "--json").stdout)
    assert [(r["state"], r["can_resend"]) for r in rows] == [("unknown", True)]
    listing = run("outbox")
    assert "absent after read-back" in listing.stdout
    assert "next: `socialdesk outbox resolve ID --resend`" in listing.stderr
    oid = str(rows[0]["id"])
    res = run("outbox", "resolve", oid, "--resend", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["state"] == "sent"
    assert [d.text for d in deliveries(sandbox_env, user)] == ["hello Una"]
    assert run("outbox", "resolve", oid, "--resend").exit_code == 2
    assert "nothing needs attention" in run("outbox").stdout


def test_crash_while_sending_found_by_read_back(sandbox_env: SandboxEnv) -> None:
    """A row left `sending` by a crash after delivery: the next command confirms it as sent."""
    from datetime import UTC, datetime

    from socialdesk.api import graph
    from socialdesk.api.client import GraphClient
    from socialdesk.models import SendKind
    from socialdesk.store import outbox as store
    from socialdesk.store.db import open_db

    _configure(sandbox_env)
    user, ref = new_dm(sandbox_env, "Cris Crash")
    thread = json.loads(run("show", ref, "--json").stdout)
    conn = open_db(resolve_paths().db_file)
    now = datetime.now(UTC)
    oid = store.enqueue(
        conn,
        page_id=sandbox_env.page_id,
        thread_id=thread["id"],
        kind=SendKind.DM_RESPONSE,
        text="on its way",
        now=now,
    )
    store.mark_sending(conn, oid, now=now)
    conn.close()
    with GraphClient(sandbox_env.token, transport=sandbox_env.sandbox.transport()) as client:
        graph.send_message(client, sandbox_env.page_id, text="on its way", recipient_id=user)
    res = run("outbox", "--all", "--json")
    assert res.exit_code == 0, res.output
    assert [(r["id"], r["state"]) for r in json.loads(res.stdout)] == [(oid, "sent")]
    assert "confirmed delivered" in res.output
    assert len(deliveries(sandbox_env, user)) == 1


def test_drop(sandbox_env: SandboxEnv) -> None:
    """--drop closes a failed row; it leaves the attention list; unknown ids are usage errors."""
    _, ref = new_dm(sandbox_env, "Dina Drop", blocked=True)
    assert run("reply", ref, "--text", "hi").exit_code == 6
    (row,) = json.loads(run("outbox", "--json").stdout)
    assert run("outbox", "resolve", str(row["id"]), "--drop").exit_code == 0
    assert json.loads(run("outbox", "--json").stdout) == []
    assert run("outbox", "resolve", "999", "--drop").exit_code == 2
    assert run("outbox", "resolve", str(row["id"])).exit_code == 2
