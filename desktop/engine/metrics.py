"""Metrics (issues #5, #12, #16): ``compute_metrics`` turns a Dataset into a StockTable.

One row per security, one column per catalogue field, plus a state matrix that keeps "missing" (no
input) apart from "not meaningful" (the formula has no sensible value, e.g. debt / negative EBITDA),
"stale" (too old) and "suspect" (an input breaks a sanity rule). Nothing here reads files or the
clock; the catalogue (``catalog_computed``) documents every formula and docs/metrics.md is generated
from it.

Stages: the dated statements (``statements``) give each statement line and ratio from the freshest
row that holds every input; source-reported fields are dated by their observation; cash flow,
leverage, coverage and zombies are computed here, valuation, profitability, growth and capital in
``fundamentals``, rate betas, momentum and liquidity from the daily prices in ``price_metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from desktop.engine import catalog, fundamentals, price_metrics
from desktop.engine.catalog import METRIC_FIELDS, shocked_field
from desktop.engine.dataset import Dataset, history_frame
from desktop.engine.field import Field
from desktop.engine.metric_context import (
    Context,
    MetricParams,
    column,
    flag,
    have,
    observation_dates,
    safe_div,
)
from desktop.engine.price_metrics import despiked_log, rate_beta_window
from desktop.engine.rules import (
    COMPANY_KINDS,
    MISSING,
    NOT_MEANINGFUL,
    OK,
    STALE,
    STATE_NAMES,
    SUSPECT,
    kind_of,
)
from desktop.engine.statements import STATEMENT_FIELDS, Statements, prepare, rule_reason, statement_rows
from desktop.engine.themes import ThemeTaxonomy, empty_matches, tag, themes_by_symbol
from desktop.errors import Cancelled

__all__ = ["METRIC_FIELDS", "MISSING", "NOT_MEANINGFUL", "OK", "STALE", "SUSPECT", "MetricParams", "StockTable",
           "compute_metrics", "despiked_log", "rate_beta_window", "shocked_field"]

ProgressFn = Callable[..., None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True, eq=False)  # holds DataFrames: identity equality and hash
class StockTable:
    """Every field for every security of one snapshot (see docs/architecture.md "Engine").

    Attributes:
        as_of: the dataset's date.
        values: index ``symbol``; one column per catalogue field (numbers float64 with NaN,
            flags 1.0/0.0/NaN, text/category object, ``themes`` a tuple of theme names).
        status: int8, index ``symbol``, one column per numeric field: 0 OK, 1 MISSING,
            2 NOT_MEANINGFUL, 3 STALE, 4 SUSPECT (``rules.STATE_NAMES``).
        notes: ``(symbol, field) -> str``: why a value is n.m., or where it came from.
        theme_matches: columns symbol, theme, rule, matched (why a stock carries a theme).
        zombie_years: symbol -> [(fiscal_year, coverage)] for the zombie window.
        provenance: the dataset's chosen provenance rows.
        params: the assumptions used.
        period_end: index ``symbol``, one datetime64 column per dated field: the period end (or
            as-of date) of the value shown.
        origin: the same shape, text: where the value came from ("simfin FY2024 (period ended ...)").
        extra_fields: entries of columns that are not catalogue fields (a screen's formula
            fields, issue #16); :meth:`field` looks both up.
    """

    as_of: date
    values: pd.DataFrame
    status: pd.DataFrame
    notes: Mapping[tuple[str, str], str]
    theme_matches: pd.DataFrame
    zombie_years: dict[str, list[tuple[int, float]]]
    provenance: pd.DataFrame
    params: MetricParams = MetricParams()
    period_end: pd.DataFrame = field(default_factory=pd.DataFrame)
    origin: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra_fields: dict[str, Field] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def field(self, name: str) -> Field:
        """The entry of column ``name``: a formula field of this table or a catalogue field."""
        hit = self.extra_fields.get(name)
        return hit if hit is not None else catalog.get(name)

    def numeric(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Values (float64) and status (int8) arrays of a numeric field, cached for screening."""
        key = ("num", name)
        hit = self._cache.get(key)
        if hit is None:
            vals = self.values[name].to_numpy(dtype="float64", na_value=np.nan)
            if name in self.status:
                st = self.status[name].to_numpy(dtype="int8")
            else:
                st = np.where(np.isnan(vals), MISSING, OK).astype("int8")
            hit = (vals, st)
            self._cache[key] = hit
        return hit

    def tag_mask(self, theme: str) -> np.ndarray:
        """Boolean array: the stock carries theme ``theme`` (cached)."""
        key = ("tag", theme)
        hit = self._cache.get(key)
        if hit is None:
            col = self.values["themes"] if "themes" in self.values else pd.Series([()] * len(self.values))
            hit = np.fromiter((theme in t for t in col), dtype=bool, count=len(col))
            self._cache[key] = hit
        return hit


# Statement lines shown as fields of their own, each from its freshest row (issue #12).
LATEST_FIELDS = (
    "revenue", "gross_profit", "ebit", "operating_income", "interest_expense", "net_income", "operating_cash_flow",
    "capital_expenditure", "free_cash_flow", "total_debt", "current_debt", "long_term_debt", "cash",
    "total_equity", "total_assets", "shares_diluted", "dividends_paid", "net_equity_issuance",
    "stock_based_compensation",
)
# Source-reported fields dated by their observation (provenance ``as_of``), stale by their freshness.
REPORTED_FIELDS = tuple(f.name for f in catalog.BASE_FIELDS if f.freshness and f.is_numeric)
# price_stage(ctx, cancel_check, parts): writes the fields of the parts asked for, "rate_betas"
# and/or "momentum" (returns, risk and liquidity).
PriceStage = Callable[[Context, Callable[[], None], frozenset[str]], None]
PRICE_PARTS = frozenset({"rate_betas", "momentum"})


def optional_stages(params: MetricParams) -> dict[str, frozenset[str]]:
    """The stages ``run_stages`` may leave out, with the fields each writes (a test checks that it
    writes exactly these). The statement lines, the reported fields and the cash-flow and leverage
    ratios are always computed: every other stage reads them."""
    return {
        "coverage": frozenset({"interest_coverage", "repricing_debt",
                               *(f"shocked_coverage_{bp}" for bp in params.shocks_bp)}),
        "fcf_years": frozenset({"fcf_positive_years"}),
        "fundamentals": fundamentals.FIELDS,
        "zombies": frozenset({"zombie"}),
        "rate_betas": frozenset(price_metrics.RATE_BETA_FIELDS),
        "momentum": frozenset(price_metrics.PRICE_FIELDS + price_metrics.VOLUME_FIELDS),
        "short_interest": frozenset({"days_to_cover", "short_interest_share"}),
    }


def _stages_for(fields: frozenset[str] | None, params: MetricParams) -> tuple[set[str], frozenset[str]]:
    """The optional stages that write ``fields`` (None: all), and the fields left out of the table."""
    stages = optional_stages(params)
    if fields is None:
        return set(stages), frozenset()
    run = {name for name, written in stages.items() if written & fields}
    if "short_interest" in run:
        run.add("momentum")  # days to cover divides by the average volume
    return run, frozenset().union(*(written for name, written in stages.items() if name not in run))


def compute_metrics(
    dataset: Dataset,
    params: MetricParams = MetricParams(),
    taxonomy: ThemeTaxonomy | None = None,
    progress: ProgressFn | None = None,
    is_cancelled: CancelFn | None = None,
    fields: frozenset[str] | None = None,
) -> StockTable:
    """Compute every catalogue field for every security of ``dataset``.

    Args:
        dataset: the canonical dataset.
        params: the adjustable assumptions.
        taxonomy: a ``themes.ThemeTaxonomy``; without one, ``themes`` is empty for every stock.
        progress: ``progress(done, total, message)``.
        is_cancelled: polled between stages and rate-beta chunks.
        fields: the fields the caller reads (None: all); see :func:`run_stages`.

    Returns:
        The :class:`StockTable`.

    Raises:
        Cancelled: when ``is_cancelled()`` returned True.
    """
    sec = dataset.securities
    index = pd.Index(sec.index.astype(str), name="symbol")
    sec = sec.set_axis(index)
    dates = observation_dates(dataset.provenance, index, frozenset(REPORTED_FIELDS))
    ctx = Context(index, pd.Timestamp(dataset.as_of), params, sec, dates)

    def prices(c: Context, cancel: Callable[[], None], parts: frozenset[str]) -> None:
        if "rate_betas" in parts:
            c.cols.update(price_metrics.rate_betas(dataset.prices, dataset.market, c.index, params, cancel, c))
        if "momentum" in parts:
            price_metrics.momentum(dataset.prices, dataset.volumes, c, cancel)

    prov = dataset.provenance
    if "chosen" in prov:
        prov = prov[prov["chosen"].astype(bool)].reset_index(drop=True)
    return run_stages(ctx, _statement_rows(dataset, sec), prices, dataset.as_of, prov, taxonomy, progress,
                      is_cancelled, fields)


def run_stages(ctx: Context, rows: pd.DataFrame, price_stage: PriceStage, as_of: date,
               provenance: pd.DataFrame, taxonomy: ThemeTaxonomy | None = None,
               progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None,
               fields: frozenset[str] | None = None) -> StockTable:
    """The metric stages on ``ctx`` (its securities and observation dates) and the statement ``rows``.

    ``compute_metrics`` runs them on one dataset; ``pointintime`` on a panel of (stock, date) rows,
    whose ``ctx.stamp`` holds each row's date. ``price_stage`` (:data:`PriceStage`) writes the
    rate betas, momentum and liquidity fields. With ``fields``, the table holds of the computed
    fields only those (and the inputs whose states they inherit), and the stages of
    :func:`optional_stages` that write none of them are left out: the other fields are not in the
    table at all (a caller that reads none of them skips their cost, never shows them as missing).
    """
    params = ctx.params
    for bp in params.shocks_bp:
        catalog.register([shocked_field(bp)])
    step = _Stepper(progress, is_cancelled, 6)
    index, sec = ctx.index, ctx.sec
    run, skipped = _stages_for(fields, params)
    for f in skipped:  # what a later stage reads of a left-out one: missing
        ctx.cols[f] = np.full(ctx.n, np.nan)

    step("Resolving dated statements")
    st = prepare(rows, index)
    _zero_debt(st, ctx)
    fcf_censored = _latest(st, ctx)
    _reported(ctx)

    step("Cash-flow and leverage metrics")
    _cash_and_leverage(st, ctx, fcf_censored)
    if "coverage" in run:
        _coverage(st, ctx)
    fy = _fiscal_years(st, ctx) if run & {"fcf_years", "zombies"} else pd.DataFrame()
    if "fcf_years" in run:
        _fcf_years(fy, ctx)
    ctx.cols["years_listed"] = _years_listed(sec, ctx.stamp, len(index))

    step("Valuation, profitability, growth and capital")
    if "fundamentals" in run:
        fundamentals.compute(st, ctx, fcf_censored)

    step("Zombie flags")
    zombie_years = _zombies(fy, ctx) if "zombies" in run else {}

    step("Rate betas, momentum and liquidity")
    if run & PRICE_PARTS:
        price_stage(ctx, step.cancel_check, frozenset(run & PRICE_PARTS))
    if "short_interest" in run:
        _short_interest(ctx)

    step("Themes")
    matches = tag(sec, taxonomy) if taxonomy is not None else empty_matches()
    tag_series = themes_by_symbol(matches, index)
    step.done()

    _kinds(ctx)
    if fields is not None:
        keep = _with_inputs(fields, ctx.inputs)
        skipped = skipped | frozenset(f for f in ctx.cols if f not in keep)
    values, status = _assemble(sec, index, ctx.cols, ctx.stat, tag_series, skipped)
    _states(ctx, values, status)
    if skipped and ctx.notes:
        ctx.notes = {k: v for k, v in ctx.notes.items() if k[1] not in skipped}
    ends = pd.DataFrame({k: pd.Series(v, index=index, dtype="datetime64[ns]") for k, v in ctx.ends.items()
                         if k not in skipped}, index=index)
    origin = pd.DataFrame({k: pd.Series(v, index=index, dtype=object) for k, v in ctx.origin.items()
                           if k not in skipped}, index=index)
    return StockTable(as_of, values, status, ctx.notes, matches, zombie_years, provenance, params,
                      period_end=ends, origin=origin)


def _statement_rows(dataset: Dataset, sec: pd.DataFrame) -> pd.DataFrame:
    """The dataset's dated statement rows, plus rows for datasets made before issue #12.

    Such a dataset kept each source's statement lines as observations (made into one row per source
    and date here), or, built by hand without provenance, as ``securities`` columns: those count as
    one "TTM" row dated by the snapshot (source "snapshot"), since nothing says otherwise.
    """
    prov = dataset.provenance
    parts = [dataset.history]
    if len(prov) and prov["field"].isin(STATEMENT_FIELDS).any():
        parts.append(statement_rows(prov))
    else:
        lines = [c for c in sec.columns if c in STATEMENT_FIELDS]
        if lines:
            undated = sec[lines].apply(pd.to_numeric, errors="coerce").dropna(how="all")
            if len(undated):
                undated = undated.reset_index()
                undated["period_end"] = pd.Timestamp(dataset.as_of)
                undated["fiscal_year"] = dataset.as_of.year
                undated["period_type"] = "TTM"
                undated["source"] = "snapshot"
                parts.append(history_frame(undated))
    parts = [p for p in parts if p is not None and len(p)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts[0] if parts else dataset.history)


def _zero_debt(st: Statements, ctx: Context) -> None:
    """A balance sheet with no debt line means zero debt only when another source agrees (D/E 0)."""
    if not len(st.rows):
        return
    rows = st.rows
    no_line = rows["total_debt"].isna() & rows["current_debt"].isna() & rows["long_term_debt"].isna() \
        & rows["total_assets"].notna()
    reported = ctx.col("reported_debt_to_equity")
    rep_src = ctx.observed("reported_debt_to_equity")[1]
    pos = rows["pos"].to_numpy()
    agree = no_line.to_numpy() & (reported[pos] == 0) & (rep_src[pos] != rows["source"].to_numpy(dtype=object))
    if agree.any():
        rows.loc[agree, "total_debt"] = 0.0
        st.derived["total_debt"] = st.derived.get("total_debt", np.zeros(len(rows), dtype=bool)) | agree
        ctx.note(np.isin(np.arange(ctx.n), pos[agree]), "total_debt",
                 "no debt line in the balance sheet and the reported debt/equity is 0: zero debt")


def _latest(st: Statements, ctx: Context) -> np.ndarray:
    """Each statement line as a field of its own: the freshest row that has it.

    Returns, per company, whether its freshest FCF is censored (known <= 0, no amount).
    """
    notes = {"free_cash_flow": "operating cash flow + capital expenditure of the same period",
             "total_debt": "current + long-term debt of the same balance sheet (or zero: no debt line and the "
                           "reported debt/equity is 0)"}
    censored = np.zeros(ctx.n, dtype=bool)
    for c in LATEST_FIELDS:
        sel = st.pick(have(st, c))
        ctx.cols[c] = st.take(c, sel)
        ctx.dated(c, st, sel, (c,))
        if c in notes:
            ctx.note(st.derived_at(c, sel), c, notes[c])
        if c == "free_cash_flow":
            censored = (st.take("fcf_nonpositive", sel) == 1.0) & np.isnan(ctx.cols[c])
    ctx.note(censored, "free_cash_flow", "free cash flow is zero or negative: Finviz leaves P/FCF empty then "
             "and gives no amount")
    return censored


def _reported(ctx: Context) -> None:
    """Source-reported fields with their dates; market cap = the latest price x the latest share count."""
    for f in REPORTED_FIELDS:
        when, src = ctx.observed(f)
        ctx.cols[f] = ctx.col(f)
        ctx.ends[f] = when
        ctx.origin[f] = src
        ctx.stale_days[f] = ctx.params.stale_limit(catalog.get(f).freshness)
    price, shares = ctx.cols["price"], ctx.cols["shares_outstanding"]
    both = ~np.isnan(price) & ~np.isnan(shares) & (shares > 0)
    if both.any():
        p_when, p_src = ctx.ends["price"], ctx.origin["price"]
        s_when, s_src = ctx.ends["shares_outstanding"], ctx.origin["shares_outstanding"]
        ctx.cols["market_cap"] = np.where(both, price * shares, ctx.cols["market_cap"])
        ctx.ends["market_cap"] = np.where(both, p_when, ctx.ends["market_cap"])
        ctx.origin["market_cap"] = np.where(both, "price x shares", ctx.origin["market_cap"])
        for k in np.flatnonzero(both) if ctx.explain else ():
            ctx.notes[(str(ctx.index[int(k)]), "market_cap")] = (
                f"price {price[k]:,.2f} ({_day(p_when[k])}, {p_src[k]}) x shares {shares[k]:,.0f} "
                f"({_day(s_when[k])}, {s_src[k]})")


def _day(value: np.datetime64) -> str:
    return "date unknown" if np.isnat(value) else str(value)[:10]


def _cash_and_leverage(st: Statements, ctx: Context, cens: np.ndarray) -> None:
    cols = ctx.cols
    mcap = cols["market_cap"]
    fcf = cols["free_cash_flow"]
    ctx.ratio("fcf_yield", fcf, mcap, mcap <= 0, "market cap is not positive")
    cols["fcf_positive"] = np.where(cens, 0.0, flag(fcf))
    for name in ("fcf_yield", "fcf_positive"):  # the same row as free_cash_flow
        ctx.ends[name], ctx.origin[name] = ctx.ends["free_cash_flow"], ctx.origin["free_cash_flow"]
        ctx.suspect[name] = ctx.suspect["free_cash_flow"]
        ctx.stale_days[name] = ctx.stale_days["free_cash_flow"]
        ctx.note(cens, name, "free cash flow is zero or negative (Finviz gives no amount)")
    ctx.inputs["fcf_yield"] = ("market_cap",)

    sel = st.pick(have(st, "free_cash_flow", "revenue"))
    f2, rev = st.take("free_cash_flow", sel), st.take("revenue", sel)
    ctx.ratio("fcf_margin", f2, rev, rev <= 0, "revenue is not positive")
    ctx.dated("fcf_margin", st, sel, ("free_cash_flow", "revenue"))

    sel = st.pick(have(st, "operating_cash_flow"))
    cols["ocf_positive"] = flag(st.take("operating_cash_flow", sel))
    ctx.dated("ocf_positive", st, sel, ("operating_cash_flow",))

    sel = st.pick(have(st, "free_cash_flow", "cash"))
    f3, cash = st.take("free_cash_flow", sel), st.take("cash", sel)
    missing = np.isnan(f3) | np.isnan(cash)
    with np.errstate(divide="ignore", invalid="ignore"):
        runway = np.where(f3 >= 0, np.inf, np.maximum(cash, 0.0) / (-f3 / 12.0))
    cols["cash_runway_months"] = np.where(missing, np.nan, runway)
    ctx.dated("cash_runway_months", st, sel, ("free_cash_flow", "cash"))
    ctx.note(~missing & (f3 >= 0), "cash_runway_months", "free cash flow is not negative: no burn")

    sel = st.pick(have(st, "total_debt", "cash"))
    cols["net_debt"] = st.take("total_debt", sel) - st.take("cash", sel)
    ctx.dated("net_debt", st, sel, ("total_debt", "cash"))

    sel = st.pick(have(st, "total_debt", "cash", "ebitda_any"))
    ebitda = st.take("ebitda_any", sel)
    e_cens = (st.take("ebitda_nonpositive", sel) == 1.0) & np.isnan(ebitda)
    net = st.take("total_debt", sel) - st.take("cash", sel)
    ctx.ratio("net_debt_to_ebitda", net, np.where(e_cens, 0.0, ebitda), (ebitda <= 0) | e_cens,
              "EBITDA is zero or negative")
    ctx.dated("net_debt_to_ebitda", st, sel, ("total_debt", "cash", "ebitda_any"))
    sel_e = st.pick(have(st, "ebitda_any"))
    e_any = st.take("ebitda_any", sel_e)
    cols["ebitda"] = e_any
    ctx.dated("ebitda", st, sel_e, ("ebitda_any",))
    ctx.stat["ebitda"] = np.where(np.isnan(e_any), MISSING, OK).astype("int8")
    ctx.note(st.derived_at("ebitda_any", sel_e), "ebitda", "operating income (or EBIT) + depreciation and amortisation of the same period")

    sel = st.pick(have(st, "total_debt", "total_equity"))
    debt, equity = st.take("total_debt", sel), st.take("total_equity", sel)
    ctx.ratio("debt_to_equity", debt, equity, equity <= 0, "shareholders' equity is zero or negative")
    ctx.dated("debt_to_equity", st, sel, ("total_debt", "total_equity"))
    ctx.reported_twin("debt_to_equity", "reported_debt_to_equity",
                      why="as the source reports it (no statement has both debt and equity)")

    sel = st.pick(have(st, "total_debt", "total_assets"))
    assets = st.take("total_assets", sel)
    ctx.ratio("debt_to_assets", st.take("total_debt", sel), assets, assets <= 0, "total assets are not positive")
    ctx.dated("debt_to_assets", st, sel, ("total_debt", "total_assets"))

    sel = st.pick(have(st, "current_debt", "total_debt"))
    total = st.take("total_debt", sel)
    ctx.ratio("short_term_debt_share", st.take("current_debt", sel), total, total == 0, "no debt")
    ctx.dated("short_term_debt_share", st, sel, ("current_debt", "total_debt"))


def _coverage(st: Statements, ctx: Context) -> None:
    cols, params = ctx.cols, ctx.params
    debt_col = st.column("total_debt")
    cost_known = ~np.isnan(st.column("interest_expense")) | (debt_col == 0)
    sel = st.pick(have(st, "earnings") & cost_known)
    earn, interest = st.take("earnings", sel), st.take("interest_expense", sel)
    debt = st.take("total_debt", sel)
    used_oi = st.derived_at("earnings", sel)
    missing = sel < 0
    no_cost = ~missing & ((interest <= 0) | (np.isnan(interest) & (debt == 0)))
    nm = no_cost & (earn < 0)
    cov = np.where(no_cost, np.inf, safe_div(earn, interest))
    cols["interest_coverage"] = np.where(missing | nm, np.nan, cov)
    ctx.stat["interest_coverage"] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
    ctx.dated("interest_coverage", st, sel, ("earnings", "interest_expense"))
    ctx.note(nm, "interest_coverage", "an operating loss while net interest is income: coverage has no meaning")
    ctx.note(no_cost & ~nm & (interest <= 0), "interest_coverage", "no net interest expense: coverage is infinite")
    ctx.note(no_cost & ~nm & np.isnan(interest), "interest_coverage",
             "no debt and no interest expense reported: coverage is infinite")
    ctx.note(used_oi & ~missing & ~nm, "interest_coverage", "coverage uses operating income (the source has no EBIT)")

    # Repricing debt: the maturity split of the freshest row with total debt.
    sel_d = st.pick(have(st, "total_debt"))
    _repricing(st, ctx, sel_d)
    # Shocked coverage: earnings, interest and debt of one row.
    sel_s = st.pick(have(st, "earnings", "total_debt") & cost_known)
    earn, interest = st.take("earnings", sel_s), st.take("interest_expense", sel_s)
    repricing = _repricing_of(st, sel_s, params.floating_share_long_term)
    base = np.where(np.isnan(interest) | (interest < 0), 0.0, interest)
    for bp in params.shocks_bp:
        name = f"shocked_coverage_{bp}"
        den = base + bp / 10000.0 * repricing
        miss = sel_s < 0
        nm_s = ~miss & (den <= 0) & (earn < 0)
        cols[name] = np.where(miss | nm_s, np.nan, np.where(den <= 0, np.inf, safe_div(earn, den)))
        ctx.stat[name] = np.where(nm_s, NOT_MEANINGFUL, np.where(miss, MISSING, OK)).astype("int8")
        ctx.dated(name, st, sel_s, ("earnings", "interest_expense", "total_debt", "current_debt"))
        ctx.note(nm_s, name, "an operating loss with neither interest cost nor debt: coverage has no meaning")
        ctx.note(st.derived_at("earnings", sel_s) & ~miss, name, "coverage uses operating income (the source has no EBIT)")


def _repricing_of(st: Statements, sel: np.ndarray, share: float) -> np.ndarray:
    cur, lt, total = st.take("current_debt", sel), st.take("long_term_debt", sel), st.take("total_debt", sel)
    split = ~np.isnan(cur) & ~np.isnan(lt)
    return np.where(split, cur + share * lt, total)


def _repricing(st: Statements, ctx: Context, sel: np.ndarray) -> None:
    cur, lt = st.take("current_debt", sel), st.take("long_term_debt", sel)
    total = st.take("total_debt", sel)
    ctx.cols["repricing_debt"] = _repricing_of(st, sel, ctx.params.floating_share_long_term)
    ctx.dated("repricing_debt", st, sel, ("total_debt", "current_debt", "long_term_debt"))
    unknown = (np.isnan(cur) | np.isnan(lt)) & ~np.isnan(total)
    ctx.note(unknown, "repricing_debt", "maturity split not in this balance sheet: all debt assumed to reprice "
             "within a year")


def _fiscal_years(st: Statements, ctx: Context) -> pd.DataFrame:
    """Fiscal-year rows of ONE source per company: the source of its chosen (freshest, SEC first)
    fiscal year."""
    rows = st.rows
    if not len(rows):
        return rows
    is_fy = (rows["period_type"] == "FY").to_numpy(dtype=bool)
    sel = st.pick(is_fy)
    source = rows["source"].to_numpy(dtype=object)
    lead = np.full(ctx.n, None, dtype=object)  # per company: the source of its chosen fiscal year
    lead[sel >= 0] = source[sel[sel >= 0]]
    fy = rows[is_fy & (source == lead[rows["pos"].to_numpy()])]
    # By company (its position) and fiscal year; of one year's several rows the last (stable) stays.
    fy = fy.iloc[np.lexsort((fy["fiscal_year"].to_numpy(), fy["pos"].to_numpy()))]
    return fy[~fy.duplicated(["pos", "fiscal_year"], keep="last").to_numpy()].reset_index(drop=True)


def _fy_state(ctx: Context, fy: pd.DataFrame, fld: str, used: pd.DataFrame) -> None:
    """Period end and origin of a multi-year field: its latest fiscal year."""
    last = used.groupby("pos").agg(end=("period_end", "max"), source=("source", "first"),
                                   year=("fiscal_year", "max")).reindex(np.arange(ctx.n))
    ctx.ends[fld] = last["end"].to_numpy(dtype="datetime64[ns]")
    ctx.origin[fld] = np.array([None if not isinstance(s, str) else f"{s} FY{int(y)} and earlier"
                                for s, y in zip(last["source"], last["year"], strict=True)], dtype=object) \
        if ctx.explain else np.full(ctx.n, None, dtype=object)
    ctx.stale_days[fld] = ctx.params.stale_limit("fundamental")


def _fcf_years(fy: pd.DataFrame, ctx: Context) -> None:
    window, fld = ctx.params.fcf_years, "fcf_positive_years"
    if not len(fy):
        ctx.cols[fld] = np.full(ctx.n, np.nan)
        return
    h = fy.loc[fy["free_cash_flow"].notna(), ["pos", "fiscal_year", "free_cash_flow", "period_end", "source"]]
    last = h.groupby("pos")["fiscal_year"].transform("max")
    h = h[h["fiscal_year"] > last - window]
    grouped = h.assign(positive=h["free_cash_flow"] > 0).groupby("pos")["positive"].agg(["sum", "count"])
    grouped = grouped.reindex(np.arange(ctx.n))
    short = grouped["count"].notna() & (grouped["count"] < window)
    for k, cnt in grouped.loc[short, "count"].items() if ctx.explain else ():
        ctx.notes[(str(ctx.index[int(k)]), fld)] = f"only {int(cnt)} of the last {window} fiscal years known"  # type: ignore[call-overload]
    ctx.cols[fld] = grouped["sum"].to_numpy(dtype="float64", na_value=np.nan)
    _fy_state(ctx, fy, fld, h)


def _years_listed(sec: pd.DataFrame, stamp: np.ndarray, n: int) -> np.ndarray:
    """Whole days from the listing date to the as-of date (``stamp``: one, or one per row), in years."""
    if "listing_date" not in sec:
        return np.full(n, np.nan)
    when = pd.to_datetime(sec["listing_date"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    delta = stamp - when.to_numpy(dtype="datetime64[ns]")
    days = np.floor(delta / np.timedelta64(1, "D"))
    return np.where(np.isnat(delta), np.nan, days / 365.25)


def _zombies(fy: pd.DataFrame, ctx: Context) -> dict[str, list[tuple[int, float]]]:
    params, index, n = ctx.params, ctx.index, ctx.n
    if not len(fy):
        ctx.cols["zombie"] = np.full(n, np.nan)
        return {}
    earn = fy["earnings"]
    interest = fy["interest_expense"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(interest <= 0, np.inf, earn / interest)
    # An operating loss while net interest is income says nothing about debt service: unknown.
    cov = np.where(earn.isna() | interest.isna() | ((interest <= 0) & (earn < 0)), np.nan, cov)
    h = pd.DataFrame({"symbol": fy["symbol"].to_numpy(), "pos": fy["pos"].to_numpy(),
                      "fy": fy["fiscal_year"].astype("int64").to_numpy(),
                      "cov": cov, "oi": (fy["ebit"].isna() & fy["operating_income"].notna()).to_numpy(),
                      "period_end": fy["period_end"].to_numpy(), "source": fy["source"].to_numpy()})
    h = h[(earn.notna() | interest.notna()).to_numpy()]
    last = h.groupby("pos")["fy"].transform("max")
    h = h[h["fy"] > last - params.zombie_years]
    at = np.arange(n)  # grouped by the company's position: integer keys
    known = h.groupby("pos")["cov"].count()
    below = h.assign(b=h["cov"] < 1).groupby("pos")["b"].sum()
    clears = h.assign(c=h["cov"] >= 1).groupby("pos")["c"].any()
    is_z = (below >= params.zombie_years).reindex(at, fill_value=False).to_numpy()
    not_z = clears.reindex(at, fill_value=False).to_numpy()
    vals = np.where(is_z, 1.0, np.where(not_z, 0.0, np.nan))
    years_listed = ctx.cols["years_listed"]
    young = ~np.isnan(years_listed) & (years_listed < params.zombie_min_listed_years)
    spared = young & (vals == 1.0)
    vals = np.where(spared, 0.0, vals)
    partial = np.isnan(vals) & (known.reindex(at, fill_value=0).to_numpy() > 0)
    used_oi = h.groupby("pos")["oi"].any().reindex(at, fill_value=False).to_numpy(dtype=bool)
    texts = (
        (spared, f"listed less than {params.zombie_min_listed_years:g} years: not a zombie by the BIS definition"),
        (partial, "coverage unknown in part of the last fiscal years"),
        (used_oi, "coverage uses operating income (the source has no EBIT)"),
    )
    for k in np.flatnonzero(spared | partial | used_oi) if ctx.explain else ():
        ctx.notes[(str(index[int(k)]), "zombie")] = "; ".join(t for mask, t in texts if mask[k])
    ctx.cols["zombie"] = vals.astype("float64")
    _fy_state(ctx, fy, "zombie", h.rename(columns={"fy": "fiscal_year"}))
    years: dict[str, list[tuple[int, float]]] = {}
    for sym, y, c in zip(h["symbol"], h["fy"], h["cov"], strict=False) if ctx.explain else ():
        years.setdefault(sym, []).append((int(y), float(c)))
    return years


def _short_interest(ctx: Context) -> None:
    """Short interest against the shares outstanding and against the average volume (Finviz's
    export has neither the float nor the short ratio)."""
    short = ctx.cols["short_interest"]
    shares = ctx.cols["shares_outstanding"]
    ctx.ratio("short_interest_share", short, shares, shares <= 0, "shares outstanding are not positive")
    volume = ctx.cols["avg_volume"]
    ctx.ratio("days_to_cover", short, volume, volume <= 0, "no average volume")
    for fld, other in (("short_interest_share", "shares_outstanding"), ("days_to_cover", "avg_volume")):
        ctx.ends[fld], ctx.origin[fld] = ctx.ends["short_interest"], ctx.origin["short_interest"]
        ctx.stale_days[fld] = ctx.stale_days["short_interest"]
        ctx.inputs[fld] = (other,)


def _kinds(ctx: Context) -> None:
    """Fields that are n.m. for a kind of company (banks, insurers, lenders): see rules.COMPANY_KINDS."""
    none = np.full(ctx.n, None, dtype=object)
    industry = ctx.sec["industry"].to_numpy(dtype=object) if "industry" in ctx.sec else none
    sic = ctx.sec["sic"].to_numpy(dtype=object) if "sic" in ctx.sec else none  # the SEC's SIC code (issue #14)
    # Once per distinct (industry, SIC) pair: a panel of dates repeats every company many times.
    pairs = pd.MultiIndex.from_arrays([pd.Index(industry, dtype=object), pd.Index(sic, dtype=object)])
    codes, distinct = pd.factorize(pairs)
    kinds = np.array([kind_of(*_text_or_none(p)) for p in distinct] + [None], dtype=object)[codes]
    for k in COMPANY_KINDS:
        mask = np.fromiter((x is k for x in kinds), dtype=bool, count=ctx.n)
        if not mask.any():
            continue
        for fld in k.not_meaningful:
            ctx.cols[fld] = np.where(mask, np.nan, ctx.cols.get(fld, np.full(ctx.n, np.nan)))
            prev = ctx.stat.get(fld, np.where(np.isnan(ctx.cols[fld]), MISSING, OK).astype("int8"))
            ctx.stat[fld] = np.where(mask, NOT_MEANINGFUL, prev).astype("int8")
            ctx.note(mask, fld, f"not meaningful for {k.reason}")


def _with_inputs(fields: frozenset[str], inputs: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """``fields`` and, recursively, the inputs whose stale or suspect state they inherit."""
    out, todo = set(fields), list(fields)
    while todo:
        for name in inputs.get(todo.pop(), ()):
            if name not in out:
                out.add(name)
                todo.append(name)
    return frozenset(out)


def _text_or_none(pair: tuple[object, object]) -> tuple[str | None, str | None]:
    return tuple(v if isinstance(v, str) else None for v in pair)  # type: ignore[return-value]


class _Stepper:
    def __init__(self, progress: ProgressFn | None, is_cancelled: CancelFn | None, total: int) -> None:
        self.progress, self.is_cancelled, self.total, self.n = progress, is_cancelled, total, 0

    def cancel_check(self) -> None:
        if self.is_cancelled is not None and self.is_cancelled():
            raise Cancelled()

    def __call__(self, message: str) -> None:
        self.cancel_check()
        if self.progress is not None:
            self.progress(self.n, self.total, message)
        self.n += 1

    def done(self) -> None:
        self.cancel_check()
        if self.progress is not None:
            self.progress(self.total, self.total, "Metrics ready")


def _states(ctx: Context, values: pd.DataFrame, status: pd.DataFrame) -> None:
    """Suspect and stale states (issue #12): a value keeps its number, its state says how far to
    trust it, and a note names the rule or the age. A value computed from a stale or suspect input
    (a P/E from a stale market cap) is stale or suspect too (issue #16)."""
    as_of = ctx.stamp
    symbols = ctx.index.tolist()
    texts: dict[str, str] = {}  # one string object per distinct note (see _append_note)
    for fld, ends in ctx.ends.items():
        if fld not in status:
            continue
        st = status[fld].to_numpy(dtype="int8", copy=True)
        shown = (st == OK) & ~np.isnan(values[fld].to_numpy(dtype="float64", na_value=np.nan))
        ends = ends.astype("datetime64[ns]")
        age = (as_of - ends).astype("timedelta64[D]").astype("float64")
        age[np.isnat(ends)] = np.nan
        limit = np.broadcast_to(np.asarray(ctx.stale_days.get(fld, ctx.params.stale_limit("fundamental"))), st.shape)
        future = shown & (age < 0)
        rule = ctx.suspect.get(fld, np.full(len(st), "", dtype=object))
        suspect = shown & ((rule != "") | future)
        stale = shown & ~suspect & (age > limit)
        origin = ctx.origin.get(fld, np.full(len(st), None, dtype=object))
        for k in np.flatnonzero(suspect).tolist() if ctx.explain else ():
            why = rule_reason(str(rule[k])) if rule[k] else "dated after the snapshot's as-of date"
            _append_note(ctx.notes, (symbols[k], fld), f"suspect: {why}", texts)
        for k in np.flatnonzero(stale).tolist() if ctx.explain else ():
            lim = int(limit[k])
            age_text = f"{age[k] / 30.44:.0f} months (limit {lim / 30.44:.0f})" if lim > 90 else \
                f"{age[k]:.0f} days (limit {lim})"
            _append_note(ctx.notes, (symbols[k], fld),
                         f"stale: {origin[k] or 'the value'} is {age_text} older than the snapshot", texts)
        st[suspect] = SUSPECT
        st[stale] = STALE
        status[fld] = st
    for fld, inputs in ctx.inputs.items():
        if fld not in status:
            continue
        st = status[fld].to_numpy(dtype="int8", copy=True)
        own = ~ctx.twinned.get(fld, np.zeros(ctx.n, dtype=bool))
        for worse in (SUSPECT, STALE):
            for inp in inputs:
                hit = own & (st == OK) & (status[inp].to_numpy(dtype="int8") == worse)
                text = f"{STATE_NAMES[worse]}: its input {catalog.get(inp).label.lower()} is {STATE_NAMES[worse]}"
                for k in np.flatnonzero(hit).tolist() if ctx.explain else ():
                    _append_note(ctx.notes, (symbols[k], fld), text, texts)
                st[hit] = worse
        status[fld] = st


def _append_note(notes: dict[tuple[str, str], str], key: tuple[str, str], text: str, texts: dict[str, str]) -> None:
    """Add ``text`` to the note of ``key``. ``texts`` keeps one object per distinct note: the real
    universe's 163,000 notes hold 2,200 texts, formatted anew per stock (~20 MB of copies; issue
    #17, the first start's peak memory)."""
    joined = f"{notes[key]}; {text}" if key in notes else text
    notes[key] = texts.setdefault(joined, joined)


def _assemble(sec: pd.DataFrame, index: pd.Index, cols: dict[str, np.ndarray], stat: dict[str, np.ndarray],
              tags: pd.Series, skipped: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(index)
    data: dict[str, np.ndarray] = {}
    status: dict[str, np.ndarray] = {}
    for f in catalog.all_fields():
        if f.name == "symbol" or f.name in skipped:
            continue
        if f.name == "themes":
            data["themes"] = tags.to_numpy(dtype=object)
            continue
        if f.is_numeric or f.unit == "bool":
            v = cols[f.name] if f.name in cols else column(sec, f.name, n)
            if f.unit == "bool" and f.name not in cols and f.name in sec:
                raw = sec[f.name]
                v = np.where(raw.isna(), np.nan, raw.astype(object).eq(True).astype("float64"))
            v = np.asarray(v, dtype="float64")
            data[f.name] = v
            st = stat.get(f.name)
            if st is None:
                st = np.where(np.isnan(v), MISSING, OK).astype("int8")
            else:
                st = np.where((st == OK) & np.isnan(v), MISSING, st).astype("int8")
            status[f.name] = st
        elif f.unit == "date":
            data[f.name] = (pd.to_datetime(sec[f.name], errors="coerce").to_numpy() if f.name in sec
                            else np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        else:
            if f.name in sec:
                s = sec[f.name].astype(object)
                data[f.name] = s.where(s.notna(), None).to_numpy(dtype=object)
            else:
                data[f.name] = np.full(n, None, dtype=object)
    # Explicit Series dtypes keep text columns object even under pandas 3's string default.
    series = {c: pd.Series(v, index=index, dtype=v.dtype) for c, v in data.items()}  # type: ignore[union-attr]
    return pd.DataFrame(series, index=index), pd.DataFrame(status, index=index)
