"""The canonical dataset every source maps into and every screen runs on.

This is the contract between ``desktop.data`` (which builds it), ``desktop.store`` (which persists
it as an immutable snapshot) and the engine (which computes metrics on it). Column names are the
field names of :mod:`desktop.engine.catalog`. Money is in USD units (not millions), ratios are
fractions (Yahoo's ``debtToEquity`` 48.5 is stored as 0.485), missing is NaN/None - never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

# Key of every per-security frame: the symbol Yahoo and Finviz use ("MOG-A").
# The index provider's spelling ("MOGA") is kept in the ``ticker`` column.
KEY = "symbol"

# Columns of the long provenance / observation frame. One row per candidate value: the chosen
# one (``chosen`` True) and every loser, so that a disagreement between sources is never lost.
PROVENANCE_COLUMNS = (
    "symbol",  # str
    "field",  # catalogue field name
    "value_num",  # float, NaN for text fields
    "value_text",  # str or None, for text/category fields
    "source",  # "ishares" | "yahoo" | "finviz" | "simfin" | "fred" | "prices" | "derived"
    "origin",  # file path or endpoint URL
    "as_of",  # datetime64[ns], the date the value describes (file date, period end)
    "fetched_at",  # datetime64[ns], when we read or downloaded it
    "period",  # "TTM" | "FY" | "MRQ" | "point" (prices, market cap) | "static" (profile)
    "derived",  # bool: computed by us from other source values (e.g. FCF from P/FCF)
    "chosen",  # bool: won the precedence for (symbol, field)
)

# Dated statements (issue #12), long by (symbol, source, period_type, period_end, filed). Each row is
# ONE period of ONE source: a ratio's statement inputs always come from a single row, never from
# lines of different rows. Amounts in USD; interest_expense is POSITIVE for a net expense (SimFin's
# negative sign is flipped on import).
STATEMENT_KEYS = (
    "symbol",
    "fiscal_year",  # int, the vendor's fiscal-year label (for TTM rows: period_end's year)
    "period_end",  # datetime64[ns]: fiscal year end, or the as-of date of a vendor's TTM/MRQ row
    "period_type",  # "FY" (a fiscal year) | "TTM" (trailing twelve months; balance at the latest quarter)
    "filed",  # datetime64[ns] or NaT: when the figures became public (SEC filed, SimFin Publish Date)
    "source",  # "simfin" | "yahoo" | "finviz" | "sec"
    "form",  # str or None: "10-K", "10-Q", "export" ... (what the figures were read from)
)
STATEMENT_LINES = (
    "revenue",
    "ebit",  # NaN when the source has no EBIT line (SimFin): see operating_income
    "operating_income",
    "interest_expense",
    "net_income",
    "depreciation_amortization",
    "ebitda",  # a vendor's EBITDA; the engine derives operating income + D&A where it is absent
    "operating_cash_flow",
    "capital_expenditure",  # negative (an outflow), as in the statements
    "free_cash_flow",  # operating_cash_flow + capital_expenditure
    "total_debt",
    "current_debt",
    "long_term_debt",
    "cash",
    "total_equity",
    "total_assets",
    # Issue #16 (absent in older snapshots: NaN)
    "gross_profit",
    "shares_diluted",  # weighted average diluted shares of the period (a count, not USD)
    "dividends_paid",  # negative (an outflow)
    "net_equity_issuance",  # cash from issuing shares minus buybacks (negative: net buybacks)
    "stock_based_compensation",  # positive (an expense)
)
# Censoring (issue #12): 1.0 where the source says the line is <= 0 without giving it (Finviz leaves
# P/FCF and EV/EBITDA empty when FCF or EBITDA is not positive), NaN otherwise.
CENSOR_COLUMNS = ("fcf_nonpositive", "ebitda_nonpositive")
HISTORY_COLUMNS = STATEMENT_KEYS + STATEMENT_LINES + CENSOR_COLUMNS
STATEMENT_ROW_KEY = ["symbol", "source", "period_type", "period_end", "filed"]

# Market series in ``Dataset.market`` (DatetimeIndex named "date"); any may be absent.
MARKET_COLUMNS = ("IWM", "SPY", "GSPC", "RUT", "yield_10y")  # closes; yield_10y in percent


@dataclass(frozen=True)
class Dataset:
    """One point-in-time dataset (a snapshot's content). Treat every frame as immutable.

    Attributes:
        as_of: the date the data describes (the universe file's date, or the refresh date).
        securities: one row per security, index ``symbol``; columns are catalogue base fields
            (see ``catalog.BASE_FIELDS``) plus ``in_index`` (bool). Absent columns mean missing.
        history: dated statements (one row per source and period), columns ``HISTORY_COLUMNS``.
        prices: daily adjusted closes, DatetimeIndex named ``date``, one float column per symbol.
        volumes: daily volumes (shares) in the layout of ``prices``, for the symbols whose price
            files carry them (issue #16); empty when none do.
        market: daily benchmark closes and the 10-year yield, columns among ``MARKET_COLUMNS``.
        provenance: long frame, columns ``PROVENANCE_COLUMNS``.
        sources: one dict per source used: {"source", "origin", "as_of", "fetched_at", "rows"}.
    """

    as_of: date
    securities: pd.DataFrame
    history: pd.DataFrame = field(default_factory=lambda: empty_history())
    prices: pd.DataFrame = field(default_factory=lambda: empty_series_frame())
    market: pd.DataFrame = field(default_factory=lambda: empty_series_frame())
    provenance: pd.DataFrame = field(default_factory=lambda: empty_provenance())
    sources: tuple[dict, ...] = ()
    volumes: pd.DataFrame = field(default_factory=lambda: empty_series_frame())

    @property
    def members(self) -> pd.DataFrame:
        """The index constituents (``in_index`` True)."""
        if "in_index" not in self.securities:
            return self.securities.iloc[0:0]
        return self.securities[self.securities["in_index"].fillna(False).astype(bool)]


def empty_history() -> pd.DataFrame:
    return history_frame(pd.DataFrame(columns=list(HISTORY_COLUMNS)))


def history_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly ``HISTORY_COLUMNS`` (absent ones NaN) in their canonical dtypes.

    Rows without a ``period_type`` are fiscal years ("FY"); without a ``form``, None.
    """
    out = frame.reindex(columns=list(HISTORY_COLUMNS))
    out["fiscal_year"] = out["fiscal_year"].astype("int64")
    out["period_end"] = pd.to_datetime(out["period_end"]).astype("datetime64[ns]")
    out["filed"] = pd.to_datetime(out["filed"]).astype("datetime64[ns]")
    out["period_type"] = out["period_type"].where(out["period_type"].notna(), "FY").astype(object)
    for c in ("symbol", "source", "form"):
        out[c] = out[c].astype(object)
    out["form"] = out["form"].where(out["form"].notna(), None)
    for c in STATEMENT_LINES + CENSOR_COLUMNS:
        out[c] = out[c].astype("float64")
    return out


def empty_series_frame() -> pd.DataFrame:
    return pd.DataFrame(index=pd.DatetimeIndex([], name="date"), dtype="float64")


def empty_provenance() -> pd.DataFrame:
    return _EMPTY_PROVENANCE.copy()


def _empty_provenance() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PROVENANCE_COLUMNS})
    frame["value_num"] = frame["value_num"].astype("float64")
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["fetched_at"] = pd.to_datetime(frame["fetched_at"])
    frame["derived"] = frame["derived"].astype(bool)
    frame["chosen"] = frame["chosen"].astype(bool)
    return frame


_EMPTY_PROVENANCE = _empty_provenance()  # built once (~9 ms), copied for each caller
