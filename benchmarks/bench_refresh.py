"""Refresh throughput (issue #9): the parallel refresh against sequential fetching, same politeness.

Both runs use the real refresh service (token bucket, retries, one SQLite commit per ticker) on
a scripted provider that answers each request after a simulated Yahoo latency. The baseline is
the same refresh with one worker, i.e. fetching one request after the other; the rate limit is
the same for both. The refresh must be at least 5x faster.

    python -m benchmarks.bench_refresh
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

LATENCY_S = 0.1  # per request: a typical Yahoo answer takes 0.1-0.5 s
MAX_RATE = 100.0  # requests per second, for both runs
WORKERS = 8
TICKERS = 16  # x 3 kinds + 3 market series = 51 requests
REPEATS = 3


def _run(workers: int) -> tuple[float, int]:
    from desktop.services.refresh import refresh
    from desktop.store.db import open_database
    from tests.services.refresh_fakes import ScriptedProvider, tickers

    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "bench.sqlite3")
        try:
            provider = ScriptedProvider(latency=LATENCY_S)
            start = time.perf_counter()
            report = refresh(db, provider, tickers(TICKERS), max_rate=MAX_RATE, workers=workers,
                             max_age=timedelta(0), build_snapshot=False)
            elapsed = time.perf_counter() - start
        finally:
            db.dispose()
    if report.failures:
        raise RuntimeError(f"benchmark refresh failed: {report.failures[:3]}")
    return elapsed, report.requests


def bench_refresh() -> dict[str, Any]:
    """Median wall time of the parallel refresh, with the sequential baseline."""
    _run(WORKERS)  # warm-up: imports, SQLite file creation paths
    parallel = [_run(WORKERS)[0] for _ in range(REPEATS)]
    sequential = [_run(1)[0] for _ in range(REPEATS)]
    tracemalloc.start()
    _, requests = _run(WORKERS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(parallel)
    return {
        "median_s": median,
        "peak_mb": peak / 2**20,
        "n": requests,
        "baseline_median_s": statistics.median(sequential),
        "requests_per_s": requests / median,
        "settings": f"{LATENCY_S * 1000:.0f} ms latency, {MAX_RATE:g} req/s limit, {WORKERS} workers",
    }


if __name__ == "__main__":
    result = bench_refresh()
    ratio = result["baseline_median_s"] / result["median_s"]
    print(f"refresh: {result['n']} requests in {result['median_s']:.2f} s "
          f"({result['requests_per_s']:.0f} req/s; {result['settings']}); sequential "
          f"{result['baseline_median_s']:.2f} s -> {ratio:.1f}x faster; peak {result['peak_mb']:.1f} MB")
