"""The per-page sync lock: exclusive, waits, and dies with its holder."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from socialdesk.paths import resolve_paths
from socialdesk.store.lock import sync_lock


class FakeTime:
    """A monotonic clock that the injected sleep advances."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def test_second_holder_gets_false_after_waiting(tmp_path: Path) -> None:
    """While one holder has the page lock, another waits wait_s and gets False."""
    paths = resolve_paths(tmp_path)
    clock = FakeTime()
    with sync_lock(paths, "p1") as first:
        assert first
        with sync_lock(
            paths, "p1", wait_s=1.0, sleep=clock.sleep, monotonic=clock.monotonic
        ) as second:
            assert second is False
        assert clock.t >= 1.0 and len(clock.sleeps) >= 10
        with sync_lock(paths, "p2", wait_s=0) as other_page:
            assert other_page
    with sync_lock(paths, "p1", wait_s=0) as again:
        assert again
    mode = stat.S_IMODE(os.stat(paths.lock_file("sync-p1")).st_mode)
    assert mode == 0o600


def test_lock_released_when_holder_is_killed(tmp_path: Path) -> None:
    """A sync process killed with SIGKILL leaves no stale lock."""
    code = (
        "import sys, time\n"
        "from socialdesk.paths import resolve_paths\n"
        "from socialdesk.store.lock import sync_lock\n"
        "with sync_lock(resolve_paths(sys.argv[1]), 'p1', wait_s=0) as ok:\n"
        "    print('locked' if ok else 'busy', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        paths = resolve_paths(tmp_path)
        with sync_lock(paths, "p1", wait_s=0) as got:
            assert got is False
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        with sync_lock(paths, "p1", wait_s=5.0) as got:
            assert got is True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
