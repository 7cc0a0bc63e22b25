"""Backtest a screen honestly (issue #15): point-in-time screening, periodic rebalancing, against IWM.

At each rebalance date the screen runs on what was known then (:mod:`desktop.engine.pointintime`:
statements by their filing date, prices up to the day, index members of the holdings file in force),
the passing stocks are bought at that day's close (equal weight, or market-cap weight) and held
untouched to the next rebalance. The same calendar gives two benchmarks: IWM, and the universe
itself equally weighted. Every assumption is stated with the result (:attr:`BacktestResult.assumptions`).

A compact numpy/pandas engine rather than a backtesting library, measured (docs/backtest.md): bt
(MIT) pulls in scipy, scikit-learn and matplotlib (~300 MB, ~1 s more start-up), does not know
point-in-time screening or our delisting rule, and the portfolio arithmetic here is ~80 lines.
vectorbt's licence forbids selling it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.dataset import Dataset
from desktop.engine.evaluate import FAIL, PASS, ScreenResult, evaluate, leaf_state
from desktop.engine.formatting import format_value
from desktop.engine.metrics import OK, MetricParams, StockTable, despiked_log
from desktop.engine.pointintime import SHARE_COUNT_RULE, PointInTime
from desktop.engine.rules import STATE_NAMES
from desktop.engine.screen import (
    Criterion,
    FlagCriterion,
    PercentileCriterion,
    Screen,
    SetCriterion,
    describe,
)
from desktop.engine.themes import ThemeTaxonomy
from desktop.errors import Cancelled, InputError

SCREEN, IWM, UNIVERSE = "Screen", "IWM", "Universe (equal weight)"
SERIES = (SCREEN, IWM, UNIVERSE)

# The result's statistics as the CLI and the dialog list them: (key, label, catalogue unit).
STAT_ROWS = (("total_return", "Total return", "fraction"), ("cagr", "CAGR", "fraction"),
             ("volatility", "Volatility (annualised)", "fraction"), ("sharpe", "Sharpe ratio", "number"),
             ("max_drawdown", "Maximum drawdown", "fraction"))
SUMMARY_ROWS = (("share_beating_iwm", "Periods beating IWM", "fraction"),
                ("share_beating_universe", "Periods beating the universe", "fraction"),
                ("average_holdings", "Average holdings", "count"),
                ("average_turnover", "Average turnover per rebalance (one-way)", "fraction"),
                ("annual_turnover", "Annual turnover", "fraction"),
                ("total_cost", "Costs paid (share of the portfolio, summed)", "fraction"),
                ("cash_periods", "Periods in cash", "count"), ("rebalances", "Rebalances", "count"))
TRADING_DAYS = 252
HOLDING_COLUMNS = ("date", "symbol", "name", "status", "weight", "period_return", "reason")
PERIOD_COLUMNS = ("start", "end", "members", "universe", "passed", "holdings", "turnover", "cost",
                  SCREEN, IWM, UNIVERSE)
EVENT_COLUMNS = ("date", "symbol", "event")

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BacktestSettings:
    """The run's choices (each stated in the result).

    Attributes:
        start: the first month with returns (its day is ignored): the portfolio is formed at the
            close of the last trading day before it.
        end: the last month with returns.
        rebalance: "monthly", or "quarterly" (three-month periods from ``start``; the last may be shorter).
        weight: "equal", or "cap" (market-cap weights).
        cost_bps: transaction cost in basis points of every dollar bought or sold.
        risk_free: annual risk-free rate for the Sharpe ratio (a fraction).
        max_price_age_days: a stock without a close in this many calendar days before a rebalance
            cannot be bought; a holding without one is sold at its last close.
        params: the metric assumptions.
    """

    start: date
    end: date
    rebalance: Literal["monthly", "quarterly"] = "monthly"
    weight: Literal["equal", "cap"] = "equal"
    cost_bps: float = 20.0
    risk_free: float = 0.0
    max_price_age_days: int = 7
    params: MetricParams = field(default_factory=MetricParams)

    def __post_init__(self) -> None:
        if (self.end.year, self.end.month) < (self.start.year, self.start.month):
            raise InputError(f"the backtest ends ({self.end:%Y-%m}) before it starts ({self.start:%Y-%m})",
                             field="to")
        if self.rebalance not in ("monthly", "quarterly"):
            raise InputError(f"rebalance must be monthly or quarterly, not {self.rebalance!r}", field="rebalance")
        if self.weight not in ("equal", "cap"):
            raise InputError(f"weight must be equal or cap, not {self.weight!r}", field="weight")
        if not (math.isfinite(self.cost_bps) and 0 <= self.cost_bps <= 1000):
            raise InputError("the cost must be between 0 and 1,000 basis points", field="cost_bps")
        if not (math.isfinite(self.risk_free) and -0.05 <= self.risk_free <= 0.5):
            raise InputError("the risk-free rate must be between -5 % and 50 % a year", field="risk_free")
        if not 1 <= self.max_price_age_days <= 60:
            raise InputError("the price age limit must be between 1 and 60 days", field="max_price_age_days")


@dataclass(frozen=True)
class Membership:
    """The index members of one holdings file: in force from ``as_of`` until the next file."""

    as_of: date
    symbols: frozenset[str]
    origin: str = ""


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Everything a backtest found, with what it assumed.

    Attributes:
        screen_name: the screen tested.
        settings: the run's choices.
        curves: growth of 1 per trading day (index ``date``), one column per series in :data:`SERIES`.
        drawdowns: the same shape: value / running peak - 1.
        periods: one row per holding period (index: its formation date), columns
            :data:`PERIOD_COLUMNS` (returns of each series over the period, turnover one-way).
        holdings: one row per stock and rebalance date (:data:`HOLDING_COLUMNS`): status "entered",
            "kept", "left" or "not held", the target weight, the stock's return to the next
            rebalance and the reason (the criteria with their values, as a screen explains them).
        stats: index :data:`SERIES`; total_return, cagr, volatility, sharpe, max_drawdown,
            max_drawdown_start, max_drawdown_end.
        summary: share_beating_iwm, share_beating_universe, average_holdings, average_turnover,
            annual_turnover, total_cost, cash_periods, rebalances.
        events: delisted or missing prices of holdings (:data:`EVENT_COLUMNS`).
        assumptions: every assumption, one sentence each.
        data_rules: each source and the date from which its values count.
        warnings: what limits the result most (survivorship first).
    """

    screen_name: str
    settings: BacktestSettings
    curves: pd.DataFrame
    drawdowns: pd.DataFrame
    periods: pd.DataFrame
    holdings: pd.DataFrame
    stats: pd.DataFrame
    summary: dict[str, float]
    events: pd.DataFrame
    assumptions: tuple[str, ...]
    data_rules: tuple[str, ...]
    warnings: tuple[str, ...]

    def holdings_at(self, when: pd.Timestamp) -> pd.DataFrame:
        """The holdings rows of the holding period that contains ``when`` (its formation date's)."""
        starts = self.periods.index
        k = int(starts.searchsorted(pd.Timestamp(when), side="right")) - 1
        if k < 0 or not len(starts):
            return self.holdings.iloc[0:0]
        return self.holdings[self.holdings["date"] == starts[max(k, 0)]]


@dataclass(frozen=True)
class Period:
    """One holding period: formed at the close of ``start``, valued to the close of ``end``."""

    start: pd.Timestamp
    end: pd.Timestamp


def calendar(days: pd.DatetimeIndex, settings: BacktestSettings) -> tuple[list[Period], list[str]]:
    """The holding periods on the trading ``days``, and what had to be adjusted to the data.

    Raises:
        InputError: the data has no trading day inside the range.
    """
    notes: list[str] = []
    if not len(days):
        raise InputError("the data has no daily closes: import a price file first", field="prices")
    first = pd.Timestamp(settings.start.year, settings.start.month, 1)
    last = pd.Timestamp(settings.end.year, settings.end.month, 1) + pd.offsets.MonthEnd(0)
    step = 1 if settings.rebalance == "monthly" else 3
    months = pd.date_range(first, last, freq="MS")
    bounds = [months[i] for i in range(0, len(months), step)] + [last + pd.Timedelta(days=1)]
    periods: list[Period] = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        before = days[days < lo]
        inside = days[(days >= lo) & (days < hi)]
        if not len(before) or not len(inside):
            continue
        periods.append(Period(before[-1], inside[-1]))
    if not periods:
        raise InputError(f"the daily closes ({days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}) do not cover "
                         f"{settings.start:%Y-%m} to {settings.end:%Y-%m}", field="from")
    if periods[0].start >= first:
        notes.append(f"The closes start on {days[0]:%Y-%m-%d}: the backtest starts with the period formed on "
                     f"{periods[0].start:%Y-%m-%d} instead of {settings.start:%Y-%m}.")
    if periods[-1].end < last - pd.Timedelta(days=7):
        notes.append(f"The closes end on {days[-1]:%Y-%m-%d}: the last period ends there.")
    return periods, notes


def members_at(memberships: Sequence[Membership], when: pd.Timestamp) -> tuple[Membership, bool]:
    """The holdings file in force at ``when`` (the latest on or before it) and True; when every file
    is later, the earliest one and False (its members stand in for the index: survivorship)."""
    ordered = sorted(memberships, key=lambda m: m.as_of)
    earlier = [m for m in ordered if pd.Timestamp(m.as_of) <= when]
    return (earlier[-1], True) if earlier else (ordered[0], False)


def run_backtest(screen: Screen, data: Dataset | PointInTime, memberships: Sequence[Membership],
                 settings: BacktestSettings, taxonomy: ThemeTaxonomy | None = None, progress: Progress | None = None,
                 is_cancelled: Callable[[], bool] | None = None) -> BacktestResult:
    """Backtest ``screen`` on ``data`` (the latest snapshot: statements with filing dates, the
    whole price history) with the index membership of ``memberships``.

    Args:
        screen: the screen.
        data: the dataset, or its :class:`PointInTime` prepared before (to reuse it; it was made
            with its own metric assumptions and themes, ``settings.params`` and ``taxonomy`` are
            then not used).
        memberships: one per holdings file; at least one.
        settings: the run's choices.
        taxonomy: themes for theme criteria.
        progress: ``progress(done, total, message)`` once per rebalance date.
        is_cancelled: polled once per rebalance date.

    Raises:
        InputError: no membership, no closes in the range.
        Cancelled: when ``is_cancelled()`` returned True.
    """
    if not memberships:
        raise InputError("no index holdings file: import one (iShares IWM holdings) before a backtest")
    pit = data if isinstance(data, PointInTime) else PointInTime(data, settings.params, taxonomy)
    periods, notes = calendar(pd.DatetimeIndex(pit.closes.index), settings)
    sim = _Simulation(pit, settings, periods)
    allowed = _static_pass(screen, pit)
    known = set(pit.symbols)
    survivorship_dates = 0
    plans: list[_Plan] = []
    for period in periods:
        membership, in_force = members_at(memberships, period.start)
        survivorship_dates += not in_force
        members = [s for s in sorted(membership.symbols) if s in known]
        closes = pit.last_closes(period.start, settings.max_price_age_days)
        priced = set(closes.index)
        universe = sim.tradable([s for s in members if s in priced], period.start)
        candidates = universe if allowed is None else [s for s in universe if s in allowed]
        plans.append(_Plan(period, members, universe, candidates, closes))
    book = _Book(screen)
    fields = screen_fields(screen)
    ranking = _ranking(screen)
    done = 0
    for chunk in _chunks(plans):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        tables = pit.tables_at([p.period.start for p in chunk], [p.candidates for p in chunk],
                               [p.closes for p in chunk], fields, explain=False,
                               progress=_chunk_progress(progress, done, len(chunk), len(periods), chunk),
                               is_cancelled=is_cancelled)
        for plan, table in zip(chunk, tables, strict=True):
            result = evaluate(ranking, table, near_misses=False)
            targets, skipped = _targets(result, table, settings.weight)
            book.record(plan.period, table, result, targets, skipped, set(plan.members), set(plan.universe), sim)
            sim.rebalance(plan.period, targets, plan.universe, book)
        done += len(chunk)
    if progress is not None:
        progress(len(periods), len(periods), "Backtest done")
    return _result(screen, pit, settings, periods, sim, book, notes, survivorship_dates, memberships)


@dataclass(frozen=True, eq=False)
class _Plan:
    """One rebalance date's index members, tradable universe and the stocks to screen."""

    period: Period
    members: list[str]
    universe: list[str]
    candidates: list[str]
    closes: pd.DataFrame


# Stocks x dates screened in one panel (pointintime.tables_at): fewer panels pay the stages' fixed
# cost fewer times, smaller ones bound the memory (~4 kB per row) and give progress and cancel.
PANEL_ROWS = 25_000


def _chunk_progress(progress: Progress | None, done: int, size: int, total: int,
                    chunk: list[_Plan]) -> Progress | None:
    """The stages' progress through one panel as rebalance dates done of ``total``."""
    if progress is None:
        return None
    span = f"{chunk[0].period.start:%Y-%m-%d} to {chunk[-1].period.start:%Y-%m-%d}"

    def report(step: int, steps: int, message: str) -> None:
        progress(done + size * step // max(steps, 1), total, f"Screening {span}: {message.lower()}")

    return report


def _chunks(plans: list[_Plan]) -> list[list[_Plan]]:
    out: list[list[_Plan]] = []
    rows = 0
    for plan in plans:
        if not out or rows + len(plan.candidates) > PANEL_ROWS:
            out.append([])
            rows = 0
        out[-1].append(plan)
        rows += len(plan.candidates)
    return out


def screen_fields(screen: Screen) -> frozenset[str] | None:
    """The fields a backtest of ``screen`` reads (None: all of them): its criteria, its sort (or
    its score when it has no sort), the inputs of its formulas, and the market cap of cap weights.
    Its display columns are not read: a backtest shows the criteria's values."""
    fields = {*screen.fields(), *(k.field for k in screen.sort), "market_cap"}
    ranking = _ranking(screen)
    if ranking.score is not None:
        fields.update(f for f, _ in ranking.score.weights)
    for f in screen.formulas:
        if f.parsed is None:
            return None
        fields.update(f.parsed.fields)
    return frozenset(fields)


def _ranking(screen: Screen) -> Screen:
    """The screen as the backtest evaluates it: a score only ranks when there is no sort, and the
    backtest reads the passing stocks in rank order, nothing else of the ranking."""
    return replace(screen, score=None) if screen.sort and screen.score is not None else screen


def _static_pass(screen: Screen, pit: PointInTime) -> set[str] | None:
    """Stocks that the screen's top-level profile criteria let through, or None when it cannot say.

    Profile fields have no history, so a top-level criterion on one that does not pass today did
    not pass at any date: those stocks are not computed at all (only for an "all" screen with no
    percentile criterion, whose result does not depend on who else is in the universe).
    """
    leaves = screen.leaves()
    if screen.root.op != "all" or any(isinstance(c, PercentileCriterion) for c in leaves):
        return None
    profile = {"themes", *pit.static_columns}
    static = [c for c in screen.root.children
              if isinstance(c, SetCriterion | FlagCriterion) and c.field in profile]
    if not static:
        return None
    table = pit.static_table()
    passed = np.ones(len(table.values), dtype=bool)
    for c in static:
        passed &= leaf_state(table, c, "all", None) == PASS
    return set(table.values.index[passed])


def _targets(result: ScreenResult, table: StockTable, weight: str) -> tuple[dict[str, float], list[str]]:
    """Target weights of the passing stocks, and those left out (no market cap for cap weights)."""
    passed = list(result.ranked.index)
    if not passed:
        return {}, []
    if weight == "equal":
        return {s: 1.0 / len(passed) for s in passed}, []
    cap = table.values["market_cap"].reindex(passed).to_numpy(dtype="float64", na_value=np.nan)
    usable = np.isfinite(cap) & (cap > 0)
    total = cap[usable].sum()
    targets = {s: float(c / total) for s, c, ok in zip(passed, cap, usable, strict=True) if ok}
    return targets, [s for s, ok in zip(passed, usable, strict=True) if not ok]


class _Simulation:
    """Three portfolios (the screen, the equal-weighted universe, IWM) on one trading calendar.

    Prices are the closes with bad prints repaired (``despiked_log``) and carried forward: a stock
    without a new close keeps its last one, which is how a delisted holding turns into cash.
    """

    def __init__(self, pit: PointInTime, settings: BacktestSettings, periods: list[Period]) -> None:
        # Only the backtest's days (and a month before, for the bad-print test of the first days).
        closes = pit.closes.loc[periods[0].start - pd.Timedelta(days=31):periods[-1].end]
        self.days = pd.DatetimeIndex(closes.index)
        self._day_ns = self.days.to_numpy(dtype="datetime64[ns]")
        self._row_of = {day: k for k, day in enumerate(self.days)}
        repaired = np.exp(despiked_log(closes.to_numpy(dtype="float64", na_value=np.nan),
                                       settings.params.spike_threshold))
        valid = ~np.isnan(closes.to_numpy(dtype="float64", na_value=np.nan))
        # Per day and column: the row of the last close on or before it (-1: none yet).
        self._last_valid = np.maximum.accumulate(np.where(valid, np.arange(len(valid))[:, None], -1), axis=0)
        self.prices = pd.DataFrame(repaired).ffill().to_numpy()
        self.column = {str(c): j for j, c in enumerate(closes.columns)}
        self._columns = pd.Index(list(self.column), dtype=object)
        self.cost = settings.cost_bps / 10_000.0
        self.max_age = pd.Timedelta(days=settings.max_price_age_days)
        iwm = pit.market["IWM"] if "IWM" in pit.market else pd.Series(dtype="float64")
        iwm = iwm.where(iwm > 0).dropna()
        self.iwm = iwm.reindex(self.days.union(pd.DatetimeIndex(iwm.index))).ffill().reindex(self.days) \
            if len(iwm) else None
        self.values: dict[str, list[pd.Series]] = {SCREEN: [], UNIVERSE: []}
        self.state = {SCREEN: _Holdings(len(self.column)), UNIVERSE: _Holdings(len(self.column))}
        self.turnover: list[float] = []
        self.costs: list[float] = []

    def row(self, when: pd.Timestamp) -> int:
        """The row of the first trading day on or after ``when``."""
        hit = self._row_of.get(when)
        return hit if hit is not None else int(np.searchsorted(self._day_ns, np.datetime64(when, "ns")))

    def tradable(self, symbols: list[str], when: pd.Timestamp) -> list[str]:
        """The ``symbols`` with a price to trade at on ``when``."""
        prices = self.prices[self.row(when)]
        j = self._columns.get_indexer(pd.Index(symbols, dtype=object))
        ok = (j >= 0) & np.isfinite(prices[np.maximum(j, 0)])
        return [s for s, keep in zip(symbols, ok.tolist(), strict=True) if keep]

    def last_close(self, symbol: str, until: pd.Timestamp) -> pd.Timestamp | None:
        """The day of the symbol's last close on or before ``until``."""
        j = self.column.get(symbol)
        if j is None:
            return None
        row = self._last_valid[self.row(until), j]
        return self.days[row] if row >= 0 else None

    def rebalance(self, period: Period, targets: dict[str, float], universe: list[str], book: _Book) -> None:
        equal = self.tradable(universe, period.start)
        plans = {SCREEN: targets, UNIVERSE: {s: 1.0 / len(equal) for s in equal} if equal else {}}
        for name, weights in plans.items():
            turnover, cost = self._trade(name, period, weights)
            if name == SCREEN:
                self.turnover.append(turnover)
                self.costs.append(cost)
        book.check_prices(period, self)

    def _trade(self, name: str, period: Period, weights: dict[str, float]) -> tuple[float, float]:
        """Trade ``name`` to ``weights`` at the close of ``period.start``; value it to ``period.end``.
        Returns (one-way turnover, cost as a share of the value before trading)."""
        held = self.state[name]
        r0, r1 = self.row(period.start), self.row(period.end)
        p0 = self.prices[r0]
        value = held.value(p0)
        cols = np.array([self.column[s] for s in weights], dtype=np.int64)
        target = np.zeros(len(p0))
        target[cols] = np.fromiter(weights.values(), dtype="float64", count=len(cols))
        traded = float(np.abs(target - held.weights(p0, value)).sum())
        cost = value * traded * self.cost
        invested = value - cost
        held.shares = np.zeros(len(p0))
        held.shares[cols] = invested * target[cols] / p0[cols]
        held.cash = invested * (1.0 - float(target.sum()))
        block = self.prices[r0 + 1:r1 + 1][:, cols]
        daily = held.cash + block @ held.shares[cols]
        if not self.values[name]:  # the curve starts at the first formation, worth 1
            self.values[name].append(pd.Series([value], index=self.days[r0:r0 + 1]))
        self.values[name].append(pd.Series(daily, index=self.days[r0 + 1:r1 + 1]))
        return traded / 2.0, (cost / value if value > 0 else 0.0)

    def curves(self) -> pd.DataFrame:
        out = {name: pd.concat(parts) for name, parts in self.values.items()}
        frame = pd.DataFrame(out)
        if self.iwm is not None:
            iwm = self.iwm.reindex(frame.index)
            frame[IWM] = iwm / iwm.iloc[0]
        else:
            frame[IWM] = np.nan
        frame.index.name = "date"
        return frame[list(SERIES)]


class _Holdings:
    """Shares per price column and cash; a new portfolio is all cash, worth 1."""

    def __init__(self, columns: int) -> None:
        self.shares = np.zeros(columns)
        self.cash = 1.0

    def value(self, prices: np.ndarray) -> float:
        held = np.flatnonzero(self.shares)  # a column never held may have no price yet (NaN)
        return self.cash + float(self.shares[held] @ prices[held])

    def weights(self, prices: np.ndarray, value: float) -> np.ndarray:
        """Each column's share of ``value`` (zeros when the portfolio is worth nothing)."""
        out = np.zeros(len(prices))
        held = np.flatnonzero(self.shares)
        if value > 0:
            out[held] = self.shares[held] * prices[held] / value
        return out


class _Book:
    """The per-rebalance record: holdings with what entered and left and why, and price events."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.leaves = screen.leaves()
        self.rows: list[dict[str, object]] = []
        self.periods: list[dict[str, object]] = []
        self.events: list[dict[str, object]] = []
        self.previous: dict[str, float] = {}
        self.names: dict[str, str] = {}

    def record(self, period: Period, table: StockTable, result: ScreenResult, targets: dict[str, float],
               skipped: list[str], members: set[str], universe: set[str], sim: _Simulation) -> None:
        values = table.values
        explain = _Explainer(self.leaves, table, result)
        if "name" in values:
            names = values["name"]
            for s in targets:
                n = names.get(s)
                if isinstance(n, str):
                    self.names[s] = n
        for s, w in targets.items():
            status = "kept" if s in self.previous else "entered"
            self._row(period, s, status, w, explain.why(s, passed=True), sim)
        for s in skipped:
            self._row(period, s, "not held", 0.0, "passes, but has no market cap: left out of the cap-weighted "
                      "portfolio", sim)
        for s in sorted(set(self.previous) - set(targets)):
            if s not in members:
                why = "no longer an index member (holdings file in force at this date)"
            elif s not in universe:
                last = sim.last_close(s, period.start)
                why = (f"no close since {last:%Y-%m-%d}: sold at that close" if last is not None
                       else "no close: sold at its last price")
            elif s in explain.row:
                why = explain.why(s, passed=False)
            else:
                why = "fails a profile criterion"
            self._row(period, s, "left", 0.0, why, sim)
        self.periods.append({"start": period.start, "end": period.end, "members": len(members),
                             "universe": len(universe), "passed": len(result.ranked), "holdings": len(targets)})
        self.previous = dict(targets)

    def _row(self, period: Period, symbol: str, status: str, weight: float, why: str, sim: _Simulation) -> None:
        j = sim.column.get(symbol)
        ret = np.nan
        if j is not None and status in ("entered", "kept"):
            p0, p1 = sim.prices[sim.row(period.start), j], sim.prices[sim.row(period.end), j]
            ret = float(p1 / p0 - 1.0)
        self.rows.append({"date": period.start, "symbol": symbol, "name": self.names.get(symbol, ""),
                          "status": status, "weight": weight, "period_return": ret, "reason": why})

    def check_prices(self, period: Period, sim: _Simulation) -> None:
        """Events for holdings that stopped trading during the period."""
        limit = period.end - sim.max_age
        for s in self.previous:
            last = sim.last_close(s, period.end)
            if last is None or last < limit:
                when = "no close" if last is None else f"no close after {last:%Y-%m-%d}"
                self.events.append({"date": period.end, "symbol": s,
                                    "event": f"{when}: held at its last close (cash) until {period.end:%Y-%m-%d}"})


class _Explainer:
    """Why each stock of one rebalance date passes or not: its criteria, states and values."""

    def __init__(self, leaves: list[Criterion], table: StockTable, result: ScreenResult) -> None:
        self.leaves = leaves
        self.row = {s: i for i, s in enumerate(table.values.index.tolist())}
        self.state_row = {s: i for i, s in enumerate(result.states.index.tolist())}
        self.states = {c.id: result.states[c.id].to_numpy() for c in leaves}
        self.columns: dict[str, tuple[np.ndarray, np.ndarray | None, str]] = {}
        for c in leaves:
            if c.field in table.values and c.field not in self.columns:
                status = table.status[c.field].to_numpy() if c.field in table.status else None
                self.columns[c.field] = (table.values[c.field].to_numpy(dtype=object), status,
                                         catalog.get(c.field).unit)

    def why(self, symbol: str, passed: bool) -> str:
        """Each criterion with its mark (✓ passes, ✗ fails, ? unknown) and, after "→", the value the
        screen saw; for a stock that does not pass, only the criteria it does not pass."""
        at = self.state_row.get(symbol, -1)
        parts = []
        for c in self.leaves:
            state = int(self.states[c.id][at]) if at >= 0 else FAIL
            if not passed and state == PASS:
                continue
            mark = {PASS: "✓", FAIL: "✗"}.get(state, "?")
            parts.append(f"{mark} {describe(c)} → {self.value_text(symbol, c.field)}")
        return "; ".join(parts) if parts else ("passes (no criteria)" if passed else "no longer passes")

    def value_text(self, symbol: str, field_name: str) -> str:
        column = self.columns.get(field_name)
        row = self.row.get(symbol, -1)
        if column is None or row < 0:
            return "missing"
        values, status, unit = column
        state = int(status[row]) if status is not None else OK
        text = format_value(values[row], unit, state if state <= 2 else OK)
        return text + (f" ({STATE_NAMES[state]})" if state > 2 else "")


def _series_stats(curve: pd.Series, risk_free: float) -> dict[str, object]:
    v = curve.dropna()
    if len(v) < 2 or not v.iloc[0] > 0:
        return {k: np.nan for k in ("total_return", "cagr", "volatility", "sharpe", "max_drawdown")} | \
            {"max_drawdown_start": pd.NaT, "max_drawdown_end": pd.NaT}
    years = (v.index[-1] - v.index[0]).days / 365.25
    total = float(v.iloc[-1] / v.iloc[0])
    daily = v.pct_change().dropna()
    vol = float(daily.std(ddof=1) * math.sqrt(TRADING_DAYS)) if len(daily) > 1 else np.nan
    excess = daily - risk_free / TRADING_DAYS
    sd = float(excess.std(ddof=1)) if len(excess) > 1 else np.nan
    dd = v / v.cummax() - 1.0
    trough = dd.idxmin()
    peak = v.loc[:trough].idxmax()
    return {"total_return": total - 1.0, "cagr": total ** (1.0 / years) - 1.0 if years > 0 else np.nan,
            "volatility": vol, "sharpe": float(excess.mean() / sd * math.sqrt(TRADING_DAYS)) if sd and sd > 0 else np.nan,
            "max_drawdown": float(dd.min()), "max_drawdown_start": peak, "max_drawdown_end": trough}


def _result(screen: Screen, pit: PointInTime, settings: BacktestSettings, periods: list[Period], sim: _Simulation,
            book: _Book, notes: list[str], survivorship_dates: int,
            memberships: Sequence[Membership]) -> BacktestResult:
    curves = sim.curves()
    drawdowns = curves / curves.cummax() - 1.0
    frame = pd.DataFrame(book.periods).set_index("start", drop=False)
    frame.index.name = "date"
    frame["turnover"] = sim.turnover
    frame["cost"] = sim.costs
    for name in SERIES:
        col = curves[name]
        frame[name] = [float(col.get(p.end, np.nan) / col.get(p.start, np.nan) - 1.0) for p in periods]
    frame = frame[list(PERIOD_COLUMNS)]
    stats = pd.DataFrame.from_records([_series_stats(curves[name], settings.risk_free) for name in SERIES],
                                      index=pd.Index(SERIES, name="series"))
    for when in ("max_drawdown_start", "max_drawdown_end"):
        stats[when] = pd.to_datetime(stats[when])
    known = frame[IWM].notna()
    per_year = 12 if settings.rebalance == "monthly" else 4
    later = frame["turnover"].iloc[1:]
    summary = {
        "share_beating_iwm": float((frame.loc[known, SCREEN] > frame.loc[known, IWM]).mean()) if known.any() else np.nan,
        "share_beating_universe": float((frame[SCREEN] > frame[UNIVERSE]).mean()) if len(frame) else np.nan,
        "average_holdings": float(frame["holdings"].mean()) if len(frame) else np.nan,
        "average_turnover": float(later.mean()) if len(later) else np.nan,
        "annual_turnover": float(later.mean() * per_year) if len(later) else np.nan,
        "total_cost": float(frame["cost"].sum()),
        "cash_periods": int((frame["holdings"] == 0).sum()),
        "rebalances": len(frame),
    }
    holdings = pd.DataFrame(book.rows, columns=list(HOLDING_COLUMNS))
    events = pd.DataFrame(book.events, columns=list(EVENT_COLUMNS))
    warnings = _warnings(memberships, survivorship_dates, len(periods), summary, sim) + notes
    return BacktestResult(screen.name, settings, curves, drawdowns, frame, holdings, stats, summary,
                          events, _assumptions(settings), _data_rules(pit, memberships, sim), tuple(warnings))


def _warnings(memberships: Sequence[Membership], survivorship_dates: int, n: int, summary: dict[str, float],
              sim: _Simulation) -> list[str]:
    out = []
    if survivorship_dates:
        first = min(m.as_of for m in memberships)
        files = "only one holdings file" if len(memberships) == 1 else f"no holdings file before {first:%Y-%m-%d}"
        out.append(f"SURVIVORSHIP BIAS: today's members. There is {files} (as of {first:%Y-%m-%d}), so at "
                   f"{survivorship_dates} of {n} rebalance dates the universe is that file's members: companies "
                   "that left the index since (acquired, delisted, fallen out) are missing, and the screen is "
                   "tested on survivors. Import older holdings files to fix it.")
    if sim.iwm is None:
        out.append("IWM is not in the market data: there is no IWM benchmark.")
    if summary["cash_periods"]:
        out.append(f"{summary['cash_periods']} of {n} periods had no stock passing the screen: the portfolio "
                   "held cash then.")
    return out


def _assumptions(s: BacktestSettings) -> tuple[str, ...]:
    every = "month" if s.rebalance == "monthly" else "three months"
    weights = ("equal weights" if s.weight == "equal" else
               "market-cap weights (close then x share count); a passing stock without a market cap is left out")
    return (
        f"Rebalanced every {every}: the portfolio is formed at the close of the last trading day before each "
        "period and held untouched to the next rebalance (weights drift with prices).",
        f"Every stock that passes the screen is bought, with {weights}; none passes: the portfolio holds cash.",
        "The screen sees at each rebalance date only what was known then (see the data rules); the universe "
        f"is the index members then with a close in the last {s.max_price_age_days} days.",
        "Trades fill at the rebalance day's close, in full, with no market impact.",
        f"Costs: {s.cost_bps:g} basis points of every dollar bought or sold, taken from the portfolio at each "
        "rebalance (the first purchase included). The equal-weighted universe pays the same; IWM pays none "
        "(its fees are in its price).",
        "Closes are split- and dividend-adjusted as the price file gives them (dividends reinvested, also "
        "for IWM); a one-day spike that reverts the next day is a bad print and the previous close stands in.",
        "A holding without a close (halted, delisted, missing data) keeps its last close: from then on it is "
        "cash, sold at that close at the next rebalance. Cash earns nothing.",
        "CAGR over calendar days; volatility = standard deviation of daily returns x sqrt(252); Sharpe = mean "
        f"daily excess return / its standard deviation x sqrt(252), risk-free rate {s.risk_free * 100:.2f} % a year; "
        "maximum drawdown on daily values; turnover one-way (half of all buys and sells).",
        f"Rate betas at each date use the {s.params.rate_beta_weeks} weekly returns up to it (at least "
        f"{s.params.min_weeks}).",
        SHARE_COUNT_RULE,
        "Profile fields (name, sector, industry, business description) and so themes are today's: a company "
        "tagged AI today is tagged AI in every year.",
        "Statement figures are the versions the data holds: a vendor that restates (SimFin) keeps the first "
        "publication date, so a restated figure counts as if published then.",
    )


def _data_rules(pit: PointInTime, memberships: Sequence[Membership], sim: _Simulation) -> tuple[str, ...]:
    out = []
    rows = pit.known_from()
    for source, part in rows.groupby("source", sort=True):
        filed = int(part["filed"].sum())
        if filed == len(part):
            out.append(f"{source}: {len(part):,} statement rows, each counted from its filing or publication date.")
        elif filed == 0:
            day = pd.Timestamp(part["known"].max())
            out.append(f"{source}: {len(part):,} statement rows with no filing date (vendor figures as of a day), "
                       f"each usable only from its own as-of date (latest {day:%Y-%m-%d}).")
        else:
            out.append(f"{source}: {len(part):,} statement rows, {filed:,} counted from their filing date, the rest "
                       "from their period end.")
    for src in pit.sources:
        if src.get("source") in ("yahoo", "finviz"):
            name = str(src.get("origin") or "").replace("\\", "/").rsplit("/", 1)[-1]
            out.append(f"{src.get('source')} file as of {src.get('as_of')} ({name}): its reported values (ratios, "
                       "beta, share count excepted) count from that date only; its profile text at every date.")
    if len(sim.days):
        out.append(f"prices: daily closes {sim.days[0]:%Y-%m-%d} to {sim.days[-1]:%Y-%m-%d}; at each date only "
                   "the closes up to it.")
    for m in sorted(memberships, key=lambda m: m.as_of):
        out.append(f"index members: holdings file as of {m.as_of:%Y-%m-%d} ({len(m.symbols):,} members"
                   f"{', ' + m.origin if m.origin else ''}), in force from that date until the next file.")
    return tuple(out)
