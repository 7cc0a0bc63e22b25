"""Runs for export tests, built with the real engine from a hand-made dataset.

Fictional companies only. The dataset covers every value state the export must keep apart:
a not-meaningful ratio (negative equity / EBITDA), a missing date, an unbounded cash runway, a
real zero, a stock that misses the screen by one criterion, a non-member outside the universe,
and untrusted text that looks like a formula.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from desktop.engine.dataset import Dataset, empty_provenance
from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import compute_metrics
from desktop.engine.screen import parse_screen
from desktop.engine.themes import ThemeTaxonomy
from desktop.export.content import ExportInput
from desktop.resources import resource_path
from desktop.services.exporting import export_input
from desktop.services.screening import RunOutcome
from desktop.store.snapshots import SnapshotInfo

SCREEN: dict[str, Any] = {
    "version": 1, "name": "Cash & =risk", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "free_cash_flow", "min": 0, "missing": "fail"},
        {"any": [{"field": "interest_coverage", "min": 3}, {"field": "sector", "any_of": ["Technology"]}]},
        {"field": "net_debt_to_ebitda", "max": 4, "missing": "pass"},
    ],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": ["market_cap", "price", "fcf_yield", "free_cash_flow", "net_debt_to_ebitda", "debt_to_equity",
                "interest_coverage", "cash_runway_months", "themes", "ocf_positive", "listing_date", "sector",
                "description"],
    "score": {"weights": {"fcf_yield": 1, "interest_coverage": 1}},
}
EVIL_NAME = '=HYPERLINK("http://evil","click")'
# symbol: name, sector, description, market cap, price, FCF, EBITDA, EBIT, interest, debt, cash, equity,
# listing date, in index
STOCKS: dict[str, tuple[Any, ...]] = {
    "VVOR": ("Vvor Holdings", "Industrials", "Holds things.", 2.0e9, 15.0, 1.0e8, 2.0e8, 1.5e8, 1.5e7,
             2.0e8, 1.0e8, 9.0e8, "2001-01-01", True),
    "ZQAB": ("Zeqa Abrasives Inc", "Technology", "Designs AI accelerator semiconductors.", 1.2e9, 12.5, 5.0e7,
             5.0e7, 4.0e7, 5.0e6, 1.0e8, 2.0e7, 3.0e8, "1999-03-04", True),
    "MOLE-A": ("Molehill Mining Class A", "Energy", "-Digs holes; @mentions +more", 4.5e8, 3.25, 2.0e6,
               3.0e7, 2.5e7, 5.0e6, 6.0e7, 1.0e7, -1.0e6, None, True),
    "XHAK": (EVIL_NAME, "Technology", "\tTabbed text", 8.8e7, 0.91, 3.0e6, 4.0e6, 1.0e6, 1.0e6,
             0.0, 5.0e6, 2.0e7, "2020-01-02", True),
    "PLNK": ("Plonk Systems", "Financial Services", "Lends.", 3.0e8, 40.0, -1.0e6, 2.0e7, 1.5e7, 3.0e6,
             2.0e7, 1.0e7, 1.0e8, "2015-06-30", True),
    "NEGE": ("Negative Earnings Co", "Healthcare", "Burns cash.", 1.5e8, 2.0, 1.0e6, -5.0e6, -8.0e6, 2.0e6,
             3.0e7, 5.0e6, 4.0e7, "2018-01-01", True),
    "OUTS": ("Outside Index Corp", "Technology", "Not a member.", 9.9e9, 99.0, 1.0e9, 2.0e9, 1.8e9, 1.0e7,
             1.0e8, 1.0e9, 5.0e9, "1990-01-01", False),
}
PASSING = ["VVOR", "ZQAB", "MOLE-A", "XHAK"]  # by market cap, descending


def make_dataset(n_extra: int = 0, seed: int = 7) -> Dataset:
    rows = dict(STOCKS)
    rng = np.random.default_rng(seed)
    for i in range(n_extra):  # passing filler stocks
        cap = float(rng.uniform(1e8, 1.1e9))  # below the named stocks' caps, so ranks stay put at the top
        fcf = float(rng.uniform(1e6, 5e7))
        rows[f"T{i:04d}"] = (f"Test Company {i}", "Technology", "Makes software.", cap, float(rng.uniform(1, 90)),
                             fcf, fcf * 2, fcf * 1.5, fcf / 10, fcf, fcf / 2, cap / 2, "2010-05-05", True)
    cols = ["name", "sector", "description", "market_cap", "price", "free_cash_flow", "ebitda", "ebit",
            "interest_expense", "total_debt", "cash", "total_equity", "listing_date", "in_index"]
    sec = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    sec.index = pd.Index(list(rows), name="symbol", dtype=object)
    sec["ticker"] = [s.replace("-", "") for s in sec.index]
    sec["operating_cash_flow"] = sec["free_cash_flow"] + 5.0e6
    sec["capital_expenditure"] = -5.0e6
    sec["revenue"] = sec["market_cap"] / 3
    sec["current_debt"] = sec["total_debt"] / 4
    sec["total_assets"] = sec["total_equity"].abs() + sec["total_debt"] + 1e7
    sec["industry"] = sec["sector"]
    sec.loc["ZQAB", "industry"] = "Semiconductors"
    sec.loc["PLNK", "industry"] = "Banks - Regional"
    sec["listing_date"] = pd.to_datetime(sec["listing_date"])
    for text in ("name", "sector", "description", "industry", "ticker"):
        sec[text] = sec[text].astype(object)
    sec["in_index"] = sec["in_index"].astype(bool)
    prov = empty_provenance()
    picks = [("VVOR", "yahoo", True), ("ZQAB", "yahoo", True), ("MOLE-A", "finviz", True), ("MOLE-A", "yahoo", False)]
    prov = pd.concat([prov, pd.DataFrame({
        "symbol": [p[0] for p in picks], "field": ["market_cap"] * len(picks),
        "value_num": [sec.loc[p[0], "market_cap"] for p in picks], "value_text": [None] * len(picks),
        "source": [p[1] for p in picks], "origin": ["test"] * len(picks),
        "as_of": pd.Timestamp("2026-05-05"), "fetched_at": pd.Timestamp("2026-05-06 09:30"),
        "period": ["point"] * len(picks), "derived": False, "chosen": [p[2] for p in picks]})],
        ignore_index=True)
    return Dataset(date(2026, 5, 5), sec, provenance=prov, sources=(
        {"source": "ishares", "origin": "/data/IWM_holdings.csv", "as_of": date(2026, 5, 5),
         "fetched_at": datetime(2026, 5, 6, 9, 0), "rows": len(sec)},
        {"source": "yahoo", "origin": "https://query2.finance.yahoo.com/v10/finance/quoteSummary",
         "as_of": date(2026, 5, 6), "fetched_at": datetime(2026, 5, 6, 9, 30), "rows": len(sec)},
    ))


def make_outcome(n_extra: int = 0, screen: dict[str, Any] | None = None) -> RunOutcome:
    dataset = make_dataset(n_extra)
    taxonomy = ThemeTaxonomy.from_toml(resource_path("themes.toml").read_text(encoding="utf-8"))
    table = compute_metrics(dataset, taxonomy=taxonomy)
    parsed = parse_screen(screen or SCREEN)
    info = SnapshotInfo(3, dataset.as_of, datetime(2026, 5, 6, 9, 45), dataset.sources, {}, len(dataset.members),
                        len(dataset.securities))
    return RunOutcome(parsed, info, table, evaluate(parsed, table), run_id=11)


def make_input(n_extra: int = 0, screen: dict[str, Any] | None = None) -> ExportInput:
    return export_input(make_outcome(n_extra, screen))


@pytest.fixture(scope="session")
def run_input() -> ExportInput:
    return make_input()


# --- a universe whose value states are known (issue #12) -----------------------------------------
# Statements are dated fiscal years (source simfin); the snapshot is 2026-05-05, so FY2022 is 40
# months old (stale: the limit is 18), FY2025 fresh. Market caps are dated observations (45 days).
STATES_AS_OF = date(2026, 5, 5)
_FRESH_LINES = {"revenue": 5.0e8, "operating_income": 6.0e7, "interest_expense": 5.0e6,
                "operating_cash_flow": 5.0e7, "capital_expenditure": -1.0e7}
_BALANCE = {"total_debt": 1.0e8, "current_debt": 2.0e7, "long_term_debt": 8.0e7, "cash": 3.0e7,
            "total_equity": 3.0e8, "total_assets": 6.0e8}
# symbol: (name, industry, market cap, market cap date, statement rows as (fiscal year, lines))
STATE_STOCKS: dict[str, tuple[str, str, float, str, list[tuple[int, dict[str, float]]]]] = {
    "FRSH": ("Fresh Figures Inc", "Industrial Machinery", 3.0e9, "2026-05-04",
             [(2025, {**_FRESH_LINES, **_BALANCE})]),
    # income and cash flow of FY2025, but the last balance sheet is FY2022: debt / equity is stale
    "OLDB": ("Old Balance Sheet Co", "Specialty Retail", 2.5e9, "2026-05-04",
             [(2025, dict(_FRESH_LINES)), (2022, dict(_BALANCE))]),
    # positive capital expenditure (asset sales): capex and FCF are suspect (rule positive_capex)
    "CAPX": ("Capex Seller Corp", "Rental & Leasing Services", 2.0e9, "2026-05-04",
             [(2025, {**_FRESH_LINES, "capital_expenditure": 2.0e7, **_BALANCE})]),
    # a bank: free cash flow is n.m. (company kind)
    "BANK": ("Bank of Nowhere", "Banks - Regional", 1.5e9, "2026-05-04", [(2025, {**_FRESH_LINES, **_BALANCE})]),
    # negative equity: debt / equity is n.m. (its definition)
    "NEGQ": ("Negative Equity Ltd", "Restaurants", 1.0e9, "2026-05-04",
             [(2025, {**_FRESH_LINES, **_BALANCE, "total_equity": -5.0e7})]),
    # no interest cost: coverage is unbounded; its market cap was observed 4 months ago: stale
    "NOIN": ("No Interest Inc", "Software - Application", 8.0e8, "2026-01-02",
             [(2025, {**_FRESH_LINES, **_BALANCE, "interest_expense": 0.0})]),
    # everything from FY2022: its coverage is stale, so the coverage criterion is unknown: not listed
    "OLDY": ("Old Years Holdings", "Auto Parts", 5.0e8, "2026-05-04", [(2022, {**_FRESH_LINES, **_BALANCE})]),
}
STATES_PASSING = ["FRSH", "OLDB", "CAPX", "BANK", "NEGQ", "NOIN"]
STATES_SCREEN: dict[str, Any] = {
    "version": 1, "name": "States & rules", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "free_cash_flow", "min": -1e12, "missing": "pass", "not_meaningful": "pass",
         "stale": "use", "suspect": "use"},
        {"field": "interest_coverage", "min": -1e6, "missing": "pass", "not_meaningful": "pass"},
    ],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": ["market_cap", "free_cash_flow", "capital_expenditure", "debt_to_equity", "interest_coverage",
                "industry"],
}


def make_states_dataset() -> Dataset:
    from desktop.engine.dataset import history_frame

    symbols = list(STATE_STOCKS)
    sec = pd.DataFrame({
        "name": [STATE_STOCKS[s][0] for s in symbols], "industry": [STATE_STOCKS[s][1] for s in symbols],
        "sector": ["Financial Services" if STATE_STOCKS[s][1].startswith("Banks") else "Industrials" for s in symbols],
        "market_cap": [STATE_STOCKS[s][2] for s in symbols], "in_index": True,
    }, index=pd.Index(symbols, name="symbol", dtype=object))
    sec["ticker"] = sec.index
    for text in ("name", "industry", "sector", "ticker"):
        sec[text] = sec[text].astype(object)
    rows = [{"symbol": s, "fiscal_year": year, "period_end": pd.Timestamp(f"{year}-12-31"), "source": "simfin",
             **lines} for s in symbols for year, lines in STATE_STOCKS[s][4]]
    history = history_frame(pd.DataFrame(rows))
    prov = pd.concat([empty_provenance(), pd.DataFrame({
        "symbol": symbols, "field": "market_cap", "value_num": [STATE_STOCKS[s][2] for s in symbols],
        "value_text": None, "source": "finviz", "origin": "finviz export", "period": "point",
        "as_of": [pd.Timestamp(STATE_STOCKS[s][3]) for s in symbols], "fetched_at": pd.Timestamp("2026-05-05 08:00"),
        "derived": False, "chosen": True})], ignore_index=True)
    return Dataset(STATES_AS_OF, sec, history, provenance=prov, sources=(
        {"source": "simfin", "origin": "/data/simfin.csv", "as_of": STATES_AS_OF,
         "fetched_at": datetime(2026, 5, 5, 8, 0), "rows": len(rows)},))


def make_states_input(screen: dict[str, Any] | None = None) -> ExportInput:
    dataset = make_states_dataset()
    table = compute_metrics(dataset)
    parsed = parse_screen(screen or STATES_SCREEN)
    info = SnapshotInfo(5, dataset.as_of, datetime(2026, 5, 5, 9, 0), dataset.sources, {}, len(dataset.members),
                        len(dataset.securities))
    return export_input(RunOutcome(parsed, info, table, evaluate(parsed, table), run_id=21))


@pytest.fixture(scope="session")
def states_input() -> ExportInput:
    return make_states_input()
