"""Start many real socialdesk processes at the same instant, for the concurrency tests.

``python -m tests.robust.crowd GO_FILE open DB`` opens (and migrates) ``DB``;
``python -m tests.robust.crowd GO_FILE cli ARGS…`` runs the real CLI with ``ARGS``. Each waits,
fully imported, until ``GO_FILE`` exists, so twenty of them really start together (Python's
start-up would otherwise spread them over a second and hide the races).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_SUFFIX = ".ready"


@dataclass(frozen=True)
class Result:
    """One finished process."""

    returncode: int
    stdout: str
    stderr: str


def run_crowd(
    argvs: Sequence[Sequence[str]],
    work: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
    on_release: Callable[[], None] | None = None,
) -> list[Result]:
    """Run one process per ``argv`` (each ``["open", DB]`` or ``["cli", …]``), released at once
    (``on_release`` is called at that moment)."""
    go = Path(tempfile.mkdtemp(prefix="crowd-", dir=work)) / "go"
    base = {
        k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR", "SOCIALDESK_TOKEN")
    }
    base.update(env or {})
    base["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.robust.crowd", str(go), *argv],
            cwd=REPO,
            env=base,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    deadline = time.monotonic() + timeout
    try:
        # Release them once every one is imported and waiting (or after 60 s regardless).
        ready_by = time.monotonic() + 60
        while time.monotonic() < ready_by:
            ready = sum(1 for i in range(len(procs)) if Path(f"{go}.{i}{READY_SUFFIX}").exists())
            if ready >= len(procs):
                break
            time.sleep(0.02)
        go.touch()
        if on_release is not None:
            on_release()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append(Result(proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _main(argv: list[str]) -> int:
    go = Path(argv[0])
    kind, rest = argv[1], argv[2:]
    if kind == "open":
        from socialdesk.store.db import open_db
    else:
        import socialdesk.cli  # noqa: F401 - imported before the start line
    # Announce readiness: one file per process (the parent counts them).
    index = 0
    while True:
        try:
            fd = os.open(f"{go}.{index}{READY_SUFFIX}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
            break
        except FileExistsError:
            index += 1
    while not go.exists():
        time.sleep(0.0005)
    if kind == "open":
        open_db(Path(rest[0])).close()
        return 0
    from socialdesk.cli import main

    sys.argv = ["socialdesk", *rest]
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
