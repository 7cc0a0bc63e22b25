"""Synthetic, fictional datasets for store tests and the store benchmark (no real data)."""

from __future__ import annotations

import string
from datetime import date, datetime

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.dataset import (
    CENSOR_COLUMNS,
    HISTORY_COLUMNS,
    PROVENANCE_COLUMNS,
    STATEMENT_LINES,
    Dataset,
)

SECTORS = ("Technology", "Financial Services", "Healthcare", "Industrials", "Real Estate", "Energy")
EXCHANGES = ("NASDAQ", "NYSE", "NYSE American")
EXTRA_NUMERIC = tuple(f"extra_metric_{i}" for i in range(10))  # pads the frame to ~45 fields


def symbols(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out: set[str] = set()
    letters = np.array(list(string.ascii_uppercase))
    while len(out) < n:
        k = int(rng.integers(2, 5))
        out.add("Z" + "".join(rng.choice(letters, size=k)))  # fictional: every symbol starts with Z
    return sorted(out)


def make_securities(syms: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(syms)
    data: dict[str, object] = {}
    for f in catalog.BASE_FIELDS:
        if f.name == "symbol":
            continue
        if f.name == "in_index":
            data[f.name] = rng.random(n) > 0.05
        elif f.unit == "text":
            texts = np.array([f"{f.name} of {s}" for s in syms], dtype=object)
            texts[rng.random(n) < 0.1] = None
            data[f.name] = pd.array(texts, dtype="str")
        elif f.unit == "category":
            choices = SECTORS if "sector" in f.name else EXCHANGES if f.name == "exchange" else (
                "Widgets", "Gadgets", "Banks - Regional", "REIT - Mortgage")
            values = rng.choice(np.array(choices, dtype=object), size=n)
            values[rng.random(n) < 0.1] = None
            data[f.name] = pd.array(values, dtype="str")
        elif f.unit == "date":
            days = rng.integers(0, 15000, size=n).astype("timedelta64[D]")
            stamps = (np.datetime64("1980-01-01") + days).astype("datetime64[ns]")
            stamps[rng.random(n) < 0.2] = np.datetime64("NaT")
            data[f.name] = stamps
        else:
            values = rng.lognormal(18, 2, size=n) * np.where(rng.random(n) < 0.2, -1, 1)
            values[rng.random(n) < 0.15] = np.nan
            data[f.name] = values
    for name in EXTRA_NUMERIC:
        values = rng.normal(size=n)
        values[rng.random(n) < 0.15] = np.nan
        data[name] = values
    return pd.DataFrame(data, index=pd.Index(syms, name="symbol", dtype="str"))


def make_prices(syms: list[str], n_days: int, seed: int = 0, end: str = "2026-05-05") -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    dates = pd.bdate_range(end=end, periods=n_days, name="date")
    steps = rng.normal(0, 0.02, size=(n_days, len(syms)))
    closes = 20 * np.exp(np.cumsum(steps, axis=0))
    late = rng.random(len(syms)) < 0.05  # listed during the window: NaN before listing
    for j in np.flatnonzero(late):
        closes[: int(rng.integers(1, n_days)), j] = np.nan
    return pd.DataFrame(closes, index=dates, columns=pd.Index(syms))


def make_history(syms: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 2)
    rows = []
    for s in syms:
        for year in range(2020, 2025):
            row: dict[str, object] = {"symbol": s, "fiscal_year": year,
                                      "period_end": pd.Timestamp(f"{year}-12-31"), "period_type": "FY",
                                      "filed": pd.Timestamp(f"{year + 1}-03-01"), "source": "simfin",
                                      "form": "10-K"}
            for col in STATEMENT_LINES + CENSOR_COLUMNS:
                row[col] = float(rng.normal(1e8, 5e7)) if rng.random() > 0.1 else np.nan
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    frame["symbol"] = frame["symbol"].astype(object)
    for col in ("source", "period_type", "form"):
        frame[col] = frame[col].astype(object)
    return frame


def make_provenance(securities: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 3)
    numeric = [c for c in securities.columns if securities[c].dtype == np.float64]
    sym = np.repeat(securities.index.to_numpy(dtype=object), len(numeric) * 2)
    fld = np.tile(np.repeat(np.array(numeric, dtype=object), 2), len(securities))
    n = len(sym)
    frame = pd.DataFrame({
        "symbol": sym, "field": fld, "value_num": rng.normal(size=n), "value_text": None,
        "source": np.tile(np.array(["yahoo", "finviz"], dtype=object), n // 2),
        "origin": "fictional://source",
        "as_of": pd.Timestamp("2026-05-05"), "fetched_at": pd.Timestamp("2026-05-05 12:00"),
        "period": "TTM", "derived": rng.random(n) < 0.1, "chosen": np.tile([True, False], n // 2)})
    frame["value_text"] = frame["value_text"].astype(object)
    return frame[list(PROVENANCE_COLUMNS)]


def make_market(n_days: int, end: str = "2026-05-05") -> pd.DataFrame:
    dates = pd.bdate_range(end=end, periods=n_days, name="date")
    base = np.linspace(1.0, 2.0, n_days)
    market = pd.DataFrame({"IWM": 180 * base, "SPY": 400 * base, "yield_10y": 4 + np.sin(base)}, index=dates)
    market.loc[market.index[::50], "yield_10y"] = np.nan  # holidays
    return market


def make_dataset(n_symbols: int = 50, n_days: int = 60, seed: int = 0, as_of: date = date(2026, 5, 5),
                 with_provenance: bool = True) -> Dataset:
    syms = symbols(n_symbols, seed)
    securities = make_securities(syms, seed)
    return Dataset(
        as_of=as_of,
        securities=securities,
        history=make_history(syms, seed),
        prices=make_prices(syms, n_days, seed, end=str(as_of)),
        market=make_market(n_days, end=str(as_of)),
        provenance=make_provenance(securities, seed) if with_provenance else Dataset(
            as_of, securities).provenance,
        sources=({"source": "ishares", "origin": "fictional.csv", "as_of": as_of,
                  "fetched_at": datetime(2026, 5, 5, 18, 0), "rows": n_symbols},),
    )
