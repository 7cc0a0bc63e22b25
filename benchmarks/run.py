"""The benchmark runner: ``python -m benchmarks`` or ``python benchmarks/run.py`` (issue #9).

It imports every ``benchmarks/bench_*.py`` module, calls each of its ``bench_*()`` functions (one after
another, in this process), prints a table and, with ``--json FILE``, writes
``{name: {"median_s", "peak_mb", "n", "baseline_median_s", "ratio"}}``.

``ratio = median_s / baseline_median_s``: the measured operation's time as a multiple of its natural
baseline run in the same process moments earlier or later (below 1 = faster than the baseline;
0.2 = five times faster). Both sides share the machine's load at that moment, so the ratio holds on a
noisy machine where absolute seconds do not. It is None (null) without a baseline.

A benchmark that raises is reported with its error and the others still run (exit status 1);
one that raises :class:`benchmarks.Skip` is reported as skipped (exit status unaffected).
A benchmark's name is its function name without ``bench_`` (``bench_startup`` -> ``startup``),
qualified by its module when two modules use the same name.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project root importable, not this folder
    _root = Path(__file__).resolve().parents[1]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _root / "benchmarks"]
    sys.path.insert(0, str(_root))

import benchmarks  # noqa: E402 - after the path fix above

BENCH_DIR = Path(benchmarks.__file__).resolve().parent
KEYS = ("median_s", "peak_mb", "n", "baseline_median_s")


@dataclass
class Bench:
    module: str  # "bench_startup"
    function: str  # "bench_startup"
    fn: Callable[[], dict] | None  # None when the module failed to import
    name: str = ""
    import_error: str | None = None


@dataclass
class Outcome:
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None
    wall_s: float = 0.0


def discover(bench_dir: Path = BENCH_DIR) -> list[Bench]:
    """Every ``bench_*`` function of every ``bench_*.py`` module, in file then definition order.

    A module that fails to import yields one entry carrying the error.
    """
    found: list[Bench] = []
    for path in sorted(bench_dir.glob("bench_*.py")):
        module_name = path.stem
        try:
            module = _load(path)
        except Exception as exc:  # noqa: BLE001 - one broken module must not stop the others
            found.append(Bench(module_name, "<import>", None, name=module_name.removeprefix("bench_"),
                               import_error=_describe(exc)))
            continue
        functions = [(name, obj) for name, obj in vars(module).items()
                     if name.startswith("bench_") and callable(obj)
                     and getattr(obj, "__module__", None) == module.__name__]
        functions.sort(key=lambda item: getattr(getattr(item[1], "__code__", None), "co_firstlineno", 0))
        found.extend(Bench(module_name, name, fn) for name, fn in functions)
    short = [b.function.removeprefix("bench_") for b in found if b.fn is not None]
    for bench in found:
        if bench.fn is None:
            continue
        name = bench.function.removeprefix("bench_")
        bench.name = name if short.count(name) == 1 else f"{bench.module.removeprefix('bench_')}.{name}"
    return found


def _load(path: Path) -> ModuleType:
    if path.parent.resolve() == BENCH_DIR:
        return importlib.import_module(f"benchmarks.{path.stem}")
    spec = importlib.util.spec_from_file_location(path.stem, path)  # a folder given to main()
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def select(found: list[Bench], only: str | None) -> list[Bench]:
    """The benchmarks whose name or module matches the regular expression ``only`` (all when None)."""
    if not only:
        return found
    pattern = re.compile(only)
    return [b for b in found if pattern.search(b.name) or pattern.search(b.module)]


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _number(value: Any, name: str, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number{' or None' if optional else ''}, not {value!r}")
    return float(value)


def normalise(raw: Any) -> dict[str, Any]:
    """Check a benchmark's returned dict and add ``ratio`` (see the module docstring).

    Raises:
        TypeError / ValueError: the dict lacks a key or holds a value of the wrong kind.
    """
    if not isinstance(raw, dict):
        raise TypeError(f"a benchmark must return a dict, not {type(raw).__name__}")
    missing = [k for k in KEYS if k not in raw]
    if missing:
        raise ValueError(f"the returned dict lacks {', '.join(missing)}")
    median = _number(raw["median_s"], "median_s", optional=False)
    if median is None or not math.isfinite(median) or median < 0:
        raise ValueError(f"median_s must be a finite time, not {raw['median_s']!r}")
    peak = _number(raw["peak_mb"], "peak_mb", optional=True)
    n = raw["n"]
    if isinstance(n, bool) or not isinstance(n, int | float) or n != int(n):
        raise TypeError(f"n must be a whole number, not {n!r}")
    baseline = _number(raw["baseline_median_s"], "baseline_median_s", optional=True)
    ratio = median / baseline if baseline else None
    return {"median_s": median, "peak_mb": peak if peak is None or math.isfinite(peak) else None,
            "n": int(n), "baseline_median_s": baseline, "ratio": ratio}


def run_one(bench: Bench) -> Outcome:
    """Run one benchmark, catching everything it raises."""
    outcome = Outcome(bench.name)
    if bench.fn is None:
        outcome.error = f"import failed: {bench.import_error}"
        return outcome
    start = time.perf_counter()
    try:
        outcome.values = normalise(bench.fn())
    except benchmarks.Skip as skip:
        outcome.skipped = str(skip) or "skipped"
    except Exception as exc:  # noqa: BLE001 - report and go on with the next benchmark
        outcome.error = _describe(exc)
    outcome.wall_s = time.perf_counter() - start
    return outcome


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if value <= 0:
        return f"{value:.3f}"
    return f"{value:.3f} ({1 / value:.1f}x faster)" if value < 1 else f"{value:.2f} ({value:.1f}x slower)"


def format_table(outcomes: list[Outcome]) -> str:
    """The results as an aligned text table (one row per benchmark)."""
    header = ("benchmark", "n", "median", "baseline", "ratio (median/baseline)", "peak MB", "note")
    rows = []
    for o in outcomes:
        v = o.values
        peak = v.get("peak_mb")
        note = f"ERROR {o.error}" if o.error else (f"skipped: {o.skipped}" if o.skipped else "")
        rows.append((o.name, f"{v['n']:,}" if "n" in v else "-", _seconds(v.get("median_s")),
                     _seconds(v.get("baseline_median_s")), _ratio(v.get("ratio")),
                     "-" if peak is None else f"{peak:,.1f}", note))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for r in [header, *rows]:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        lines.append("  ".join(cells) + ("  " + r[-1] if r[-1] else ""))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def to_json(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """``{name: {"median_s", "peak_mb", "n", "baseline_median_s", "ratio"}}``; a failed or skipped
    benchmark has those keys as null plus ``"error"`` or ``"skipped"``."""
    out: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        entry = {k: o.values.get(k) for k in (*KEYS, "ratio")}
        if o.error:
            entry["error"] = o.error
        if o.skipped:
            entry["skipped"] = o.skipped
        out[o.name] = entry
    return out


def environment() -> str:
    """Where the numbers were measured: machine, Python and the main libraries."""
    versions = []
    for module in ("numpy", "pandas", "PySide6", "sqlalchemy"):
        try:
            versions.append(f"{module} {importlib.import_module(module).__version__}")
        except Exception:  # noqa: BLE001 - a missing library only shortens the line
            continue
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs; "
            f"Python {platform.python_version()}; " + ", ".join(versions))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run every bench_* function of benchmarks/bench_*.py and print a table (issue #9).",
        epilog="ratio = median_s / baseline_median_s, both measured in the same process (below 1: faster "
               "than the baseline; 0.2 = five times faster). Exit status 1 when a benchmark raised; the "
               "others still run. Benchmarks are not tests: nothing passes or fails on timing.")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    parser.add_argument("--only", metavar="PATTERN",
                        help="run only benchmarks whose name or module matches this regular expression")
    parser.add_argument("--data", choices=benchmarks.DATA_MODES, default="auto",
                        help="universe to run on: real (../shared/data), synthetic, or auto (real when "
                             "present; default)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser


def main(argv: list[str] | None = None, bench_dir: Path = BENCH_DIR) -> int:
    """Run the selected benchmarks; 0 when none failed, 1 when one did, 2 on a usage error."""
    args = build_parser().parse_args(argv)
    try:
        benchmarks.configure(args.data)
        data = benchmarks.describe_data()
        if args.only:
            re.compile(args.only)  # a bad pattern is a usage error, not "no match"
    except (ValueError, FileNotFoundError, re.error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = select(discover(bench_dir), args.only)
    if args.list:
        for bench in chosen:
            print(f"{bench.name:30s} benchmarks/{bench.module}.py:{bench.function}")
        return 0
    if not chosen:
        print(f"no benchmark matches {args.only!r}" if args.only else "no benchmarks found", file=sys.stderr)
        return 2
    print(f"Pickaxe benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {environment()}")
    print(f"data:    {data}")
    print()
    outcomes = []
    for bench in chosen:
        print(f"running {bench.name} ...", end=" ", flush=True)
        outcome = run_one(bench)
        status = "ERROR" if outcome.error else ("skipped" if outcome.skipped else "done")
        print(f"{status} ({outcome.wall_s:.1f} s)", flush=True)
        outcomes.append(outcome)
    print()
    print(format_table(outcomes))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(outcomes), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    failed = [o.name for o in outcomes if o.error]
    if failed:
        print(f"\n{len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
