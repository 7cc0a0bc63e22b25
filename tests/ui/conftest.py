"""UI test fixtures: a small store built from a hand-made dataset of fictional companies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desktop.engine.dataset import Dataset, empty_history

# Fictional companies: symbol, name, sector, industry, market cap, revenue, ebitda, ebit, interest,
# operating cash flow, capex, total debt, current debt, cash, equity, description.
COMPANIES = [
    ("ALFA", "Alfa Foundry Inc", "Technology", "Semiconductors", 2.1e9, 8.0e8, 2.0e8, 1.5e8, 1.0e7, 1.8e8, -4.0e7,
     3.0e8, 5.0e7, 2.5e8, 9.0e8, "Designs analog semiconductors and power chips."),
    ("BRVO", "Bravo Lending Corp", "Financial Services", "Banks - Regional", 9.0e8, 3.0e8, np.nan, np.nan,
     4.0e7, 9.0e7, -5.0e6, 1.2e9, 4.0e8, 3.0e8, 7.0e8, "A regional bank holding company in the Midwest."),
    ("CHRL", "Charlie Cloud Ltd", "Technology", "Software - Application", 4.5e9, 6.0e8, -5.0e7, -8.0e7, 5.0e6,
     -3.0e7, -2.0e7, 2.0e8, 2.0e7, 6.0e8, 1.1e9, "Cloud software with machine learning and artificial intelligence."),
    ("DLTA", "Delta Shipping Co", "Industrials", "Marine Shipping", 6.0e8, 5.0e8, 1.2e8, 8.0e7, 3.0e7, 1.1e8,
     -6.0e7, 6.0e8, 1.5e8, 5.0e7, 4.0e8, "Operates dry bulk vessels."),
    ("ECHO", "Echo Realty Trust", "Real Estate", "REIT - Office", 1.3e9, 2.0e8, 1.1e8, 6.0e7, 5.0e7, 8.0e7,
     -1.0e7, 1.5e9, 2.0e8, 4.0e7, 9.0e8, "A real estate investment trust owning office buildings."),
    ("FXTR", "Foxtrot Payments Inc", "Technology", "Software - Infrastructure", 3.2e9, 7.0e8, 1.5e8, 1.2e8,
     2.0e6, 1.6e8, -2.0e7, 5.0e7, 1.0e7, 4.0e8, 1.3e9, "Payments and fintech platform for merchants."),
    ("GOLF", "Golf Retail Group", "Consumer Cyclical", "Specialty Retail", 4.0e8, 9.0e8, 4.0e7, 1.0e7, 2.5e7,
     2.0e7, -3.0e7, 5.0e8, 2.5e8, 3.0e7, -5.0e7, "Sells outdoor and sporting goods."),
    ("HTEL", "Hotel Biotech Inc", "Healthcare", "Biotechnology", 7.5e8, 1.0e7, -9.0e7, -9.5e7, 1.0e6, -8.0e7,
     -2.0e6, 2.0e7, 5.0e6, 2.4e8, 3.0e8, "Clinical-stage biotechnology developing antibodies."),
    ("INDA", "India Mining Corp", "Basic Materials", "Gold", 1.1e9, 4.0e8, 1.6e8, 1.1e8, 1.2e7, 1.5e8,
     -9.0e7, 2.5e8, 3.0e7, 1.2e8, 8.0e8, "Gold mining in Nevada."),
    ("JULT", "Juliet Energy Ltd", "Energy", "Oil & Gas E&P", 2.6e9, 1.1e9, 5.0e8, 3.0e8, 6.0e7, 4.5e8,
     -2.5e8, 9.0e8, 1.0e8, 2.0e8, 1.6e9, "Oil and gas exploration in the Permian."),
    ("KILO", "Kilo Chips Corp", "Technology", "Semiconductor Equipment & Materials", 1.7e9, 5.0e8, 1.1e8, 9.0e7,
     0.0, 1.0e8, -3.0e7, 0.0, 0.0, 3.5e8, 9.0e8, "Wafer inspection equipment for semiconductor fabs."),
    ("LIMA", "Lima Foods Inc", "Consumer Defensive", "Packaged Foods", 5.0e8, 1.2e9, 9.0e7, 5.0e7, 2.0e7, 7.0e7,
     -2.5e7, 3.5e8, 6.0e7, 2.0e7, 3.0e8, "Packaged snacks and frozen foods."),
]


def make_dataset(as_of: date = date(2026, 4, 30), bump: float = 1.0) -> Dataset:
    """The fixture dataset; ``bump`` scales market caps so two snapshots differ."""
    cols = ["name", "sector", "industry", "market_cap", "revenue", "ebitda", "ebit", "interest_expense",
            "operating_cash_flow", "capital_expenditure", "total_debt", "current_debt", "cash", "total_equity",
            "description"]
    rows = {c[0]: dict(zip(cols, c[1:], strict=True)) for c in COMPANIES}
    sec = pd.DataFrame.from_dict(rows, orient="index")
    sec.index.name = "symbol"
    sec["market_cap"] = sec["market_cap"].astype(float) * bump
    sec["ticker"] = sec.index
    sec["exchange"] = "NASDAQ"
    sec["in_index"] = True
    sec["index_weight"] = sec["market_cap"] / sec["market_cap"].sum()
    sec["index_sector"] = sec["sector"]
    sec["free_cash_flow"] = sec["operating_cash_flow"] + sec["capital_expenditure"]
    sec["long_term_debt"] = sec["total_debt"] - sec["current_debt"]
    sec["enterprise_value"] = sec["market_cap"] + sec["total_debt"] - sec["cash"]
    sec["price"] = np.linspace(8.0, 95.0, len(sec))
    sec["shares_outstanding"] = sec["market_cap"] / sec["price"]
    sec["net_income"] = sec["ebit"] * 0.7
    sec["total_assets"] = sec["total_equity"].abs() + sec["total_debt"] + 1e8
    hist_rows = []
    for symbol, r in sec.iterrows():
        for k, year in enumerate((2022, 2023, 2024, 2025)):
            scale = 0.85 + 0.05 * k
            hist_rows.append({
                "symbol": symbol, "fiscal_year": year, "period_end": pd.Timestamp(year, 12, 31), "source": "fixture",
                "revenue": r["revenue"] * scale, "ebit": r["ebit"] * scale, "operating_income": r["ebit"] * scale,
                "interest_expense": r["interest_expense"], "net_income": r["net_income"] * scale,
                "operating_cash_flow": r["operating_cash_flow"] * scale,
                "capital_expenditure": r["capital_expenditure"],
                "free_cash_flow": r["operating_cash_flow"] * scale + r["capital_expenditure"],
                "total_debt": r["total_debt"], "current_debt": r["current_debt"],
                "long_term_debt": r["long_term_debt"], "cash": r["cash"], "total_equity": r["total_equity"],
                "total_assets": r["total_assets"]})
    history = pd.concat([empty_history(), pd.DataFrame(hist_rows)], ignore_index=True)
    history["fiscal_year"] = history["fiscal_year"].astype("int64")
    dates = pd.bdate_range(end=pd.Timestamp(as_of), periods=520, name="date")
    rng = np.random.default_rng(7)
    market = pd.DataFrame({
        "IWM": 200 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates)))),
        "SPY": 450 * np.exp(np.cumsum(rng.normal(0, 0.008, len(dates)))),
        "yield_10y": 4.0 + np.cumsum(rng.normal(0, 0.03, len(dates))),
    }, index=dates)
    prices = pd.DataFrame({s: 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(dates)))) for s in sec.index},
                          index=dates)
    return Dataset(as_of=as_of, securities=sec, history=history, prices=prices, market=market,
                   sources=({"source": "fixture", "origin": "tests/ui/conftest.py", "as_of": as_of.isoformat(),
                             "fetched_at": as_of.isoformat(), "rows": len(sec)},))


def save_fixture_snapshot(url: str, dataset: Dataset) -> int:
    from desktop.store.db import open_database
    from desktop.store.snapshots import save_snapshot

    db = open_database(url)
    try:
        with db.session() as session:
            return save_snapshot(session, dataset, {"rows": len(dataset.securities)})
    finally:
        db.dispose()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A SQLite store with one fixture snapshot."""
    path = tmp_path / "store.sqlite3"
    save_fixture_snapshot(str(path), make_dataset())
    return path


@pytest.fixture
def two_snapshot_store(tmp_path: Path) -> Path:
    path = tmp_path / "store2.sqlite3"
    save_fixture_snapshot(str(path), make_dataset(date(2026, 3, 31), bump=0.5))
    save_fixture_snapshot(str(path), make_dataset(date(2026, 4, 30)))
    return path


@pytest.fixture(autouse=True)
def _clear_table_cache() -> Iterator[None]:
    """load_table caches per snapshot id; each test's store starts at id 1 again."""
    from desktop.services import screening

    screening.clear_cache()
    yield
    screening.flush_table_writes(60)  # no write into the store cache outlives its test's database
    screening.clear_cache()


@pytest.fixture(autouse=True)
def _sec_contact_known(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refresh and download start without asking for the SEC contact (issue #14) unless a test
    removes this variable to see the question (tests/ui/test_sec_ui.py)."""
    monkeypatch.setenv("PICKAXE_SEC_USER_AGENT", "Pickaxe UI tests ui-tests@example.com")
