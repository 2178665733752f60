"""End to end in a real terminal: the inbox on the hostile corpus in tmux (issue 12).

tmux is the terminal: whatever escape reaches it is interpreted, so what it shows is the proof.
The pane gets a title and tmux is told to accept clipboard writes (OSC 52) first; the inbox
(``tests/support/hostile_inbox.py``: ``build_demo(hostile=True)``, the real app) opens, the
operator walks the list opening threads. Then: the pane title is unchanged (no OSC 0/2 got
through), no tmux paste buffer was created (no OSC 52), the inbox is still drawn (nothing
cleared or reset the screen, the header is there), and ``capture-pane -e`` (the screen with its
attributes as escapes) holds only SGR sequences. Skipped when tmux is not installed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

REPO = Path(__file__).resolve().parents[2]
TITLE = "sd-title-kept"
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def _socket() -> str:
    """This worker's tmux server (``-L``): the fixture's, and the pane's own tmux calls."""
    return f"sdhostile-{os.getpid()}"


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    socket = _socket()

    def run(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=20
        ).stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=20)


def _wait(capture: Callable[[], str], pred: Callable[[str], bool], timeout: float = 40) -> str:
    deadline = time.monotonic() + timeout
    screen = capture()
    while not pred(screen):
        if time.monotonic() > deadline:
            raise AssertionError("screen never matched:\n" + screen)
        time.sleep(0.02)  # capture-pane is cheap; a coarse poll only adds latency
        screen = capture()
    return screen


@pytest.mark.slow
def test_hostile_inbox_in_tmux_keeps_title_clipboard_and_screen(
    tmux: Callable[..., str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring"
    cmd = (
        f"cd {shlex.quote(str(REPO))} && {env} {shlex.quote(sys.executable)}"
        f" -m tests.support.hostile_inbox {shlex.quote(str(home))}; sleep 30"
    )
    # The inbox starts only once the options and the title are set: the pane's command waits
    # on a tmux channel this test signals (it used to sleep a fixed second instead).
    go = f"tmux -L {shlex.quote(_socket())} wait-for sd-go"
    tmux("new-session", "-d", "-s", "sd", "-x", "120", "-y", "36", f"{go}; {cmd}")
    tmux("set-option", "-g", "set-clipboard", "on")
    tmux("set-option", "-g", "allow-rename", "on")
    tmux("select-pane", "-t", "sd", "-T", TITLE)
    tmux("wait-for", "-S", "sd-go")

    def capture() -> str:
        return tmux("capture-pane", "-t", "sd", "-p")

    _wait(capture, lambda s: "Awaiting reply" in s)
    tmux("send-keys", "-t", "sd", "5")  # the All view (every hostile thread)
    time.sleep(0.5)
    for _ in range(14):  # open thread after thread
        tmux("send-keys", "-t", "sd", "enter")
        time.sleep(0.25)
        tmux("send-keys", "-t", "sd", "j")
        time.sleep(0.15)
    screen = _wait(capture, lambda s: "All (" in s and "▶" in s)
    assert tmux("display-message", "-p", "-t", "sd", "#{pane_title}").strip() == TITLE
    assert tmux("list-buffers").strip() == ""  # no OSC 52 reached the clipboard
    assert "Mallory" in screen  # the hostile customer is on screen: drawn, not obeyed
    assert "EEEEEEEEEE" not in screen  # no DECALN (ESC # 8) filled the screen
    with_attrs = tmux("capture-pane", "-t", "sd", "-p", "-e")
    assert "\x1b" in with_attrs  # -e really shows attributes
    assert "\x1b" not in _SGR.sub("", with_attrs)  # and nothing but SGR
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", _SGR.sub("", with_attrs))
    tmux("send-keys", "-t", "sd", "q")
    final = _wait(capture, lambda s: "EXIT=" in s)
    assert "EXIT=0" in final
