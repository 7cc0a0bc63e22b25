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
from desktop.engine.dataset import Dataset
from desktop.engine.themes import ThemeTaxonomy, empty_matches, tag, themes_by_symbol
from desktop.errors import Cancelled

OK, MISSING, NOT_MEANINGFUL = 0, 1, 2

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

    def __post_init__(self) -> None:
        if self.rate_beta_weeks < self.min_weeks or self.min_weeks < 52:
            raise ValueError("rate_beta_weeks must be >= min_weeks >= 52 (issue #5)")
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
            2 NOT_MEANINGFUL.
        notes: ``(symbol, field) -> str``: why a value is n.m., or where it came from.
        theme_matches: columns symbol, theme, rule, matched (why a stock carries a theme).
        zombie_years: symbol -> [(fiscal_year, coverage)] for the zombie window.
        provenance: the dataset's chosen provenance rows.
        params: the assumptions used.
    """

    as_of: date
    values: pd.DataFrame
    status: pd.DataFrame
    notes: dict[tuple[str, str], str]
    theme_matches: pd.DataFrame
    zombie_years: dict[str, list[tuple[int, float]]]
    provenance: pd.DataFrame
    params: MetricParams = MetricParams()
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

# Latest-year inputs resolved from securities first, then the latest fiscal year of history.
LATEST_FIELDS = (
    "revenue", "ebit", "operating_income", "interest_expense", "net_income", "operating_cash_flow",
    "capital_expenditure", "free_cash_flow", "total_debt", "current_debt", "long_term_debt", "cash",
    "total_equity", "total_assets",
)


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
    total = 5
    step = _Stepper(progress, is_cancelled, total)
    sec = dataset.securities
    index = pd.Index(sec.index.astype(str), name="symbol")
    sec = sec.set_axis(index)
    notes: dict[tuple[str, str], str] = {}
    cols: dict[str, np.ndarray] = {}
    stat: dict[str, np.ndarray] = {}

    step("Resolving latest-year values")
    hist = _clean_history(dataset.history, index)
    latest = _resolve_latest(sec, hist, index, notes)
    cols.update(latest)

    step("Cash-flow and leverage metrics")
    _cash_and_leverage(cols, stat, sec, index, notes)
    _coverage(cols, stat, index, notes, params)
    cols["fcf_positive_years"], fcf_notes = _fcf_years(hist, index, params.fcf_years)
    notes.update(fcf_notes)
    cols["years_listed"] = _years_listed(sec, dataset.as_of, len(index))

    step("Zombie flags")
    zombie, zombie_years = _zombies(hist, index, cols["years_listed"], params, notes)
    cols["zombie"] = zombie

    step("Rate betas")
    cols.update(_rate_betas(dataset.prices, dataset.market, index, params, step.cancel_check))

    step("Themes")
    matches = tag(sec, taxonomy) if taxonomy is not None else empty_matches()
    tag_series = themes_by_symbol(matches, index)
    step.done()

    values, status = _assemble(sec, index, cols, stat, tag_series)
    prov = dataset.provenance
    if "chosen" in prov:
        prov = prov[prov["chosen"].astype(bool)].reset_index(drop=True)
    return StockTable(dataset.as_of, values, status, notes, matches, zombie_years, prov, params)


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


def _clean_history(history: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """One row per (symbol, fiscal_year) for symbols in the table; FCF filled from OCF + capex."""
    if history is None or history.empty:
        return pd.DataFrame(columns=["symbol", "fiscal_year", "source", *LATEST_FIELDS])
    h = history[history["symbol"].astype(str).isin(index)].copy()
    h["symbol"] = h["symbol"].astype(str)
    for c in LATEST_FIELDS:
        h[c] = pd.to_numeric(h[c], errors="coerce") if c in h else np.nan
    if "source" not in h:
        h["source"] = "history"
    # Several sources may report the same year: take the first non-missing value per column.
    h = h.sort_values(["symbol", "fiscal_year"], kind="stable")
    h = h.groupby(["symbol", "fiscal_year"], sort=True, as_index=False).first()
    derived = h["operating_cash_flow"] + h["capital_expenditure"]
    h["free_cash_flow"] = h["free_cash_flow"].fillna(derived)
    return h


def _resolve_latest(sec: pd.DataFrame, hist: pd.DataFrame, index: pd.Index,
                    notes: dict[tuple[str, str], str]) -> dict[str, np.ndarray]:
    n = len(index)
    out: dict[str, np.ndarray] = {}
    if len(hist):
        last = hist.groupby("symbol")[list(LATEST_FIELDS)].last().reindex(index)
        years = pd.DataFrame({c: hist["fiscal_year"].where(hist[c].notna()) for c in LATEST_FIELDS})
        years["symbol"] = hist["symbol"]
        last_year = years.groupby("symbol").last().reindex(index)
        src = hist.groupby("symbol")["source"].last().reindex(index).astype(object).to_numpy()
    for c in LATEST_FIELDS:
        v = _col(sec, c, n)
        if c == "free_cash_flow":  # statement definition when the source gives the parts only
            parts = _col(sec, "operating_cash_flow", n) + _col(sec, "capital_expenditure", n)
            v = np.where(np.isnan(v), parts, v)
        if len(hist):
            fb = last[c].to_numpy(dtype="float64", na_value=np.nan)
            use = np.isnan(v) & ~np.isnan(fb)
            if use.any():
                v = np.where(use, fb, v)
                yrs = last_year[c].to_numpy(dtype="float64", na_value=np.nan)
                for sym, y, s in zip(index[use], yrs[use], src[use], strict=False):
                    notes[(sym, c)] = f"from fiscal year {int(y)} statements ({s})"
        out[c] = v
    return out


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def _ratio(cols: dict[str, np.ndarray], stat: dict[str, np.ndarray], name: str, num: np.ndarray,
           den: np.ndarray, nm: np.ndarray, index: pd.Index, notes: dict[tuple[str, str], str],
           nm_text: str) -> None:
    missing = np.isnan(num) | np.isnan(den)
    nm = nm & ~missing
    val = np.where(missing | nm, np.nan, _safe_div(num, den))
    cols[name] = val
    stat[name] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
    _note(notes, index, nm, name, nm_text)


def _flag(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), np.nan, (x > 0).astype("float64"))


def _cash_and_leverage(cols: dict[str, np.ndarray], stat: dict[str, np.ndarray], sec: pd.DataFrame,
                       index: pd.Index, notes: dict[tuple[str, str], str]) -> None:
    n = len(index)
    fcf, cash, debt = cols["free_cash_flow"], cols["cash"], cols["total_debt"]
    mcap, rev, ebitda = _col(sec, "market_cap", n), cols["revenue"], _col(sec, "ebitda", n)
    cols["ebitda"] = ebitda
    _ratio(cols, stat, "fcf_yield", fcf, mcap, mcap <= 0, index, notes, "market cap is not positive")
    _ratio(cols, stat, "fcf_margin", fcf, rev, rev <= 0, index, notes, "revenue is not positive")
    cols["ocf_positive"] = _flag(cols["operating_cash_flow"])
    cols["fcf_positive"] = _flag(fcf)

    burn = -fcf / 12.0
    missing = np.isnan(fcf) | np.isnan(cash)
    with np.errstate(divide="ignore", invalid="ignore"):
        runway = np.where(fcf >= 0, np.inf, np.maximum(cash, 0.0) / burn)
    cols["cash_runway_months"] = np.where(missing, np.nan, runway)
    _note(notes, index, ~missing & (fcf >= 0), "cash_runway_months", "free cash flow is not negative: no burn")

    net = debt - cash
    cols["net_debt"] = net
    _ratio(cols, stat, "net_debt_to_ebitda", net, ebitda, ebitda <= 0, index, notes,
           "EBITDA is zero or negative")
    equity, assets = cols["total_equity"], cols["total_assets"]
    _ratio(cols, stat, "debt_to_equity", debt, equity, equity <= 0, index, notes,
           "shareholders' equity is zero or negative")
    _ratio(cols, stat, "debt_to_assets", debt, assets, assets <= 0, index, notes,
           "total assets are not positive")
    cur = cols["current_debt"]
    # Current debt larger than total debt means inconsistent sources: cap the share at 1.
    _ratio(cols, stat, "short_term_debt_share", np.minimum(cur, debt), debt, debt == 0, index, notes,
           "no debt")


def _coverage(cols: dict[str, np.ndarray], stat: dict[str, np.ndarray], index: pd.Index,
              notes: dict[tuple[str, str], str], params: MetricParams) -> None:
    ebit, oi = cols["ebit"], cols["operating_income"]
    use_oi = np.isnan(ebit) & ~np.isnan(oi)
    earn = np.where(use_oi, oi, ebit)
    interest, debt = cols["interest_expense"], cols["total_debt"]
    no_cost = (interest <= 0) | (np.isnan(interest) & (debt == 0))
    missing = np.isnan(earn) | (np.isnan(interest) & ~no_cost)
    cov = np.where(no_cost, np.inf, _safe_div(earn, interest))
    cols["interest_coverage"] = np.where(missing, np.nan, cov)
    _note(notes, index, ~missing & (interest <= 0), "interest_coverage",
          "no net interest expense: coverage is infinite")
    _note(notes, index, ~missing & np.isnan(interest) & (debt == 0), "interest_coverage",
          "no debt and no interest expense reported: coverage is infinite")

    cur, lt = cols["current_debt"], cols["long_term_debt"]
    split_known = ~np.isnan(cur) | ~np.isnan(lt)
    share = params.floating_share_long_term
    repricing = np.where(split_known, np.nan_to_num(cur) + share * np.nan_to_num(lt), debt)
    cols["repricing_debt"] = repricing
    _note(notes, index, ~split_known & ~np.isnan(debt), "repricing_debt",
          "maturity split unknown: all debt assumed to reprice within a year")
    base = np.where(np.isnan(interest) | (interest < 0), 0.0, interest)
    known_cost = ~np.isnan(interest) | (debt == 0)
    for bp in params.shocks_bp:
        name = f"shocked_coverage_{bp}"
        den = base + bp / 10000.0 * repricing
        miss = np.isnan(earn) | np.isnan(repricing) | ~known_cost
        val = np.where(den <= 0, np.inf, _safe_div(earn, den))
        cols[name] = np.where(miss, np.nan, val)
        if use_oi.any():
            _note(notes, index, use_oi & ~miss, name, "coverage uses operating income (the source has no EBIT)")
    _note(notes, index, use_oi & ~missing, "interest_coverage",
          "coverage uses operating income (the source has no EBIT)")


def _fcf_years(hist: pd.DataFrame, index: pd.Index, window: int) -> tuple[np.ndarray, dict]:
    notes: dict[tuple[str, str], str] = {}
    if not len(hist):
        return np.full(len(index), np.nan), notes
    h = hist.loc[hist["free_cash_flow"].notna(), ["symbol", "fiscal_year", "free_cash_flow"]]
    last = h.groupby("symbol")["fiscal_year"].transform("max")
    h = h[h["fiscal_year"] > last - window]
    grouped = h.assign(pos=h["free_cash_flow"] > 0).groupby("symbol")["pos"].agg(["sum", "count"])
    grouped = grouped.reindex(index)
    short = grouped["count"].notna() & (grouped["count"] < window)
    for sym, cnt in grouped.loc[short, "count"].items():
        notes[(str(sym), "fcf_positive_years")] = f"only {int(cnt)} of the last {window} fiscal years known"
    return grouped["sum"].to_numpy(dtype="float64", na_value=np.nan), notes


def _years_listed(sec: pd.DataFrame, as_of: date, n: int) -> np.ndarray:
    if "listing_date" not in sec:
        return np.full(n, np.nan)
    when = pd.to_datetime(sec["listing_date"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    days = (pd.Timestamp(as_of) - when).dt.days
    return (days / 365.25).to_numpy(dtype="float64", na_value=np.nan)


def _zombies(hist: pd.DataFrame, index: pd.Index, years_listed: np.ndarray, params: MetricParams,
             notes: dict[tuple[str, str], str]) -> tuple[np.ndarray, dict[str, list[tuple[int, float]]]]:
    n = len(index)
    if not len(hist):
        return np.full(n, np.nan), {}
    earn = hist["ebit"].fillna(hist["operating_income"])
    interest = hist["interest_expense"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(interest <= 0, np.inf, earn / interest)
    cov = np.where(earn.isna() | interest.isna(), np.nan, cov)
    h = pd.DataFrame({"symbol": hist["symbol"], "fy": hist["fiscal_year"].astype("int64"), "cov": cov,
                      "oi": (hist["ebit"].isna() & hist["operating_income"].notna()).to_numpy()})
    has_income = (earn.notna() | interest.notna()).to_numpy()
    h = h[has_income]
    last = h.groupby("symbol")["fy"].transform("max")
    h = h[h["fy"] > last - params.zombie_years]
    g = h.groupby("symbol")["cov"]
    known = g.count()
    below = h.assign(b=h["cov"] < 1).groupby("symbol")["b"].sum()
    clears = h.assign(c=h["cov"] >= 1).groupby("symbol")["c"].any()
    flag = pd.Series(np.nan, index=index)
    is_z = (below >= params.zombie_years).reindex(index, fill_value=False).to_numpy()
    not_z = clears.reindex(index, fill_value=False).to_numpy()
    vals = np.where(is_z, 1.0, np.where(not_z, 0.0, np.nan))
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
        notes[(str(index[int(k)]), "zombie")] = "; ".join(t for mask, t in texts if mask[k])
    flag[:] = vals
    years: dict[str, list[tuple[int, float]]] = {}
    for sym, fy, c in zip(h["symbol"], h["fy"], h["cov"], strict=False):
        years.setdefault(sym, []).append((int(fy), float(c)))
    return flag.to_numpy(dtype="float64"), years


def clean_returns(prices: pd.DataFrame, spike_threshold: float, clip: float) -> pd.DataFrame:
    """Weekly log returns robust to bad prints (README: one-day spikes, unadjusted prints).

    A daily close whose move in and out both exceed ``spike_threshold`` (log) in opposite
    directions and nearly cancel is dropped; weekly (Friday) closes then give log returns that
    are winsorised to +/- ``clip``.
    """
    p = prices.astype("float64")
    arr = p.to_numpy(copy=True)
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
    daily = pd.DataFrame(logp, index=p.index, columns=p.columns)
    weekly = daily.resample("W-FRI").last()
    ret = weekly.diff()
    # A gap (no bar) in a week leaves NaN there; the next week's diff spans it only via ffill.
    return ret.clip(lower=-clip, upper=clip)


def _rate_betas(prices: pd.DataFrame, market: pd.DataFrame, index: pd.Index, params: MetricParams,
                cancel_check: Callable[[], None]) -> dict[str, np.ndarray]:
    n = len(index)
    names = ("rate_beta", "rate_beta_t", "rate_beta_r2", "rate_beta_weeks", "iwm_beta")
    out = {k: np.full(n, np.nan) for k in names}
    if prices is None or prices.empty or market is None or not {"IWM", "yield_10y"} <= set(market):
        return out
    wanted = set(index)
    cols = [s for s in prices.columns if s in wanted]
    if not cols:
        return out
    m = market[["IWM", "yield_10y"]].astype("float64")
    m.index = pd.DatetimeIndex(m.index)
    end = min(pd.DatetimeIndex(prices.index).max(), m.dropna(how="all").index.max())
    wk_m = m.loc[:end].resample("W-FRI").last()
    mkt = np.log(wk_m["IWM"].where(wk_m["IWM"] > 0)).diff()
    dy = wk_m["yield_10y"].diff()
    start = end - pd.Timedelta(weeks=params.rate_beta_weeks + 2)
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
