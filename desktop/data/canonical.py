"""Merge sources (and the previous snapshot) into one canonical :class:`Dataset`.

Precedence (documented for users in ``docs/data-sources.md``):

* Universe fields (``ticker``, ``index_weight``, ``index_sector``, ``exchange``) come only from
  the index provider (iShares). An iShares import *replaces* the membership: ``in_index`` is True
  exactly for its tradable members. Observations from other sources are kept.
* Market fields that go stale in days (``price``, ``market_cap``, ``enterprise_value``,
  ``shares_outstanding``, ``beta``): the **newest** as-of date wins; on the same date the source
  order yahoo > finviz > ishares decides.
* Vendor figures of issue #16 (multiples, margins, growth, ownership, momentum, analysts: the
  fields of ``catalog_source.REPORTED_TWINS`` and ``REPORTED_ONLY``) are trailing or point-in-time
  figures too: the newest as-of date wins, then yahoo > finviz.
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
* Statements (issue #12) are never picked field by field here: every source's statement lines
  become dated statement rows in ``history`` (one row per source and period; a vendor export's
  trailing figures are one "TTM" row dated by the file), and the engine chooses one row per value.
  Rows are replaced per (symbol, source, period_type, period_end, filed).
* Identity (issue #12, :mod:`desktop.data.identity`): a source's records for a member whose company
  name disagrees with the index name, or whose statements stopped years before the snapshot, are
  dropped and listed in the :class:`MergeReport` with both names. The CIK decides first (issue #14):
  a source whose CIK is the member's (the SEC's for the ticker) is attached whatever its name, one
  whose CIK differs is rejected, and a ticker whose SEC CIK changed is another company (the earlier
  SEC records under it are dropped).
* SEC statements come first (``engine.statements``); SEC master data (``cik``, ``sic``,
  ``sic_description``, ``former_names``) only from the SEC (``cik`` also from SimFin).
* Price, volume and market series are combined per date, the newer import winning on common dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import date

import numpy as np
import pandas as pd

from desktop.data import identity
from desktop.data.source import SourceData
from desktop.engine import catalog
from desktop.engine.catalog_source import REPORTED_ONLY, REPORTED_TWINS
from desktop.engine.dataset import (
    KEY,
    PROVENANCE_COLUMNS,
    STATEMENT_ROW_KEY,
    Dataset,
    empty_history,
    empty_provenance,
    empty_series_frame,
    history_frame,
)
from desktop.engine.statements import STATEMENT_FIELDS, statement_rows
from desktop.errors import InputError


@dataclass
class MergeReport:
    """What a merge decided that the user should hear about (the import summary lists it)."""

    rejections: list[identity.Rejection] = dc_field(default_factory=list)
    warnings: list[str] = dc_field(default_factory=list)

UNIVERSE_SOURCE = "ishares"
# Provenance rows remembering an identity rejection (value_text: the other company's name; as_of:
# the last date its records under the ticker describe), so that later imports apply it too.
REJECTED_FIELD = "identity_rejected"
UNIVERSE_FIELDS = ("ticker", "index_weight", "index_sector", "exchange")
MARKET_FIELDS = frozenset({"price", "market_cap", "enterprise_value", "shares_outstanding", "beta"})
VENDOR_FIGURES = frozenset(f.name for f in REPORTED_TWINS + REPORTED_ONLY)
NEWEST_FIRST = MARKET_FIELDS | VENDOR_FIGURES
_STATEMENT = ("yahoo", "simfin", "finviz")
_PROFILE = ("yahoo", "finviz", "simfin", "ishares")
SEC_SOURCE = "sec"
SEC_FIELDS = ("sic", "sic_description", "former_names")
ORDER: dict[str, tuple[str, ...]] = {
    **{f: (UNIVERSE_SOURCE,) for f in UNIVERSE_FIELDS},
    # SimFin's company file keeps names from before renames (MARA "Marathon Patent Group"): last.
    "name": ("yahoo", "finviz", SEC_SOURCE, "ishares", "simfin"),
    "cik": (SEC_SOURCE, "simfin"),
    **{f: (SEC_SOURCE,) for f in SEC_FIELDS},
    "sector": _PROFILE,
    "industry": _PROFILE,
    "description": ("yahoo", "simfin", "finviz"),
    "listing_date": ("yahoo",),
    **{f: ("yahoo", "finviz", "ishares") for f in MARKET_FIELDS},
    **{f: ("yahoo", "finviz") for f in VENDOR_FIGURES},
    # The SEC's cover-page share count (dei) fills in when no vendor has a newer one.
    "shares_outstanding": ("yahoo", "finviz", SEC_SOURCE, "ishares"),
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


def merge(previous: Dataset | None, sources: list[SourceData], as_of: date | None = None,
          report: MergeReport | None = None) -> Dataset:
    """Resolve the previous snapshot plus new sources into a new dataset (see module docstring).

    Args:
        previous: the latest snapshot's dataset, or None for a first import.
        sources: newly read sources, in import order (a later one wins ties).
        as_of: the new dataset's date; None means the universe file's date, else the previous
            snapshot's, else the newest source date.

        report: filled with identity rejections and warnings when given.

    Raises:
        InputError: no as-of date can be determined.
    """
    report = report if report is not None else MergeReport()
    universe = _universe(previous, sources)
    sources = [_split_statements(s) for s in sources]
    legacy = None
    if previous is not None and len(previous.provenance):
        # Snapshots before issue #12 kept statement lines as observations: make them rows.
        is_line = previous.provenance["field"].isin(STATEMENT_FIELDS)
        if is_line.any():
            legacy = statement_rows(previous.provenance[is_line])
            previous = replace(previous, provenance=previous.provenance[~is_line].reset_index(drop=True))
    previous, reassigned = _drop_reassigned_tickers(previous, sources)
    pool = _pool(previous, sources)
    if universe is not None:
        pool = pool[pool[KEY].isin(universe.index)]
    history = _history(previous, sources, universe.index if universe is not None else None, legacy)
    snapshot_as_of = _as_of(as_of, previous, sources)
    if universe is not None:
        pool, history = _check_identity(pool, history, universe, snapshot_as_of, report, reassigned)
    pool = _choose(pool)
    securities = _securities(pool, universe)
    keep = securities.index if universe is not None else None
    prices = _series(previous.prices if previous is not None else None, [s.prices for s in sources], keep)
    market = _series(previous.market if previous is not None else None, [s.market for s in sources], None)
    volumes = _series(previous.volumes if previous is not None else None, [s.volumes for s in sources], keep)
    source_rows = tuple(previous.sources) if previous is not None else ()
    source_rows += tuple(
        {"source": s.source, "origin": s.origin, "as_of": s.as_of.isoformat() if s.as_of else None,
         "fetched_at": s.fetched_at.isoformat(timespec="seconds"), "rows": int(s.rows_read)}
        for s in sources
    )
    _future_warnings(snapshot_as_of, history, prices, market, pool, report)
    return Dataset(as_of=snapshot_as_of, securities=securities, history=history,
                   prices=prices, market=market, provenance=pool.reset_index(drop=True), volumes=volumes,
                   sources=source_rows)


def _split_statements(s: SourceData) -> SourceData:
    """Move a source's statement-line observations into dated statement rows of its history."""
    obs = s.observations
    if obs is None or not len(obs) or not obs["field"].isin(STATEMENT_FIELDS).any():
        return s
    lines = obs[obs["field"].isin(STATEMENT_FIELDS)].copy()
    lines["as_of"] = pd.to_datetime(lines["as_of"]).astype("datetime64[ns]")
    if s.as_of is not None:
        lines["as_of"] = lines["as_of"].fillna(pd.Timestamp(s.as_of))
    lines["source"] = s.source
    if s.history is not None and len(s.history) and (lines["period"] == "FY").any():
        # A fiscal-year figure the source's own fiscal-year rows already hold is not a row again.
        have = pd.MultiIndex.from_frame(s.history[["symbol", "period_end"]].astype({"symbol": object}))
        dup = (lines["period"] == "FY").to_numpy() & pd.MultiIndex.from_arrays(
            [lines["symbol"].astype(object), lines["as_of"].dt.normalize()]).isin(have)
        lines = lines[~dup]
    rows = statement_rows(lines)
    parts = [p for p in (s.history, rows) if p is not None and len(p)]
    history = pd.concat(parts, ignore_index=True) if parts else s.history
    return replace(s, observations=obs[~obs["field"].isin(STATEMENT_FIELDS)].reset_index(drop=True),
                   history=history)


@dataclass(frozen=True)
class _Reassigned:
    """A ticker whose SEC CIK changed between the previous snapshot and this import (issue #14)."""

    symbol: str
    old_cik: str
    new_cik: str
    old_name: str
    last_end: pd.Timestamp | None  # the last period end of the dropped SEC rows


def _ciks(obs: pd.DataFrame | None) -> dict[str, str]:
    """symbol -> CIK of the ``cik`` observations in ``obs``."""
    if obs is None or not len(obs):
        return {}
    rows = obs[obs["field"] == "cik"]
    return {str(k): str(v) for k, v in zip(rows[KEY], rows["value_text"], strict=True) if isinstance(v, str)}


def _drop_reassigned_tickers(previous: Dataset | None, sources: list[SourceData],
                             ) -> tuple[Dataset | None, list[_Reassigned]]:
    """A ticker whose SEC CIK changed is another company: drop the previous SEC records under it."""
    if previous is None or not len(previous.provenance):
        return previous, []
    new = {k: v for s in sources if s.source == SEC_SOURCE for k, v in _ciks(s.observations).items()}
    old = _ciks(previous.provenance[previous.provenance["source"] == SEC_SOURCE])
    changed = {sym for sym, cik in new.items() if sym in old and identity.same_cik(old[sym], cik) is False}
    if not changed:
        return previous, []
    prov, hist = previous.provenance, previous.history
    names = prov[(prov["field"] == "name") & (prov["source"] == SEC_SOURCE)].set_index(KEY)["value_text"]
    gone_rows = hist[KEY].isin(changed).to_numpy() & (hist["source"] == SEC_SOURCE).to_numpy() if len(hist) \
        else np.zeros(0, dtype=bool)
    out = []
    for sym in sorted(changed):
        ends = hist.loc[gone_rows & (hist[KEY] == sym).to_numpy(), "period_end"] if len(hist) else pd.Series([])
        name = names.get(sym)
        out.append(_Reassigned(sym, old[sym], new[sym], name if isinstance(name, str) else f"CIK {old[sym]}",
                               ends.max() if len(ends) else None))
    gone_obs = prov[KEY].isin(changed).to_numpy() & (prov["source"] == SEC_SOURCE).to_numpy()
    return replace(previous, provenance=prov[~gone_obs].reset_index(drop=True),
                   history=hist[~gone_rows].reset_index(drop=True)), out


def _check_identity(pool: pd.DataFrame, history: pd.DataFrame, universe: pd.DataFrame, as_of: date,
                    report: MergeReport, reassigned: Sequence[_Reassigned] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop every record of a (member, source) that is another company's (see desktop.data.identity)."""
    # The index provider's own names: universe["name"] of a previous snapshot is the chosen name,
    # which may be a source's (and a source must not vouch for itself).
    index_names = pool[(pool["field"] == "name") & (pool["source"] == UNIVERSE_SOURCE)]
    member_names = index_names.drop_duplicates(KEY, keep="last").set_index(KEY)["value_text"]
    if "name" in universe:
        member_names = member_names.combine_first(universe["name"])
    names = pool[(pool["field"] == "name") & (pool["source"] != UNIVERSE_SOURCE)]
    named_sources: dict[str, set[str]] = {}
    rejected: dict[tuple[str, str], identity.Rejection] = {}
    source_names: dict[tuple[str, str], str] = {}
    for sym, src, text in zip(names[KEY], names["source"], names["value_text"], strict=True):
        named_sources.setdefault(str(sym), set()).add(str(src))
        member = member_names.get(sym)
        if not isinstance(member, str) or not isinstance(text, str):
            continue
        source_names[(str(sym), str(src))] = text
        agrees, why = identity.same_company(str(sym), member, text)
        if not agrees:
            rejected[(str(sym), str(src))] = identity.Rejection(str(sym), str(src), text, member, why)
    # The CIK decides where a source gives one (issue #14): the member's CIK is the SEC's for the
    # ticker (unless the SEC's record itself was rejected by name: an outdated ticker map).
    ciks = pool[pool["field"] == "cik"]
    sec = ciks[(ciks["source"] == SEC_SOURCE)
               & ~ciks[KEY].map(lambda s: (str(s), SEC_SOURCE) in rejected).astype(bool)]
    member_ciks = sec.drop_duplicates(KEY, keep="last").set_index(KEY)["value_text"]
    for sym, src, text in zip(ciks[KEY], ciks["source"], ciks["value_text"], strict=True):
        sym, src = str(sym), str(src)
        member_cik = member_ciks.get(sym)
        if src == SEC_SOURCE or not isinstance(member_cik, str) or not isinstance(text, str):
            continue
        same = identity.same_cik(member_cik, text)
        if same:
            rejected.pop((sym, src), None)
            named_sources.setdefault(sym, set()).add(src)  # identified: not judged by dates below
        elif same is False:
            member = member_names.get(sym)
            rejected[(sym, src)] = identity.Rejection(
                sym, src, source_names.get((sym, src), f"CIK {text}"), str(member if isinstance(member, str) else sym),
                f"CIK {text}, not the member's CIK {member_cik}")
    # A source without company names: reject what is dated while the ticker was another company's.
    # Rejections of earlier imports are remembered as REJECTED_FIELD rows (their records are gone).
    marks = pool["field"] == REJECTED_FIELD
    ends: dict[str, tuple[pd.Timestamp, identity.Rejection]] = {}
    for sym, src, text, when in zip(pool.loc[marks, KEY], pool.loc[marks, "source"], pool.loc[marks, "value_text"],
                                    pool.loc[marks, "as_of"], strict=True):
        if pd.notna(when):
            ends[str(sym)] = (when, identity.Rejection(str(sym), str(src), str(text),
                                                       str(member_names.get(sym, sym)), "an earlier import"))
    moved: list[tuple[str, identity.Rejection]] = []
    for r in reassigned:  # the SEC records under a reassigned ticker are already gone (previous snapshot)
        if r.symbol not in universe.index:
            continue
        rej = identity.Rejection(r.symbol, SEC_SOURCE, r.old_name, str(member_names.get(r.symbol, r.symbol)),
                                 f"the ticker moved from CIK {r.old_cik} to CIK {r.new_cik}")
        moved.append((r.symbol, rej))
        if r.last_end is not None and pd.notna(r.last_end) and (r.symbol not in ends or r.last_end > ends[r.symbol][0]):
            ends[r.symbol] = (r.last_end, rej)
    records, rows = pool[~marks], history
    # Latest dates per (symbol, source), computed once: the pool holds ~500,000 observations.
    row_end = rows.groupby([KEY, "source"])["period_end"].max() if len(rows) else pd.Series(dtype="datetime64[ns]")
    dated_obs = records[records["period"] != "static"].groupby([KEY, "source"])["as_of"].max()
    any_obs = records.groupby([KEY, "source"])["as_of"].max()
    for (sym, src), rej in rejected.items():
        # The last date the rejected company demonstrably held the ticker: its statements' end
        # (profile rows are dated by the file, not by the company, so they do not count).
        latest = max((d for d in (row_end.get((sym, src)), dated_obs.get((sym, src))) if d is not None and pd.notna(d)),
                     default=pd.NaT)
        if pd.notna(latest):
            if sym not in ends or latest > ends[sym][0]:
                ends[sym] = (latest, rej)
    # The first date the member's own company demonstrably held the ticker: the earliest accepted
    # company name (the index provider's included). Without one, a year after the other company's end.
    accepted = names[np.array([(str(k), str(s)) not in rejected
                               for k, s in zip(names[KEY], names["source"], strict=True)], dtype=bool)]
    owned_from = pd.concat([accepted[[KEY, "as_of"]], index_names[[KEY, "as_of"]]]).groupby(KEY)["as_of"].min()
    sources_of: dict[str, set[str]] = {}
    for sym, src in [*row_end.index, *any_obs.index]:
        sources_of.setdefault(str(sym), set()).add(str(src))
    for sym, (end, rej) in ends.items():
        first = owned_from.get(sym, pd.NaT)
        horizon = max(end, first) if pd.notna(first) else end + pd.Timedelta(days=365)
        for src in sources_of.get(sym, set()):
            if src == UNIVERSE_SOURCE or src in named_sources.get(sym, set()) or (sym, src) in rejected:
                continue
            dated = [d for d in (row_end.get((sym, src)), any_obs.get((sym, src))) if d is not None and pd.notna(d)]
            if dated and max(dated) < horizon:
                rejected[(sym, str(src))] = identity.Rejection(
                    sym, str(src), "(no company name)", rej.member_name,
                    f"dated {max(dated).date()}, while the ticker belonged to {rej.source_name}")
    report.rejections.extend(rej for _sym, rej in moved)
    if not rejected and not moved:
        return pool, history
    report.rejections.extend(rejected.values())
    named_ends = {sym: end for sym, (end, rej) in ends.items()}
    new_marks = pd.DataFrame([
        {KEY: sym, "field": REJECTED_FIELD, "value_num": np.nan, "value_text": rej.source_name, "source": rej.source,
         "origin": "identity check", "as_of": named_ends.get(sym, pd.NaT), "fetched_at": pd.Timestamp(as_of),
         "period": "static", "derived": True, "chosen": False}
        for sym, rej in [*((k[0], r) for k, r in rejected.items()), *moved] if rej.source_name != "(no company name)"])
    if rejected:
        keys = pd.MultiIndex.from_tuples(list(rejected))
        p_drop = pd.MultiIndex.from_frame(pool[[KEY, "source"]].astype(str)).isin(keys) & ~marks.to_numpy()
        h_drop = pd.MultiIndex.from_frame(history[[KEY, "source"]].astype(str)).isin(keys) if len(history) \
            else np.zeros(0, dtype=bool)
    else:
        p_drop, h_drop = np.zeros(len(pool), dtype=bool), np.zeros(len(history), dtype=bool)
    kept = pool[~p_drop]
    if len(new_marks):
        kept = pd.concat([kept, new_marks.astype({"as_of": "datetime64[ns]", "fetched_at": "datetime64[ns]"})],
                         ignore_index=True)
    return kept, history[~h_drop].reset_index(drop=True)


def _future_warnings(as_of: date, history: pd.DataFrame, prices: pd.DataFrame, market: pd.DataFrame,
                     pool: pd.DataFrame, report: MergeReport) -> None:
    """Say so when the snapshot holds data dated after its own as-of date (never used silently)."""
    snap = pd.Timestamp(as_of)
    checks = [("statements", history["period_end"] if len(history) else pd.Series(dtype="datetime64[ns]")),
              ("prices", pd.Series(prices.index)), ("market series", pd.Series(market.index)),
              ("observations", pool["as_of"] if len(pool) else pd.Series(dtype="datetime64[ns]"))]
    for what, dates in checks:
        late = dates[dates > snap + pd.Timedelta(days=1)]
        if len(late):
            report.warnings.append(
                f"{what} run to {late.max().date()}, after the snapshot's as-of date {as_of}: values dated "
                "after it are not used by the rate betas and are flagged suspect elsewhere")


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
    # Per distinct field and source, not per row: the pool holds ~500,000 observations.
    fcodes, fields = pd.factorize(pool["field"])
    scodes, srcs = pd.factorize(pool["source"])
    ranks = np.full((len(fields) + 1, len(srcs) + 1), _LAST, dtype="int64")  # code -1 (NaN): last row/col
    for i, field in enumerate(fields):
        order_of = {s: k for k, s in enumerate(precedence(str(field)))}
        ranks[i, :len(srcs)] = [order_of.get(s, _LAST) for s in srcs]
    rank = ranks[fcodes, scodes]
    newest = np.append(np.isin(np.asarray(fields, dtype=object), list(NEWEST_FIRST)), False)[fcodes]
    listed = np.append(np.isin(np.asarray(fields, dtype=object), list(ORDER)), False)[fcodes]
    age = -pool["as_of"].fillna(pd.Timestamp("1900-01-01")).to_numpy(dtype="datetime64[ns]").astype("int64")
    fetched = -pool["fetched_at"].fillna(pd.Timestamp("1900-01-01")).to_numpy(dtype="datetime64[ns]").astype("int64")
    key1 = np.where(newest, age, rank)
    key2 = np.where(newest, rank, age)
    as_of = pool["as_of"]
    freshest = as_of.groupby([pool[KEY], pool["field"]], sort=False).transform("max")
    stale = (as_of < freshest - STALE_AFTER).to_numpy(dtype=bool).astype(int)
    symbols = pd.factorize(pool[KEY])[0]  # any consistent grouping key will do: codes sort fastest
    order = np.lexsort((np.arange(len(pool))[::-1], fetched, pool["derived"].to_numpy(dtype=bool).astype(int),
                        key2, key1, stale, fcodes, symbols))
    ordered = pool.iloc[order]
    winners = ordered.drop_duplicates([KEY, "field"], keep="first").index
    # A source not in the field's precedence list never wins (e.g. ishares' ticker is universe-only).
    chosen = np.zeros(len(pool), dtype=bool)
    chosen[winners] = True
    chosen &= (rank < _LAST) | ~listed
    pool["chosen"] = chosen
    return pool


def _securities(pool: pd.DataFrame, universe: pd.DataFrame | None) -> pd.DataFrame:
    chosen = pool[pool["chosen"]]
    if universe is not None:
        index = pd.Index(universe.index.astype(object), name=KEY)
    else:
        index = pd.Index(pd.unique(chosen[KEY].to_numpy(dtype=object)), name=KEY)
    columns: dict[str, np.ndarray] = {}
    known = {f.name: f for f in catalog.BASE_FIELDS}
    chosen = chosen[chosen["field"] != REJECTED_FIELD]
    # One pass for every field (the winners are unique per symbol and field): positions, not groupbys.
    rows = index.get_indexer(pd.Index(chosen[KEY].to_numpy(dtype=object)))
    codes, fields = pd.factorize(chosen["field"])
    nums = chosen["value_num"].to_numpy(dtype="float64", na_value=np.nan)
    texts = chosen["value_text"].to_numpy(dtype=object)
    for k, field in enumerate(fields):
        at = np.flatnonzero((codes == k) & (rows >= 0))
        spec = known.get(str(field))
        numeric = spec.is_numeric if spec is not None else bool(np.isfinite(nums[codes == k]).any())
        col = np.full(len(index), np.nan) if numeric else np.full(len(index), np.nan, dtype=object)
        col[rows[at]] = (nums if numeric else texts)[at]
        columns[str(field)] = col
    frame = pd.DataFrame({k: pd.Series(v, index=index, dtype=v.dtype) for k, v in columns.items()}, index=index)
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


def _history(previous: Dataset | None, sources: list[SourceData], keep: pd.Index | None,
             legacy: pd.DataFrame | None = None) -> pd.DataFrame:
    parts = [previous.history] if previous is not None and len(previous.history) else []
    if legacy is not None and len(legacy):
        parts.append(legacy)
    for s in sources:
        if s.history is not None and len(s.history):
            h = s.history.copy()
            if "source" not in h or h["source"].isna().all():
                h["source"] = s.source
            parts.append(h)
    if not parts:
        return empty_history()
    hist = history_frame(pd.concat([history_frame(p) for p in parts], ignore_index=True))
    hist = hist.drop_duplicates(STATEMENT_ROW_KEY, keep="last")
    if keep is not None:
        hist = hist[hist["symbol"].isin(keep)]
    return history_frame(hist.sort_values(["symbol", "period_end", "source"]).reset_index(drop=True))


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
