"""Metric formulas (issue #5): cash flow, leverage, rate sensitivity, zombies, rate betas.

``compute_metrics`` turns a :class:`~desktop.engine.dataset.Dataset` into a :class:`StockTable`:
one row per security, one column per catalogue field, plus a status matrix that keeps "missing"
(no input) apart from "not meaningful" (the formula has no sensible value, e.g. debt / negative
EBITDA). Nothing here reads files or the clock; the catalogue entries below document every formula
(docs/metrics.md is generated from the same table).

Latest-year inputs (EBIT, interest expense, debt, cash...) come from ``securities`` (TTM / most
recent quarter from Yahoo or Finviz) when present; otherwise from the latest fiscal year in
``history`` that has the value, and ``notes`` records which fiscal year was used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.catalog import Field
from desktop.engine.dataset import Dataset, history_frame
from desktop.engine.rules import COMPANY_KINDS, MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT, kind_of
from desktop.engine.statements import STATEMENT_FIELDS, Statements, prepare, rule_reason, statement_rows
from desktop.engine.themes import ThemeTaxonomy, empty_matches, tag, themes_by_symbol
from desktop.errors import Cancelled

__all__ = ["MISSING", "NOT_MEANINGFUL", "OK", "STALE", "SUSPECT", "MetricParams", "StockTable", "compute_metrics",
           "rate_beta_window"]

ProgressFn = Callable[..., None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class MetricParams:
    """Adjustable assumptions behind the metrics (documented in docs/metrics.md).

    Attributes:
        shocks_bp: rate shocks in basis points for ``shocked_coverage_<bp>``.
        floating_share_long_term: share of long-term debt assumed to reprice within a year
            (floating-rate loans). Current debt always reprices (it is refinanced within a year).
            Sources do not split fixed from floating debt, hence an explicit assumption.
        rate_beta_weeks: window of weekly returns for ``rate_beta`` (at least ``min_weeks``).
        min_weeks: fewer valid weekly observations than this leaves ``rate_beta`` missing.
        spike_threshold: a daily log move above this that reverts the next day is a bad print.
        return_clip: weekly log returns are winsorised to +/- this before the regression.
        zombie_years: consecutive fiscal years of coverage < 1 that make a zombie (BIS: 3).
        zombie_min_listed_years: firms listed for less than this are not zombies (BIS: 10).
        fcf_years: window for ``fcf_positive_years``.
        stale_months: a statement value whose period ended longer ago than this before the
            snapshot date is **stale** (issue #12; a fiscal year plus its filing delay).
        market_stale_days: the same limit for market values (price, market cap, rate betas).
    """

    shocks_bp: tuple[int, ...] = (100, 200, 300)
    floating_share_long_term: float = 0.25
    rate_beta_weeks: int = 104
    min_weeks: int = 52
    spike_threshold: float = 0.5
    return_clip: float = 0.35
    zombie_years: int = 3
    zombie_min_listed_years: float = 10.0
    fcf_years: int = 4
    stale_months: float = 18.0
    market_stale_days: int = 45

    def __post_init__(self) -> None:
        if self.rate_beta_weeks < self.min_weeks or self.min_weeks < 52:
            raise ValueError("rate_beta_weeks must be >= min_weeks >= 52 (issue #5)")
        if not 0 < self.stale_months <= 120 or not 0 < self.market_stale_days <= 3650:
            raise ValueError("stale limits must be positive (at most 10 years)")
        if not 0.0 <= self.floating_share_long_term <= 1.0:
            raise ValueError("floating_share_long_term must be between 0 and 1")


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
    """

    as_of: date
    values: pd.DataFrame
    status: pd.DataFrame
    notes: dict[tuple[str, str], str]
    theme_matches: pd.DataFrame
    zombie_years: dict[str, list[tuple[int, float]]]
    provenance: pd.DataFrame
    params: MetricParams = MetricParams()
    period_end: pd.DataFrame = field(default_factory=pd.DataFrame)
    origin: pd.DataFrame = field(default_factory=pd.DataFrame)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

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


# --- the catalogue of computed fields ---------------------------------------------------------

def _m(name: str, label: str, unit: str, definition: str, group: str, formula: str, sources: str,
       caveats: str = "") -> Field:
    return Field(name, label, unit, definition, group, formula, sources, caveats)


def shocked_field(bp: int) -> Field:
    """Catalogue entry of ``shocked_coverage_<bp>``."""
    return _m(
        f"shocked_coverage_{bp}", f"Coverage at +{bp} bp", "ratio",
        f"Interest coverage if rates rose {bp} basis points on the debt that reprices within a year.",
        "Rate sensitivity",
        f"EBIT / (max(interest_expense, 0) + {bp / 10000:g} x repricing_debt)",
        "ebit (or operating_income), interest_expense, current_debt, long_term_debt",
        "Repricing debt is an assumption (see repricing_debt). n.m. when EBIT is missing; "
        "infinite when there is neither interest expense nor repricing debt.",
    )


METRIC_FIELDS: tuple[Field, ...] = (
    _m("fcf_yield", "FCF yield", "fraction", "Free cash flow as a share of market value.", "Cash flow",
       "free_cash_flow / market_cap", "free_cash_flow, market_cap",
       "n.m. when market cap is not positive."),
    _m("fcf_margin", "FCF margin", "fraction", "Free cash flow per dollar of revenue.", "Cash flow",
       "free_cash_flow / revenue", "free_cash_flow, revenue", "n.m. when revenue is not positive."),
    _m("ocf_positive", "OCF positive", "bool", "Operating cash flow is above zero.", "Cash flow",
       "operating_cash_flow > 0", "operating_cash_flow"),
    _m("fcf_positive", "FCF positive", "bool", "Free cash flow is above zero.", "Cash flow",
       "free_cash_flow > 0", "free_cash_flow"),
    _m("fcf_positive_years", "FCF-positive years", "count",
       "How many of the last 4 fiscal years had free cash flow above zero.", "Cash flow",
       "count(fiscal years in the 4-year window ending at the latest year with FCF, FCF > 0)",
       "history: free_cash_flow or operating_cash_flow + capital_expenditure",
       "Counts only years with data; a note says when fewer than 4 years are known."),
    _m("cash_runway_months", "Cash runway", "months",
       "Months the cash pile lasts at the current free-cash-flow burn; infinite for FCF >= 0.",
       "Cash flow", "cash / (-free_cash_flow / 12) when free_cash_flow < 0, else infinity",
       "cash, free_cash_flow", "Ignores undrawn credit lines and future financing."),
    _m("net_debt", "Net debt", "usd", "Debt minus cash; negative means net cash.", "Leverage",
       "total_debt - cash", "total_debt, cash"),
    _m("net_debt_to_ebitda", "Net debt / EBITDA", "ratio",
       "Years of EBITDA needed to repay net debt; negative means net cash.", "Leverage",
       "net_debt / ebitda", "total_debt, cash, ebitda",
       "n.m. when EBITDA is zero or negative. Banks have no EBITDA (missing)."),
    _m("debt_to_equity", "Debt / equity", "ratio", "Total debt per dollar of shareholders' equity.",
       "Leverage", "total_debt / total_equity", "total_debt, total_equity",
       "n.m. when equity is zero or negative."),
    _m("debt_to_assets", "Debt / assets", "fraction", "Share of assets financed by debt.", "Leverage",
       "total_debt / total_assets", "total_debt, total_assets", "n.m. when assets are not positive."),
    _m("interest_coverage", "Interest coverage", "ratio",
       "How many times operating earnings cover the interest bill.", "Rate sensitivity",
       "ebit / interest_expense; infinite when interest expense <= 0 (no net debt cost)",
       "ebit (operating_income when the source has no EBIT), interest_expense",
       "SimFin has no EBIT: operating income is used and a note says so. SimFin interest is net "
       "of interest income. Negative values mean an operating loss."),
    _m("short_term_debt_share", "Short-term debt share", "fraction",
       "Share of debt due within a year (refinanced at new rates soon).", "Rate sensitivity",
       "current_debt / total_debt", "current_debt, total_debt", "n.m. when there is no debt."),
    _m("repricing_debt", "Debt repricing within 1y", "usd",
       "Debt assumed to reprice within a year: current debt plus the assumed floating share of "
       "long-term debt.", "Rate sensitivity",
       "current_debt + floating_share_long_term x long_term_debt (default share 0.25); "
       "total_debt when the split is unknown",
       "current_debt, long_term_debt, total_debt",
       "An assumption: sources do not say which debt is floating. Adjustable in MetricParams."),
    *(shocked_field(bp) for bp in (100, 200, 300)),
    _m("rate_beta", "Rate beta", "beta",
       "Weekly stock return per percentage-point change of the 10-year yield, controlling for IWM.",
       "Rate sensitivity",
       "OLS r_stock = a + b x d(yield_10y) + c x r_IWM over the last 104 weeks (min 52); rate_beta = b",
       "prices, market IWM and yield_10y",
       "Bad prints removed (one-day spikes that revert) and weekly log returns winsorised to +/-0.35. "
       "Missing with fewer than 52 valid weeks."),
    _m("rate_beta_t", "Rate beta t-stat", "number", "t-statistic of the rate beta.", "Rate sensitivity",
       "b / se(b), OLS standard error", "prices, market"),
    _m("rate_beta_r2", "Rate beta R²", "fraction", "R² of the rate-beta regression (yield and IWM).",
       "Rate sensitivity", "1 - RSS / TSS", "prices, market"),
    _m("rate_beta_weeks", "Rate beta weeks", "count", "Weekly observations used for the rate beta.",
       "Rate sensitivity", "count of weeks with stock, IWM and yield data", "prices, market"),
    _m("iwm_beta", "IWM beta", "beta", "Sensitivity to IWM in the rate-beta regression.",
       "Rate sensitivity", "c in the rate-beta regression", "prices, market IWM"),
    _m("years_listed", "Years listed", "years", "Years since the first trading day.", "Profile",
       "(as_of - listing_date) / 365.25", "listing_date"),
    _m("zombie", "Zombie", "bool",
       "Interest coverage below 1 in each of the last 3 fiscal years (BIS), for firms listed 10+ years "
       "when the listing date is known.", "Rate sensitivity",
       "all(coverage_y < 1 for the last 3 fiscal years); not a zombie when any known year >= 1",
       "history: ebit or operating_income, interest_expense; listing_date",
       "Unknown when a year's coverage is missing and no known year clears 1."),
    Field("themes", "Themes", "tags", "Investment themes the stock is tagged with (see docs/themes.md).",
          "Profile", "industry, description, name rules and explicit ticker lists",
          "resources/themes.toml + user override file", "Descriptions can be stale."),
)

catalog.register(METRIC_FIELDS)

# Statement lines shown as fields of their own, each from its freshest row (issue #12).
LATEST_FIELDS = (
    "revenue", "ebit", "operating_income", "interest_expense", "net_income", "operating_cash_flow",
    "capital_expenditure", "free_cash_flow", "total_debt", "current_debt", "long_term_debt", "cash",
    "total_equity", "total_assets",
)
# Market inputs dated by their observation (provenance ``as_of``); stale after ``market_stale_days``.
MARKET_FIELDS = ("price", "market_cap", "enterprise_value", "shares_outstanding", "beta")


def compute_metrics(
    dataset: Dataset,
    params: MetricParams = MetricParams(),
    taxonomy: ThemeTaxonomy | None = None,
    progress: ProgressFn | None = None,
    is_cancelled: CancelFn | None = None,
) -> StockTable:
    """Compute every catalogue field for every security of ``dataset``.

    Args:
        dataset: the canonical dataset.
        params: the adjustable assumptions.
        taxonomy: a ``themes.ThemeTaxonomy``; without one, ``themes`` is empty for every stock.
        progress: ``progress(done, total, message)``.
        is_cancelled: polled between stages and rate-beta chunks.

    Returns:
        The :class:`StockTable`.

    Raises:
        Cancelled: when ``is_cancelled()`` returned True.
    """
    for bp in params.shocks_bp:
        catalog.register([shocked_field(bp)])
    step = _Stepper(progress, is_cancelled, 5)
    sec = dataset.securities
    index = pd.Index(sec.index.astype(str), name="symbol")
    sec = sec.set_axis(index)
    ctx = _Context(index, pd.Timestamp(dataset.as_of), params, sec, dataset.provenance)

    step("Resolving dated statements")
    st = prepare(_statement_rows(dataset, sec), index)
    _zero_debt(st, ctx)
    fcf_censored = _latest(st, ctx)
    _market(ctx)

    step("Cash-flow and leverage metrics")
    _cash_and_leverage(st, ctx, fcf_censored)
    _coverage(st, ctx)
    fy = _fiscal_years(st, ctx)
    _fcf_years(fy, ctx)
    ctx.cols["years_listed"] = _years_listed(sec, dataset.as_of, len(index))

    step("Zombie flags")
    zombie_years = _zombies(fy, ctx)

    step("Rate betas")
    ctx.cols.update(_rate_betas(dataset.prices, dataset.market, index, params, step.cancel_check, ctx))

    step("Themes")
    matches = tag(sec, taxonomy) if taxonomy is not None else empty_matches()
    tag_series = themes_by_symbol(matches, index)
    step.done()

    _kinds(ctx)
    values, status = _assemble(sec, index, ctx.cols, ctx.stat, tag_series)
    _states(ctx, values, status)
    prov = dataset.provenance
    if "chosen" in prov:
        prov = prov[prov["chosen"].astype(bool)].reset_index(drop=True)
    ends = pd.DataFrame({k: pd.Series(v, index=index, dtype="datetime64[ns]") for k, v in ctx.ends.items()},
                        index=index)
    origin = pd.DataFrame({k: pd.Series(v, index=index, dtype=object) for k, v in ctx.origin.items()}, index=index)
    return StockTable(dataset.as_of, values, status, ctx.notes, matches, zombie_years, prov, params,
                      period_end=ends, origin=origin)


class _Context:
    """What the stages share: the output columns and, per field, its period end, origin and
    the reasons behind its state."""

    def __init__(self, index: pd.Index, as_of: pd.Timestamp, params: MetricParams, sec: pd.DataFrame,
                 provenance: pd.DataFrame) -> None:
        self.index, self.as_of, self.params, self.sec = index, as_of, params, sec
        self.n = len(index)
        self.notes: dict[tuple[str, str], str] = {}
        self.cols: dict[str, np.ndarray] = {}
        self.stat: dict[str, np.ndarray] = {}
        self.ends: dict[str, np.ndarray] = {}  # field -> datetime64 period end / as-of of the value
        self.origin: dict[str, np.ndarray] = {}  # field -> "simfin FY2024" ...
        self.suspect: dict[str, np.ndarray] = {}  # field -> sanity rule id ("" none)
        self.stale_days: dict[str, int] = {}  # field -> its stale limit in days
        self.dates = _observation_dates(provenance, index)

    def col(self, name: str) -> np.ndarray:
        return _col(self.sec, name, self.n)

    def note(self, mask: np.ndarray, fld: str, text: str) -> None:
        _note(self.notes, self.index, mask, fld, text)

    def dated(self, fld: str, st: Statements, sel: np.ndarray, lines: tuple[str, ...]) -> None:
        """Record that ``fld`` comes from the statement rows ``sel`` (period, origin, suspect lines)."""
        self.ends[fld] = st.take_any("period_end", sel).astype("datetime64[ns]")
        self.origin[fld] = st.origin(sel)
        self.suspect[fld] = st.suspect_reason(lines, sel)
        self.stale_days[fld] = int(round(self.params.stale_months * 30.44))


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


def _observation_dates(prov: pd.DataFrame, index: pd.Index) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """field -> (as-of dates, sources) of the chosen observations, aligned with ``index``."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not len(prov) or "chosen" not in prov:
        return out
    chosen = prov[prov["chosen"].astype(bool) & prov["field"].isin(MARKET_FIELDS + ("reported_debt_to_equity",))]
    for fld, part in chosen.groupby("field", sort=False):
        part = part.drop_duplicates("symbol").set_index(part["symbol"].astype(str).to_numpy())
        when = part["as_of"].reindex(index).to_numpy(dtype="datetime64[ns]")
        src = part["source"].reindex(index).to_numpy(dtype=object)
        out[str(fld)] = (when, src)
    return out


def _zero_debt(st: Statements, ctx: _Context) -> None:
    """A balance sheet with no debt line means zero debt only when another source agrees (D/E 0)."""
    if not len(st.rows):
        return
    rows = st.rows
    no_line = rows["total_debt"].isna() & rows["current_debt"].isna() & rows["long_term_debt"].isna() \
        & rows["total_assets"].notna()
    reported = ctx.col("reported_debt_to_equity")
    rep_src = ctx.dates.get("reported_debt_to_equity", (None, np.full(ctx.n, None, dtype=object)))[1]
    pos = rows["pos"].to_numpy()
    agree = no_line.to_numpy() & (reported[pos] == 0) & (rep_src[pos] != rows["source"].to_numpy(dtype=object))
    if agree.any():
        rows.loc[agree, "total_debt"] = 0.0
        st.derived["total_debt"] = st.derived.get("total_debt", np.zeros(len(rows), dtype=bool)) | agree
        ctx.note(np.isin(np.arange(ctx.n), pos[agree]), "total_debt",
                 "no debt line in the balance sheet and the reported debt/equity is 0: zero debt")


def _latest(st: Statements, ctx: _Context) -> np.ndarray:
    """Each statement line as a field of its own: the freshest row that has it.

    Returns, per company, whether its freshest FCF is censored (known <= 0, no amount).
    """
    notes = {"free_cash_flow": "operating cash flow + capital expenditure of the same period",
             "total_debt": "current + long-term debt of the same balance sheet (or zero: no debt line and the "
                           "reported debt/equity is 0)"}
    censored = np.zeros(ctx.n, dtype=bool)
    for c in LATEST_FIELDS:
        sel = st.pick(_have(st, c))
        ctx.cols[c] = st.take(c, sel)
        ctx.dated(c, st, sel, (c,))
        if c in notes:
            ctx.note(st.derived_at(c, sel), c, notes[c])
        if c == "free_cash_flow":
            censored = (st.take("fcf_nonpositive", sel) == 1.0) & np.isnan(ctx.cols[c])
    ctx.note(censored, "free_cash_flow", "free cash flow is zero or negative: Finviz leaves P/FCF empty then "
             "and gives no amount")
    return censored


def _market(ctx: _Context) -> None:
    """Market inputs with their dates; market cap = the latest price x the latest share count."""
    limit = ctx.params.market_stale_days
    for f in MARKET_FIELDS:
        when, src = ctx.dates.get(f, (np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[ns]"),
                                      np.full(ctx.n, None, dtype=object)))
        ctx.cols[f] = ctx.col(f)
        ctx.ends[f] = when
        ctx.origin[f] = src
        ctx.stale_days[f] = limit
    price, shares = ctx.cols["price"], ctx.cols["shares_outstanding"]
    both = ~np.isnan(price) & ~np.isnan(shares) & (shares > 0)
    if both.any():
        p_when, p_src = ctx.ends["price"], ctx.origin["price"]
        s_when, s_src = ctx.ends["shares_outstanding"], ctx.origin["shares_outstanding"]
        ctx.cols["market_cap"] = np.where(both, price * shares, ctx.cols["market_cap"])
        ctx.ends["market_cap"] = np.where(both, p_when, ctx.ends["market_cap"])
        ctx.origin["market_cap"] = np.where(both, "price x shares", ctx.origin["market_cap"])
        for k in np.flatnonzero(both):
            ctx.notes[(str(ctx.index[int(k)]), "market_cap")] = (
                f"price {price[k]:,.2f} ({_day(p_when[k])}, {p_src[k]}) x shares {shares[k]:,.0f} "
                f"({_day(s_when[k])}, {s_src[k]})")


def _day(value: np.datetime64) -> str:
    return "date unknown" if np.isnat(value) else str(value)[:10]


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def _ratio(ctx: _Context, name: str, num: np.ndarray, den: np.ndarray, nm: np.ndarray, nm_text: str) -> None:
    missing = np.isnan(num) | np.isnan(den)
    nm = nm & ~missing
    ctx.cols[name] = np.where(missing | nm, np.nan, _safe_div(num, den))
    ctx.stat[name] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
    ctx.note(nm, name, nm_text)


def _flag(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), np.nan, (x > 0).astype("float64"))


def _have(st: Statements, *lines: str) -> np.ndarray:
    ok = np.ones(len(st.rows), dtype=bool)
    for line in lines:
        v = st.column(line)
        if line == "free_cash_flow":
            ok &= ~np.isnan(v) | (st.column("fcf_nonpositive") == 1.0)
        elif line == "ebitda_any":
            ok &= ~np.isnan(v) | (st.column("ebitda_nonpositive") == 1.0)
        else:
            ok &= ~np.isnan(v)
    return ok


def _cash_and_leverage(st: Statements, ctx: _Context, cens: np.ndarray) -> None:
    cols = ctx.cols
    mcap = cols["market_cap"]
    fcf = cols["free_cash_flow"]
    _ratio(ctx, "fcf_yield", fcf, mcap, mcap <= 0, "market cap is not positive")
    cols["fcf_positive"] = np.where(cens, 0.0, _flag(fcf))
    for name in ("fcf_yield", "fcf_positive"):  # the same row as free_cash_flow
        ctx.ends[name], ctx.origin[name] = ctx.ends["free_cash_flow"], ctx.origin["free_cash_flow"]
        ctx.suspect[name] = ctx.suspect["free_cash_flow"]
        ctx.stale_days[name] = ctx.stale_days["free_cash_flow"]
        ctx.note(cens, name, "free cash flow is zero or negative (Finviz gives no amount)")

    sel = st.pick(_have(st, "free_cash_flow", "revenue"))
    f2, rev = st.take("free_cash_flow", sel), st.take("revenue", sel)
    _ratio(ctx, "fcf_margin", f2, rev, rev <= 0, "revenue is not positive")
    ctx.dated("fcf_margin", st, sel, ("free_cash_flow", "revenue"))

    sel = st.pick(_have(st, "operating_cash_flow"))
    cols["ocf_positive"] = _flag(st.take("operating_cash_flow", sel))
    ctx.dated("ocf_positive", st, sel, ("operating_cash_flow",))

    sel = st.pick(_have(st, "free_cash_flow", "cash"))
    f3, cash = st.take("free_cash_flow", sel), st.take("cash", sel)
    missing = np.isnan(f3) | np.isnan(cash)
    with np.errstate(divide="ignore", invalid="ignore"):
        runway = np.where(f3 >= 0, np.inf, np.maximum(cash, 0.0) / (-f3 / 12.0))
    cols["cash_runway_months"] = np.where(missing, np.nan, runway)
    ctx.dated("cash_runway_months", st, sel, ("free_cash_flow", "cash"))
    ctx.note(~missing & (f3 >= 0), "cash_runway_months", "free cash flow is not negative: no burn")

    sel = st.pick(_have(st, "total_debt", "cash"))
    cols["net_debt"] = st.take("total_debt", sel) - st.take("cash", sel)
    ctx.dated("net_debt", st, sel, ("total_debt", "cash"))

    sel = st.pick(_have(st, "total_debt", "cash", "ebitda_any"))
    ebitda = st.take("ebitda_any", sel)
    e_cens = (st.take("ebitda_nonpositive", sel) == 1.0) & np.isnan(ebitda)
    net = st.take("total_debt", sel) - st.take("cash", sel)
    _ratio(ctx, "net_debt_to_ebitda", net, np.where(e_cens, 0.0, ebitda), (ebitda <= 0) | e_cens,
           "EBITDA is zero or negative")
    ctx.dated("net_debt_to_ebitda", st, sel, ("total_debt", "cash", "ebitda_any"))
    sel_e = st.pick(_have(st, "ebitda_any"))
    e_any = st.take("ebitda_any", sel_e)
    cols["ebitda"] = e_any
    ctx.dated("ebitda", st, sel_e, ("ebitda_any",))
    ctx.stat["ebitda"] = np.where(np.isnan(e_any), MISSING, OK).astype("int8")
    ctx.note(st.derived_at("ebitda_any", sel_e), "ebitda", "operating income (or EBIT) + depreciation and amortisation of the same period")

    sel = st.pick(_have(st, "total_debt", "total_equity"))
    debt, equity = st.take("total_debt", sel), st.take("total_equity", sel)
    _ratio(ctx, "debt_to_equity", debt, equity, equity <= 0, "shareholders' equity is zero or negative")
    ctx.dated("debt_to_equity", st, sel, ("total_debt", "total_equity"))
    _reported_twin(ctx, "debt_to_equity", "reported_debt_to_equity")

    sel = st.pick(_have(st, "total_debt", "total_assets"))
    assets = st.take("total_assets", sel)
    _ratio(ctx, "debt_to_assets", st.take("total_debt", sel), assets, assets <= 0, "total assets are not positive")
    ctx.dated("debt_to_assets", st, sel, ("total_debt", "total_assets"))

    sel = st.pick(_have(st, "current_debt", "total_debt"))
    total = st.take("total_debt", sel)
    _ratio(ctx, "short_term_debt_share", st.take("current_debt", sel), total, total == 0, "no debt")
    ctx.dated("short_term_debt_share", st, sel, ("current_debt", "total_debt"))


def _reported_twin(ctx: _Context, name: str, twin: str) -> None:
    """Where no statement gives ``name``, the source-reported ratio stands in, said so in its origin."""
    rep = ctx.col(twin)
    use = (ctx.stat[name] == MISSING) & ~np.isnan(rep)
    if not use.any():
        return
    when, src = ctx.dates.get(twin, (np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[ns]"),
                                     np.full(ctx.n, None, dtype=object)))
    ctx.cols[name] = np.where(use, rep, ctx.cols[name])
    ctx.stat[name] = np.where(use, OK, ctx.stat[name]).astype("int8")
    ctx.ends[name] = np.where(use, when, ctx.ends[name])
    ctx.origin[name] = np.where(use, np.array([f"{s} (reported ratio)" for s in src], dtype=object),
                                ctx.origin[name])
    ctx.note(use, name, "as the source reports it (no statement has both debt and equity)")


def _coverage(st: Statements, ctx: _Context) -> None:
    cols, params = ctx.cols, ctx.params
    debt_col = st.column("total_debt")
    cost_known = ~np.isnan(st.column("interest_expense")) | (debt_col == 0)
    sel = st.pick(_have(st, "earnings") & cost_known)
    earn, interest = st.take("earnings", sel), st.take("interest_expense", sel)
    debt = st.take("total_debt", sel)
    used_oi = st.derived_at("earnings", sel)
    missing = sel < 0
    no_cost = ~missing & ((interest <= 0) | (np.isnan(interest) & (debt == 0)))
    nm = no_cost & (earn < 0)
    cov = np.where(no_cost, np.inf, _safe_div(earn, interest))
    cols["interest_coverage"] = np.where(missing | nm, np.nan, cov)
    ctx.stat["interest_coverage"] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
    ctx.dated("interest_coverage", st, sel, ("earnings", "interest_expense"))
    ctx.note(nm, "interest_coverage", "an operating loss while net interest is income: coverage has no meaning")
    ctx.note(no_cost & ~nm & (interest <= 0), "interest_coverage", "no net interest expense: coverage is infinite")
    ctx.note(no_cost & ~nm & np.isnan(interest), "interest_coverage",
             "no debt and no interest expense reported: coverage is infinite")
    ctx.note(used_oi & ~missing & ~nm, "interest_coverage", "coverage uses operating income (the source has no EBIT)")

    # Repricing debt: the maturity split of the freshest row with total debt.
    sel_d = st.pick(_have(st, "total_debt"))
    _repricing(st, ctx, sel_d)
    # Shocked coverage: earnings, interest and debt of one row.
    sel_s = st.pick(_have(st, "earnings", "total_debt") & cost_known)
    earn, interest = st.take("earnings", sel_s), st.take("interest_expense", sel_s)
    repricing = _repricing_of(st, sel_s, params.floating_share_long_term)
    base = np.where(np.isnan(interest) | (interest < 0), 0.0, interest)
    for bp in params.shocks_bp:
        name = f"shocked_coverage_{bp}"
        den = base + bp / 10000.0 * repricing
        miss = sel_s < 0
        nm_s = ~miss & (den <= 0) & (earn < 0)
        cols[name] = np.where(miss | nm_s, np.nan, np.where(den <= 0, np.inf, _safe_div(earn, den)))
        ctx.stat[name] = np.where(nm_s, NOT_MEANINGFUL, np.where(miss, MISSING, OK)).astype("int8")
        ctx.dated(name, st, sel_s, ("earnings", "interest_expense", "total_debt", "current_debt"))
        ctx.note(nm_s, name, "an operating loss with neither interest cost nor debt: coverage has no meaning")
        ctx.note(st.derived_at("earnings", sel_s) & ~miss, name, "coverage uses operating income (the source has no EBIT)")


def _repricing_of(st: Statements, sel: np.ndarray, share: float) -> np.ndarray:
    cur, lt, total = st.take("current_debt", sel), st.take("long_term_debt", sel), st.take("total_debt", sel)
    split = ~np.isnan(cur) & ~np.isnan(lt)
    return np.where(split, cur + share * lt, total)


def _repricing(st: Statements, ctx: _Context, sel: np.ndarray) -> None:
    cur, lt = st.take("current_debt", sel), st.take("long_term_debt", sel)
    total = st.take("total_debt", sel)
    ctx.cols["repricing_debt"] = _repricing_of(st, sel, ctx.params.floating_share_long_term)
    ctx.dated("repricing_debt", st, sel, ("total_debt", "current_debt", "long_term_debt"))
    unknown = (np.isnan(cur) | np.isnan(lt)) & ~np.isnan(total)
    ctx.note(unknown, "repricing_debt", "maturity split not in this balance sheet: all debt assumed to reprice "
             "within a year")


def _fiscal_years(st: Statements, ctx: _Context) -> pd.DataFrame:
    """Fiscal-year rows of ONE source per company: the source of its chosen (freshest, SEC first)
    fiscal year."""
    rows = st.rows
    if not len(rows):
        return rows
    is_fy = (rows["period_type"] == "FY").to_numpy(dtype=bool)
    fy = rows[is_fy]
    sel = st.pick(is_fy)
    lead = rows.iloc[sel[sel >= 0]][["symbol", "source"]]
    fy = fy.merge(lead, on=["symbol", "source"], how="inner")
    return fy.sort_values(["symbol", "fiscal_year"]).drop_duplicates(["symbol", "fiscal_year"], keep="last")


def _fy_state(ctx: _Context, fy: pd.DataFrame, fld: str, used: pd.DataFrame) -> None:
    """Period end and origin of a multi-year field: its latest fiscal year."""
    last = used.groupby("symbol").agg(end=("period_end", "max"), source=("source", "first"),
                                      year=("fiscal_year", "max")).reindex(ctx.index)
    ctx.ends[fld] = last["end"].to_numpy(dtype="datetime64[ns]")
    ctx.origin[fld] = np.array([None if not isinstance(s, str) else f"{s} FY{int(y)} and earlier"
                                for s, y in zip(last["source"], last["year"], strict=True)], dtype=object)
    ctx.stale_days[fld] = int(round(ctx.params.stale_months * 30.44))


def _fcf_years(fy: pd.DataFrame, ctx: _Context) -> None:
    window, fld = ctx.params.fcf_years, "fcf_positive_years"
    if not len(fy):
        ctx.cols[fld] = np.full(ctx.n, np.nan)
        return
    h = fy.loc[fy["free_cash_flow"].notna(), ["symbol", "fiscal_year", "free_cash_flow", "period_end", "source"]]
    last = h.groupby("symbol")["fiscal_year"].transform("max")
    h = h[h["fiscal_year"] > last - window]
    grouped = h.assign(pos=h["free_cash_flow"] > 0).groupby("symbol")["pos"].agg(["sum", "count"])
    grouped = grouped.reindex(ctx.index)
    short = grouped["count"].notna() & (grouped["count"] < window)
    for sym, cnt in grouped.loc[short, "count"].items():
        ctx.notes[(str(sym), fld)] = f"only {int(cnt)} of the last {window} fiscal years known"
    ctx.cols[fld] = grouped["sum"].to_numpy(dtype="float64", na_value=np.nan)
    _fy_state(ctx, fy, fld, h)


def _years_listed(sec: pd.DataFrame, as_of: date, n: int) -> np.ndarray:
    if "listing_date" not in sec:
        return np.full(n, np.nan)
    when = pd.to_datetime(sec["listing_date"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    days = (pd.Timestamp(as_of) - when).dt.days
    return (days / 365.25).to_numpy(dtype="float64", na_value=np.nan)


def _zombies(fy: pd.DataFrame, ctx: _Context) -> dict[str, list[tuple[int, float]]]:
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
    h = pd.DataFrame({"symbol": fy["symbol"].to_numpy(), "fy": fy["fiscal_year"].astype("int64").to_numpy(),
                      "cov": cov, "oi": (fy["ebit"].isna() & fy["operating_income"].notna()).to_numpy(),
                      "period_end": fy["period_end"].to_numpy(), "source": fy["source"].to_numpy()})
    h = h[(earn.notna() | interest.notna()).to_numpy()]
    last = h.groupby("symbol")["fy"].transform("max")
    h = h[h["fy"] > last - params.zombie_years]
    known = h.groupby("symbol")["cov"].count()
    below = h.assign(b=h["cov"] < 1).groupby("symbol")["b"].sum()
    clears = h.assign(c=h["cov"] >= 1).groupby("symbol")["c"].any()
    is_z = (below >= params.zombie_years).reindex(index, fill_value=False).to_numpy()
    not_z = clears.reindex(index, fill_value=False).to_numpy()
    vals = np.where(is_z, 1.0, np.where(not_z, 0.0, np.nan))
    years_listed = ctx.cols["years_listed"]
    young = ~np.isnan(years_listed) & (years_listed < params.zombie_min_listed_years)
    spared = young & (vals == 1.0)
    vals = np.where(spared, 0.0, vals)
    partial = np.isnan(vals) & (known.reindex(index, fill_value=0).to_numpy() > 0)
    used_oi = h.groupby("symbol")["oi"].any().reindex(index, fill_value=False).to_numpy(dtype=bool)
    texts = (
        (spared, f"listed less than {params.zombie_min_listed_years:g} years: not a zombie by the BIS definition"),
        (partial, "coverage unknown in part of the last fiscal years"),
        (used_oi, "coverage uses operating income (the source has no EBIT)"),
    )
    for k in np.flatnonzero(spared | partial | used_oi):
        ctx.notes[(str(index[int(k)]), "zombie")] = "; ".join(t for mask, t in texts if mask[k])
    ctx.cols["zombie"] = vals.astype("float64")
    _fy_state(ctx, fy, "zombie", h.rename(columns={"fy": "fiscal_year"}))
    years: dict[str, list[tuple[int, float]]] = {}
    for sym, y, c in zip(h["symbol"], h["fy"], h["cov"], strict=False):
        years.setdefault(sym, []).append((int(y), float(c)))
    return years


def _kinds(ctx: _Context) -> None:
    """Fields that are n.m. for a kind of company (banks, insurers, lenders): see rules.COMPANY_KINDS."""
    none = pd.Series([None] * ctx.n, index=ctx.index)
    industry = ctx.sec["industry"] if "industry" in ctx.sec else none
    sic = ctx.sec["sic"] if "sic" in ctx.sec else none  # the SEC's SIC code (issue #14)
    kinds = [kind_of(i, s) for i, s in zip(industry, sic, strict=True)]
    for k in COMPANY_KINDS:
        mask = np.fromiter((x is k for x in kinds), dtype=bool, count=ctx.n)
        if not mask.any():
            continue
        for fld in k.not_meaningful:
            ctx.cols[fld] = np.where(mask, np.nan, ctx.cols.get(fld, np.full(ctx.n, np.nan)))
            prev = ctx.stat.get(fld, np.where(np.isnan(ctx.cols[fld]), MISSING, OK).astype("int8"))
            ctx.stat[fld] = np.where(mask, NOT_MEANINGFUL, prev).astype("int8")
            ctx.note(mask, fld, f"not meaningful for {k.reason}")


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


def _col(sec: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name not in sec:
        return np.full(n, np.nan)
    return pd.to_numeric(sec[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _note(notes: dict[tuple[str, str], str], index: pd.Index, mask: np.ndarray, fld: str, text: str) -> None:
    if mask.any():
        notes.update(zip(((s, fld) for s in index[mask]), repeat(text), strict=False))


def despiked_log(closes: np.ndarray, spike_threshold: float) -> np.ndarray:
    """Log closes with bad prints removed (README: one-day spikes that revert, unadjusted prints).

    A daily close whose move in and out both exceed ``spike_threshold`` (log) in opposite directions
    and nearly cancel becomes NaN; non-positive closes are NaN too. Day t is judged with day t+1.
    """
    arr = np.array(closes, dtype="float64", copy=True)
    arr[~(arr > 0)] = np.nan
    logp = np.log(arr)
    filled = pd.DataFrame(logp).ffill().to_numpy()
    r_in = np.full_like(filled, np.nan)
    r_in[1:] = filled[1:] - filled[:-1]
    r_out = np.full_like(filled, np.nan)
    r_out[:-1] = -r_in[1:]  # move back out of day t
    spike = (np.abs(r_in) > spike_threshold) & (np.abs(r_out) > spike_threshold) \
        & (np.sign(r_in) == np.sign(r_out)) & (np.abs(r_in - r_out) < spike_threshold / 2)
    logp[spike] = np.nan
    return logp


def clean_returns(prices: pd.DataFrame, spike_threshold: float, clip: float) -> pd.DataFrame:
    """Weekly log returns robust to bad prints (README: one-day spikes, unadjusted prints).

    A daily close whose move in and out both exceed ``spike_threshold`` (log) in opposite
    directions and nearly cancel is dropped; weekly (Friday) closes then give log returns that
    are winsorised to +/- ``clip``.
    """
    p = prices.astype("float64")
    daily = pd.DataFrame(despiked_log(p.to_numpy(), spike_threshold), index=p.index, columns=p.columns)
    weekly = daily.resample("W-FRI").last()
    ret = weekly.diff()
    # A gap (no bar) in a week leaves NaN there; the next week's diff spans it only via ffill.
    return ret.clip(lower=-clip, upper=clip)


def rate_beta_window(price_dates: pd.Index, market: pd.DataFrame, as_of: date,
                     params: MetricParams) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last day of daily closes the rate betas read (None: they read none).

    A caller that loads closes for :func:`compute_metrics` needs only these days (two years of the
    ~25 a snapshot's price dates span, issue #17); ``price_dates`` are all the snapshot's days.
    """
    if not len(price_dates) or market is None or not {"IWM", "yield_10y"} <= set(market):
        return None
    return _beta_window(pd.DatetimeIndex(price_dates), _rate_market(market), pd.Timestamp(as_of), params)


def _rate_market(market: pd.DataFrame) -> pd.DataFrame:
    m = market[["IWM", "yield_10y"]].astype("float64")
    m.index = pd.DatetimeIndex(m.index)
    return m


def _beta_window(price_dates: pd.DatetimeIndex, m: pd.DataFrame, as_of: pd.Timestamp,
                 params: MetricParams) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Weekly returns over ``rate_beta_weeks`` (+2 for the first difference and a partial week) to
    the last common date on or before the snapshot date."""
    end = min(price_dates.max(), m.dropna(how="all").index.max(), as_of)
    return end - pd.Timedelta(weeks=params.rate_beta_weeks + 2), end


def _rate_betas(prices: pd.DataFrame, market: pd.DataFrame, index: pd.Index, params: MetricParams,
                cancel_check: Callable[[], None], ctx: _Context) -> dict[str, np.ndarray]:
    """Rate betas over the window ending at the last common date on or before the snapshot date
    (data after it is never used: it was not known then)."""
    n = len(index)
    names = ("rate_beta", "rate_beta_t", "rate_beta_r2", "rate_beta_weeks", "iwm_beta")
    out = {k: np.full(n, np.nan) for k in names}
    if prices is None or prices.empty or market is None or not {"IWM", "yield_10y"} <= set(market):
        return out
    wanted = set(index)
    cols = [s for s in prices.columns if s in wanted]
    if not cols:
        return out
    m = _rate_market(market)
    start, end = _beta_window(pd.DatetimeIndex(prices.index), m, ctx.as_of, params)
    wk_m = m.loc[:end].resample("W-FRI").last()
    mkt = np.log(wk_m["IWM"].where(wk_m["IWM"] > 0)).diff()
    dy = wk_m["yield_10y"].diff()
    px = prices.loc[(prices.index >= start) & (prices.index <= end), cols]
    px.index = pd.DatetimeIndex(px.index)
    pos = index.get_indexer(pd.Index(cols))
    chunk = 500
    for lo in range(0, len(cols), chunk):
        cancel_check()
        ret = clean_returns(px.iloc[:, lo:lo + chunk], params.spike_threshold, params.return_clip)
        ret = ret.iloc[-params.rate_beta_weeks:]
        x1 = dy.reindex(ret.index).to_numpy(dtype="float64")
        x2 = mkt.reindex(ret.index).to_numpy(dtype="float64")
        res = _ols_columns(ret.to_numpy(dtype="float64"), x1, x2, params.min_weeks)
        for k, v in zip(names, res, strict=True):
            out[k][pos[lo:lo + chunk]] = v
    last_week = np.datetime64(pd.Timestamp(end).normalize(), "ns")
    for k in names:
        ctx.ends[k] = np.where(np.isnan(out[k]), np.datetime64("NaT"), last_week).astype("datetime64[ns]")
        ctx.origin[k] = np.where(np.isnan(out[k]), None, f"weekly returns to {str(last_week)[:10]}")  # type: ignore[call-overload]
        ctx.stale_days[k] = params.market_stale_days
    return out


def _ols_columns(y: np.ndarray, x1: np.ndarray, x2: np.ndarray, min_obs: int) -> tuple[np.ndarray, ...]:
    """OLS of every column of ``y`` on [1, x1, x2] using each column's valid rows (vectorised)."""
    w = (np.isfinite(y) & np.isfinite(x1)[:, None] & np.isfinite(x2)[:, None]).astype("float64")
    y0 = np.where(w > 0, y, 0.0)
    a = np.nan_to_num(x1)
    b = np.nan_to_num(x2)
    nobs = w.sum(0)
    s1, s2 = a @ w, b @ w
    s11, s22, s12 = (a * a) @ w, (b * b) @ w, (a * b) @ w
    sy, s1y, s2y, syy = y0.sum(0), a @ y0, b @ y0, (y0 * y0).sum(0)
    k = y.shape[1]
    xtx = np.empty((k, 3, 3))
    xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 0, 2] = nobs, s1, s2
    xtx[:, 1, 0], xtx[:, 1, 1], xtx[:, 1, 2] = s1, s11, s12
    xtx[:, 2, 0], xtx[:, 2, 1], xtx[:, 2, 2] = s2, s12, s22
    xty = np.stack([sy, s1y, s2y], axis=1)
    ok = nobs >= min_obs
    det = np.linalg.det(xtx)
    ok &= np.abs(det) > 1e-12 * np.maximum(nobs, 1) ** 3
    nan = np.full(k, np.nan)
    if not ok.any():
        return nan, nan.copy(), nan.copy(), np.where(ok, nobs, np.nan), nan.copy()
    inv = np.full_like(xtx, np.nan)
    inv[ok] = np.linalg.inv(xtx[ok])
    beta = np.einsum("kij,kj->ki", inv, xty)
    rss = syy - np.einsum("ki,ki->k", beta, xty)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2e = np.maximum(rss, 0.0) / (nobs - 3)
        se = np.sqrt(s2e * inv[:, 1, 1])
        tss = syy - sy * sy / nobs
        r2 = 1.0 - rss / tss
        t = beta[:, 1] / se
    keep = ok & (tss > 0)
    f = lambda v: np.where(keep, v, np.nan)  # noqa: E731
    return f(beta[:, 1]), f(t), f(np.clip(r2, 0.0, 1.0)), np.where(keep, nobs, np.nan), f(beta[:, 2])


def _states(ctx: _Context, values: pd.DataFrame, status: pd.DataFrame) -> None:
    """Suspect and stale states (issue #12): a value keeps its number, its state says how far to
    trust it, and a note names the rule or the age."""
    as_of = np.datetime64(ctx.as_of, "ns")
    for fld, ends in ctx.ends.items():
        if fld not in status:
            continue
        st = status[fld].to_numpy(dtype="int8", copy=True)
        shown = (st == OK) & ~np.isnan(values[fld].to_numpy(dtype="float64", na_value=np.nan))
        ends = ends.astype("datetime64[ns]")
        age = (as_of - ends).astype("timedelta64[D]").astype("float64")
        age[np.isnat(ends)] = np.nan
        limit = ctx.stale_days.get(fld, int(round(ctx.params.stale_months * 30.44)))
        future = shown & (age < 0)
        rule = ctx.suspect.get(fld, np.full(len(st), "", dtype=object))
        suspect = shown & ((rule != "") | future)
        stale = shown & ~suspect & (age > limit)
        for k in np.flatnonzero(suspect):
            why = rule_reason(str(rule[k])) if rule[k] else "dated after the snapshot's as-of date"
            _append_note(ctx.notes, (str(ctx.index[int(k)]), fld), f"suspect: {why}")
        for k in np.flatnonzero(stale):
            age_text = f"{age[k] / 30.44:.0f} months (limit {limit / 30.44:.0f})" if limit > 90 else \
                f"{age[k]:.0f} days (limit {limit})"
            _append_note(ctx.notes, (str(ctx.index[int(k)]), fld),
                         f"stale: {ctx.origin[fld][k] or 'the value'} is {age_text} older than the snapshot")
        st[suspect] = SUSPECT
        st[stale] = STALE
        status[fld] = st


def _append_note(notes: dict[tuple[str, str], str], key: tuple[str, str], text: str) -> None:
    notes[key] = f"{notes[key]}; {text}" if key in notes else text


def _assemble(sec: pd.DataFrame, index: pd.Index, cols: dict[str, np.ndarray], stat: dict[str, np.ndarray],
              tags: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(index)
    data: dict[str, np.ndarray] = {}
    status: dict[str, np.ndarray] = {}
    for f in catalog.all_fields():
        if f.name == "symbol":
            continue
        if f.name == "themes":
            data["themes"] = tags.to_numpy(dtype=object)
            continue
        if f.is_numeric or f.unit == "bool":
            v = cols[f.name] if f.name in cols else _col(sec, f.name, n)
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
