"""`socialdesk ack` against the sandbox: dry run, plans, confirmation, interrupts, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import new_dm, run, synced
from tests.support.sandbox import SandboxEnv

THANKS = ("Thanks {first_name}!", "Hi {first_name}, got it.")


def _setup(env: SandboxEnv) -> None:
    assert run("templates", "add", "thanks", *THANKS).exit_code == 0
    synced(env)


def _sent(env: SandboxEnv) -> int:
    return len(env.sandbox.deliveries(env.page_id))


def test_dry_run_sends_nothing(sandbox_env: SandboxEnv) -> None:
    """--dry-run prints the plan (thread, customer, channel, kind, text) and sends nothing."""
    _setup(sandbox_env)
    before = _sent(sandbox_env)
    res = run("ack", "is:awaiting is:dm", "--template", "thanks", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "dm_response" in res.stdout and "plan:" in res.stdout
    assert "next: the same command without --dry-run" in res.stderr  # what to do next
    data = json.loads(
        run("ack", "is:awaiting", "--template", "thanks", "--dry-run", "--json").stdout
    )
    assert data["items"] and all(i["send_kind"] != "dm_human_agent" for i in data["items"])
    assert any(s["reason"] == "outside_window" for s in data["skipped"])
    assert _sent(sandbox_env) == before


def test_refuses_without_yes_off_terminal(sandbox_env: SandboxEnv) -> None:
    """Without --yes and without a terminal: exit 2, nothing sent."""
    _setup(sandbox_env)
    before = _sent(sandbox_env)
    res = run("ack", "is:awaiting", "--template", "thanks")
    assert res.exit_code == 2 and "--yes" in res.output
    assert _sent(sandbox_env) == before


def test_yes_sends_then_rerun_sends_nothing(sandbox_env: SandboxEnv) -> None:
    """--yes acknowledges, tags acked; exit 5 when the API refused some; a re-run sends none."""
    _setup(sandbox_env)
    res = run(
        "ack", "is:awaiting is:dm", "--template", "thanks", "--yes", "--rate", "100", "--json"
    )
    assert "acknowledging" not in res.output  # no progress bar off a terminal
    summary = json.loads(res.stdout)
    assert summary["sent"] > 0
    assert res.exit_code == (5 if summary["failed"] else 0)
    n = _sent(sandbox_env)
    again = run("ack", "is:awaiting is:dm", "--template", "thanks", "--yes", "--json")
    assert json.loads(again.stdout)["sent"] == 0
    assert _sent(sandbox_env) == n
    tagged = json.loads(run("list", "tag:acked", "--json", "--limit", "500").stdout)
    assert len(tagged["threads"]) == summary["sent"]


def test_failed_exit_5(sandbox_env: SandboxEnv) -> None:
    """A customer the API refuses makes the run exit 5 and names the reason on stderr."""
    _setup(sandbox_env)
    new_dm(sandbox_env, "Bob Blocked", blocked=True)
    res = run("ack", "from:Bob", "--template", "thanks", "--yes")
    assert res.exit_code == 5
    assert "1 failed" in res.stdout and "available" in res.output


def test_plan_apply_and_refusals(
    sandbox_env: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--plan writes a 0600 plan; --apply sends it; edited or foreign plans are refused (2)."""
    _setup(sandbox_env)
    user, ref = new_dm(sandbox_env, "Pia Plan")
    plan = tmp_path / "plan.json"
    res = run("ack", f"{ref} OR from:Pia", "--template", "thanks", "--plan", str(plan))
    assert res.exit_code == 0, res.output
    assert os.stat(plan).st_mode & 0o777 == 0o600
    data: dict[str, Any] = json.loads(plan.read_text())
    assert data["format"] == 2 and data["db_id"] and data["items"]
    edited = tmp_path / "edited.json"
    data["items"][0]["text"] = "SALE! 90% off"
    edited.write_text(json.dumps(data))
    res = run("ack", "--apply", str(edited), "--yes")
    assert res.exit_code == 2 and "checksum" in res.output
    home = os.environ["SOCIALDESK_HOME"]
    other_home = tmp_path / "other"
    other_home.mkdir()
    monkeypatch.setenv("SOCIALDESK_HOME", str(other_home))
    res = run("ack", "--apply", str(plan), "--yes")
    assert res.exit_code == 2 and "another database" in res.output
    monkeypatch.setenv("SOCIALDESK_HOME", home)
    before = _sent(sandbox_env)
    assert run("ack", "--apply", str(plan), "--yes").exit_code == 0
    assert _sent(sandbox_env) > before
    assert len(sandbox_env.sandbox.deliveries(sandbox_env.page_id, user)) == 1
    res = run("ack", "--apply", str(plan), "--yes", "--json")
    assert json.loads(res.stdout)["sent"] == 0


def test_apply_skips_changed_thread(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """A thread with a new message after planning is skipped by --apply, saying why."""
    _setup(sandbox_env)
    user, _ = new_dm(sandbox_env, "Chad Changed")
    plan = tmp_path / "plan.json"
    assert run("ack", "from:Chad", "--template", "thanks", "--plan", str(plan)).exit_code == 0
    sb: Any = sandbox_env.sandbox
    sb.advance(2)
    sb.add_message(sandbox_env.page_id, user, "also, one more thing")
    synced(sandbox_env)
    res = run("ack", "--apply", str(plan), "--yes", "--json")
    out = json.loads(res.stdout)
    assert out["sent"] == 0
    assert out["skipped_by_reason"] == {"changed": 1}


def test_usage_errors(sandbox_env: SandboxEnv) -> None:
    """Missing QUERY/--template, --apply with QUERY, and a typo'd template are usage errors."""
    _setup(sandbox_env)
    assert run("ack", "is:awaiting").exit_code == 2
    assert run("ack", "is:awaiting", "--template", "thanx", "--dry-run").exit_code == 2
    assert run("ack", "x", "--apply", "p.json").exit_code == 2


def _ack_on_terminal(args: list[str], answer: str, *, stdout_tty: bool) -> tuple[int, str, str]:
    """Run `socialdesk ACK ARGS` with a pseudo-terminal as stdin/stderr (and stdout if asked),
    answer the confirmation question, return (exit code, stdout, terminal output)."""
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "ack", *args],
        stdin=slave,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        # A short wait: the loop ends only on a quiet poll after the child exited.
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"? [y/N]" in seen:
            os.write(master, answer.encode() + b"\r")
            answered = True
        if proc.poll() is not None and not ready:
            break
    if not answered:
        proc.kill()  # the question never showed on the terminal: a failure, not a hang
    out = proc.stdout.read().decode() if proc.stdout is not None else ""
    code = proc.wait(timeout=30)
    os.close(master)
    assert answered, seen.decode(errors="replace")
    return code, out, seen.decode(errors="replace")


@pytest.mark.slow
def test_confirmation_on_a_terminal(served_sandbox_env: SandboxEnv) -> None:
    """On a terminal ack shows the plan and asks: 'n' sends nothing; 'y' sends. Question and plan
    go to the terminal even when stdout is redirected, and --json keeps stdout pure JSON."""
    _setup(served_sandbox_env)
    user, _ = new_dm(served_sandbox_env, "Yan Yesno")
    args = ["from:Yan", "--template", "thanks", "--json"]
    code, out, term = _ack_on_terminal(args, "n", stdout_tty=False)
    assert code == 0, term
    assert json.loads(out)["sent"] == 0 and json.loads(out)["cancelled"] is True
    assert "Yan Yesno" in term and "plan: 1 to send" in term
    assert served_sandbox_env.sandbox.deliveries(served_sandbox_env.page_id, user) == []
    code, _out, term = _ack_on_terminal(args[:-1], "y", stdout_tty=True)
    assert code == 0, term
    assert "ack: 1 sent" in term
    assert "acknowledging" in term  # the progress bar, on a terminal only
    assert len(served_sandbox_env.sandbox.deliveries(served_sandbox_env.page_id, user)) == 1


def test_invalid_token_exit_3_nothing_sent(sandbox_env: SandboxEnv) -> None:
    """Sending with a revoked token: exit 3, nothing delivered, no outbox row marked sent."""
    from tests.support.cli import configure

    configure(sandbox_env)  # the page is known without asking the API
    _setup(sandbox_env)
    new_dm(sandbox_env, "Ivy Invalid")
    before = _sent(sandbox_env)
    sandbox_env.sandbox.invalidate_token(sandbox_env.token)
    res = run("ack", "is:awaiting", "--template", "thanks", "--yes", "--json")
    assert res.exit_code == 3, res.output
    out = json.loads(res.stdout)
    assert (out["sent"], out["failed"]) == (0, 1) and "access token" in out["stopped"]
    assert _sent(sandbox_env) == before
    from socialdesk.paths import resolve_paths
    from socialdesk.store.db import open_db

    conn = open_db(resolve_paths().db_file)
    states = {r[0] for r in conn.execute("SELECT state FROM outbox")}
    conn.close()
    assert "sent" not in states and "sending" not in states


def test_snoozed_threads_are_skipped_unless_asked(sandbox_env: SandboxEnv) -> None:
    """A snoozed thread is left out of a plan ("snoozed"); --snoozed includes it."""
    _setup(sandbox_env)
    _user, ref = new_dm(sandbox_env, "Sam Snoozed")
    assert run("snooze", ref, "--until", "2h").exit_code == 0
    plan = json.loads(run("ack", "from:Sam", "--template", "thanks", "--dry-run", "--json").stdout)
    assert plan["items"] == [] and [s["reason"] for s in plan["skipped"]] == ["snoozed"]
    args = ["ack", "from:Sam", "--template", "thanks", "--snoozed", "--dry-run", "--json"]
    assert len(json.loads(run(*args).stdout)["items"]) == 1
    out = json.loads(
        run("ack", "from:Sam", "--template", "thanks", "--snoozed", "--yes", "--json").stdout
    )
    assert out["sent"] == 1


def test_plan_never_creates_directories(sandbox_env: SandboxEnv, tmp_path: Path) -> None:
    """--plan into a directory that does not exist: exit 2, nothing created, nothing planned."""
    _setup(sandbox_env)
    target = tmp_path / "no" / "such" / "plan.json"
    res = run("ack", "is:awaiting", "--template", "thanks", "--plan", str(target))
    assert res.exit_code == 2 and "does not exist" in res.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupted_apply_prints_the_summary_so_far(
    served_sandbox_env: SandboxEnv, tmp_path: Path, sig: str, code: int
) -> None:
    """SIGINT/SIGTERM during `ack --yes --json`: stdout is one JSON summary with what was sent
    so far and interrupted=true; the exit code is 130/143; no row is left sending."""
    import signal
    import subprocess
    import sys
    import time

    env = served_sandbox_env
    _setup(env)
    # 20 customers at 5 sends/s: the signal lands after the second send, and ~3.6 s of sends
    # are still ahead of it (12 at 2/s waited 0.5 s for the second send, no margin gained).
    for i in range(20):
        env.sandbox.add_user(f"Int{i} Rupt")
    sb = env.sandbox
    users = [u for u in sb.state.users if sb.state.users[u].name.startswith("Int")]
    for u in users:
        sb.add_message(env.page_id, u, "hello")
    synced(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "ack", "from:Rupt", "--template", "thanks",
         "--yes", "--json", "--rate", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(sb.deliveries(env.page_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err.decode()
    summary = json.loads(out)
    assert summary["interrupted"] is True and 1 <= summary["sent"] < len(users)
    assert summary["sent"] + summary["unknown"] <= len(sb.deliveries(env.page_id))
    assert summary["skipped_by_reason"].get("not_attempted", 0) > 0
    from socialdesk.paths import resolve_paths
    from socialdesk.store.db import open_db

    conn = open_db(resolve_paths().db_file)
    states = {r[0] for r in conn.execute("SELECT state FROM outbox")}
    conn.close()
    assert "sending" not in states and "queued" not in states
