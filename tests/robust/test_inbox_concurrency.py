"""The inbox open while cron jobs and other commands run on the same home (issue 12,
"Concurrency"): a ``sync``, two ``stats``, two ``ack --apply`` of one plan and ``tag``/``done``
processes, all released at the same instant against a loopback sandbox, while the inbox's
gateway (in this process) syncs, tags, lists, sends and computes stats.

What must hold: every process and every inbox call succeeds (no "database is locked" reaches
anyone), every planned customer gets exactly one acknowledgement, the inbox's reply goes once,
no outbox row is left ``sending``, every tag and status from either side is there, and the WAL
can be checkpointed to nothing while the inbox is still open (its connection pins no snapshot).

The inbox works round after round for as long as the crowd runs (at least ``ROUNDS`` rounds),
without the client's pacing: the sandbox's rate limit is off, so the pacing only slept, and it
spread the inbox's rounds out past the crowd's end (most of them used to run alone).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from pathlib import Path

import pytest

from socialdesk.core.replying import ReplyRequest
from socialdesk.tui.gateway import Gateway
from tests.robust.crowd import Result, run_crowd
from tests.support.cli import deliveries, new_dm, run
from tests.support.inbox_proc import open_gateway
from tests.support.sandbox import SandboxEnv

ACKED = 4
"""Customers in the ack plan."""
ROUNDS = 6
"""Rounds of inbox work at least; they go on until the last process has exited."""
PAUSE_S = 0.05
"""The inbox's pause between two rounds (cut short when the crowd ends)."""


@pytest.mark.slow
def test_inbox_open_while_cron_sync_stats_and_two_acks_run(
    served_sandbox_env: SandboxEnv, tmp_path: Path
) -> None:
    env = served_sandbox_env
    assert run("templates", "add", "thanks", "Thanks {first_name}!").exit_code == 0
    acked = [new_dm(env, f"Qwyx Person{i}")[0] for i in range(ACKED)]
    solo, solo_ref = new_dm(env, "Solo Inbox")
    plan = tmp_path / "plan.json"
    res = run("ack", "from:Qwyx", "--template", "thanks", "--plan", str(plan))
    assert res.exit_code == 0, res.output
    assert len(json.loads(plan.read_text())["items"]) == ACKED

    home = Path(os.environ["SOCIALDESK_HOME"])
    gw: Gateway = open_gateway(pace=False)
    numbers = gw.thread_numbers("-from:Qwyx -from:Solo")[:6]
    assert len(numbers) == 6
    crowd_tagged, crowd_done, inbox_tagged = numbers[:3], numbers[3:5], numbers[:6:2]
    argvs = [
        ["cli", "sync", "--json"],
        ["cli", "stats", "--json"],
        ["cli", "stats", "--output", str(tmp_path / "stats.csv")],
        ["cli", "ack", "--apply", str(plan), "--yes", "--json"],
        ["cli", "ack", "--apply", str(plan), "--yes", "--json"],
        *(["cli", "tag", str(n), "+crowd"] for n in crowd_tagged),
        *(["cli", "done", str(n)] for n in crowd_done),
    ]
    inbox_errors: list[str] = []

    def inbox_works(crowd: Future[list[Result]]) -> None:
        """The operator's inbox, busy while the crowd runs."""
        i = 0
        while i < ROUNDS or not crowd.done():
            try:
                gw.sync_round()  # skipped (no error) while the cron sync holds the page
                gw.tag(inbox_tagged, ["inbox"])
                gw.threads(None, limit=50)
                gw.stats()
                if i == 1:
                    number = gw.resolve(solo_ref).thread.number
                    outcome = gw.send(number, ReplyRequest(text="on its way"))
                    assert outcome.state == "sent", outcome
            except Exception as exc:  # every failure is reported below, with its text
                inbox_errors.append(f"round {i}: {type(exc).__name__}: {exc}")
            i += 1
            wait_for([crowd], timeout=PAUSE_S)

    released = threading.Event()

    def crowd_runs() -> list[Result]:
        try:
            return run_crowd(
                argvs,
                tmp_path,
                env={"SOCIALDESK_HOME": str(home), "SOCIALDESK_TOKEN": env.token},
                on_release=released.set,
            )
        finally:
            released.set()  # a crowd that failed before its start line releases the inbox too

    try:
        # The crowd is run from a thread of its own, so that the inbox works on this thread
        # (the gateway's) from the release until the last process has exited.
        with ThreadPoolExecutor(1) as pool:
            crowd = pool.submit(crowd_runs)
            assert released.wait(timeout=240), "the crowd never reached its start line"
            inbox_works(crowd)
            results = crowd.result()
        problems = [
            (argv[1:], r.returncode, r.stderr.strip()[-300:])
            for argv, r in zip(argvs, results, strict=True)
            if r.returncode != 0 or "locked" in r.stderr
        ]
        assert problems == []
        assert inbox_errors == []
        applies = [json.loads(r.stdout) for argv, r in zip(argvs, results, strict=True)
                   if argv[1] == "ack"]  # fmt: skip
        # The two share the plan out between them (each item is claimed once), or one sends it
        # all: either way every item is sent by exactly one of them.
        assert sum(a["sent"] for a in applies) == ACKED, applies
        for user in acked:
            assert [d.text for d in deliveries(env, user)] == [
                "Thanks Qwyx!"  # {first_name} of "Qwyx PersonN"
            ], user
        assert [d.text for d in deliveries(env, solo)] == ["on its way"]

        db = home / "socialdesk.db"
        conn = sqlite3.connect(db)
        try:
            stuck = conn.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()
            assert stuck[0] == 0
            by_number = dict(conn.execute("SELECT number, thread_id FROM thread_numbers"))
            tags = {
                n: {r[0] for r in conn.execute(
                    "SELECT tag FROM thread_tags WHERE thread_id = ?", (by_number[n],))}
                for n in numbers
            }  # fmt: skip
            for n in crowd_tagged:
                assert "crowd" in tags[n], n
            for n in inbox_tagged:
                assert "inbox" in tags[n], n
            for n in crowd_done:
                status = conn.execute(
                    "SELECT status FROM thread_state WHERE thread_id = ?", (by_number[n],)
                ).fetchone()
                assert status[0] == "done", n
            # The inbox is still open: a TRUNCATE checkpoint must not be blocked by it.
            busy, _log, _moved = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
            assert os.path.getsize(f"{db}-wal") == 0
        finally:
            conn.close()
    finally:
        gw.close()
