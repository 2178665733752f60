"""Benchmark of CLI start-up (PRODUCT.md §10: a non-TUI command starts and exits in ≤ 300 ms).

Run alone: ``python -m benchmarks.bench_startup [--quick] [--top 20]``.

It builds a small store (1,000 threads / 10,000 messages, ``benchmarks/gen_store.py``) in a
temporary ``SOCIALDESK_HOME``, then prints the median wall time (process start to exit, the
first run discarded as a warm-up) of ``socialdesk --version``, ``socialdesk list --json``,
``socialdesk stats --format json`` and ``--format csv``, each as a fresh ``python -m socialdesk``
process, and the top self-time offenders of ``python -X importtime -m socialdesk stats --format
json``. It also says whether pydantic or textual were imported (neither should be).
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

from benchmarks._common import at_most, info, median  # noqa: E402
from benchmarks.figures import Figure  # noqa: E402
from benchmarks.gen_store import generate  # noqa: E402

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("list", "--json"),
    ("stats", "--format", "json"),
    ("stats", "--format", "csv"),
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


def run(quick: bool) -> list[Figure]:
    """Start-up of each command (bytecode cached, as installed; and recompiled each run), the
    interpreter's floor, and whether heavy packages were imported."""
    runs = 3 if quick else 9
    figs: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        make_home(home)
        base = {**os.environ, "SOCIALDESK_HOME": str(home), "NO_COLOR": "1"}
        base.pop("SOCIALDESK_TOKEN", None)
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        cached = {**base, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        uncached = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        floor = median([_timed([sys.executable, "-c", "pass"]) for _ in range(max(3, runs // 2))])
        for cmd in COMMANDS:
            slug = "_".join(a.strip("-") for a in cmd if a not in ("--format",))
            wall, fastest, cpu = wall_ms(cmd, cached, runs)
            figs.append(at_most(f"startup_{slug}_ms", wall, "ms", LIMIT_MS,
                                f"`socialdesk {' '.join(cmd)}` start to exit, 1k-thread store,"
                                f" bytecode cached; min {fastest:.0f}, CPU {cpu:.0f} ms;"
                                f" median of {runs}"))  # fmt: skip
        for cmd in COMMANDS[1:2]:
            wall, _, _ = wall_ms(cmd, uncached, runs)
            note = "list --json, PYTHONDONTWRITEBYTECODE=1 (sources compiled each run)"
            figs.append(info("startup_list_json_uncached_ms", wall, "ms", note))
        figs.append(info("startup_python_floor_ms", floor, "ms", "bare `python -c pass`"))
        _, packages = import_profile(("stats", "--format", "json"), cached)
        heavy = sorted(p for p in ("pydantic", "textual") if p in packages)
        note = f"pydantic/textual imported by `stats`: {', '.join(heavy) or 'none'}"
        figs.append(at_most("startup_heavy_imports", len(heavy), "modules", 0, note))
    return figs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: the figures, then the import profile of ``stats``."""
    ap = argparse.ArgumentParser(description="CLI start-up benchmark")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--top", type=int, default=12, help="how many import offenders to list")
    args = ap.parse_args(argv)
    from benchmarks.__main__ import print_table

    figs = run(args.quick)
    print_table(figs)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        make_home(home)
        env = {**os.environ, "SOCIALDESK_HOME": str(home), "NO_COLOR": "1",
               "PYTHONPYCACHEPREFIX": str(home / "pyc")}  # fmt: skip
        import_profile(("--version",), env)  # warm the bytecode cache
        rows, _ = import_profile(("stats", "--format", "json"), env)
    total_ms = sum(r[0] for r in rows) / 1000
    print(f"\nimports of `stats --format json`: {len(rows)} modules, {total_ms:.0f} ms self;"
          f" top {args.top} by self time (µs):")  # fmt: skip
    for self_us, cum_us, name in sorted(rows, reverse=True)[: args.top]:
        print(f"  {self_us:7d} self {cum_us:8d} cumulative  {name}")
    return 0 if all(f.passed is not False for f in figs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
