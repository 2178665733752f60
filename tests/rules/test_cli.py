"""The `rules` commands on an in-process sandbox: JSON shapes and the documented exit codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from socialdesk.paths import resolve_paths
from tests.support.cli import configure, new_dm, run, run_json
from tests.support.sandbox import SandboxEnv, sandbox_env

RULES = """
[settings]
pace_seconds = 0

[templates.thanks]
text = ["Thanks {first_name}, we got your message.", "Got it, {first_name}!", "Thank you!"]

[[rule]]
name  = "hello"
state = "live"
query = "is:dm is:unanswered said:hello"
reply = "thanks"
tag   = ["greeted"]
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxEnv]:
    monkeypatch.delenv("SOCIALDESK_RULES", raising=False)
    with sandbox_env(monkeypatch, threads=4) as e:
        configure(e)
        yield e


def _write(text: str) -> None:
    (resolve_paths().config_dir / "rules.toml").write_text(text)


def test_check_names_file_rule_and_key(env: SandboxEnv) -> None:
    _write(RULES + '\n[[rule]]\nname = "bad"\nquery = "is:dm"\nonce = "twice"\n')
    res = run("rules", "check")
    assert res.exit_code == 2
    assert "rules.toml" in res.output and "rule 'bad'" in res.output and "'once'" in res.output
    _write(RULES)
    assert run_json("rules", "check")["ok"] is True


def test_run_sends_once_and_list_log_pause_resume(env: SandboxEnv) -> None:
    _write(RULES)
    assert run("sync", "--rules").exit_code == 0  # the first run only sets the watermark
    env.sandbox.advance(120)
    user, ref = new_dm(env, "Rita Rules")  # "hello there"
    out = run_json("rules", "run")
    assert out["sent"] == 1, out
    assert [a["thread"] for a in out["actions"] if a["outcome"] == "sent"] == [int(ref[1:])]
    assert len(env.sandbox.deliveries(env.page_id, user)) == 1
    assert run_json("rules", "run")["sent"] == 0
    listed = run_json("rules", "list")
    assert listed["rules"][0]["name"] == "hello" and listed["rules"][0]["fired_24h"] == 1
    log = run_json("rules", "log", ref)
    assert log[0]["outcome"] == "fired"
    assert int(ref[1:]) in [t["number"] for t in run_json("list", "rule:hello")["threads"]]
    assert run_json("rules", "pause", "--reason", "holiday")["paused"]["by"] == "operator"
    res = run("rules", "run")
    assert res.exit_code == 0 and "paused (holiday)" in res.output
    assert run_json("rules", "resume")["resumed"]["reason"] == "holiday"


def test_test_trace_and_replay(env: SandboxEnv) -> None:
    _write(RULES)
    user, ref = new_dm(env, "Tess Trace")
    trace = run_json("rules", "test", "hello", ref)
    assert [c["check"] for c in trace["checks"]][:3] == ["state", "query", "author"]
    assert trace["text"].startswith("Automatic reply: ")
    replay = run_json("rules", "test", "hello", "--since", "7d")
    assert replay["estimate"] is True and replay["fires"] >= 1
    assert run("rules", "test", "hello").exit_code == 2
    del user


def test_after_sync_is_opt_in(env: SandboxEnv) -> None:
    _write(RULES)
    assert run("rules", "run").exit_code == 0  # the watermark
    env.sandbox.advance(120)
    quiet, _ = new_dm(env, "Quinn Quiet")  # a plain sync: no rules
    assert env.sandbox.deliveries(env.page_id, quiet) == []
    _write(RULES.replace("pace_seconds = 0", "pace_seconds = 0\nafter_sync = true"))
    env.sandbox.advance(120)
    eager, _ = new_dm(env, "Eve Eager")  # new_dm syncs: now the rules run after it
    assert len(env.sandbox.deliveries(env.page_id, eager)) == 1
    res = run("rules", "run", "--dry-run", "--json")
    assert res.exit_code == 0
