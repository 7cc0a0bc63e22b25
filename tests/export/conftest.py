"""Hand-made runs for export tests: fictional companies, one hostile name, every value state."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from desktop.export.content import CriterionInfo, ExportInput

FunnelStep = namedtuple("FunnelStep", "criterion_id label removed remaining")


@dataclass(frozen=True)
class FakeTable:
    as_of: date
    values: pd.DataFrame
    status: pd.DataFrame
    notes: dict = field(default_factory=dict)
    provenance: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class FakeResult:
    ranked: pd.DataFrame
    states: pd.DataFrame
    funnel: list
    near_misses: pd.DataFrame
    universe_count: int


SCREEN = {
    "version": 1, "name": "Cash & =risk", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "free_cash_flow", "min": 0, "missing": "fail"},
        {"any": [{"field": "current_ratio", "min": 1.5}, {"field": "sector", "any_of": ["Technology"]}]},
    ],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": ["market_cap", "free_cash_flow", "current_ratio", "index_weight", "price", "sector",
                "listing_date", "description"],
}


def make_input(n_extra: int = 0) -> ExportInput:
    symbols = ["ZQAB", "MOLE-A", "XHAK", "PLNK", "VVOR"] + [f"T{i:04d}" for i in range(n_extra)]
    n = len(symbols)
    rng = np.random.default_rng(7)
    values = pd.DataFrame({
        "name": ["Zeqa Abrasives Inc", "Molehill Mining Class A", "=HYPERLINK(\"http://evil\")",
                 "Plonk Systems", "Vvor Holdings"] + [f"Test Co {i}" for i in range(n_extra)],
        "sector": ["Industrials", "Basic Materials", "Technology", None, "Technology"]
        + ["Technology"] * n_extra,
        "market_cap": [1_234_567_890.0, 456_000_000.0, 88_000_000.0, np.nan, 2e9]
        + list(rng.uniform(1e8, 5e9, n_extra)),
        "free_cash_flow": [55_500_000.0, -12_000_000.0, 3_000_000.0, 1e6, -5e6]
        + list(rng.uniform(-1e7, 1e8, n_extra)),
        "current_ratio": [2.25, np.nan, 1.1, 0.8, 3.0] + list(rng.uniform(0.5, 4, n_extra)),
        "index_weight": [0.00123, 0.0004, 0.0001, 0.0, 0.002] + list(rng.uniform(0, 0.003, n_extra)),
        "price": [12.5, 3.25, 0.91, 40.0, 15.0] + list(rng.uniform(1, 90, n_extra)),
        "listing_date": pd.to_datetime(["1999-03-04", "2015-06-30", None, "2020-01-02", "2001-01-01"]
                                       + ["2010-05-05"] * n_extra),
        "description": ["Makes abrasives.", "-Digs holes; @mentions +more", "\tTabbed", None, "Holds."]
        + ["Does things."] * n_extra,
    }, index=pd.Index(symbols, name="symbol"))
    values["description"] = values["description"].astype(object)
    values["name"] = values["name"].astype(object)
    values["sector"] = values["sector"].astype(object)
    numeric = ["market_cap", "free_cash_flow", "current_ratio", "index_weight", "price"]
    status = pd.DataFrame(0, index=values.index, columns=numeric, dtype="int8")
    status.loc[values["market_cap"].isna(), "market_cap"] = 1
    status.loc["MOLE-A", "current_ratio"] = 2  # not meaningful
    status.loc["PLNK", "index_weight"] = 0  # a real zero stays zero
    notes = {("MOLE-A", "current_ratio"): "no current liabilities reported"}
    table = FakeTable(date(2026, 5, 5), values, status, notes, pd.DataFrame({
        "symbol": symbols[:3], "field": ["market_cap"] * 3, "source": ["yahoo", "finviz", "yahoo"],
        "chosen": [True] * 3}))
    passing = ["VVOR", "ZQAB", "MOLE-A", "XHAK"] + [f"T{i:04d}" for i in range(n_extra)]
    ranked = values.loc[passing, SCREEN["columns"]].copy()
    ranked.insert(0, "rank", np.arange(1, len(passing) + 1))
    states = pd.DataFrame({"c1": [1, 0, 1, 1, 1] + [1] * n_extra, "c2": [1, 2, 1, 0, 1] + [1] * n_extra,
                           "c3": [1, 1, 1, 0, 1] + [1] * n_extra}, index=values.index, dtype="int8")
    states.loc["MOLE-A"] = [1, 2, 1]
    states.loc["PLNK"] = [1, 0, 0]
    states.loc["XHAK"] = [1, 0, 1]
    funnel = [FunnelStep("c1", "Free cash flow ≥ $0", 0, n), FunnelStep("c2", "Current ratio ≥ 1.5", 1, n - 1),
              FunnelStep("c3", "Sector is Technology", 0, n - 1)]
    near = pd.DataFrame({"symbol": ["PLNK"], "criterion_id": ["c2"], "label": ["Current ratio ≥ 1.5"],
                         "value": [0.8], "threshold": [1.5], "distance": [0.7]})
    result = FakeResult(ranked, states, funnel, near, n)
    criteria = (
        CriterionInfo("c1", "free_cash_flow", "Free cash flow ≥ $0", "fail"),
        CriterionInfo("c2", "current_ratio", "Current ratio ≥ 1.5", "fail"),
        CriterionInfo("c3", "sector", "Sector is Technology", "fail"),
    )
    return ExportInput(
        screen_name=SCREEN["name"], screen_definition=SCREEN, criteria=criteria, table=table,  # type: ignore[arg-type]
        result=result, as_of=date(2026, 5, 5), snapshot_id=3,  # type: ignore[arg-type]
        snapshot_created_at=datetime(2026, 5, 6, 9, 30), app_version="9.9.9",
        sources=({"source": "ishares", "origin": "/data/IWM.csv", "as_of": date(2026, 5, 5),
                  "fetched_at": datetime(2026, 5, 6, 9, 0), "rows": 5},),
        exported_at=datetime(2026, 5, 7, 10, 0))


@pytest.fixture
def run_input() -> ExportInput:
    return make_input()


def sheet_rows(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(c.value for c in row) for row in ws.iter_rows()]
