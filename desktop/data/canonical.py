"""Merge sources (and the previous snapshot) into one canonical :class:`Dataset`.

Precedence (documented for users in ``docs/data-sources.md``):

* Universe fields (``ticker``, ``index_weight``, ``index_sector``, ``exchange``) come only from
  the index provider (iShares). An iShares import *replaces* the membership: ``in_index`` is True
  exactly for its tradable members. Observations from other sources are kept.
* Market fields that go stale in days (``price``, ``market_cap``, ``enterprise_value``,
  ``shares_outstanding``, ``beta``): the **newest** as-of date wins; on the same date the source
  order yahoo > finviz > ishares decides.
* Every other field: a fixed source order, newest as-of first within a source, and a reported
  value before one we derived (:data:`ORDER`). Statement amounts: yahoo > simfin > finviz;
  profile text: yahoo > finviz > simfin > ishares; description: yahoo > simfin.
* Staleness beats source order: a candidate whose as-of date is more than :data:`STALE_AFTER`
  older than the newest candidate for the same (symbol, field) loses to every fresher one, so a
  company's last SimFin year 2020 never beats a 2025 Finviz figure.
* Each (symbol, field, source) keeps only its latest import: re-importing a source replaces its
  earlier observations (the older snapshot still has them). Every other candidate stays in
  ``provenance`` with ``chosen=False``, so a disagreement between sources is never lost.
* Once a universe exists, only its members are kept (securities, history, prices); before the
  first universe import every symbol is kept so that a later universe import can use it.
* History rows are replaced per (symbol, fiscal_year, source); price and market series are
  combined per date, the newer import winning on common dates.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from desktop.data.source import SourceData
from desktop.engine import catalog
from desktop.engine.dataset import (
    HISTORY_COLUMNS,
    KEY,
    PROVENANCE_COLUMNS,
    Dataset,
    empty_history,
    empty_provenance,
    empty_series_frame,
    history_frame,
)
from desktop.errors import InputError

UNIVERSE_SOURCE = "ishares"
UNIVERSE_FIELDS = ("ticker", "index_weight", "index_sector", "exchange")
NEWEST_FIRST = frozenset({"price", "market_cap", "enterprise_value", "shares_outstanding", "beta"})
_STATEMENT = ("yahoo", "simfin", "finviz")
_PROFILE = ("yahoo", "finviz", "simfin", "ishares")
ORDER: dict[str, tuple[str, ...]] = {
    **{f: (UNIVERSE_SOURCE,) for f in UNIVERSE_FIELDS},
    "name": _PROFILE,
    "sector": _PROFILE,
    "industry": _PROFILE,
    "description": ("yahoo", "simfin", "finviz"),
    "listing_date": ("yahoo",),
    **{f: ("yahoo", "finviz", "ishares") for f in NEWEST_FIRST},
    "current_ratio": ("yahoo", "finviz", "simfin"),
    "quick_ratio": ("yahoo", "finviz", "simfin"),
    "reported_debt_to_equity": ("yahoo", "finviz", "simfin"),
    "levered_free_cash_flow": ("yahoo",),
}
DEFAULT_ORDER = _STATEMENT  # revenue, ebitda, ebit, interest_expense, cash, debts, equity...
_LAST = 99
# About eighteen months: a fiscal year plus its filing delay. Older candidates are stale.
STALE_AFTER = pd.Timedelta(days=548)


def precedence(field: str) -> tuple[str, ...]:
    """Sources in the order they win for ``field`` (sources not listed lose to all listed)."""
    return ORDER.get(field, DEFAULT_ORDER)


def merge(previous: Dataset | None, sources: list[SourceData], as_of: date | None = None) -> Dataset:
    """Resolve the previous snapshot plus new sources into a new dataset (see module docstring).

    Args:
        previous: the latest snapshot's dataset, or None for a first import.
        sources: newly read sources, in import order (a later one wins ties).
        as_of: the new dataset's date; None means the universe file's date, else the previous
            snapshot's, else the newest source date.

    Raises:
        InputError: no as-of date can be determined.
    """
    universe = _universe(previous, sources)
    pool = _pool(previous, sources)
    if universe is not None:
        pool = pool[pool[KEY].isin(universe.index)]
    pool = _choose(pool)
    securities = _securities(pool, universe)
    keep = securities.index if universe is not None else None
    history = _history(previous, sources, keep)
    prices = _series(previous.prices if previous is not None else None, [s.prices for s in sources], keep)
    market = _series(previous.market if previous is not None else None, [s.market for s in sources], None)
    source_rows = tuple(previous.sources) if previous is not None else ()
    source_rows += tuple(
        {"source": s.source, "origin": s.origin, "as_of": s.as_of.isoformat() if s.as_of else None,
         "fetched_at": s.fetched_at.isoformat(timespec="seconds"), "rows": int(s.rows_read)}
        for s in sources
    )
    return Dataset(as_of=_as_of(as_of, previous, sources), securities=securities, history=history,
                   prices=prices, market=market, provenance=pool.reset_index(drop=True),
                   sources=source_rows)


def _as_of(as_of: date | None, previous: Dataset | None, sources: list[SourceData]) -> date:
    if as_of is not None:
        return as_of
    for s in reversed(sources):
        if s.source == UNIVERSE_SOURCE and s.as_of is not None:
            return s.as_of
    if previous is not None:
        return previous.as_of
    dates = [s.as_of for s in sources if s.as_of is not None]
    if dates:
        return max(dates)
    raise InputError("no as-of date: the files carry none", hint="Pass --as-of YYYY-MM-DD.")


def _universe(previous: Dataset | None, sources: list[SourceData]) -> pd.DataFrame | None:
    """The index members (index symbol): the last universe import, else the previous members."""
    for s in reversed(sources):
        if s.source == UNIVERSE_SOURCE and s.members is not None:
            return s.members
    if previous is not None and "in_index" in previous.securities and len(previous.members):
        return previous.members
    return None


def _pool(previous: Dataset | None, sources: list[SourceData]) -> pd.DataFrame:
    """All candidate observations: previous provenance minus what the new imports replace."""
    new_parts = []
    for s in sources:
        if s.observations is None or not len(s.observations):
            continue
        obs = s.observations.copy()
        obs["as_of"] = pd.to_datetime(obs["as_of"]).astype("datetime64[ns]")
        if s.as_of is not None:
            obs["as_of"] = obs["as_of"].fillna(pd.Timestamp(s.as_of))
        obs["source"] = s.source
        obs["origin"] = s.origin
        obs["fetched_at"] = pd.Timestamp(s.fetched_at)
        new_parts.append(obs)
    frames = []
    if new_parts:
        new = pd.concat(new_parts, ignore_index=True)
        # Within one import a later source replaces an earlier one's (symbol, field, source).
        new = new.drop_duplicates([KEY, "field", "source"], keep="last")
        frames.append(new)
    else:
        new = None
    if previous is not None and len(previous.provenance):
        old = previous.provenance
        if new is not None:
            replaced = pd.MultiIndex.from_frame(old[[KEY, "field", "source"]]).isin(
                pd.MultiIndex.from_frame(new[[KEY, "field", "source"]]))
            if any(s.source == UNIVERSE_SOURCE and s.members is not None for s in sources):
                replaced |= (old["source"] == UNIVERSE_SOURCE).to_numpy()
            old = old[~replaced]
        frames.insert(0, old)
    if not frames:
        return empty_provenance()
    pool = pd.concat([f[[c for c in PROVENANCE_COLUMNS if c in f.columns]] for f in frames], ignore_index=True)
    for col in PROVENANCE_COLUMNS:
        if col not in pool:
            pool[col] = None
    pool = pool[list(PROVENANCE_COLUMNS)]
    pool["value_num"] = pool["value_num"].astype("float64")
    pool["as_of"] = pd.to_datetime(pool["as_of"]).astype("datetime64[ns]")
    pool["fetched_at"] = pd.to_datetime(pool["fetched_at"]).astype("datetime64[ns]")
    pool["derived"] = pool["derived"].fillna(False).astype(bool)
    for col in ("symbol", "field", "value_text", "source", "origin", "period"):
        pool[col] = pool[col].astype(object)
    return pool


def _choose(pool: pd.DataFrame) -> pd.DataFrame:
    """Mark the winner of each (symbol, field) per the precedence rules."""
    pool = pool.reset_index(drop=True)
    if not len(pool):
        pool["chosen"] = pool["chosen"].astype(bool)
        return pool
    fields = pool["field"].to_numpy(dtype=object)
    srcs = pool["source"].to_numpy(dtype=object)
    rank = np.full(len(pool), _LAST, dtype="int64")
    for field in pd.unique(fields):
        mask = fields == field
        ranks = {s: i for i, s in enumerate(precedence(str(field)))}
        rank[mask] = [ranks.get(s, _LAST) for s in srcs[mask]]
    newest = np.isin(fields, list(NEWEST_FIRST))
    age = -pool["as_of"].fillna(pd.Timestamp("1900-01-01")).to_numpy(dtype="datetime64[ns]").astype("int64")
    fetched = -pool["fetched_at"].fillna(pd.Timestamp("1900-01-01")).to_numpy(dtype="datetime64[ns]").astype("int64")
    key1 = np.where(newest, age, rank)
    key2 = np.where(newest, rank, age)
    as_of = pool["as_of"]
    freshest = as_of.groupby([pool[KEY], pool["field"]], sort=False).transform("max")
    stale = (as_of < freshest - STALE_AFTER).to_numpy(dtype=bool).astype(int)
    order = np.lexsort((np.arange(len(pool))[::-1], fetched, pool["derived"].to_numpy(dtype=bool).astype(int),
                        key2, key1, stale, pool["field"].to_numpy(dtype=str), pool[KEY].to_numpy(dtype=str)))
    ordered = pool.iloc[order]
    winners = ordered.drop_duplicates([KEY, "field"], keep="first").index
    # A source not in the field's precedence list never wins (e.g. ishares' ticker is universe-only).
    chosen = np.zeros(len(pool), dtype=bool)
    chosen[winners] = True
    chosen &= (rank < _LAST) | ~np.isin(fields, list(ORDER))
    pool["chosen"] = chosen
    return pool


def _securities(pool: pd.DataFrame, universe: pd.DataFrame | None) -> pd.DataFrame:
    chosen = pool[pool["chosen"]]
    if universe is not None:
        index = pd.Index(universe.index.astype(object), name=KEY)
    else:
        index = pd.Index(pd.unique(chosen[KEY].to_numpy(dtype=object)), name=KEY)
    columns: dict[str, pd.Series] = {}
    known = {f.name: f for f in catalog.BASE_FIELDS}
    for field, part in chosen.groupby("field", sort=False):
        spec = known.get(str(field))
        numeric = spec.is_numeric if spec is not None else bool(part["value_num"].notna().any())
        values = part.set_index(KEY)["value_num" if numeric else "value_text"]
        col = values.reindex(index)
        columns[str(field)] = col.astype("float64") if numeric else col.astype(object)
    frame = pd.DataFrame(columns, index=index)
    if universe is not None:
        for name in ("ticker", "name", "index_sector", "exchange", "index_weight"):
            if name in universe and (name not in frame or frame[name].isna().all()):
                frame[name] = universe[name].reindex(index)
    frame["in_index"] = np.ones(len(index), dtype=bool) if universe is not None else np.zeros(len(index), dtype=bool)
    order = [f.name for f in catalog.BASE_FIELDS if f.name in frame.columns and f.name != KEY]
    rest = [c for c in frame.columns if c not in order]
    frame = frame[order + rest]
    frame.index.name = KEY
    return frame


def _history(previous: Dataset | None, sources: list[SourceData], keep: pd.Index | None) -> pd.DataFrame:
    parts = [previous.history] if previous is not None and len(previous.history) else []
    for s in sources:
        if s.history is not None and len(s.history):
            h = s.history.copy()
            if "source" not in h or h["source"].isna().all():
                h["source"] = s.source
            parts.append(h)
    if not parts:
        return empty_history()
    hist = pd.concat([p.reindex(columns=list(HISTORY_COLUMNS)) for p in parts], ignore_index=True)
    hist = hist.drop_duplicates(["symbol", "fiscal_year", "source"], keep="last")
    if keep is not None:
        hist = hist[hist["symbol"].isin(keep)]
    return history_frame(hist.sort_values(["symbol", "fiscal_year", "source"]).reset_index(drop=True))


def _series(old: pd.DataFrame | None, new: list[pd.DataFrame | None], keep: pd.Index | None) -> pd.DataFrame:
    out = old if old is not None and len(old.columns) else None
    for frame in new:
        if frame is None or not len(frame.columns):
            continue
        out = frame if out is None else frame.combine_first(out)
    if out is None:
        return empty_series_frame()
    if keep is not None:
        out = out[[c for c in out.columns if c in keep]]
    out = out.sort_index().astype("float64")
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out
