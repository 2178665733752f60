"""Benchmark of CLI start-up (PRODUCT.md §10: a non-TUI command starts and exits in ≤ 300 ms).

Run from the repository root::

    .venv/bin/python benchmarks/bench_startup.py            # 11 runs per command
    .venv/bin/python benchmarks/bench_startup.py --runs 21 --top 20

It builds a small store (1,000 threads / 10,000 messages, ``benchmarks/gen_store.py``) in a
temporary ``SOCIALDESK_HOME``, then prints the median wall time (process start to exit, the
first run discarded as a warm-up) of ``socialdesk --version``, ``socialdesk list --json`` and
``socialdesk stats --format json``, each as a fresh ``python -m socialdesk`` process, and the
top self-time offenders of ``python -X importtime -m socialdesk stats --format json``. It also
says whether pydantic or textual were imported (neither should be).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchmarks.gen_store import generate  # noqa: E402

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("list", "--json"),
    ("stats", "--format", "json"),
)
LIMIT_MS = 300.0

_IMPORT_RE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def make_home(home: Path) -> None:
    """A small store and a config naming its page, in ``home``."""
    res = generate(home / "socialdesk.db", threads=1000, messages=10000, days=30)
    (home / "config.toml").write_text(
        f'default_page = "bench"\n[pages.bench]\nid = "{res.page_id}"\n'
        '[stats]\ntimezone = "Europe/Warsaw"\nbusiness_hours = "Mon-Fri 09:00-17:00"\n',
        encoding="utf-8",
    )


def wall_ms(args: tuple[str, ...], env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """(median wall, min wall, median CPU) ms of ``python -m socialdesk ARGS`` over ``runs``
    runs after a warm-up. CPU (user + system of the child) is less disturbed by a busy machine
    than wall time, so both are shown."""
    cmd = [sys.executable, "-m", "socialdesk", *args]
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        times.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu.append(used * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return statistics.median(times[1:]), min(times[1:]), statistics.median(cpu[1:])


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return (time.perf_counter() - t0) * 1000


def import_profile(
    args: tuple[str, ...], env: dict[str, str]
) -> tuple[list[tuple[int, int, str]], set[str]]:
    """``-X importtime`` of one run: (self µs, cumulative µs, module) rows and top-level names."""
    cmd = [sys.executable, "-X", "importtime", "-m", "socialdesk", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    rows: list[tuple[int, int, str]] = []
    packages: set[str] = set()
    for line in proc.stderr.splitlines():
        m = _IMPORT_RE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(4)))
            packages.add(m.group(4).split(".")[0])
    return rows, packages


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description="CLI start-up benchmark")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--top", type=int, default=12, help="how many import offenders to list")
    args = ap.parse_args(argv)
    import importlib.metadata as md

    versions = ", ".join(f"{d} {md.version(d)}" for d in ("typer", "rich", "httpx"))
    print(f"python {sys.version.split()[0]}; {versions}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        make_home(home)
        base = {**os.environ, "SOCIALDESK_HOME": str(home), "NO_COLOR": "1"}
        base.pop("SOCIALDESK_TOKEN", None)
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        # An installed package has its bytecode compiled; a checkout run with
        # PYTHONDONTWRITEBYTECODE=1 recompiles socialdesk's sources on every start. The cache
        # goes to a temporary prefix so the work tree stays clean.
        modes = {
            "bytecode cached (as installed)": {
                **base,
                "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc"),
            },
            "PYTHONDONTWRITEBYTECODE=1 (sources compiled each run)": {
                **base,
                "PYTHONDONTWRITEBYTECODE": "1",
            },
        }
        floor = statistics.median(
            _timed([sys.executable, "-c", "pass"]) for _ in range(max(3, args.runs // 2))
        )
        print(f"bare `python -c pass`: {floor:.0f} ms (the interpreter's floor)")
        for mode, env in modes.items():
            print(f"\n{mode}:")
            for cmd in COMMANDS:
                median, fastest, cpu = wall_ms(cmd, env, args.runs)
                if env is modes["bytecode cached (as installed)"]:
                    worst = max(worst, median)
                verdict = "ok" if median <= LIMIT_MS else f"OVER {LIMIT_MS:.0f} ms"
                label = "socialdesk " + " ".join(cmd)
                print(f"  {label:<32} wall median {median:5.0f} ms, min {fastest:4.0f};"
                      f" CPU median {cpu:4.0f} ms [{verdict}]")  # fmt: skip
        env = modes["bytecode cached (as installed)"]
        rows, packages = import_profile(("stats", "--format", "json"), env)
        total_ms = sum(r[0] for r in rows) / 1000
        print(f"\nimports of `stats --format json` (bytecode cached): {len(rows)} modules,"
              f" {total_ms:.0f} ms self")  # fmt: skip
        for pkg in ("pydantic", "textual", "httpx", "rich", "click", "email", "sqlite3"):
            print(f"  {pkg:<9} {'IMPORTED' if pkg in packages else 'not imported'}")
        print(f"top {args.top} by self time (µs):")
        for self_us, cum_us, name in sorted(rows, reverse=True)[: args.top]:
            print(f"  {self_us:7d} self {cum_us:8d} cumulative  {name}")
    return 0 if worst <= LIMIT_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
