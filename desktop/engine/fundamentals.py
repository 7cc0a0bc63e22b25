"""Valuation, profitability, growth and capital from the dated statements (issue #16).

Every ratio of statement lines takes all its statement inputs from ONE row (the freshest that holds
them, ``Statements.pick``) and is dated by that row; a ratio to market value also inherits its market
cap's stale or suspect state. Growth compares two fiscal-year rows of ONE source whose fiscal years
are 1 (or 3) apart and whose period ends are a year (three years) apart, so that a changed fiscal
year end or a switch of source never passes for growth. Where no row gives a value, the vendor's
reported twin (``catalog.TWINS``) stands in, said so in its origin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from desktop.engine.catalog import TWINS
from desktop.engine.metric_context import Context, have
from desktop.engine.rules import MISSING, NOT_MEANINGFUL, OK
from desktop.engine.statements import Statements

# (field, statement line, why a value is n.m.): market cap per dollar of the line.
MULTIPLES = (
    ("pe_ratio", "net_income", "net income is zero or negative"),
    ("ps_ratio", "revenue", "revenue is not positive"),
    ("pb_ratio", "total_equity", "shareholders' equity is zero or negative"),
    ("pfcf_ratio", "free_cash_flow", "free cash flow is zero or negative"),
)
# (field, numerator line, denominator line, why a value is n.m.): one row's line over another.
ROW_RATIOS = (
    ("gross_margin", "gross_profit", "revenue", "revenue is not positive"),
    ("net_margin", "net_income", "revenue", "revenue is not positive"),
    ("roa", "net_income", "total_assets", "total assets are not positive"),
    ("roe", "net_income", "total_equity", "shareholders' equity is zero or negative"),
    ("sbc_to_revenue", "stock_based_compensation", "revenue", "revenue is not positive"),
)
GROWTH = ("revenue", "operating_income", "eps")
# Every field this stage writes.
FIELDS = frozenset({
    *(m[0] for m in MULTIPLES), "earnings_yield", "eps", "ev_to_ebitda", "ev_to_sales", *(r[0] for r in ROW_RATIOS),
    "operating_margin", "ebitda_margin", "roic", "accruals", "net_buyback_yield", "dividend_yield", "payout_ratio",
    *(f"{g}_growth_1y" for g in GROWTH), *(f"{g}_cagr_3y" for g in GROWTH), "share_change_1y", "share_change_3y",
})
GROWTH_TOLERANCE_DAYS = 45  # period ends k fiscal years apart must lie k x 365 +/- this many days apart


def compute(st: Statements, ctx: Context, fcf_censored: np.ndarray) -> None:
    """Write every valuation, profitability, growth and capital field into ``ctx``."""
    _multiples(st, ctx)
    _enterprise(st, ctx)
    _profitability(st, ctx)
    _growth_fields(st, ctx)
    _capital(st, ctx)
    for name, twin in TWINS.items():
        if name in ctx.cols and twin in ctx.sec:
            ctx.reported_twin(name, twin)


def _at(values: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Per company, ``values`` (one per statement row) at its chosen row; NaN where none."""
    if not len(values):
        return np.full(len(sel), np.nan)
    return np.where(sel >= 0, values[np.maximum(sel, 0)], np.nan)


def _multiples(st: Statements, ctx: Context) -> None:
    mcap = ctx.cols["market_cap"]
    for name, line, why in MULTIPLES:
        sel = st.pick(have(st, line))
        amount = st.take(line, sel)
        if line == "free_cash_flow":  # Finviz says "<= 0" without an amount: n.m. all the same
            amount = np.where((st.take("fcf_nonpositive", sel) == 1.0) & np.isnan(amount), 0.0, amount)
        ctx.ratio(name, mcap, amount, amount <= 0, why)
        ctx.dated(name, st, sel, (line,), inputs=("market_cap",))
    sel = st.pick(have(st, "net_income"))
    ctx.ratio("earnings_yield", st.take("net_income", sel), mcap, mcap <= 0, "market cap is not positive")
    ctx.dated("earnings_yield", st, sel, ("net_income",), inputs=("market_cap",))
    sel = st.pick(have(st, "net_income", "shares_diluted"))
    shares = st.take("shares_diluted", sel)
    ctx.ratio("eps", st.take("net_income", sel), shares, shares <= 0, "the share count is not positive")
    ctx.dated("eps", st, sel, ("net_income", "shares_diluted"))


def _enterprise(st: Statements, ctx: Context) -> None:
    """EV multiples: market cap plus the debt and minus the cash of the row that gives the EBITDA
    (or revenue)."""
    mcap = ctx.cols["market_cap"]
    debt, cash = st.column("total_debt"), st.column("cash")
    ebitda = st.column("ebitda_any")
    for name, line, values, why in (("ev_to_ebitda", "ebitda_any", ebitda, "EBITDA is zero or negative"),
                                    ("ev_to_sales", "revenue", st.column("revenue"), "revenue is not positive")):
        sel = st.pick(~np.isnan(debt) & ~np.isnan(cash) & ~np.isnan(values))
        ev = mcap + _at(debt, sel) - _at(cash, sel)
        den = _at(values, sel)
        ctx.ratio(name, ev, den, den <= 0, why)
        ctx.dated(name, st, sel, ("total_debt", "cash", line), inputs=("market_cap",))


def _operating(st: Statements) -> np.ndarray:
    """Per row: operating income, EBIT where the source has no operating-income line."""
    oi, ebit = st.column("operating_income"), st.column("ebit")
    return np.where(np.isnan(oi), ebit, oi) if len(oi) else oi


def _profitability(st: Statements, ctx: Context) -> None:
    for name, num, den, why in ROW_RATIOS:
        sel = st.pick(have(st, num, den))
        d = st.take(den, sel)
        ctx.ratio(name, st.take(num, sel), d, d <= 0, why)
        ctx.dated(name, st, sel, (num, den))
    oi, rev = _operating(st), st.column("revenue")
    sel = st.pick(~np.isnan(oi) & ~np.isnan(rev))
    r = _at(rev, sel)
    ctx.ratio("operating_margin", _at(oi, sel), r, r <= 0, "revenue is not positive")
    ctx.dated("operating_margin", st, sel, ("operating_income", "ebit", "revenue"))
    ebitda = st.column("ebitda_any")
    sel = st.pick(~np.isnan(ebitda) & ~np.isnan(rev))
    r = _at(rev, sel)
    ctx.ratio("ebitda_margin", _at(ebitda, sel), r, r <= 0, "revenue is not positive")
    ctx.dated("ebitda_margin", st, sel, ("ebitda_any", "revenue"))

    debt, equity, cash = st.column("total_debt"), st.column("total_equity"), st.column("cash")
    sel = st.pick(~np.isnan(oi) & ~np.isnan(debt) & ~np.isnan(equity) & ~np.isnan(cash))
    invested = _at(debt, sel) + _at(equity, sel) - _at(cash, sel)
    ctx.ratio("roic", _at(oi, sel) * (1.0 - ctx.params.tax_rate), invested, invested <= 0,
              "invested capital (debt + equity - cash) is not positive")
    ctx.dated("roic", st, sel, ("operating_income", "ebit", "total_debt", "total_equity", "cash"))

    sel = st.pick(have(st, "net_income", "operating_cash_flow", "total_assets"))
    assets = st.take("total_assets", sel)
    ctx.ratio("accruals", st.take("net_income", sel) - st.take("operating_cash_flow", sel), assets, assets <= 0,
              "total assets are not positive")
    ctx.dated("accruals", st, sel, ("net_income", "operating_cash_flow", "total_assets"))


def _capital(st: Statements, ctx: Context) -> None:
    mcap = ctx.cols["market_cap"]
    for name, line in (("net_buyback_yield", "net_equity_issuance"), ("dividend_yield", "dividends_paid")):
        sel = st.pick(have(st, line))
        ctx.ratio(name, -st.take(line, sel), mcap, mcap <= 0, "market cap is not positive")
        ctx.dated(name, st, sel, (line,), inputs=("market_cap",))
    sel = st.pick(have(st, "dividends_paid", "net_income"))
    ni = st.take("net_income", sel)
    ctx.ratio("payout_ratio", -st.take("dividends_paid", sel), ni, ni <= 0, "net income is zero or negative")
    ctx.dated("payout_ratio", st, sel, ("dividends_paid", "net_income"))


def _growth_fields(st: Statements, ctx: Context) -> None:
    shares = st.column("shares_diluted")
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.where(shares > 0, st.column("net_income") / shares, np.nan) if len(shares) else shares
    series = (
        ("revenue", st.column("revenue"), ("revenue",), "revenue"),
        ("operating_income", _operating(st), ("operating_income", "ebit"), "operating income"),
        ("eps", eps, ("net_income", "shares_diluted"), "EPS"),
    )
    for stem, values, lines, what in series:
        _growth(st, ctx, f"{stem}_growth_1y", values, lines, 1, what)
        _growth(st, ctx, f"{stem}_cagr_3y", values, lines, 3, what)
    _growth(st, ctx, "share_change_1y", shares, ("shares_diluted",), 1, "share count", annualise=False)
    _growth(st, ctx, "share_change_3y", shares, ("shares_diluted",), 3, "share count", annualise=False)


def _growth(st: Statements, ctx: Context, name: str, values: np.ndarray, lines: tuple[str, ...], years: int,
            what: str, annualise: bool = True) -> None:
    """``values`` of the freshest fiscal year against the same source's value ``years`` earlier."""
    rows = st.rows
    prev_of = np.full(len(rows), -1, dtype=np.int64)
    if len(rows):
        fy = (rows["period_type"].to_numpy() == "FY") & ~np.isnan(values)
        frame = pd.DataFrame({"i": np.arange(len(rows)), "symbol": rows["symbol"].to_numpy(dtype=object),
                              "source": rows["source"].to_numpy(dtype=object),
                              "year": rows["fiscal_year"].to_numpy(dtype="int64"),
                              "end": rows["period_end"].to_numpy(dtype="datetime64[ns]")})[fy]
        earlier = frame.assign(year=frame["year"] + years)
        pairs = frame.merge(earlier, on=["symbol", "source", "year"], suffixes=("", "_prev"))
        gap = (pairs["end"] - pairs["end_prev"]).dt.days.to_numpy(dtype="float64")
        pairs = pairs[np.abs(gap - 365.25 * years) <= GROWTH_TOLERANCE_DAYS]
        prev_of[pairs["i"].to_numpy()] = pairs["i_prev"].to_numpy()
    sel = st.pick(prev_of >= 0)
    prev = _at(prev_of.astype("float64"), sel)
    prev = np.where(np.isnan(prev), -1, prev).astype(np.int64)
    cur, base = _at(values, sel), _at(values, prev)
    missing = sel < 0
    nm = ~missing & ((base <= 0) | ((cur <= 0) & (years > 1) & annualise))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = cur / base
        value = np.power(change, 1.0 / years) - 1.0 if annualise and years > 1 else change - 1.0
    ctx.cols[name] = np.where(missing | nm, np.nan, value)
    ctx.stat[name] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
    both = "either" if annualise and years > 1 else "the earlier"
    ctx.note(nm, name, f"{both} {what} is zero or negative: growth from it has no meaning")
    ctx.dated(name, st, sel, lines)
    earlier_rule = st.suspect_reason(lines, prev)
    ctx.suspect[name] = np.where(ctx.suspect[name] == "", earlier_rule, ctx.suspect[name])
    if not ctx.explain:
        return
    years_of = rows["fiscal_year"].to_numpy() if len(rows) else np.zeros(0, dtype=np.int64)
    ctx.origin[name] = np.array([None if s < 0 else f"{o} vs FY{int(years_of[p])}"
                                 for s, p, o in zip(sel, prev, ctx.origin[name], strict=True)], dtype=object)
