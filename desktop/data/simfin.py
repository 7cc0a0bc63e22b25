"""SimFin bulk-download files (offline): annual statements, companies and industries.

Files are recognised by their header, not their name: ``us-income-annual``, ``us-balance-annual``,
``us-cashflow-annual``, ``us-companies`` and ``industries``. Format: ``;``-separated, CRLF, values
in USD units (not millions), costs and outflows negative, empty = missing.

Mapping (fiscal-year ``history`` rows, ``HISTORY_COLUMNS``):
    revenue              Revenue
    operating_income     Operating Income (Loss)   (SimFin has no EBIT line: ``ebit`` stays NaN)
    interest_expense     - Interest Expense, Net   (sign flipped: positive = net expense)
    net_income           Net Income
    operating_cash_flow  Net Cash from Operating Activities
    capital_expenditure  Change in Fixed Assets & Intangibles (negative = outflow)
    free_cash_flow       operating_cash_flow + capital_expenditure (both present)
    current_debt         Short Term Debt
    long_term_debt       Long Term Debt
    total_debt           Short Term Debt + Long Term Debt (sum of the lines present; NaN if both empty)
    cash                 Cash, Cash Equivalents & Short Term Investments
    total_equity / total_assets   Total Equity / Total Assets
    depreciation_amortization   Depreciation & Amortization (income statement; optional column)
    Optional columns (issue #16; absent columns leave the line missing):
    gross_profit         Gross Profit
    shares_diluted       Shares (Diluted) of the income file (weighted average of the fiscal year)
    dividends_paid       Dividends Paid (negative = outflow)
    net_equity_issuance  Cash from (Repurchase of) Equity (negative = net buybacks)
Each (ticker, fiscal year) is one dated statement row (issue #12): ``period_end`` = Report Date,
``filed`` = Publish Date (values are restated as of Restated Date, so they are not point-in-time).
The companies file gives ``name`` and ``description`` (Business
Summary); with the industries file, ``sector`` and ``industry``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
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
from desktop.engine.dataset import HISTORY_COLUMNS, history_frame
from desktop.engine.formatting import counted
from desktop.errors import InputError

KEYS = ("Ticker", "Fiscal Year", "Report Date")
# Columns read when present, per file kind (older downloads and hand-made files may lack them).
OPTIONAL = {
    "income": {"Depreciation & Amortization": "depreciation_amortization", "Gross Profit": "gross_profit",
               "Shares (Diluted)": "shares_diluted"},
    "cashflow": {"Dividends Paid": "dividends_paid", "Cash from (Repurchase of) Equity": "net_equity_issuance"},
}
INCOME = {
    "Revenue": "revenue",
    "Operating Income (Loss)": "operating_income",
    "Interest Expense, Net": "interest_expense",
    "Net Income": "net_income",
}
BALANCE = {
    "Cash, Cash Equivalents & Short Term Investments": "cash",
    "Short Term Debt": "current_debt",
    "Long Term Debt": "long_term_debt",
    "Total Equity": "total_equity",
    "Total Assets": "total_assets",
}
CASHFLOW = {
    "Net Cash from Operating Activities": "operating_cash_flow",
    "Change in Fixed Assets & Intangibles": "capital_expenditure",
}
_KINDS = {  # kind -> (a column that identifies it, mapping)
    "income": ("Operating Income (Loss)", INCOME),
    "balance": ("Total Assets", BALANCE),
    "cashflow": ("Net Cash from Operating Activities", CASHFLOW),
}
_TEXT_COLUMNS = ("Ticker", "Currency", "Fiscal Period", "Report Date", "Publish Date", "Restated Date",
                 "Company Name", "ISIN", "Business Summary", "Market", "Main Currency", "Industry", "Sector")
_DERIVED = frozenset({"total_debt", "free_cash_flow"})
_TEXT = frozenset({"name", "description", "sector", "industry", "cik"})
_MAX_ABS = 1e14  # USD; beyond it a value is a unit mix-up or garbage


def read_simfin(paths: str | Path | Sequence[str | Path]) -> SourceData:
    """Read SimFin files (any of the five kinds; a folder means its ``*.csv`` files).

    Raises:
        InputError: a file is malformed or not a SimFin file; names file, line and column.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    files: list[tuple[bytes, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(p.glob("*.csv"))
            if not found:
                raise InputError("the folder holds no .csv files", path=str(p))
            files.extend((read_bytes(f), str(f)) for f in found)
        else:
            files.append((read_bytes(p), str(p)))
    return _parse_simfin(files)


def _read_table(data: bytes, origin: str, warnings: list[str]) -> tuple[pd.DataFrame, str]:
    text = decode(data, origin, warnings)
    frame = read_csv_text(text, origin, _TEXT_COLUMNS, sep=";")
    for col in _TEXT_COLUMNS:
        if col in frame.columns:
            frame[col] = text_column(frame[col])
    return frame, text


def _lines(text: str, n: int) -> np.ndarray:
    """Physical line of each record (records may span lines in the companies file)."""
    if text.count("\n") <= n + 1:
        return np.arange(n) + 2
    starts = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    prev = 0
    for _ in reader:
        starts.append(prev + 1)
        prev = reader.line_num
    arr = np.asarray(starts[1:] + [0] * n, dtype=int)[:n]
    return arr


def _kind(columns: list[str]) -> str:
    if "IndustryId" in columns and "Sector" in columns and "Industry" in columns:
        return "industries"
    if "Business Summary" in columns or "Company Name" in columns:
        return "companies"
    for kind, (marker, _m) in _KINDS.items():
        if marker in columns:
            return kind
    return ""


def _parse_simfin(files: list[tuple[bytes, str]]) -> SourceData:
    """Parse several SimFin files into one SourceData."""
    warnings: list[str] = []
    skipped: list[SkippedRow] = []
    statements: dict[str, pd.DataFrame] = {}
    companies: pd.DataFrame | None = None
    companies_as_of = None
    industries: pd.DataFrame | None = None
    rows_read = 0
    origins = []
    dated: list[tuple[str, date | None]] = []  # each file with the date its data describes
    for data, origin in files:
        frame, text = _read_table(data, origin, warnings)
        kind = _kind(list(frame.columns))
        if not kind:
            raise InputError("not a SimFin file: expected the columns of us-income/balance/cashflow-annual, "
                             f"us-companies or industries (found: {', '.join(frame.columns)[:160]})",
                             path=origin, line=1)
        rows_read += len(frame)
        origins.append(origin)
        lines = _lines(text, len(frame))
        if kind == "industries":
            industries = _industries(frame, origin, lines)
            dated.append((origin, None))  # reference data: no date
        elif kind == "companies":
            companies = _companies(frame, origin, lines, skipped)
            companies_as_of = date_from_name(origin)
            dated.append((origin, companies_as_of))
        else:
            if kind in statements:
                raise InputError(f"two {kind} files in one import", path=origin)
            statements[kind] = _statement(frame, kind, origin, lines, skipped, warnings)
            newest = statements[kind]["period_end"].max()
            dated.append((origin, pd.Timestamp(newest).date() if pd.notna(newest) else None))

    history = _history(statements)
    obs_parts: list[pd.DataFrame] = []
    if companies is not None:
        wide = companies.set_index("symbol")[["name", "description", "cik"]].copy()
        if industries is not None:
            ids = companies.set_index("symbol")["industry_id"]
            wide["sector"] = ids.map(industries["Sector"]).to_numpy(dtype=object)
            wide["industry"] = ids.map(industries["Industry"]).to_numpy(dtype=object)
            unknown = ids.notna() & wide["industry"].isna()
            if unknown.any():
                n = int(unknown.sum())
                warnings.append(f"{counted(n, 'company', 'companies')} {'has' if n == 1 else 'have'} an IndustryId "
                                "missing from the industries file")
        else:
            warnings.append("no industries file in this import: SimFin sector and industry not imported "
                            "(import industries.csv together with us-companies.csv)")
        obs_parts.append(melt_observations(wide, text_fields=_TEXT, periods={
            "name": "static", "description": "static", "sector": "static", "industry": "static", "cik": "static"},
            as_of=companies_as_of))
    elif industries is not None and not statements:
        warnings.append("an industries file alone adds nothing: import it with us-companies.csv")
    obs = pd.concat([p for p in obs_parts if len(p)], ignore_index=True) if any(len(p) for p in obs_parts) \
        else melt_observations(pd.DataFrame(index=pd.Index([], name="symbol")), _TEXT, {})
    as_of = None
    if len(history):
        as_of = pd.Timestamp(history["period_end"].max()).date()
    origin = origins[0] if len(origins) == 1 else "; ".join(origins)
    return SourceData(source="simfin", origin=origin, as_of=as_of, fetched_at=now_utc(), observations=obs,
                      history=history, skipped=skipped, warnings=warnings, rows_read=rows_read,
                      files=tuple(dated))


def _require(frame: pd.DataFrame, cols: Sequence[str], origin: str) -> None:
    for c in cols:
        if c not in frame.columns:
            raise InputError(f"column {c!r} is missing", path=origin, line=1, field=c)


def _symbols(frame: pd.DataFrame, origin: str, lines: np.ndarray, skipped: list[SkippedRow]) -> np.ndarray:
    """Valid-row mask; empty tickers and ``_delisted``/``_old`` listings are skipped with a reason."""
    tick = frame["Ticker"].astype(str).str.strip()
    reasons: dict[str, str] = {}
    for t in pd.unique(tick.to_numpy(dtype=object)):  # unique tickers only: 4k, not 17k rows
        if not t:
            reasons[t] = "no ticker"
        elif "_" in t:
            reasons[t] = f"old listing ({t.split('_', 1)[1][:20]})"
        elif not symbols.is_valid_ticker(t):
            reasons[t] = "not a ticker symbol"
    bad = tick.isin(list(reasons)).to_numpy()
    for i in np.flatnonzero(bad):
        t = tick.iloc[i]
        skipped.append(SkippedRow(int(lines[i]), t[:20] or "-", reasons[t], origin))
    keep = ~bad
    return keep


def _yahoo(tickers: pd.Series) -> np.ndarray:
    """Yahoo spelling of each ticker, computed once per distinct ticker."""
    t = tickers.astype(str).str.strip()
    mapping = {u: symbols.to_yahoo(u) for u in pd.unique(t.to_numpy(dtype=object))}
    return t.map(mapping).to_numpy(dtype=object)


def _statement(frame: pd.DataFrame, kind: str, origin: str, lines: np.ndarray, skipped: list[SkippedRow],
               warnings: list[str]) -> pd.DataFrame:
    mapping = dict(_KINDS[kind][1])
    _require(frame, list(KEYS) + list(mapping), origin)
    mapping.update({c: f for c, f in OPTIONAL.get(kind, {}).items() if c in frame.columns})
    keep = _symbols(frame, origin, lines, skipped)
    f = frame[keep]
    ln = lines[keep]
    out = pd.DataFrame({"symbol": _yahoo(f["Ticker"])})
    years = numeric_column(f["Fiscal Year"], origin, ln, "Fiscal Year")
    bad = ~np.isfinite(years) | (years < 1900) | (years > 2200) | (years != np.round(years))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{str(f['Fiscal Year'].iloc[i])[:20]!r} is not a fiscal year", path=origin,
                         line=int(ln[i]), field="Fiscal Year")
    out["fiscal_year"] = years.astype("int64")
    ends = pd.to_datetime(f["Report Date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    if ends.isna().any():
        i = int(np.flatnonzero(ends.isna().to_numpy())[0])
        raise InputError(f"{str(f['Report Date'].iloc[i])[:20]!r} is not a date (YYYY-MM-DD)", path=origin,
                         line=int(ln[i]), field="Report Date")
    out["period_end"] = ends.to_numpy(dtype="datetime64[ns]")
    if "Publish Date" in f:
        filed = pd.to_datetime(f["Publish Date"].str.strip(), format="%Y-%m-%d", errors="coerce")
        out["filed"] = filed.to_numpy(dtype="datetime64[ns]")
    for col, field in mapping.items():
        values = numeric_column(f[col], origin, ln, col)
        huge = np.abs(values) > _MAX_ABS
        if huge.any():
            i = int(np.flatnonzero(huge)[0])
            raise InputError(f"{values[i]:g} is not a plausible amount in USD", path=origin, line=int(ln[i]), field=col)
        out[field] = values
    if "interest_expense" in out:
        out["interest_expense"] = -out["interest_expense"]  # SimFin: negative = net expense
    restated = f["Restated Date"].to_numpy(dtype=object) if "Restated Date" in f else np.array([""] * len(f))
    out["_restated"] = restated
    out["_line"] = ln
    dup = out.duplicated(["symbol", "fiscal_year"], keep=False)
    if dup.any():
        n = int(out[dup].groupby(["symbol", "fiscal_year"]).ngroups)
        first = int(out.loc[dup, "_line"].iloc[0])
        warnings.append(f"{origin}: line {first}: {n} (ticker, fiscal year) pairs appear more than once; "
                        "kept the most recently restated row of each")
        out = out.sort_values(["symbol", "fiscal_year", "_restated", "_line"]).drop_duplicates(
            ["symbol", "fiscal_year"], keep="last")
    return out.drop(columns=["_restated", "_line"]).reset_index(drop=True)


def _history(statements: dict[str, pd.DataFrame]) -> pd.DataFrame:
    merged: pd.DataFrame | None = None
    for kind in ("income", "balance", "cashflow"):
        if kind not in statements:
            continue
        part = statements[kind].rename(columns={"period_end": f"_end_{kind}", "filed": f"filed_{kind}"})
        merged = part if merged is None else merged.merge(part, on=["symbol", "fiscal_year"], how="outer")
    if merged is None:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    ends = [c for c in merged.columns if c.startswith("_end_")]
    merged["period_end"] = merged[ends].bfill(axis=1).iloc[:, 0]
    merged = merged.drop(columns=ends)
    filed = [c for c in merged.columns if c.startswith("filed")]
    if filed:  # the three files' Publish Dates of one fiscal year: the latest made it all public
        merged["filed"] = merged[filed].max(axis=1)
        merged = merged.drop(columns=[c for c in filed if c != "filed"])
    if "current_debt" in merged:
        merged["total_debt"] = merged[["current_debt", "long_term_debt"]].sum(axis=1, min_count=1)
    if "operating_cash_flow" in merged:
        merged["free_cash_flow"] = merged["operating_cash_flow"] + merged["capital_expenditure"]
    merged["source"] = "simfin"
    merged["period_type"] = "FY"
    merged["form"] = "annual"
    return history_frame(merged.sort_values(["symbol", "fiscal_year"]).reset_index(drop=True))


def _companies(frame: pd.DataFrame, origin: str, lines: np.ndarray, skipped: list[SkippedRow]) -> pd.DataFrame:
    _require(frame, ("Ticker", "Company Name", "IndustryId", "Business Summary"), origin)
    keep = _symbols(frame, origin, lines, skipped)
    f = frame[keep]
    ids = numeric_column(f["IndustryId"], origin, lines[keep], "IndustryId")
    out = pd.DataFrame({
        "symbol": _yahoo(f["Ticker"]),
        "name": _text(f["Company Name"]),
        "description": _text(f["Business Summary"].str.replace("\r\n", "\n")),
        "industry_id": ids,
        # The SEC's company identifier (issue #14): the identity check attaches SimFin's records by it.
        "cik": _cik(f["CIK"]) if "CIK" in f else None,
    })
    return out.drop_duplicates("symbol", keep="first").reset_index(drop=True)


def _cik(col: pd.Series) -> np.ndarray:
    """Ten-digit CIKs ("0000320193"); None where the cell is not a CIK of at most ten digits."""
    s = col.astype(str).str.strip().str.removesuffix(".0")
    ok = s.str.fullmatch(r"\d{1,10}") & (s.str.lstrip("0") != "")
    return s.str.zfill(10).where(ok, None).to_numpy(dtype=object)


def _text(col: pd.Series) -> np.ndarray:
    s = col.astype(str).str.strip()
    return s.where(s != "", None).to_numpy(dtype=object)


def _industries(frame: pd.DataFrame, origin: str, lines: np.ndarray) -> pd.DataFrame:
    ids = numeric_column(frame["IndustryId"], origin, lines, "IndustryId")
    out = pd.DataFrame({"Industry": _text(frame["Industry"]), "Sector": _text(frame["Sector"])},
                       index=pd.Index(ids, name="IndustryId"))
    out = out[np.isfinite(ids)]
    return out[~out.index.duplicated(keep="first")]
