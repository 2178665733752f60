"""The time-sensitive tests pass with the wall clock moved a year ahead.

Issue 8: a store reader fell back to the wall clock and a test with fixed times started failing
one day after it was written. Here the modules that deal with windows, snoozes, sync, stats and
ack run in a child pytest whose ``datetime.now()``/``time.time()`` are 365 days ahead
(``tests/support/timeshift.py``); and no module under ``socialdesk/store/`` may read the wall
clock at all.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TIME_SENSITIVE = (
    "tests/core/test_sync.py",
    "tests/core/test_windows.py",
    "tests/core/test_stats.py",
    "tests/core/test_ack.py",
    "tests/store/test_threads.py",
    "tests/store/test_query.py",
    "tests/store/test_triage.py",
    "tests/cli/test_show_snooze.py",
)

_WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def test_store_never_reads_the_wall_clock() -> None:
    """No ``datetime.now()``, ``date.today()`` or ``time.time()`` under ``socialdesk/store/``."""
    found: list[str] = []
    for path in sorted((ROOT / "socialdesk" / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in _WALL_CLOCK
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == []


@pytest.mark.slow
def test_time_sensitive_tests_pass_a_year_from_now(tmp_path: Path) -> None:
    """The child run reports the shifted clock and passes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["SOCIALDESK_TEST_SHIFT_DAYS"] = "365"
    # No installed plugin (xdist, asyncio, textual-snapshot, syrupy, hypothesis, anyio) is
    # loaded: these modules use none of them (a test that needed one would fail here, not
    # pass), and importing them was about a second of the child's CPU. Without pytest-asyncio
    # the ini's asyncio_mode is an unknown option: its warning is expected.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.timeshift",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::pytest.PytestConfigWarning",
            *TIME_SENSITIVE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "timeshift: wall clock moved 365 days ahead" in proc.stdout, proc.stdout[-2000:]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
