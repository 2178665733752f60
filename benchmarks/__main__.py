"""``python -m benchmarks``: run every benchmark module and print one table of figures and bars.

Options: ``--quick`` (reduced sizes through the same code paths, under two minutes on 2 cores),
``--only NAME[,NAME]`` (modules by their short name: see ``--list``), ``--json FILE`` (one entry
per figure: name, value, unit, bar, passed, note), ``--markdown`` (the README's table, with the
machine, date and command). Exit status: 0 when every module ran (a missed bar is reported, not
an error: CI runs ``--quick`` as a smoke test on a loaded machine), 1 when a module crashed, 2
with ``--strict`` when a bar was missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

if __package__ in (None, ""):  # `python benchmarks/__main__.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import Figure

MODULES: dict[str, str] = {
    "startup": "benchmarks.bench_startup",
    "ingest": "benchmarks.bench_store_ingest",
    "search": "benchmarks.bench_search",
    "stats": "benchmarks.bench_stats",
    "inbox": "benchmarks.bench_inbox",
    "watch": "benchmarks.bench_watch",
    "sync": "benchmarks.bench_sync",
    "rules": "benchmarks.bench_rules",
    "instagram": "benchmarks.bench_instagram",
}
"""Short name → module; each module has ``run(quick: bool) -> list[Figure]``."""


def _value(f: Figure) -> str:
    if isinstance(f.value, float) and math.isnan(f.value):
        return "—"
    v = f.value
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def _verdict(f: Figure) -> str:
    if f.bar is None:
        return ""
    return {True: "pass", False: "FAIL", None: "n/a"}[f.passed]


def print_table(figs: Sequence[Figure], out: TextIO | None = None) -> None:
    """The plain table: figure, value, unit, bar, pass/fail."""
    stream = out if out is not None else sys.stdout
    w = max([len(f.name) for f in figs] + [6])
    print(f"{'figure':<{w}}  {'value':>10}  {'unit':<6} {'bar':<14} result", file=stream)
    for f in figs:
        print(
            f"{f.name:<{w}}  {_value(f):>10}  {f.unit:<6} {f.bar or '':<14} {_verdict(f)}",
            file=stream,
        )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace(">=", "≥").replace("<=", "≤")


def markdown(figs: Sequence[Figure], *, header: str) -> str:
    """The README's table (with what was measured in the last column)."""
    lines = [header, "", "| figure | value | bar | result | what |", "|---|---|---|---|---|"]
    for f in figs:
        verdict = {"pass": "pass", "FAIL": "**MISSED**", "n/a": "not measured", "": ""}[_verdict(f)]
        value = f"{_value(f)} {f.unit}" if _value(f) != "—" else "—"
        lines.append(
            f"| `{f.name}` | {value} | {_md_cell(f.bar or '')} | {verdict} | {_md_cell(f.note)} |"
        )
    return "\n".join(lines)


def _json_safe(f: Figure) -> dict[str, object]:
    d = f.as_json()
    if isinstance(d["value"], float) and math.isnan(d["value"]):
        d["value"] = None
    return d


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes, same code paths")
    ap.add_argument("--only", default=None, help="comma-separated module names (see --list)")
    ap.add_argument("--json", type=Path, default=None, metavar="FILE")
    ap.add_argument("--markdown", action="store_true", help="also print the README table")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a bar is missed")
    ap.add_argument("--list", action="store_true", help="list the modules and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, mod in MODULES.items():
            print(f"{name:<8} {mod}")
        return 0
    names = list(MODULES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in MODULES]
        if unknown:
            ap.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    load_before = (
        Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    )
    started = time.perf_counter()
    figs: list[Figure] = []
    crashed: list[str] = []
    for name in names:
        t0 = time.perf_counter()
        print(f"[{name}] running…", file=sys.stderr, flush=True)
        try:
            got = importlib.import_module(MODULES[name]).run(args.quick)
        except Exception as exc:  # one module's crash must not hide the others' figures
            traceback.print_exc()
            crashed.append(name)
            got = [Figure(f"{name}_crashed", float("nan"), "", "runs", False, repr(exc)[:200])]
        figs.extend(got)
        print(f"[{name}] {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    duration = time.perf_counter() - started
    load_after = Path("/proc/loadavg").read_text().split()[:3] if load_before else []
    print_table(figs)
    print(
        f"\n{len(figs)} figures in {duration:.0f} s; load average before {' '.join(load_before)},"
        f" after {' '.join(load_after)}"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps([_json_safe(f) for f in figs], indent=1) + "\n", encoding="utf-8"
        )
    if args.markdown:
        cmd = "python -m benchmarks" + "".join(
            f" {a}" for a in (argv if argv is not None else sys.argv[1:]) if a != "--markdown"
        )
        header = (
            f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores"
            f" ({platform.processor() or platform.machine()}, Python {platform.python_version()}),"
            f" `{cmd}`, {duration / 60:.1f} min, load average {' '.join(load_before)} before and"
            f" {' '.join(load_after)} after."
        )
        print()
        print(markdown(figs, header=header))
    if crashed:
        print(f"crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    if args.strict and any(f.passed is False for f in figs):
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
