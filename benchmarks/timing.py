"""Timing helpers for ``bench_*`` functions: median wall time and peak traced memory.

Timing and memory are measured in separate runs: ``tracemalloc`` slows allocation-heavy code two- to
three-fold, so the timed runs never trace, and one extra traced run gives the peak.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1, trace_memory: bool = True) -> tuple[float, float]:
    """Run ``fn`` and return ``(median_s, peak_mb)``.

    Args:
        fn: the work to time, called with no arguments (bind inputs with a closure or ``partial``).
        repeat: timed runs; the median of them is reported (robust to a run disturbed by other work).
        warmup: untimed runs first (imports, caches, lazy initialisation).
        trace_memory: when True, one extra run under ``tracemalloc`` gives the peak of memory
            allocated through Python's allocators during the call, in MB (10**6 bytes). NumPy and pandas
            buffers are included; memory that C++ libraries (Qt) allocate themselves is not. When False,
            ``peak_mb`` is NaN.

    Returns:
        The median of the timed runs in seconds, and the traced peak in MB.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()  # a collection triggered by earlier garbage should not land in this run
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), (peak_memory_mb(fn) if trace_memory else float("nan"))


def peak_memory_mb(fn: Callable[[], Any]) -> float:
    """Peak Python-allocated memory during one call of ``fn``, in MB (see :func:`measure`)."""
    gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return max(0.0, (peak - base) / 1e6)


def result(median_s: float, peak_mb: float | None, n: int, baseline_median_s: float | None = None) -> dict[str, Any]:
    """The dict every ``bench_*`` function returns (the runner adds ``ratio``).

    Args:
        median_s: median seconds of the measured operation.
        peak_mb: its peak memory in MB (None or NaN when not measured).
        n: the size of the input (rows, securities, tickers...) the operation processed.
        baseline_median_s: median seconds of the natural baseline run in the same process, or None.
    """
    return {"median_s": float(median_s), "peak_mb": None if peak_mb is None else float(peak_mb), "n": int(n),
            "baseline_median_s": None if baseline_median_s is None else float(baseline_median_s)}
