"""Finviz screener CSV export (offline fundamentals).

Units in the export: ``Market Cap``, ``Sales``, ``Income``, ``Enterprise Value`` and ``Shares
Outstanding`` are in **millions**; percent columns are strings (``"0.83%"``); an empty cell is
missing. Ratios (``Total Debt/Equity`` 0.43, ``Current Ratio``) are plain multiples.

Derived values (``derived=True`` in the observations):
    free_cash_flow = Market Cap / (P/Free Cash Flow)   (Finviz leaves P/FCF empty when FCF < 0)
    ebitda         = Enterprise Value / (EV/EBITDA)    (only when EV > 0 and the multiple != 0)
    total_equity   = Book/sh x Shares Outstanding      (tells "negative equity" - D/E not
                                                        meaningful - from "no data")
Censoring (issue #12, docs/data-sources.md): Finviz leaves P/FCF empty when FCF <= 0 and
EV/EBITDA empty when EBITDA <= 0. For a company with a positive market cap (or EV) and reported
sales or income, an empty multiple is information: ``fcf_nonpositive`` / ``ebitda_nonpositive``
= 1 say "known to be <= 0, amount not given", so an older positive figure can never win.
The statement lines become one dated "TTM" statement row per company (dated by the file name).
The export's sector names are mapped to Yahoo's (``Financial`` -> ``Financial Services``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from desktop.data import symbols
from desktop.data._text import (
    date_from_name,
    decode,
    melt_observations,
    now_utc,
    numeric_column,
    read_bytes,
    read_csv_text,
    text_column,
)
from desktop.data.source import SkippedRow, SourceData
from desktop.errors import InputError

MILLION = 1_000_000.0

# Finviz column -> (catalogue field, multiplier, period)
NUMERIC = {
    "Market Cap": ("market_cap", MILLION, "point"),
    "Price": ("price", 1.0, "point"),
    "Sales": ("revenue", MILLION, "TTM"),
    "Income": ("net_income", MILLION, "TTM"),
    "Enterprise Value": ("enterprise_value", MILLION, "point"),
    "Shares Outstanding": ("shares_outstanding", MILLION, "point"),
    "Beta": ("beta", 1.0, "point"),
    "Current Ratio": ("current_ratio", 1.0, "MRQ"),
    "Quick Ratio": ("quick_ratio", 1.0, "MRQ"),
    "Total Debt/Equity": ("reported_debt_to_equity", 1.0, "MRQ"),
}
# Columns only used to derive values.
HELPERS = ("P/Free Cash Flow", "EV/EBITDA", "Book/sh")
TEXT = {"Company": "name", "Sector": "sector", "Industry": "industry"}
SECTORS = {"Financial": "Financial Services"}
_PERIODS = {field: period for field, _m, period in NUMERIC.values()}
_PERIODS.update({"free_cash_flow": "TTM", "ebitda": "TTM", "total_equity": "MRQ", "fcf_nonpositive": "TTM",
                 "ebitda_nonpositive": "TTM"})
_DERIVED = frozenset({"free_cash_flow", "ebitda", "total_equity", "fcf_nonpositive", "ebitda_nonpositive"})
# Values beyond these are typing errors or unit mix-ups, not companies (dropped with a warning).
_MAX_USD = 1e14
_NON_NEGATIVE = ("market_cap", "price", "shares_outstanding", "current_ratio", "quick_ratio")


def read_finviz(path: str | Path) -> SourceData:
    """Read a Finviz screener CSV export.

    Raises:
        InputError: malformed file; the message names the file, line and column.
    """
    return _parse_finviz(read_bytes(path), str(path))


def _parse_finviz(data: bytes, origin: str) -> SourceData:
    warnings: list[str] = []
    text = decode(data, origin, warnings)
    frame = read_csv_text(text, origin, ("Ticker", "Company", "Sector", "Industry", "Country", "Earnings Date"))
    for col in ("Ticker", *TEXT):
        if col in frame.columns:
            frame[col] = text_column(frame[col])
    if "Ticker" not in frame.columns:
        raise InputError(f"no 'Ticker' column (columns: {', '.join(frame.columns)[:200]}) - is this a "
                         "Finviz export?", path=origin, line=1, field="Ticker")
    known = [c for c in list(NUMERIC) + list(TEXT) if c in frame.columns]
    if not known:
        raise InputError("none of the expected Finviz columns (Market Cap, Sector, ...) is present",
                         path=origin, line=1)
    for col in ("Market Cap", "Sector", "Total Debt/Equity"):
        if col not in frame.columns:
            warnings.append(f"{origin}: no {col!r} column; that field is not imported")
    # Physical line of each row: rows are one line each (the export has no multi-line fields).
    lines = np.arange(len(frame)) + 2
    tickers = frame["Ticker"].astype(str).str.strip().str.upper()
    skipped: list[SkippedRow] = []
    valid = tickers.map(symbols.is_valid_ticker).to_numpy(dtype=bool)
    for i in np.flatnonzero(~valid):
        skipped.append(SkippedRow(int(lines[i]), tickers.iloc[i][:20] or "-", "not a ticker symbol"))
    syms = tickers.map(symbols.to_yahoo)
    dup = syms.duplicated(keep="first").to_numpy() & valid
    first_line = dict(zip(syms[valid][::-1], lines[valid][::-1], strict=True))
    for i in np.flatnonzero(dup):
        skipped.append(SkippedRow(int(lines[i]), tickers.iloc[i], f"duplicate of line {first_line[syms.iloc[i]]}"))
    keep = valid & ~dup

    wide = pd.DataFrame(index=pd.Index(syms[keep].to_numpy(dtype=object), name="symbol"))
    kept_lines = lines[keep]
    for col, (field, mult, _period) in NUMERIC.items():
        if col in frame.columns:
            values = numeric_column(frame[col][keep], origin, kept_lines, col) * mult
            wide[field] = _plausible(values, field, wide.index, origin, kept_lines, warnings)
    helpers = {c: numeric_column(frame[c][keep], origin, kept_lines, c) for c in HELPERS if c in frame.columns}
    for col, field in TEXT.items():
        if col in frame.columns:
            texts = frame[col][keep].astype(str).str.replace("\u00a0", " ").str.strip()
            if field == "sector":
                texts = texts.replace(SECTORS)
            wide[field] = texts.where(texts != "", None).to_numpy(dtype=object)
    _derive(wide, helpers)

    as_of = date_from_name(origin)
    if as_of is None:
        warnings.append(f"{origin}: no date in the file name (finviz_export_YYYY-MM-DD.csv); the "
                        "import date is used")
    obs = melt_observations(wide, text_fields=set(TEXT.values()), periods=_PERIODS,
                            derived=_DERIVED, as_of=as_of)
    return SourceData(source="finviz", origin=origin, as_of=as_of, fetched_at=now_utc(),
                      observations=obs, skipped=skipped, warnings=warnings, rows_read=len(frame))


def _plausible(values: np.ndarray, field: str, index: pd.Index, origin: str, lines: np.ndarray,
               warnings: list[str]) -> np.ndarray:
    """Drop impossible values (negative market cap, 1e300 revenue) with one warning per field."""
    bad = np.abs(values) > _MAX_USD
    if field in _NON_NEGATIVE:
        bad |= values < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        warnings.append(f"{origin}: line {int(lines[i])}: {field} {values[i]:g} of {index[i]} is implausible"
                        f"{f' (and {int(bad.sum()) - 1} more)' if bad.sum() > 1 else ''}; treated as missing")
        values = np.where(bad, np.nan, values)
    return values


def _derive(wide: pd.DataFrame, helpers: dict[str, np.ndarray]) -> None:
    n = len(wide)
    reports = np.zeros(n, dtype=bool)  # the company has fundamentals in the export at all
    for col in ("revenue", "net_income"):
        if col in wide:
            reports |= wide[col].notna().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if "market_cap" in wide and "P/Free Cash Flow" in helpers:
            pfcf = helpers["P/Free Cash Flow"]
            mcap = wide["market_cap"].to_numpy()
            wide["free_cash_flow"] = np.where(pfcf > 0, mcap / pfcf, np.nan)
            censored = reports & (mcap > 0) & ~(pfcf > 0)
            wide["fcf_nonpositive"] = np.where(censored, 1.0, np.nan)
        if "enterprise_value" in wide and "EV/EBITDA" in helpers:
            ev = wide["enterprise_value"].to_numpy()
            mult = helpers["EV/EBITDA"]
            wide["ebitda"] = np.where((ev > 0) & (mult > 0), ev / mult, np.nan)
            wide["ebitda_nonpositive"] = np.where(reports & (ev > 0) & ~(mult > 0), 1.0, np.nan)
        if "shares_outstanding" in wide and "Book/sh" in helpers:
            wide["total_equity"] = helpers["Book/sh"] * wide["shares_outstanding"].to_numpy()
    for col in ("free_cash_flow", "ebitda", "total_equity"):
        if col in wide:
            wide[col] = wide[col].where(np.isfinite(wide[col]))
