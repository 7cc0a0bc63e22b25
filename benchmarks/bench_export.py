"""Export speed (issue #7): the shortlist workbook for 2,000 rows x 40 columns must take < 1.5 s.

Baseline: pandas ``DataFrame.to_excel`` (openpyxl engine) of the same 2,000 x 40 values - a plain
sheet without the other five sheets, formats, table, links or comments.

    python -m benchmarks.bench_export
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROWS = 2_000
REPEATS = 5
# 36 screen columns + rank, symbol, name, score = 40 shortlist columns, every unit represented.
COLUMNS = [
    "market_cap", "enterprise_value", "price", "revenue", "ebitda", "ebit", "interest_expense",
    "operating_cash_flow", "capital_expenditure", "free_cash_flow", "total_debt", "current_debt",
    "cash", "total_equity", "total_assets", "fcf_yield", "fcf_margin", "ocf_positive", "fcf_positive",
    "cash_runway_months", "net_debt", "net_debt_to_ebitda", "debt_to_equity", "debt_to_assets",
    "interest_coverage", "short_term_debt_share", "repricing_debt", "shocked_coverage_100",
    "shocked_coverage_200", "shocked_coverage_300", "years_listed", "listing_date", "themes", "sector",
    "industry", "description",
]
SCREEN: dict[str, Any] = {
    "version": 1, "name": "Benchmark 2000 x 40", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "free_cash_flow", "min": 0},
        {"any": [{"field": "interest_coverage", "min": 3}, {"field": "sector", "any_of": ["Technology"]}]},
        {"field": "net_debt_to_ebitda", "max": 10, "missing": "pass"},
        {"field": "market_cap", "min": 1e6},
        {"field": "fcf_yield", "percentile_min": 0},
    ],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": COLUMNS,
    "score": {"weights": {"fcf_yield": 1, "interest_coverage": 1}},
}


def _input() -> Any:
    from tests.export.conftest import make_input

    data = make_input(n_extra=ROWS - 4, screen=SCREEN)  # the 4 named passing stocks + filler
    assert len(data.result.ranked) == ROWS, len(data.result.ranked)
    return data


def _measure(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6


def bench_excel_2000x40() -> dict:
    """Median time to write the full workbook for 2,000 shortlisted stocks x 40 columns."""
    from desktop.export.content import shortlist_columns
    from desktop.export.excel import write_workbook

    data = _input()
    n_columns = len(shortlist_columns(data))
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "shortlist.xlsx"
        median, peak = _measure(lambda: write_workbook(target, data), REPEATS)
        frame = pd.DataFrame(data.result.ranked)
        frame = frame.assign(themes=frame["themes"].map(", ".join))
        baseline, _ = _measure(lambda: frame.to_excel(Path(folder) / "baseline.xlsx", engine="openpyxl"),
                               REPEATS)
    return {"median_s": median, "peak_mb": peak, "n": ROWS, "columns": n_columns,
            "baseline_median_s": baseline}


def bench_csv_2000x40() -> dict:
    """Median time to write the shortlist CSV for the same run."""
    from desktop.export.csv import write_csv

    data = _input()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "shortlist.csv"
        median, peak = _measure(lambda: write_csv(target, data), REPEATS)
        frame = pd.DataFrame(data.result.ranked)
        baseline, _ = _measure(lambda: frame.to_csv(Path(folder) / "baseline.csv"), REPEATS)
    return {"median_s": median, "peak_mb": peak, "n": ROWS, "baseline_median_s": baseline}


if __name__ == "__main__":
    for bench in (bench_excel_2000x40, bench_csv_2000x40):
        print(bench.__name__, bench())
