"""The field catalogue: every field Pickaxe reads, computes, shows or exports.

Each :class:`Field` says what a number is (label, unit, definition, formula, the source fields it
comes from, caveats). The UI's tooltips, the detail pane, the Excel "Provenance" sheet, the screen
validator and the CLI's raw outputs all read this one table.

Units (``Field.unit``):
    usd          US dollars (amounts; shown as $1.2B, exported in $M)
    usd_share    US dollars per share (prices)
    fraction     a share or a rate stored as a fraction (0.123 shown as 12.3 %)
    ratio        a multiple (4.1 shown as 4.1x)
    percent      already in percent (the 10-year yield: 4.25 means 4.25 %)
    count, shares, months, years, percentile (0-100), beta (slope), number (a plain statistic,
    e.g. a t-statistic: shown with two decimals)
    text, category, tags (tuple of theme names), bool, date
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

NUMERIC_UNITS = frozenset(
    {"usd", "usd_share", "fraction", "ratio", "percent", "count", "shares", "months", "years",
     "percentile", "beta", "number"}
)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    unit: str
    definition: str
    group: str = "Profile"
    formula: str = ""
    sources: str = ""
    caveats: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.unit in NUMERIC_UNITS


def _f(name: str, label: str, unit: str, definition: str, group: str, sources: str = "",
       formula: str = "", caveats: str = "") -> Field:
    return Field(name, label, unit, definition, group, formula, sources, caveats)


# Fields that sources provide directly (issue #3). Metrics computed by the engine are appended
# in ``desktop.engine.metrics`` via METRIC_FIELDS and registered below.
BASE_FIELDS: tuple[Field, ...] = (
    _f("symbol", "Symbol", "text", "Ticker symbol as Yahoo Finance and Finviz spell it (MOG-A).", "Profile",
       "iShares ticker mapped to Yahoo spelling"),
    _f("ticker", "Ticker", "text", "Ticker as the index provider lists it (iShares spelling, e.g. MOGA).",
       "Profile", "iShares holdings"),
    _f("name", "Name", "text", "Company name.", "Profile", "iShares, SimFin, Finviz, Yahoo"),
    _f("exchange", "Exchange", "category", "Listing exchange (normalised: NASDAQ, NYSE, NYSE American).",
       "Profile", "iShares"),
    _f("in_index", "Index member", "bool", "Listed as a tradable equity holding of the index file.",
       "Profile", "iShares holdings"),
    _f("index_weight", "Index weight", "fraction", "Weight of the security in the index fund.",
       "Profile", "iShares 'Weight (%)' / 100"),
    _f("index_sector", "Index sector", "category", "GICS-like sector as the index provider reports it.",
       "Profile", "iShares 'Sector'"),
    _f("sector", "Sector", "category", "Morningstar-like sector (Yahoo/Finviz/SimFin naming).", "Profile",
       "Yahoo profile, Finviz, SimFin industries"),
    _f("industry", "Industry", "category", "Industry within the sector.", "Profile",
       "Yahoo profile, Finviz, SimFin industries"),
    _f("description", "Business summary", "text", "The company's business description.", "Profile",
       "Yahoo longBusinessSummary, SimFin Business Summary", caveats="Can be years out of date."),
    _f("listing_date", "Listed since", "date", "First trading day, when known.", "Profile",
       "Yahoo firstTradeDateMilliseconds"),
    # The SEC's identity and classification of the company (issue #14).
    _f("cik", "SEC CIK", "text", "The SEC's Central Index Key: the company's identity in EDGAR (ten digits).",
       "Profile", "SEC company_tickers.json and companyfacts, SimFin CIK",
       caveats="A ticker whose CIK changed is another company: its earlier records are dropped."),
    _f("sic", "SIC code", "text", "The SEC's four-digit Standard Industrial Classification code.", "Profile",
       "SEC submissions sic", caveats="Feeds the kinds of company (banks, insurers, lenders) and theme rules."),
    _f("sic_description", "SIC industry", "text", "The SEC's name of the SIC code.", "Profile",
       "SEC submissions sicDescription"),
    _f("former_names", "Former names", "text", "Earlier names of the company, as the SEC lists them.", "Profile",
       "SEC submissions formerNames"),
    _f("price", "Price", "usd_share", "Last price.", "Market", "iShares Price, Yahoo currentPrice, Finviz Price"),
    _f("market_cap", "Market cap", "usd", "Equity market value: price x shares outstanding.", "Market",
       "Yahoo marketCap, Finviz Market Cap (millions)"),
    _f("enterprise_value", "Enterprise value", "usd", "Market cap + total debt - cash.", "Market",
       "Yahoo enterpriseValue, Finviz Enterprise Value"),
    _f("shares_outstanding", "Shares outstanding", "shares", "Shares outstanding.", "Market",
       "Yahoo sharesOutstanding, Finviz Shares Outstanding (millions)"),
    _f("beta", "Beta", "beta", "Market beta as reported by the source (5y monthly vs S&P 500).", "Market",
       "Yahoo beta, Finviz Beta"),
    _f("revenue", "Revenue", "usd", "Total revenue, trailing twelve months or last fiscal year.", "Income",
       "Yahoo totalRevenue, Finviz Sales, SimFin Revenue"),
    _f("ebitda", "EBITDA", "usd", "Earnings before interest, taxes, depreciation and amortisation.", "Income",
       "Yahoo ebitda, derived from Finviz EV / (EV/EBITDA)",
       caveats="Banks have no EBITDA in Yahoo's sense."),
    _f("ebit", "EBIT", "usd", "Earnings before interest and taxes.", "Income",
       "Yahoo EBIT statement row; SimFin has only Operating Income (used instead, flagged)"),
    _f("operating_income", "Operating income", "usd", "Operating income (loss).", "Income",
       "SimFin Operating Income (Loss), Yahoo Operating Income"),
    _f("interest_expense", "Interest expense", "usd",
       "Interest expense, positive for a net expense.", "Income",
       "Yahoo Interest Expense statement row; SimFin Interest Expense, Net (sign flipped)",
       caveats="SimFin reports interest net of interest income."),
    _f("net_income", "Net income", "usd", "Net income.", "Income", "Yahoo netIncomeToCommon, Finviz Income"),
    _f("operating_cash_flow", "Operating cash flow", "usd", "Net cash from operating activities.",
       "Cash flow", "Yahoo operatingCashflow, SimFin Net Cash from Operating Activities"),
    _f("capital_expenditure", "Capital expenditure", "usd",
       "Capital expenditure, negative as an outflow.", "Cash flow",
       "Yahoo Capital Expenditure, SimFin Change in Fixed Assets & Intangibles"),
    _f("free_cash_flow", "Free cash flow", "usd", "Operating cash flow plus capital expenditure.",
       "Cash flow", "Yahoo Free Cash Flow statement row, SimFin OCF + capex, Finviz market cap / (P/FCF)",
       formula="operating_cash_flow + capital_expenditure"),
    _f("levered_free_cash_flow", "Levered FCF (Yahoo)", "usd",
       "Yahoo's .info freeCashflow: levered free cash flow after interest.", "Cash flow", "Yahoo freeCashflow"),
    _f("total_debt", "Total debt", "usd", "Short-term plus long-term debt.", "Balance sheet",
       "Yahoo totalDebt, SimFin Short Term Debt + Long Term Debt"),
    _f("current_debt", "Current debt", "usd", "Debt due within one year.", "Balance sheet",
       "Yahoo Current Debt, SimFin Short Term Debt"),
    _f("long_term_debt", "Long-term debt", "usd", "Debt due after one year.", "Balance sheet",
       "Yahoo Long Term Debt, SimFin Long Term Debt"),
    _f("cash", "Cash", "usd", "Cash, equivalents and short-term investments.", "Balance sheet",
       "Yahoo totalCash, SimFin Cash, Cash Equivalents & Short Term Investments"),
    _f("total_equity", "Total equity", "usd", "Shareholders' equity.", "Balance sheet", "SimFin Total Equity"),
    _f("total_assets", "Total assets", "usd", "Total assets.", "Balance sheet", "SimFin Total Assets"),
    _f("current_ratio", "Current ratio", "ratio", "Current assets / current liabilities.", "Balance sheet",
       "Yahoo currentRatio, Finviz Current Ratio"),
    _f("quick_ratio", "Quick ratio", "ratio", "(Current assets - inventories) / current liabilities.",
       "Balance sheet", "Yahoo quickRatio, Finviz Quick Ratio"),
    _f("reported_debt_to_equity", "Debt/equity (reported)", "ratio",
       "Debt / equity as the source reports it (Yahoo percent converted to a ratio).", "Balance sheet",
       "Yahoo debtToEquity / 100, Finviz Total Debt/Equity"),
)

_REGISTRY: dict[str, Field] = {}


def register(fields: tuple[Field, ...] | list[Field]) -> None:
    """Add fields to the catalogue (the engine registers its metrics at import time)."""
    for f in fields:
        _REGISTRY[f.name] = f


register(BASE_FIELDS)


def get(name: str) -> Field:
    """The field called ``name``; ``KeyError`` names the unknown field."""
    _ensure_metrics_registered()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown field {name!r}") from None


def all_fields() -> list[Field]:
    _ensure_metrics_registered()
    return list(_REGISTRY.values())


def names() -> list[str]:
    return [f.name for f in all_fields()]


def _ensure_metrics_registered() -> None:
    # Metric definitions live next to their formulas; importing the module registers them.
    from desktop.engine import metrics  # noqa: F401


# --- fixed judgement thresholds (issue #17) ----------------------------------------------------
# Kept apart from ``Field`` so that adding a field needs nothing here: a field without thresholds
# is simply not judged (the workbook gives it no colour scale).

@dataclass(frozen=True)
class Thresholds:
    """Fixed points, in the field's raw unit, at which a value reads as weak, fair or healthy.

    ``good`` above ``bad`` means higher is better; below, lower is better. They are rules of thumb
    for small caps (docs/export.md), not results, and the same for every shortlist: a colour says
    where a value stands against them, never against its neighbours.
    """

    bad: float
    fair: float
    good: float

    @property
    def higher_is_better(self) -> bool:
        return self.good > self.bad


# name (or fnmatch pattern for a family of fields) -> thresholds
THRESHOLDS: dict[str, Thresholds] = {
    "fcf_yield": Thresholds(0.0, 0.05, 0.10),
    "fcf_margin": Thresholds(0.0, 0.05, 0.15),
    "fcf_positive_years": Thresholds(0.0, 2.0, 4.0),
    "interest_coverage": Thresholds(1.0, 3.0, 8.0),
    "shocked_coverage_*": Thresholds(1.0, 2.0, 5.0),
    "cash_runway_months": Thresholds(6.0, 12.0, 24.0),
    "net_debt_to_ebitda": Thresholds(4.0, 2.0, 0.0),
    "debt_to_equity": Thresholds(2.0, 1.0, 0.5),
    "debt_to_assets": Thresholds(0.6, 0.4, 0.2),
    "short_term_debt_share": Thresholds(0.5, 0.25, 0.1),
}


def thresholds(name: str) -> Thresholds | None:
    """The fixed thresholds of field ``name``, or None when the field is not judged."""
    hit = THRESHOLDS.get(name)
    if hit is not None:
        return hit
    return next((t for pattern, t in THRESHOLDS.items() if "*" in pattern and fnmatchcase(name, pattern)), None)
