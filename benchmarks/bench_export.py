"""Export speed (issue #7): the shortlist workbook for 2,000 rows x 40 columns must take < 1.5 s.

Input: the synthetic universe (:mod:`benchmarks.synthetic`, 2,000 securities of the real shape:
missing values, not-meaningful ratios, notes, provenance) with its metrics computed, and a screen
with 5 criteria (one in an ``any`` group) that every security passes, showing 36 columns - 40 with
rank, symbol, name and score. So the Shortlist has 2,000 x 40 cells and the Why sheet 2,000 rows.

Baseline: pandas ``DataFrame.to_excel`` (openpyxl engine) of the same 2,000 x 40 values - one plain
sheet, without the other five sheets, number formats, table, links, colours or comments.

    python -m benchmarks.bench_export
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.synthetic import synthetic_dataset
from benchmarks.timing import measure, result

ROWS = 2_000
COLUMNS = [
    "market_cap", "enterprise_value", "price", "revenue", "ebitda", "ebit", "interest_expense",
    "operating_cash_flow", "capital_expenditure", "free_cash_flow", "total_debt", "current_debt",
    "cash", "total_equity", "total_assets", "fcf_yield", "fcf_margin", "ocf_positive", "fcf_positive",
    "cash_runway_months", "net_debt", "net_debt_to_ebitda", "debt_to_equity", "debt_to_assets",
    "interest_coverage", "short_term_debt_share", "repricing_debt", "shocked_coverage_100",
    "shocked_coverage_200", "shocked_coverage_300", "years_listed", "listing_date", "themes", "sector",
    "industry", "description",
]
_EVERYONE = {"missing": "pass", "not_meaningful": "pass"}
SCREEN: dict[str, Any] = {
    "version": 1, "name": "Benchmark 2000 x 40", "universe": "all", "match": "all",
    "criteria": [
        {"field": "market_cap", "min": 0, **_EVERYONE},
        {"field": "free_cash_flow", "min": -1e15, **_EVERYONE},
        {"any": [{"field": "interest_coverage", "min": -1e15, **_EVERYONE},
                 {"field": "net_debt_to_ebitda", "max": 1e15, **_EVERYONE}]},
        {"field": "fcf_yield", "min": -1e6, **_EVERYONE},
    ],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": COLUMNS,
    "score": {"weights": {"fcf_yield": 1, "interest_coverage": 1}},
}


@cache
def _input() -> Any:
    from desktop.engine.evaluate import evaluate
    from desktop.engine.metrics import compute_metrics
    from desktop.engine.screen import parse_screen
    from desktop.services.exporting import export_input
    from desktop.services.screening import RunOutcome, load_taxonomy
    from desktop.store.snapshots import SnapshotInfo

    dataset = synthetic_dataset(ROWS)
    table = compute_metrics(dataset, taxonomy=load_taxonomy())
    screen = parse_screen(SCREEN)
    info = SnapshotInfo(1, dataset.as_of, pd.Timestamp("2026-05-06 09:00").to_pydatetime(), dataset.sources,
                        {}, len(dataset.members), len(dataset.securities))
    data = export_input(RunOutcome(screen, info, table, evaluate(screen, table), None))
    if len(data.result.ranked) != ROWS:
        raise AssertionError(f"the benchmark screen should pass all {ROWS} securities, "
                             f"it passed {len(data.result.ranked)}")
    return data


def bench_export_xlsx() -> dict:
    """Median time to write the full six-sheet workbook for 2,000 stocks x 40 columns."""
    from desktop.export.excel import write_workbook

    data = _input()
    frame = data.result.ranked.assign(themes=data.result.ranked["themes"].map(", ".join))
    with tempfile.TemporaryDirectory() as folder:
        median, peak = measure(lambda: write_workbook(Path(folder) / "shortlist.xlsx", data), repeat=5)
        baseline, _ = measure(lambda: frame.to_excel(Path(folder) / "baseline.xlsx", engine="openpyxl"),
                              repeat=5, trace_memory=False)
    return result(median, peak, ROWS, baseline)


def bench_export_csv() -> dict:
    """Median time to write the shortlist CSV of the same run; baseline ``DataFrame.to_csv``."""
    from desktop.export.csv import write_csv

    data = _input()
    with tempfile.TemporaryDirectory() as folder:
        median, peak = measure(lambda: write_csv(Path(folder) / "shortlist.csv", data), repeat=5)
        baseline, _ = measure(lambda: data.result.ranked.to_csv(Path(folder) / "baseline.csv"), repeat=5,
                              trace_memory=False)
    return result(median, peak, ROWS, baseline)


if __name__ == "__main__":
    for bench in (bench_export_xlsx, bench_export_csv):
        print(bench.__name__, bench())
