"""Kill points a child process announces, for the SIGKILL tests.

A kill test used to sleep a random time and hope the kill landed inside the work; most of its
time went into those sleeps (and into the pacing that made the work slow enough to be hit).
Here the child says where it is instead, and the test kills it there:

- In the child, :func:`install` (called before the rest of socialdesk is imported) wraps
  ``socialdesk.store.db.transaction`` (every module imports it by name, so the wrapper must be
  in place first). Each committed transaction writes ``commit N FUNC`` on the file descriptor
  ``$KILL_EVENTS_FD``: its number in this run and the function that opened it (``commit N FUNC
  durable`` for the outbox's intents, committed before a send). With ``KILL_HOLD_AT=FUNC[:K]``
  the K-th (default first) transaction opened by ``FUNC`` writes ``hold N FUNC`` once its body
  has run, its rows written but not committed, and waits to be killed: a kill inside a
  transaction, which a random sleep almost never hits. ``KILL_HOLD_AT=FUNC[:K]+`` holds just
  after that commit instead (``hold N FUNC after``): the outbox row is ``sending`` and the send
  it announces never starts.
- ``python -m tests.support.kill_events [--now ISO] ARGS…`` is the CLI (``socialdesk ARGS``,
  what ``python -m socialdesk`` runs) with those announcements, without the client's pacing
  (the kill tests' sandboxes have their rate limit off: the pacing only sleeps) and, with
  ``--now``, with its clock fixed at that instant (time is passed in, never today's).
- In the test, :class:`Announcing` starts such a child and reads its events with a deadline.

The process killed is still a real interpreter doing real work on a real database file; only
its position is known now.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
EVENTS_FD = "KILL_EVENTS_FD"
HOLD_AT = "KILL_HOLD_AT"


# -- the child ---------------------------------------------------------------------------------


def install() -> None:
    """Announce every commit on ``$KILL_EVENTS_FD`` (and hold at ``$KILL_HOLD_AT``).

    Without ``KILL_EVENTS_FD`` nothing changes. Must run before the modules that import
    ``transaction`` by name (``socialdesk.core.*``) are imported.
    """
    fd_text = os.environ.get(EVENTS_FD)
    if not fd_text:
        return
    out: IO[str] = os.fdopen(int(fd_text), "w", buffering=1)
    spec = os.environ.get(HOLD_AT, "")
    hold_after = spec.endswith("+")
    hold_name, _, hold_nth = spec.removesuffix("+").partition(":")
    hold_left = int(hold_nth or 1)

    import socialdesk.store
    import socialdesk.store.db as db

    real = db.transaction
    count = 0
    lock = threading.Lock()  # the inbox commits from its sync thread and its sending thread

    def say(event: str) -> None:
        with lock:
            out.write(event + "\n")

    def wait_to_be_killed(event: str) -> None:
        say(event)
        while True:
            time.sleep(60)

    @contextmanager
    def announced(conn: Any, *, durable: bool = False) -> Iterator[Any]:
        nonlocal count, hold_left
        # The function that opened the transaction (frame 1 is contextmanager's __enter__).
        name = sys._getframe(2).f_code.co_name
        with lock:
            count += 1
            n = count
            hold = False
            if name == hold_name:
                hold_left -= 1
                hold = hold_left == 0
        with real(conn, durable=durable) as c:
            yield c
            if hold and not hold_after:
                # Killed here: the transaction's rows are written, its COMMIT never runs.
                wait_to_be_killed(f"hold {n} {name}")
        say(f"commit {n} {name}{' durable' if durable else ''}")
        if hold and hold_after:
            # Killed here: committed, and what the caller does next (a send) never starts.
            wait_to_be_killed(f"hold {n} {name} after")

    db.transaction = announced
    socialdesk.store.transaction = announced


def main(argv: Sequence[str]) -> None:
    """``[--now ISO] ARGS…``: the CLI with announcements, unpaced, at a fixed time if given."""
    install()
    args = list(argv)
    now: datetime | None = None
    if args[:1] == ["--now"]:
        now = datetime.fromisoformat(args[1])
        args = args[2:]

    from socialdesk.cli import main as cli_main
    from socialdesk.cli.common import use_context_factory
    from socialdesk.core.clock import FixedClock
    from socialdesk.core.context import AppContext

    clock = FixedClock(now) if now is not None else None
    sys.argv = ["socialdesk", *args]

    def factory(*, create_home: bool = False) -> AppContext:
        return AppContext.open(create_home=create_home, pace=False, clock=clock)

    with use_context_factory(factory):
        cli_main()


# -- the test ----------------------------------------------------------------------------------


class Announcing:
    """A child started with an events pipe; :meth:`wait_for` reads its announcements."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        hold_at: str | None = None,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    ) -> None:
        read_fd, write_fd = os.pipe()
        env = {**env, EVENTS_FD: str(write_fd)}
        env.pop(HOLD_AT, None)
        if hold_at is not None:
            env[HOLD_AT] = hold_at
        # stderr goes to a file, not a pipe: a pipe nobody reads while the events are awaited
        # would stall a talkative child.
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish)
        try:
            self.proc = subprocess.Popen(
                list(argv),
                cwd=REPO,
                env=env,
                stdout=stdout,
                stderr=self._err,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)  # the child's copy is the only writer: EOF when it exits
        self._fd = read_fd
        self._buf = b""
        self._eof = False
        self._stderr = ""
        self.events: list[str] = []
        """Every event read so far, in order."""

    def next_event(self, timeout: float = 60.0) -> str | None:
        """The next announcement, or ``None`` once the child has closed the pipe (exited)."""
        deadline = time.monotonic() + timeout
        while (event := self._take()) is None and not self._eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no event from the child in {timeout} s: {self.events[-5:]}")
            if select.select([self._fd], [], [], left)[0]:
                self._read()
        return event

    def _take(self) -> str | None:
        """A complete line already read, if any."""
        if b"\n" not in self._buf:
            return None
        line, self._buf = self._buf.split(b"\n", 1)
        event = line.decode()
        self.events.append(event)
        return event

    def _read(self) -> None:
        chunk = os.read(self._fd, 4096)
        self._eof = not chunk
        self._buf += chunk

    def wait_for(self, word: str, timeout: float = 60.0) -> str | None:
        """Read events until one has the word ``word`` (returned), or ``None`` at exit: ``hold``,
        ``commit``, a function's name…"""
        while (event := self.next_event(timeout)) is not None:
            if word in event.split():
                return event
        return None

    def commits(self) -> int:
        """Transactions the child has announced as committed so far."""
        return sum(1 for e in self.events if e.startswith("commit "))

    def kill(self) -> bool:
        """SIGKILL the child and reap it; whether it was still running when killed."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.finish()
        return alive

    def finish(self, timeout: float = 120.0) -> tuple[int, str]:
        """Wait for the child (reading whatever it still announces); its exit code and stderr.
        Once finished (or killed), the same answer again."""
        if self._fd >= 0:
            while self.next_event(timeout) is not None:
                pass
            self.proc.wait(timeout=timeout)
            os.close(self._fd)
            self._fd = -1
            self._err.seek(0)
            self._stderr = self._err.read().decode(errors="replace")
            self._err.close()
        return self.proc.returncode, self._stderr

    def close(self) -> None:
        """Kill the child if it still runs (a failing test's cleanup)."""
        if self._fd >= 0:
            self.kill()


def wait_any(
    waits: Mapping[Announcing, str], timeout: float = 60.0
) -> tuple[Announcing, str | None]:
    """The first event of any child with the word that child is awaited for (``waits``:
    child → word), as ``(child, event)``; ``(child, None)`` for a child that exited first."""
    deadline = time.monotonic() + timeout
    while True:
        for child, word in waits.items():
            while (event := child._take()) is not None:
                if word in event.split():
                    return child, event
            if child._eof:
                return child, None
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no awaited event from the children in {timeout} s")
        ready = select.select([c._fd for c in waits], [], [], left)[0]
        for child in waits:
            if child._fd in ready:
                child._read()


def cli(*args: str, now: datetime | None = None) -> list[str]:
    """The argv of an announcing, unpaced CLI run of ``socialdesk ARGS``."""
    fixed = ["--now", now.isoformat()] if now is not None else []
    return [sys.executable, "-m", "tests.support.kill_events", *fixed, *args]


if __name__ == "__main__":
    main(sys.argv[1:])
