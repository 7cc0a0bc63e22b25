"""What the metric stages share: the assumptions, the output columns and, per field, where its value
came from (period end, origin, the rule that makes it suspect, its stale limit).

``desktop.engine.metrics`` runs the stages; ``fundamentals`` and ``price_metrics`` are stages of
their own. A stage writes ``ctx.cols[field]`` (float64 per security) and, when it knows them,
``ctx.stat`` (states), ``ctx.ends`` / ``ctx.origin`` (dated values), ``ctx.suspect`` (rule ids) and
``ctx.inputs`` (fields whose stale or suspect state the value inherits, e.g. a P/E inherits its
market cap's).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.rules import MISSING, NOT_MEANINGFUL, OK
from desktop.engine.statements import Statements

DAYS_PER_MONTH = 30.44


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
        market_stale_days: the same limit for market values (price, market cap, rate betas,
            momentum, liquidity).
        ownership_stale_days: the same limit for holdings and short interest (issue #16).
        tax_rate: the tax rate of ``roic`` (the US statutory rate; sources give no normalised rate).
        liquidity_days: trading days averaged by ``avg_volume`` and ``avg_dollar_volume``.
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
    ownership_stale_days: int = 90
    tax_rate: float = 0.21
    liquidity_days: int = 63

    def __post_init__(self) -> None:
        if self.rate_beta_weeks < self.min_weeks or self.min_weeks < 52:
            raise ValueError("rate_beta_weeks must be >= min_weeks >= 52 (issue #5)")
        if not 0 < self.stale_months <= 120 or not 0 < self.market_stale_days <= 3650 \
                or not 0 < self.ownership_stale_days <= 3650:
            raise ValueError("stale limits must be positive (at most 10 years)")
        if not 0.0 <= self.floating_share_long_term <= 1.0:
            raise ValueError("floating_share_long_term must be between 0 and 1")
        if not 0.0 <= self.tax_rate < 1.0:
            raise ValueError("tax_rate must be at least 0 and below 1")
        if not 5 <= self.liquidity_days <= 260:
            raise ValueError("liquidity_days must be between 5 and 260 trading days")

    def stale_limit(self, freshness: str) -> int:
        """The stale limit in days of a field of this freshness (``Field.freshness``)."""
        if freshness == "market":
            return self.market_stale_days
        if freshness == "ownership":
            return self.ownership_stale_days
        return int(round(self.stale_months * DAYS_PER_MONTH))


class Context:
    """The output columns of every stage and, per field, the facts behind its state."""

    def __init__(self, index: pd.Index, as_of: pd.Timestamp | np.ndarray, params: MetricParams, sec: pd.DataFrame,
                 dates: dict[str, tuple[np.ndarray, np.ndarray]], explain: bool = True) -> None:
        """``as_of``: the snapshot's date, or one date per security (a panel of dates, ``pointintime``).
        ``explain`` False writes no notes, origins or zombie years: for a caller that reads only
        values and states (the backtest), which then skips their cost."""
        self.index, self.params, self.sec, self.explain = index, params, sec, explain
        self.n = len(index)
        self._as_of = as_of if isinstance(as_of, pd.Timestamp) else None
        # The as-of date of every row, as datetime64[ns] (0-d for one date): what ages are counted from.
        self.stamp = np.asarray(as_of.to_datetime64() if isinstance(as_of, pd.Timestamp) else as_of,
                                dtype="datetime64[ns]")
        self.notes: dict[tuple[str, str], str] = {}
        self.cols: dict[str, np.ndarray] = {}
        self.stat: dict[str, np.ndarray] = {}
        self.ends: dict[str, np.ndarray] = {}  # field -> datetime64 period end / as-of of the value
        self.origin: dict[str, np.ndarray] = {}  # field -> "simfin FY2024" ...
        self.suspect: dict[str, np.ndarray] = {}  # field -> sanity rule id ("" none)
        self.stale_days: dict[str, int | np.ndarray] = {}  # field -> its stale limit in days (per stock or one)
        self.inputs: dict[str, tuple[str, ...]] = {}  # field -> fields whose stale/suspect state it inherits
        self.twinned: dict[str, np.ndarray] = {}  # field -> where its reported twin stands in (inherits nothing)
        self.dates = dates  # reported field -> (as-of dates, sources) of the chosen observations

    @property
    def as_of(self) -> pd.Timestamp:
        """The one as-of date (the price stage reads the closes up to it; a panel has none)."""
        if self._as_of is None:
            raise TypeError("a panel of dates has no single as-of date: run the stage per date")
        return self._as_of

    def col(self, name: str) -> np.ndarray:
        return column(self.sec, name, self.n)

    def absorb(self, part: Context, rows: slice, keys: np.ndarray) -> None:
        """Take in what a stage wrote into ``part``, the context of this panel's ``rows`` (one date),
        whose securities are this panel's ``keys[rows]``."""
        n = self.n
        for mine, theirs, blank in ((self.cols, part.cols, np.nan), (self.stat, part.stat, MISSING),
                                    (self.ends, part.ends, np.datetime64("NaT", "ns")),
                                    (self.origin, part.origin, None), (self.suspect, part.suspect, ""),
                                    (self.twinned, part.twinned, False)):
            for fld, v in theirs.items():
                v = np.asarray(v)
                if fld not in mine:
                    mine[fld] = np.full(n, blank, dtype=v.dtype if v.dtype.kind in "fiMb" else object)
                mine[fld][rows] = v
        for fld, limit in part.stale_days.items():
            have = self.stale_days.get(fld)
            if not isinstance(have, np.ndarray):
                have = np.full(n, self.params.stale_limit("fundamental") if have is None else have, dtype="int64")
                self.stale_days[fld] = have
            have[rows] = limit
        self.inputs.update(part.inputs)
        mine_keys = keys[rows]
        pos = {s: i for i, s in enumerate(part.index)}
        self.notes.update({(mine_keys[pos[s]], fld): text for (s, fld), text in part.notes.items()})

    def note(self, mask: np.ndarray, fld: str, text: str) -> None:
        if self.explain and mask.any():
            self.notes.update(zip(((s, fld) for s in self.index[mask]), repeat(text), strict=False))

    def observed(self, fld: str) -> tuple[np.ndarray, np.ndarray]:
        """As-of dates and sources of a reported field's chosen observations (NaT / None when none)."""
        return self.dates.get(fld, (np.full(self.n, np.datetime64("NaT"), dtype="datetime64[ns]"),
                                    np.full(self.n, None, dtype=object)))

    def dated(self, fld: str, st: Statements, sel: np.ndarray, lines: tuple[str, ...],
              inputs: tuple[str, ...] = ()) -> None:
        """Record that ``fld`` comes from the statement rows ``sel`` (period, origin, suspect lines)
        and from the market fields ``inputs``."""
        self.ends[fld] = st.take_any("period_end", sel).astype("datetime64[ns]")
        self.origin[fld] = st.origin(sel) if self.explain else np.full(len(sel), None, dtype=object)
        self.suspect[fld] = st.suspect_reason(lines, sel)
        self.stale_days[fld] = self.params.stale_limit("fundamental")
        if inputs:
            self.inputs[fld] = inputs

    def ratio(self, name: str, num: np.ndarray, den: np.ndarray, nm: np.ndarray, nm_text: str) -> None:
        """``num / den`` with MISSING where an input is absent and NOT_MEANINGFUL where ``nm``."""
        missing = np.isnan(num) | np.isnan(den)
        nm = nm & ~missing
        self.cols[name] = np.where(missing | nm, np.nan, safe_div(num, den))
        self.stat[name] = np.where(nm, NOT_MEANINGFUL, np.where(missing, MISSING, OK)).astype("int8")
        self.note(nm, name, nm_text)

    def reported_twin(self, name: str, twin: str, *, when: np.ndarray | None = None, why: str = "") -> None:
        """Where ``name`` has no value (or where ``when``), the source-reported ``twin`` stands in,
        dated by its observation and said so in its origin and note."""
        rep = self.col(twin)
        state = self.stat.get(name, np.where(np.isnan(self.cols[name]), MISSING, OK))
        use = ((state == MISSING) if when is None else ((state == MISSING) | when)) & ~np.isnan(rep)
        if not use.any():
            return
        when_obs, src = self.observed(twin)
        self.cols[name] = np.where(use, rep, self.cols[name])
        self.stat[name] = np.where(use, OK, state).astype("int8")
        self.ends[name] = np.where(use, when_obs, self.ends.get(name, np.full(self.n, np.datetime64("NaT"))))
        origin = self.origin.get(name, np.full(self.n, None, dtype=object))
        if self.explain:
            self.origin[name] = np.where(use, np.array([f"{s} (reported figure)" for s in src], dtype=object), origin)
        self.suspect[name] = np.where(use, "", self.suspect.get(name, np.full(self.n, "", dtype=object)))
        own_limit = self.stale_days.get(name, self.params.stale_limit("fundamental"))
        self.stale_days[name] = np.where(use, self.params.stale_limit(catalog.get(twin).freshness), own_limit)
        self.note(use, name, why or f"as the source reports it ({twin}): no statement row gives it")
        self.twinned[name] = use


def column(sec: pd.DataFrame, name: str, n: int) -> np.ndarray:
    """A numeric ``securities`` column as float64 (NaN where absent)."""
    if name not in sec:
        return np.full(n, np.nan)
    return pd.to_numeric(sec[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def flag(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), np.nan, (x > 0).astype("float64"))


def have(st: Statements, *lines: str) -> np.ndarray:
    """Per statement row: every one of ``lines`` is known (a censored FCF or EBITDA counts)."""
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


def observation_dates(prov: pd.DataFrame, index: pd.Index,
                      fields: frozenset[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """field -> (as-of dates, sources) of the chosen observations of ``fields``, aligned with ``index``."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not len(prov) or "chosen" not in prov:
        return out
    chosen = prov[prov["chosen"].astype(bool) & prov["field"].isin(fields)]
    chosen = chosen.drop_duplicates(["symbol", "field"])
    pos = index.get_indexer(pd.Index(chosen["symbol"].astype(str)))
    when_all = chosen["as_of"].to_numpy(dtype="datetime64[ns]")
    src_all = chosen["source"].to_numpy(dtype=object)
    codes, names = pd.factorize(chosen["field"])
    n = len(index)
    for k, fld in enumerate(names):
        rows = np.flatnonzero((codes == k) & (pos >= 0))
        when = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        src = np.full(n, None, dtype=object)
        when[pos[rows]] = when_all[rows]
        src[pos[rows]] = src_all[rows]
        out[str(fld)] = (when, src)
    return out
