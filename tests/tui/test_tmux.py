"""Smoke test in a real terminal: ``socialdesk demo`` in tmux, a few keys, quit.

Skipped when tmux is not installed. It proves what Pilot cannot: the real entry point draws in
a terminal, keys arrive through the terminal, and quitting the inbox stops the demo's sandbox
and ends the process cleanly.

The demo runs through the real entry point (``socialdesk.launch.main``) with its sandbox's rate
limit and its client's pacing off (``tests.support.demo``): the terminal is the subject here,
and the paced first sync only slept; tests/cli/test_demo.py runs the paced demo end to end.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.demo import UNPACED_DEMO_CLI

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
_SOCKETS = itertools.count()


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    socket = f"sdtest-{os.getpid()}-{next(_SOCKETS)}"

    def run(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=20
        ).stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=20)


def _wait(capture: Callable[[], str], pred: Callable[[str], bool], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = capture()
    while not pred(screen):
        if time.monotonic() > deadline:
            raise AssertionError("screen never matched:\n" + screen)
        time.sleep(0.1)
        screen = capture()
    return screen


def test_demo_runs_in_tmux_and_quits_cleanly(tmux: Callable[..., str]) -> None:
    demo = f"{shlex.quote(sys.executable)} -c {shlex.quote(UNPACED_DEMO_CLI)} demo --threads 12"
    demo += " --activity 0.5"
    tmux(
        "new-session",
        "-d",
        "-s",
        "sd",
        "-x",
        "100",
        "-y",
        "30",
        f"{demo}; echo EXIT=$?; sleep 30",
    )

    def capture() -> str:
        return tmux("capture-pane", "-t", "sd", "-p")

    screen = _wait(capture, lambda s: "▶" in s and "Awaiting reply" in s)
    assert "\x1b" not in screen
    tmux("send-keys", "-t", "sd", "j", "j")
    _wait(capture, lambda s: "▶" in s)
    tmux("send-keys", "-t", "sd", "e")  # done: the list stays usable
    _wait(capture, lambda s: "done #" in s or "undoes" in s)
    tmux("send-keys", "-t", "sd", "u")
    tmux("send-keys", "-t", "sd", "q")
    final = _wait(capture, lambda s: "EXIT=" in s)
    assert "EXIT=0" in final and "Demo stopped" in final


def test_closing_the_terminal_removes_the_throwaway_demo_home(
    tmux: Callable[..., str], tmp_path: Path
) -> None:
    """The terminal closed under the demo (SIGHUP: a killed tmux session, a closed window):
    its throwaway home (database, token file) is removed, as quitting with q removes it."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    demo = f"{shlex.quote(sys.executable)} -c {shlex.quote(UNPACED_DEMO_CLI)} demo --threads 6"
    tmux("new-session", "-d", "-s", "hup", "-x", "80", "-y", "24",
         f"TMPDIR={shlex.quote(str(tmpdir))} {demo}")  # fmt: skip
    _wait(lambda: tmux("capture-pane", "-t", "hup", "-p"), lambda s: "▶" in s)
    homes = list(tmpdir.glob("socialdesk-demo-*"))
    assert len(homes) == 1 and (homes[0] / "socialdesk.db").exists()
    tmux("kill-session", "-t", "hup")
    deadline = time.monotonic() + 20
    while homes[0].exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not homes[0].exists()
