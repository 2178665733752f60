"""The working loop a new user hit (issue 9): homes, doctor, pipes, offline reads, help words."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from socialdesk.paths import resolve_paths
from tests.support.cli import configure, run, synced
from tests.support.demo import unpace_demo
from tests.support.sandbox import SandboxEnv


def test_demo_refuses_a_real_home_and_leaves_it_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """demo --home on a home holding a real config: exit 2 naming the reason, every file as it
    was; an empty directory and a home an earlier demo made are fine."""
    unpace_demo(monkeypatch)  # homes are the subject, not pacing (tests/cli/test_demo.py)
    real = tmp_path / "real"
    real.mkdir()
    config = real / "config.toml"
    config.write_text('default_page = "shop"\n[pages.shop]\nid = "123"\n')
    before = {p.name: p.read_bytes() for p in real.iterdir()}
    res = run("demo", "--home", str(real), "--threads", "4")
    assert res.exit_code == 2 and "not a demo home" in res.stderr
    assert {p.name: p.read_bytes() for p in real.iterdir()} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("demo", "--home", str(empty), "--threads", "4").exit_code == 0
    assert run("demo", "--home", str(empty), "--threads", "4", "--seed", "3").exit_code == 0


def test_a_missing_home_variable_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOCIALDESK_HOME naming a missing directory (a cron typo): exit 2 naming the variable,
    nothing created; init and auth login may create it."""
    home = os.environ["SOCIALDESK_HOME"]
    missing = tmp_path / "nope" / "home"
    monkeypatch.setenv("SOCIALDESK_HOME", str(missing))
    for args in (["list"], ["sync"], ["stats"], ["outbox", "--offline"]):
        res = run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert f"SOCIALDESK_HOME={missing} does not exist" in res.stderr
    assert not missing.exists()
    monkeypatch.setenv("SOCIALDESK_HOME", home)


def test_doctor_says_the_config_is_missing_and_shows_the_graph_url(
    sandbox_env: SandboxEnv,
) -> None:
    """No config file: a warning naming it and `socialdesk init`; the Graph base URL in use and
    where it comes from; once configured, the config check names the file."""
    res = run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["config"]["status"] == "warn"
    assert "does not exist" in checks["config"]["detail"]
    assert "socialdesk init" in checks["config"]["detail"]
    graph = checks["graph API"]["detail"]
    assert graph.startswith(sandbox_env.base_url) and "SOCIALDESK_GRAPH_URL" in graph
    configure(sandbox_env)
    checks = {c["name"]: c for c in json.loads(run("doctor", "--json").stdout)["checks"]}
    assert checks["config"] == {
        "name": "config",
        "status": "ok",
        "detail": str(resolve_paths().config_file),
        "auth": False,
    }


def test_english_plurals(sandbox_env: SandboxEnv) -> None:
    """ "1 warning", "2 warnings"; "(+1 variant)"."""
    res = run("doctor")
    tail = res.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ failed, (1 warning|\d+ warnings)\.", tail), tail
    assert "1 warnings" not in res.stdout
    assert run("templates", "add", "t", "a", "b").exit_code == 0
    assert "(+1 variant)" in run("templates").stdout


def _closed_pipe_run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run socialdesk with stdout a pipe nobody reads any more (like `| head -1` after it
    exited): every write meets EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "socialdesk", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args", [["doctor"], ["outbox", "--offline", "--all"], ["list", "", "--json"], ["--help"]]
)
def test_broken_pipes_are_quiet(served_sandbox_env: SandboxEnv, args: list[str]) -> None:
    """`doctor | head -1` and `outbox | head` print nothing on stderr when the reader left."""
    configure(served_sandbox_env)
    synced(served_sandbox_env)
    proc = _closed_pipe_run(args, dict(os.environ))
    assert proc.stderr == "", proc.stderr
    assert proc.returncode in (0, 1, 141)


class _NoNetwork(httpx.BaseTransport):
    """Every request fails as a network outage would."""

    def __init__(self) -> None:
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        raise httpx.ConnectError("no network", request=request)


@pytest.fixture
def offline(sandbox_env: SandboxEnv) -> Iterator[_NoNetwork]:
    """The sandbox synced once with SOCIALDESK_TOKEN alone (no config), then the network gone."""
    from socialdesk.cli.common import use_context_factory
    from socialdesk.core.context import AppContext

    synced(sandbox_env)
    assert not resolve_paths().config_file.exists()
    dead = _NoNetwork()
    with use_context_factory(
        lambda *, create_home=False: AppContext.open(transport=dead, create_home=create_home)
    ):
        yield dead


def test_read_only_commands_never_need_the_network(offline: _NoNetwork) -> None:
    """With only SOCIALDESK_TOKEN set and no network: list, count, show and stats work and make
    no request (the token's page was remembered by the first command)."""
    threads = json.loads(run("list", "", "--json").stdout)["threads"]
    assert threads
    for args in (
        ["list"],
        ["count", ""],
        ["show", str(threads[0]["number"])],
        ["stats", "--format", "json"],
    ):
        res = run(*args)
        assert res.exit_code == 0, (args, res.output)
    assert offline.requests == 0


def test_help_lists_commands_grouped_in_a_working_order() -> None:
    """`socialdesk --help`: sections from getting started to data, each command once."""
    out = run("--help").stdout
    sections = [s for s in re.findall(r"^(\S[^:\n]*):$", out, flags=re.M) if s != "Options"]
    assert sections[:5] == ["Start here", "Read", "Reply and triage", "In bulk",
                            "Statistics and data"]  # fmt: skip
    listed = re.findall(r"^  ([a-z]+)\s", out, flags=re.M)
    assert listed[:4] == ["demo", "inbox", "init", "auth"] and len(listed) == len(set(listed))
    for command in ("list", "count", "reply", "tag", "ack", "stats", "sandbox"):
        assert command in listed


@pytest.mark.slow
def test_the_sandbox_try_lines_lead_to_a_working_list(tmp_path: Path) -> None:
    """The lines `sandbox serve` prints, run as printed in another shell, sync and then list
    (the real commands: paced client, rate-limited sandbox)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALDESK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sandbox", "serve", "--threads", "6"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(4)]
        export = next(line for line in lines if line.strip().startswith("export "))
        commands = next(line for line in lines if "socialdesk list" in line)
        script = f"cd {tmp_path} && {export.strip()} && {commands.strip()}"
        done = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "synced" in done.stdout and re.search(r"^#\d+", done.stdout, flags=re.M)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_stats_append_refuses_a_json_file_clearly(tmp_path: Path) -> None:
    """--append to a .json file (or a CSV path holding JSON): exit 2 saying why, file kept."""
    target = tmp_path / "stats.json"
    target.write_text('{"days": []}\n')
    res = run("stats", "--output", str(target), "--append")
    assert res.exit_code == 2 and "JSON" in res.stderr
    disguised = tmp_path / "stats.csv"
    disguised.write_text('{"days": []}\n')
    res = run("stats", "--output", str(disguised), "--append")
    assert res.exit_code == 2 and "holds JSON" in res.stderr
    assert disguised.read_text() == '{"days": []}\n'


def test_the_demo_first_screen_keeps_the_numbers_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every row of the demo's first screen starts with its #N at 80 columns."""
    unpace_demo(monkeypatch)  # the screen is the subject, not pacing
    monkeypatch.setenv("COLUMNS", "80")
    res = run("demo", "--threads", "30")
    assert res.exit_code == 0, res.output
    rows = [line for line in res.stdout.splitlines() if re.match(r"^\s*#\d+\s", line)]
    assert len(rows) >= 5 and all(len(line) <= 80 for line in rows)
