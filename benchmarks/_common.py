"""Helpers shared by the benchmark modules: medians, bars, peak memory, the shared big store.

Called by every ``bench_*.py`` module of the suite (``python -m benchmarks``). The big store
(100,000 threads / 1,000,000 messages, or a tenth of that with ``--quick``) is generated once
per runner process by :func:`big_store` and shared by the stats, search and inbox modules, so
the suite pays for it once.
"""

from __future__ import annotations

import atexit
import math
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.figures import Figure

ROOT = Path(__file__).resolve().parent.parent

FULL_STORE = (100_000, 1_000_000)
QUICK_STORE = (10_000, 100_000)


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values: a measurement that never completed)."""
    return statistics.median(values) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    """The 95th percentile, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed_ms(fn: Callable[[], object], runs: int, *, warmup: int = 1) -> list[float]:
    """Milliseconds of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    import time

    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _num(bar: float) -> str:
    return f"{bar:,.0f}" if float(bar).is_integer() else f"{bar:g}"


def at_most(name: str, value: float, unit: str, bar: float, note: str = "") -> Figure:
    """A figure whose bar is ``value <= bar``."""
    ok = None if math.isnan(value) else bool(value <= bar)
    return Figure(name, round(value, 2), unit, f"<= {_num(bar)} {unit}", ok, note)


def at_least(name: str, value: float, unit: str, bar: float, note: str = "") -> Figure:
    """A figure whose bar is ``value >= bar``."""
    ok = None if math.isnan(value) else bool(value >= bar)
    return Figure(name, round(value, 2), unit, f">= {_num(bar)} {unit}", ok, note)


def info(name: str, value: float, unit: str, note: str = "") -> Figure:
    """A figure without a bar (context for the others)."""
    return Figure(name, round(value, 2), unit, None, None, note)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    ``VmHWM`` (Linux) belongs to the process's own address space; ``ru_maxrss`` survives
    ``execve`` and so reports the forking parent's peak in a child (the fallback elsewhere).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the shared big store ------------------------------------------------------------------


@dataclass(frozen=True)
class BigStore:
    """A generated store: its file, size and the ``now`` it was generated at."""

    path: Path
    page_id: str
    threads: int
    messages: int
    now: datetime
    seconds: float


_stores: dict[bool, BigStore] = {}
_tmp: list[Path] = []


def _cleanup() -> None:
    for d in _tmp:
        shutil.rmtree(d, ignore_errors=True)


def big_store(quick: bool) -> BigStore:
    """The store of 100k threads / 1M messages (quick: 10k / 100k), generated on first use.

    Readers must not write to it (the inbox benchmark copies it first).
    """
    if quick in _stores:
        return _stores[quick]
    from benchmarks.gen_store import generate

    if not _tmp:
        _tmp.append(Path(tempfile.mkdtemp(prefix="socialdesk-bench-store-")))
        atexit.register(_cleanup)
    threads, messages = QUICK_STORE if quick else FULL_STORE
    path = _tmp[0] / f"store-{threads}-{messages}.db"
    now = datetime.now(UTC).replace(microsecond=0)
    res = generate(path, threads=threads, messages=messages, days=365, now=now)
    store = BigStore(path, res.page_id, res.threads, res.messages, now, res.seconds)
    _stores[quick] = store
    return store


def size_note(store: BigStore) -> str:
    return f"{store.threads // 1000}k threads / {store.messages / 1e6:g}M messages"
