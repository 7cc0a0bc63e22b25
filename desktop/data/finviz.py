"""Finviz screener CSV export (offline fundamentals, ownership, momentum and liquidity).

Every column of the 66-column export is read (issue #16) except ``No.`` (the export's row number).
Units: ``Market Cap``, ``Sales``, ``Income``, ``Enterprise Value``, ``Shares Outstanding`` and
``Short Interest`` are in **millions**; ``Average Volume`` is in **thousands** of shares (RIOT's
39,555.94 is 39.6M shares a day, as its daily volumes show; the shared data README says millions,
which would be more shares than exist); percent columns are strings (``"0.83%"``, read as the
fraction 0.0083); ``Earnings Date`` is ``M/D/YYYY h:mm:ss AM|PM`` (the date is kept); an empty cell
is missing. Ratios (``Total Debt/Equity`` 0.43, ``Current Ratio``, ``P/E``) are plain multiples.

Derived values (``derived=True`` in the observations):
    free_cash_flow = Market Cap / (P/Free Cash Flow)   (Finviz leaves P/FCF empty when FCF < 0)
    ebitda         = Enterprise Value / (EV/EBITDA)    (only when EV > 0 and the multiple != 0)
    total_equity   = Book/sh x Shares Outstanding      (tells "negative equity" - D/E not
                                                        meaningful - from "no data")
    reported_avg_dollar_volume = Average Volume x Price (one export, one date)
    reported_high_52w / reported_low_52w = Price / (1 + 52-Week High / Low)
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
THOUSAND = 1_000.0

# Finviz column -> (catalogue field, multiplier, period). Percent strings are read as fractions.
NUMERIC = {
    "Market Cap": ("market_cap", MILLION, "point"),
    "P/E": ("reported_pe", 1.0, "point"),
    "Forward P/E": ("forward_pe", 1.0, "point"),
    "PEG": ("peg", 1.0, "point"),
    "P/S": ("reported_ps", 1.0, "point"),
    "P/B": ("reported_pb", 1.0, "point"),
    "P/Free Cash Flow": ("reported_pfcf", 1.0, "point"),
    "Book/sh": ("book_per_share", 1.0, "MRQ"),
    "Cash/sh": ("cash_per_share", 1.0, "MRQ"),
    "Dividend Yield": ("reported_dividend_yield", 1.0, "point"),
    "Dividend TTM": ("dividend_per_share", 1.0, "TTM"),
    "Payout Ratio": ("reported_payout_ratio", 1.0, "TTM"),
    "EPS (ttm)": ("eps_ttm", 1.0, "TTM"),
    "EPS Growth This Year": ("eps_growth_this_year", 1.0, "FY"),
    "EPS Growth Past 3 Years": ("reported_eps_growth_3y", 1.0, "FY"),
    "EPS Growth Past 5 Years": ("eps_growth_past_5y", 1.0, "FY"),
    "EPS Growth Next 5 Years": ("eps_growth_next_5y", 1.0, "FY"),
    "Sales Growth Past 3 Years": ("reported_revenue_growth_3y", 1.0, "FY"),
    "Sales Growth Past 5 Years": ("revenue_growth_past_5y", 1.0, "FY"),
    "Sales Growth Quarter Over Quarter": ("revenue_growth_quarter", 1.0, "MRQ"),
    "Sales": ("revenue", MILLION, "TTM"),
    "Income": ("net_income", MILLION, "TTM"),
    "Enterprise Value": ("enterprise_value", MILLION, "point"),
    "EV/EBITDA": ("reported_ev_to_ebitda", 1.0, "point"),
    "Shares Outstanding": ("shares_outstanding", MILLION, "point"),
    "Insider Ownership": ("insider_ownership", 1.0, "point"),
    "Insider Transactions": ("insider_transactions", 1.0, "point"),
    "Institutional Ownership": ("institutional_ownership", 1.0, "point"),
    "Institutional Transactions": ("institutional_transactions", 1.0, "point"),
    "Short Interest": ("short_interest", MILLION, "point"),
    "Return on Assets": ("reported_roa", 1.0, "TTM"),
    "Return on Equity": ("reported_roe", 1.0, "TTM"),
    "Return on Invested Capital": ("reported_roic", 1.0, "TTM"),
    "Current Ratio": ("current_ratio", 1.0, "MRQ"),
    "Quick Ratio": ("quick_ratio", 1.0, "MRQ"),
    "LT Debt/Equity": ("reported_lt_debt_to_equity", 1.0, "MRQ"),
    "Total Debt/Equity": ("reported_debt_to_equity", 1.0, "MRQ"),
    "Gross Margin": ("reported_gross_margin", 1.0, "TTM"),
    "Operating Margin": ("reported_operating_margin", 1.0, "TTM"),
    "Profit Margin": ("reported_net_margin", 1.0, "TTM"),
    "Performance (Month)": ("reported_return_1m", 1.0, "point"),
    "Performance (Quarter)": ("reported_return_3m", 1.0, "point"),
    "Performance (Year)": ("reported_return_12m", 1.0, "point"),
    "Performance (3 Years)": ("return_3y", 1.0, "point"),
    "Performance (5 Years)": ("return_5y", 1.0, "point"),
    "Beta": ("beta", 1.0, "point"),
    "Volatility (Week)": ("volatility_week", 1.0, "point"),
    "Volatility (Month)": ("volatility_month", 1.0, "point"),
    "50-Day Simple Moving Average": ("reported_sma50_distance", 1.0, "point"),
    "200-Day Simple Moving Average": ("reported_sma200_distance", 1.0, "point"),
    "52-Week High": ("reported_dist_52w_high", 1.0, "point"),
    "52-Week Low": ("reported_dist_52w_low", 1.0, "point"),
    "Relative Strength Index (14)": ("rsi_14", 1.0, "point"),
    "Analyst Recom": ("analyst_recommendation", 1.0, "point"),
    "Average Volume": ("reported_avg_volume", THOUSAND, "point"),
    "Relative Volume": ("relative_volume", 1.0, "point"),
    "Volume": ("volume", 1.0, "point"),
    "Price": ("price", 1.0, "point"),
    "Change": ("price_change_today", 1.0, "point"),
}
TEXT = {"Company": "name", "Sector": "sector", "Industry": "industry", "Country": "country"}
DATES = {"Earnings Date": "earnings_date"}
IGNORED = ("No.", "Ticker")  # the row number, and the key
SECTORS = {"Financial": "Financial Services"}
_PERIODS = {field: period for field, _m, period in NUMERIC.values()}
_PERIODS.update({"free_cash_flow": "TTM", "ebitda": "TTM", "total_equity": "MRQ", "fcf_nonpositive": "TTM",
                 "ebitda_nonpositive": "TTM", "reported_avg_dollar_volume": "point", "earnings_date": "point",
                 "reported_high_52w": "point", "reported_low_52w": "point",
                 "country": "static"})
_DERIVED = frozenset({"free_cash_flow", "ebitda", "total_equity", "fcf_nonpositive", "ebitda_nonpositive",
                      "reported_avg_dollar_volume", "reported_high_52w", "reported_low_52w"})
# Fields the derived values are computed from.
_HELPERS = ("reported_pfcf", "reported_ev_to_ebitda", "book_per_share")
# Values beyond these are typing errors or unit mix-ups, not companies (dropped with a warning).
_MAX_USD = 1e14
_NON_NEGATIVE = ("market_cap", "price", "shares_outstanding", "current_ratio", "quick_ratio", "short_interest",
                 "reported_avg_volume", "volume", "relative_volume", "insider_ownership", "institutional_ownership")


def read_finviz(path: str | Path) -> SourceData:
    """Read a Finviz screener CSV export.

    Raises:
        InputError: malformed file; the message names the file, line and column.
    """
    return _parse_finviz(read_bytes(path), str(path))


def _parse_finviz(data: bytes, origin: str) -> SourceData:
    warnings: list[str] = []
    text = decode(data, origin, warnings)
    frame = read_csv_text(text, origin, ("Ticker", *TEXT, *DATES))
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
    helpers = {f: wide[f].to_numpy(dtype="float64") for f in _HELPERS if f in wide}
    for col, field in TEXT.items():
        if col in frame.columns:
            texts = frame[col][keep].astype(str).str.replace("\u00a0", " ").str.strip()
            if field == "sector":
                texts = texts.replace(SECTORS)
            wide[field] = texts.where(texts != "", None).to_numpy(dtype=object)
    for col, field in DATES.items():
        if col in frame.columns:
            wide[field] = _dates(frame[col][keep], origin, kept_lines, col)
    unknown = [c for c in frame.columns if c not in NUMERIC and c not in TEXT and c not in DATES and c not in IGNORED]
    if unknown:
        warnings.append(f"{origin}: columns not read (not in the 66-column export Pickaxe knows): "
                        f"{', '.join(unknown)[:200]}")
    _derive(wide, helpers)

    as_of = date_from_name(origin)
    if as_of is None:
        warnings.append(f"{origin}: no date in the file name (finviz_export_YYYY-MM-DD.csv); the "
                        "import date is used")
    obs = melt_observations(wide, text_fields={*TEXT.values(), *DATES.values()}, periods=_PERIODS,
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
        if "market_cap" in wide and "reported_pfcf" in helpers:
            pfcf = helpers["reported_pfcf"]
            mcap = wide["market_cap"].to_numpy()
            wide["free_cash_flow"] = np.where(pfcf > 0, mcap / pfcf, np.nan)
            censored = reports & (mcap > 0) & ~(pfcf > 0)
            wide["fcf_nonpositive"] = np.where(censored, 1.0, np.nan)
        if "enterprise_value" in wide and "reported_ev_to_ebitda" in helpers:
            ev = wide["enterprise_value"].to_numpy()
            mult = helpers["reported_ev_to_ebitda"]
            wide["ebitda"] = np.where((ev > 0) & (mult > 0), ev / mult, np.nan)
            wide["ebitda_nonpositive"] = np.where(reports & (ev > 0) & ~(mult > 0), 1.0, np.nan)
        if "shares_outstanding" in wide and "book_per_share" in helpers:
            wide["total_equity"] = helpers["book_per_share"] * wide["shares_outstanding"].to_numpy()
        if "price" in wide:
            price = wide["price"].to_numpy()
            if "reported_avg_volume" in wide:
                wide["reported_avg_dollar_volume"] = wide["reported_avg_volume"].to_numpy() * price
            for dist, level in (("reported_dist_52w_high", "reported_high_52w"),
                                ("reported_dist_52w_low", "reported_low_52w")):
                if dist in wide:
                    wide[level] = np.where(wide[dist].to_numpy() > -1.0, price / (1.0 + wide[dist].to_numpy()), np.nan)
    for col in ("free_cash_flow", "ebitda", "total_equity", "reported_avg_dollar_volume", "reported_high_52w",
                "reported_low_52w"):
        if col in wide:
            wide[col] = wide[col].where(np.isfinite(wide[col]))


def _dates(values: pd.Series, origin: str, lines: np.ndarray, col: str) -> np.ndarray:
    """``M/D/YYYY h:mm:ss AM`` cells as ISO dates (text; None when empty); a bad cell names its line."""
    raw = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    day = raw.str.split(" ").str[0]
    parsed = pd.to_datetime(day.where(day != "", None), format="%m/%d/%Y", errors="coerce")
    bad = (day != "").to_numpy() & parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{raw.iloc[i][:30]!r} is not a date (M/D/YYYY)", path=origin, line=int(lines[i]), field=col)
    text = parsed.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    text[parsed.isna().to_numpy()] = None
    return text
