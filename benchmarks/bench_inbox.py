"""Benchmark of the inbox in a real pseudo-terminal (PRODUCT.md §10, issue 10 "Scale").

Run from the repository root::

    python -m benchmarks.bench_inbox            # 100k threads / 1M messages, 3 runs
    python -m benchmarks.bench_inbox --quick    # 10k / 100k, 1 run

It copies the suite's shared store (:func:`benchmarks._common.big_store`, from
``benchmarks/gen_store.py``), adds one 1,000-message thread, starts a
sandbox on loopback for the page (so the inbox's start-up sync talks to nothing but loopback),
then for each run forks ``python -m socialdesk`` (the real bare command) in a pty of 120×40,
feeds its output to a ``pyte`` terminal emulator, and measures what a person would see:

- ``inbox_first_screen_ms``: exec → the first list row with the cursor marker ``▶`` written;
- ``inbox_jk_p95_ms``: 100 × ``j`` then 100 × ``k`` at a key-repeat rate of 30/s, each key
  timed from the byte written to the cursor row changing on screen; the p95 of all 200;
- ``inbox_thread_open_ms``: the cursor moved onto the 1,000-message thread (after a quiet
  moment) → its newest message written to the thread pane;
- ``inbox_rss_mb``: the inbox process's resident memory after all that (VmRSS).

Text is looked for in the bytes the app wrote (a real terminal draws them in about a
millisecond; pyte, in pure Python, needs far longer to parse a full frame), while the j/k
cursor row is read from the pyte screen. Bars: 500 ms, 50 ms, 150 ms, 200 MB. Each figure is
the median over the runs (RSS: the largest). The big thread's position is found through the
inbox's own gateway (``socialdesk.tui.gateway.Gateway.open(home)``).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyte  # noqa: E402

from benchmarks._common import BigStore, at_most, big_store, info, median, p95  # noqa: E402
from benchmarks.figures import Figure  # noqa: E402
from benchmarks.gen_store import PAGE_ID  # noqa: E402

COLS, ROWS = 120, 40
MARKER = "▶"
BIG_NEWEST = "BIGTHREAD-NEWEST-MESSAGE"
BIG_MESSAGES = 1000
REPEAT_S = 1 / 30
BARS = {
    "inbox_first_screen_ms": (500.0, "ms"),
    "inbox_jk_p95_ms": (50.0, "ms"),
    "inbox_thread_open_ms": (150.0, "ms"),
    "inbox_rss_mb": (200.0, "MB"),
}


def add_big_thread(db: Path, *, now: int) -> None:
    """One DM of :data:`BIG_MESSAGES` messages, awaiting reply, its window closing in 3 min,
    so it sits near the top of "Awaiting reply" (soonest window first)."""
    from socialdesk.store.db import open_db

    conn = open_db(db)
    tid = "t_big_1000"
    last = now - 24 * 3600 + 180
    first = last - BIG_MESSAGES * 60
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO threads (id, page_id, channel, customer_id, customer_name, last_message_at,"
        " last_inbound_at, last_outbound_at, awaiting_reply, request_at, snippet)"
        " VALUES (?, ?, 'dm', 'u_big', 'Big Thread Customer', ?, ?, ?, 1, ?, ?)",
        (tid, PAGE_ID, last, last, last - 60, last, BIG_NEWEST),
    )
    conn.execute("INSERT INTO thread_numbers (thread_id, page_id) VALUES (?, ?)", (tid, PAGE_ID))
    conn.execute(
        "INSERT INTO thread_state (thread_id, page_id, status, updated_at)"
        " VALUES (?, ?, 'open', ?)",
        (tid, PAGE_ID, last),
    )
    rows = []
    for i in range(BIG_MESSAGES):
        inbound = i % 2 == 0 or i == BIG_MESSAGES - 1
        text = BIG_NEWEST if i == BIG_MESSAGES - 1 else f"message {i} of the long thread " * 3
        rows.append(
            (
                f"m_big_{i}",
                tid,
                PAGE_ID,
                "in" if inbound else "out",
                "u_big" if inbound else PAGE_ID,
                "Big Thread Customer" if inbound else "Bench shop",
                text,
                first + i * 60,
            )
        )
    conn.executemany(
        "INSERT INTO messages (id, thread_id, page_id, direction, author_id, author_name, text,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    conn.close()


def refresh_big_thread(db: Path, *, now: int) -> None:
    """Move the big thread's messages in time so its window closes 10 minutes from ``now``
    (a reused store keeps it at the top of "Awaiting reply")."""
    from socialdesk.store.db import open_db

    conn = open_db(db)
    try:
        row = conn.execute("SELECT last_inbound_at FROM threads WHERE id = 't_big_1000'").fetchone()
        shift = (now - 24 * 3600 + 600) - int(row[0])
        conn.execute("BEGIN")
        conn.execute(
            "UPDATE messages SET created_at = created_at + ? WHERE thread_id = 't_big_1000'",
            (shift,),
        )
        conn.execute(
            "UPDATE threads SET last_message_at = last_message_at + ?, last_inbound_at ="
            " last_inbound_at + ?, last_outbound_at = last_outbound_at + ?, request_at ="
            " request_at + ? WHERE id = 't_big_1000'",
            (shift, shift, shift, shift),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def awaiting_index(home: Path, thread_id: str = "t_big_1000") -> int:
    """Where the big thread sits in "Awaiting reply" (the view the inbox opens on)."""
    from socialdesk.tui.gateway import Gateway

    gw = Gateway.open(str(home))
    try:
        numbers = gw.thread_numbers("is:open is:awaiting")
        return numbers.index(gw.resolve(thread_id).thread.number)
    finally:
        gw.close()


@dataclass
class Home:
    """A benchmark home: config and database, a loopback sandbox for its page."""

    path: Path
    env: dict[str, str]
    stop: Callable[[], None]


def make_home(root: Path, store: BigStore) -> Home:
    """Config + a copy of the shared store (plus the 1,000-message thread) in ``root``."""
    from socialdesk.sandbox import Sandbox

    root.mkdir(parents=True, exist_ok=True)
    db = root / "socialdesk.db"
    shutil.copyfile(store.path, db)
    add_big_thread(db, now=int(store.now.timestamp()))
    sb = Sandbox(rate_limit=False)
    sb.add_page("Bench shop", page_id=PAGE_ID)
    token = sb.issue_token(PAGE_ID)
    server = sb.serve(host="127.0.0.1", port=0)
    (root / "config.toml").write_text(
        f'default_page = "bench"\n[pages.bench]\nid = "{PAGE_ID}"\n'
        f'[graph]\nbase_url = "{server.base_url}"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "SOCIALDESK_HOME": str(root),
        "SOCIALDESK_TOKEN": token,
        "TERM": "xterm-256color",
        "COLUMNS": str(COLS),
        "LINES": str(ROWS),
    }
    env.pop("NO_COLOR", None)
    # As installed (pip writes bytecode at install time): an environment that forbids bytecode
    # (PYTHONDONTWRITEBYTECODE) would make every start compile socialdesk from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    import compileall

    compileall.compile_dir(str(ROOT / "socialdesk"), quiet=1)
    return Home(root, env, server.shutdown)


class Terminal:
    """A child process in a pty, its output parsed by pyte."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child
            os.execvpe(cmd[0], cmd, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        """Everything the app wrote: text is found here as soon as it is written, before the
        (slow, pure Python) emulator has parsed the frame around it."""

    def pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(0.01)

    def cursor_row(self) -> tuple[int, str] | None:
        for y, line in enumerate(self.screen.display):
            if MARKER in line:
                return y, line
        return None

    def shows(self, text: str) -> bool:
        return any(text in line for line in self.screen.display)

    def wrote(self, text: str, since: int = 0) -> bool:
        """Whether the app has written ``text`` (after byte offset ``since``)."""
        return text.encode() in self.raw[since:]

    def wait(self, pred: Callable[[], bool], timeout: float) -> float | None:
        """Seconds until ``pred()`` holds (None on timeout), pumping output meanwhile."""
        t0 = time.perf_counter()
        while not pred():
            if time.perf_counter() - t0 > timeout:
                return None
            self.pump(0.005)
        return time.perf_counter() - t0

    def key(self, data: bytes) -> None:
        os.write(self.fd, data)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        try:
            self.key(b"q")
            deadline = time.perf_counter() + 5
            while time.perf_counter() < deadline:
                self.pump(0.05)
                done, _ = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    break
            else:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (ChildProcessError, OSError):
            pass
        finally:
            os.close(self.fd)


def one_run(home: Home, big_index: int, keys: int) -> dict[str, float]:
    """One process: first screen, held j/k, the big thread's open, RSS."""
    term = Terminal([sys.executable, "-m", "socialdesk"], home.env)
    try:
        first = term.wait(lambda: term.wrote(MARKER), 20.0)
        if first is None:
            raise RuntimeError("the inbox never showed a row:\n" + "\n".join(term.screen.display))
        first_ms = (time.perf_counter() - term.started) * 1000
        term.drain(1.5)  # the start-up sync, counts and the full listing settle
        latencies: list[float] = []
        for key in [b"j"] * (keys // 2) + [b"k"] * (keys // 2):
            before = term.cursor_row()
            sent = time.perf_counter()
            term.key(key)
            took = term.wait(lambda b=before: term.cursor_row() != b, 1.0)  # type: ignore[misc]
            if took is not None:
                latencies.append(took * 1000)
            rest = REPEAT_S - (time.perf_counter() - sent)
            if rest > 0:
                term.drain(rest)
        term.drain(0.5)
        # Back to the top, then onto the big thread after a quiet spell (a person reading).
        term.key(b"g")
        term.drain(0.6)
        for _ in range(big_index - 1):
            term.key(b"j")
            term.drain(0.3)
        if big_index == 0:
            term.key(b"j")
            term.drain(0.6)
            target = b"k"
        else:
            term.drain(0.6)
            target = b"j"
        mark = len(term.raw)
        term.key(target)
        opened = term.wait(lambda: term.wrote(BIG_NEWEST, mark), 5.0)
        open_ms = (opened * 1000) if opened is not None else float("nan")
        term.drain(0.3)
        rss = term.rss_mb()
    finally:
        term.close()
    return {
        "inbox_first_screen_ms": first_ms,
        "inbox_jk_p95_ms": p95(latencies),
        "inbox_jk_median_ms": median(latencies),
        "inbox_keys_seen": float(len(latencies)),
        "inbox_thread_open_ms": open_ms,
        "inbox_rss_mb": rss,
    }


def run(quick: bool = False, *, runs: int | None = None) -> list[Figure]:
    """The four figures (see the module docstring) and the median j/k latency."""
    store = big_store(quick)
    n_runs = runs if runs is not None else (1 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="socialdesk-bench-inbox-") as tmp:
        home = make_home(Path(tmp) / "home", store)
        refresh_big_thread(home.path / "socialdesk.db", now=int(time.time()))
        try:
            big_index = awaiting_index(home.path)
            results = [one_run(home, big_index, 200) for _ in range(n_runs)]
        finally:
            home.stop()
    size = f"{store.threads // 1000}k threads / {store.messages / 1e6:g}M messages"
    how = f"{COLS}x{ROWS} pty, {size}, " + (f"median of {n_runs}" if n_runs > 1 else "one run")
    notes = {
        "inbox_first_screen_ms": f"exec -> first row with the cursor drawn; {how}",
        "inbox_jk_p95_ms": f"100 j + 100 k at 30 keys/s, key -> cursor row redrawn; {how}",
        "inbox_thread_open_ms": f"cursor onto a 1,000-message thread -> its newest message; {how}",
        "inbox_rss_mb": f"VmRSS after all that, largest of {n_runs}",
    }
    figures: list[Figure] = []
    for name, (bar, unit) in BARS.items():
        values = [r[name] for r in results]
        value = max(values) if name == "inbox_rss_mb" else median(values)
        figures.append(at_most(name, value, unit, bar, notes[name]))
    figures.append(info("inbox_jk_median_ms", median([r["inbox_jk_median_ms"] for r in results]),
                        "ms", "held j/k, median key"))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="10k threads / 100k messages, 1 run")
    ap.add_argument("--runs", type=int, default=None, help="processes to measure (default 3)")
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    figs = run(args.quick, runs=args.runs)
    print_table(figs)
    return 0 if all(f.passed is not False for f in figs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
