"""Real socialdesk processes without paying Python's start-up for each: a fork server.

Every ``python -m socialdesk`` spends ~0.27 s of CPU importing before it does anything, and the
concurrency and storage tests start dozens of them (twenty at once, three times over, on two
cores). Here one server interpreter imports socialdesk once and forks a child per command. Each
child is a separate process with its own SQLite connections, file locks, environment, working
directory, stdin (``/dev/null``), stdout and stderr pipes, exit code and resource limits, and it
runs the console script's entry point (:func:`socialdesk.launch.main`) with ``sys.argv`` set, as
``python -m socialdesk ARGS`` does. What it does not repeat is the interpreter start and the
imports, which the crowds already finished before their start line anyway.

The server opens no database and starts no thread before forking (a fork carries neither
safely), and runs no command itself, so every child starts from the same freshly imported
state. One server per test process (:func:`shared`), started on first use; it exits when that
process closes its end of the socket.

Protocol: ``SOCK_SEQPACKET`` messages of JSON. ``launch`` carries the child's stdout and stderr
pipe ends (``SCM_RIGHTS``) and answers the pid; ``wait`` answers the exit code, as
``subprocess`` reports it (negative: killed by that signal).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

REPO = Path(__file__).resolve().parents[2]
_MESSAGE_MAX = 1 << 20


@dataclass(frozen=True)
class Result:
    """One finished process."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Child:
    """A launched process and the read ends of its stdout and stderr."""

    pid: int
    out_fd: int
    err_fd: int


class ForkServer:
    """A server interpreter that forks socialdesk processes on request (see the module doc)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The server's own environment only matters for its imports (socialdesk reads every
        # variable at call time): none of the user's socialdesk settings, no keyring.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALDESK_")}
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.crowd_forkserver", str(theirs.fileno())],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
        )
        theirs.close()
        self._sock = ours
        self._lock = threading.Lock()
        hello = self._request({"op": "hello"}, timeout=120.0)
        assert hello == {"ready": True}, hello

    def _request(
        self, message: dict[str, Any], *, fds: Sequence[int] = (), timeout: float | None = None
    ) -> dict[str, Any]:
        with self._lock:
            data = json.dumps(message).encode()
            if fds:
                socket.send_fds(self._sock, [data], list(fds))
            else:
                self._sock.send(data)
            self._sock.settimeout(timeout)
            try:
                reply = self._sock.recv(_MESSAGE_MAX)
            finally:
                self._sock.settimeout(None)
        if not reply:
            raise RuntimeError(f"the fork server exited (code {self._proc.poll()})")
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def launch(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path = REPO,
        ready: Path | None = None,
        go: Path | None = None,
        fsize: int | None = None,
    ) -> Child:
        """Start ``argv`` (``["cli", ARGS…]``: ``socialdesk ARGS``; ``["open", DB]``: open and
        migrate ``DB``) with exactly ``env`` in ``cwd``. With ``go``, the child creates ``ready``
        (if given) and waits until ``go`` exists; ``fsize`` is an RLIMIT_FSIZE (a write past it
        fails with EFBIG)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            reply = self._request(
                {
                    "op": "launch",
                    "argv": list(argv),
                    "env": dict(env),
                    "cwd": str(cwd),
                    "ready": None if ready is None else str(ready),
                    "go": None if go is None else str(go),
                    "fsize": fsize,
                },
                fds=[out_w, err_w],
                timeout=60.0,
            )
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return Child(int(reply["pid"]), out_r, err_r)

    def finish(self, children: Sequence[Child], *, deadline: float) -> list[Result]:
        """Read every child's output to the end and reap it; past ``deadline`` (monotonic) the
        ones still running are killed and ``subprocess.TimeoutExpired`` is raised."""
        chunks: dict[int, list[bytes]] = {}
        sel = selectors.DefaultSelector()
        for child in children:
            for fd in (child.out_fd, child.err_fd):
                chunks[fd] = []
                sel.register(fd, selectors.EVENT_READ)
        timed_out = False
        try:
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                for key, _ in sel.select(timeout=left):
                    data = os.read(key.fd, 65536)
                    if data:
                        chunks[key.fd].append(data)
                    else:
                        sel.unregister(key.fd)
        finally:
            sel.close()
            if timed_out:
                for child in children:
                    self._kill(child.pid)
            codes = [int(self._request({"op": "wait", "pid": c.pid})["code"]) for c in children]
            for fd in chunks:
                os.close(fd)
        if timed_out:
            raise subprocess.TimeoutExpired([f"pid {c.pid}" for c in children], 0)
        return [
            Result(
                code,
                b"".join(chunks[c.out_fd]).decode(errors="replace"),
                b"".join(chunks[c.err_fd]).decode(errors="replace"),
            )
            for c, code in zip(children, codes, strict=True)
        ]

    def kill(self, children: Sequence[Child]) -> None:
        """Kill and reap ``children`` (a crowd being abandoned); close their pipes."""
        for child in children:
            self._kill(child.pid)
        for child in children:
            self._request({"op": "wait", "pid": child.pid})
            os.close(child.out_fd)
            os.close(child.err_fd)

    @staticmethod
    def _kill(pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # our own child: it is reaped by the "wait" after

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path = REPO,
        fsize: int | None = None,
        timeout: float = 120.0,
    ) -> Result:
        """One command to its end, like ``subprocess.run(..., capture_output=True)``."""
        child = self.launch(argv, env=env, cwd=cwd, fsize=fsize)
        return self.finish([child], deadline=time.monotonic() + timeout)[0]

    def close(self) -> None:
        """Stop the server (it exits on the closed socket)."""
        self._sock.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


_shared: ForkServer | None = None
_shared_pid = 0


def shared() -> ForkServer:
    """This process's fork server, started on first use and stopped at exit."""
    global _shared, _shared_pid
    if _shared is None or _shared_pid != os.getpid():
        _shared = ForkServer()
        _shared_pid = os.getpid()
        atexit.register(_shared.close)
    return _shared


# --- the server side -------------------------------------------------------------------------


def _serve(sock: socket.socket) -> None:
    _import_everything_a_command_may_need()
    running: set[int] = set()
    while True:
        data, fds, _flags, _addr = socket.recv_fds(sock, _MESSAGE_MAX, 2)
        if not data:
            # The test process closed its end or died (maybe before a crowd's start line):
            # nobody will reap these children, nor release the ones waiting to start.
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return
        msg = json.loads(data)
        if msg["op"] == "hello":
            sock.send(json.dumps({"ready": True}).encode())
        elif msg["op"] == "launch":
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(msg, fds, sock)
            for fd in fds:
                os.close(fd)
            running.add(pid)
            sock.send(json.dumps({"pid": pid}).encode())
        elif msg["op"] == "wait":
            _, status = os.waitpid(int(msg["pid"]), 0)
            running.discard(int(msg["pid"]))
            sock.send(json.dumps({"code": os.waitstatus_to_exitcode(status)}).encode())
        else:
            raise ValueError(f"unknown request {msg!r}")


def _import_everything_a_command_may_need() -> None:
    """Import what the children would otherwise each import (that is the whole point).

    Beyond the entry point, the CLI imports most modules lazily, at the first command that
    needs them (~0.1 s of a command's first run, and ~1 s of twenty at once on two cores: the
    config parser, the store, the core, rich, httpcore): every socialdesk module but the
    inbox's and the sandbox's, and the libraries below. Importing is all this does: no module
    opens a file or starts a thread when imported.
    """
    import importlib
    import pkgutil

    import socialdesk
    import socialdesk.cli
    import socialdesk.launch

    for info in pkgutil.walk_packages(socialdesk.__path__, "socialdesk."):
        # __main__ would run the CLI; the inbox (Textual) and the sandbox are never a child.
        if info.name == "socialdesk.__main__" or info.name.startswith(
            ("socialdesk.tui", "socialdesk.sandbox")
        ):
            continue
        importlib.import_module(info.name)
    # Imported on first use by the CLI's output, httpx's transport and the token store
    # (keyring chooses its backend only when first asked, from the child's environment).
    for name in ("rich.console", "rich.table", "httpcore", "keyring"):
        importlib.import_module(name)


def _child(msg: dict[str, Any], fds: list[int], sock: socket.socket) -> NoReturn:
    """The forked process: becomes the command described by ``msg``; never returns."""
    code = 1
    try:
        sock.close()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        os.environ.clear()
        os.environ.update(msg["env"])
        os.chdir(msg["cwd"])
        if msg["fsize"] is not None:
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (msg["fsize"], msg["fsize"]))
        if msg["go"] is not None:
            go = Path(msg["go"])
            if msg["ready"] is not None:
                Path(msg["ready"]).touch()
            while not go.exists():
                time.sleep(0.0005)
        code = _command(list(msg["argv"]))
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        # As the interpreter does for an uncaught Ctrl-C: die of SIGINT.
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()  # what the interpreter runs at exit (logging's flush)
        finally:
            _flush()
            os._exit(code)


def _command(argv: list[str]) -> int:
    kind, rest = argv[0], argv[1:]
    if kind == "open":
        from socialdesk.store.db import open_db

        open_db(Path(rest[0])).close()
        return 0
    if kind != "cli":
        raise ValueError(f"unknown kind {kind!r}")
    from socialdesk.launch import main

    sys.argv = ["socialdesk", *rest]
    main()
    return 0


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # SystemExit("message"), as the interpreter prints it
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
