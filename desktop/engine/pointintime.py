"""What was known at a date (issue #15): a dataset as it stood then, for a backtest.

A backtest screens each rebalance date on what was known then:

* a statement row counts from its filing or publication date (SEC ``filed``, SimFin Publish Date);
  a row without one (a Finviz or Yahoo export: a vendor's trailing figures as of a day) counts only
  from its own as-of date, its ``period_end``. Before that date it does not exist;
* a value a source reported (a ratio, beta, the index weight) counts from its observation date;
  the share count is the one exception (:data:`SHARE_COUNT_RULE`): the data has no dated history;
* prices up to the date: the price is the last close on or before it, and rate betas use the weekly
  returns of the window that ends then (``compute_metrics`` never reads past its as-of date);
* profile text (name, sector, industry, description, so themes too) is today's: it has no history.

:meth:`PointInTime.dataset_at` builds that dataset and :meth:`PointInTime.table_at` runs the one
:func:`~desktop.engine.metrics.compute_metrics` on it, so a backtest screens exactly what a screen
run on that day would have seen (a thin wrapper, not a second set of formulas). Themes are tagged
once: the text they read has no history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from desktop.engine import price_metrics
from desktop.engine.dataset import PROVENANCE_COLUMNS, Dataset, empty_provenance, history_frame
from desktop.engine.metric_context import Context, observation_dates
from desktop.engine.metrics import (
    REPORTED_FIELDS,
    MetricParams,
    PriceStage,
    StockTable,
    compute_metrics,
    run_stages,
)

# _statement_rows: the statement rows compute_metrics reads (old snapshots' observations and
# undated columns included); private there, used here so that both see the same rows.
from desktop.engine.metrics import _statement_rows as dated_statement_rows
from desktop.engine.statements import STATEMENT_FIELDS
from desktop.engine.themes import ThemeTaxonomy, empty_matches, tag, themes_by_symbol

# Never taken from the snapshot: the price is the close then, market cap is recomputed from it,
# enterprise value has no past value, statements come dated from the statement rows.
_DROPPED = frozenset({"price", "market_cap", "enterprise_value", "in_index"}) | STATEMENT_FIELDS
SHARE_COUNT_RULE = ("The share count is the latest one in the data at every date (there is no dated share "
                    "history): market cap = the close then x that count, so issuance and buybacks since are "
                    "ignored (a look-ahead for market-cap weights and market-cap or FCF-yield criteria).")


class PointInTime:
    """A dataset prepared for point-in-time questions (see the module docstring).

    Args:
        dataset: the latest snapshot's dataset: statements with their filing dates, and the whole
            price and market history.
        params: the metric assumptions.
        taxonomy: themes; without one ``themes`` is empty.
    """

    def __init__(self, dataset: Dataset, params: MetricParams = MetricParams(),
                 taxonomy: ThemeTaxonomy | None = None) -> None:
        self.params = params
        # Rate betas read rate_beta_weeks of weekly returns (plus the week before): a margin on top.
        self.window = pd.Timedelta(weeks=params.rate_beta_weeks + 8)
        self.sources = dataset.sources
        index = pd.Index(dataset.securities.index.astype(str).to_numpy(dtype=object), dtype=object, name="symbol")
        sec = dataset.securities.set_axis(index)
        self.symbols = index
        self._pos = pd.Series(np.arange(len(index)), index=index)
        numeric = [c for c in sec.columns if c not in _DROPPED and sec[c].dtype.kind in "fiu"]
        self._static = {c: sec[c].to_numpy(dtype=object) for c in sec.columns if c not in _DROPPED
                        and c not in numeric}
        self._numeric = {c: sec[c].to_numpy(dtype="float64", na_value=np.nan) for c in numeric}
        chosen = dataset.provenance
        if len(chosen) and "chosen" in chosen:
            chosen = chosen[chosen["chosen"].astype(bool)]
        chosen = chosen.assign(symbol=chosen["symbol"].astype(str).astype(object))
        self._observed = _observation_dates(chosen, index, numeric, pd.Timestamp(dataset.as_of))
        # compute_metrics dates (and ages) the reported values by their observations: keep them.
        self._provenance = chosen[chosen["field"].isin(numeric)].reset_index(drop=True)
        self._prov_pos = self._pos.reindex(self._provenance["symbol"]).to_numpy(dtype="float64", na_value=np.nan)
        self._prov_known = pd.to_datetime(self._provenance["as_of"]).to_numpy(dtype="datetime64[ns]")
        self._prov_always = (self._provenance["field"] == "shares_outstanding").to_numpy()
        self._dates = observation_dates(self._provenance, index, frozenset(REPORTED_FIELDS))
        rows = dated_statement_rows(dataset, sec)
        rows = rows[rows["symbol"].astype(str).isin(index)].reset_index(drop=True)
        self._rows = rows.assign(symbol=rows["symbol"].astype(str).astype(object))
        self._rows_known = self._rows["filed"].fillna(self._rows["period_end"]).to_numpy(dtype="datetime64[ns]")
        self._rows_pos = self._pos.reindex(self._rows["symbol"]).to_numpy(dtype=np.int64)
        prices = dataset.prices.sort_index().astype("float64")
        prices = prices.loc[:, ~prices.columns.duplicated()]
        self.closes = prices.where(prices > 0)
        self.market = dataset.market.sort_index()
        self.volumes = dataset.volumes.sort_index()
        self.theme_matches = tag(sec, taxonomy) if taxonomy is not None else empty_matches()
        self._themes = themes_by_symbol(self.theme_matches, index).to_numpy(dtype=object)

    @property
    def static_columns(self) -> frozenset[str]:
        """The securities columns with no history (profile text), the same at every date."""
        return frozenset(self._static)

    def known_from(self) -> pd.DataFrame:
        """Each statement row's source, period type and the date it counts from (for the record)."""
        return pd.DataFrame({"source": self._rows["source"].to_numpy(dtype=object),
                             "filed": self._rows["filed"].notna().to_numpy(),
                             "known": self._rows_known})

    def last_closes(self, when: pd.Timestamp, max_age_days: int) -> pd.DataFrame:
        """Per symbol with a close in the ``max_age_days`` calendar days up to ``when``: that close
        (``close``) and its day (``day``)."""
        block = self.closes.loc[when - pd.Timedelta(days=max_age_days):when]
        if block.empty:
            return pd.DataFrame({"close": pd.Series(dtype="float64"), "day": pd.Series(dtype="datetime64[ns]")},
                                index=pd.Index([], dtype=object, name="symbol"))
        valid = block.notna().to_numpy()
        last = len(block) - 1 - np.argmax(valid[::-1], axis=0)
        keep = valid.any(axis=0)
        cols = np.flatnonzero(keep)
        return pd.DataFrame({"close": block.to_numpy()[last[keep], cols], "day": block.index.to_numpy()[last[keep]]},
                            index=pd.Index(block.columns.to_numpy(dtype=object)[keep].astype(str).astype(object),
                                           dtype=object, name="symbol"))

    def dataset_at(self, when: pd.Timestamp, symbols: Sequence[str], closes: pd.DataFrame | None = None,
                   max_age_days: int = 7) -> Dataset:
        """The dataset of ``symbols`` (securities of this dataset) as known at the close of ``when``.

        Args:
            when: the date.
            symbols: the stocks to include (the index members then).
            closes: :meth:`last_closes` of ``when`` when the caller has it already.
            max_age_days: a close older than this is no price at ``when``.
        """
        closes = self.last_closes(when, max_age_days) if closes is None else closes
        pos = self._pos.reindex(list(symbols))
        if pos.isna().any():
            raise KeyError(f"not a security of the dataset: {list(pos.index[pos.isna()])[:5]}")
        at = pos.to_numpy(dtype=np.int64)
        index = pd.Index(np.asarray(list(symbols), dtype=object), dtype=object, name="symbol")
        stamp = np.datetime64(when, "ns")
        close = closes.reindex(index)
        sec = self._securities(at, stamp, index, close["close"].to_numpy(dtype="float64", na_value=np.nan))
        keep = (self._rows_known <= stamp) & self._rows["symbol"].isin(index).to_numpy()
        # The closes and market series of the window price metrics read (a test checks that a longer
        # history gives the same table), sliced by rows only: views, not copies of the history.
        first = when - self.window
        return Dataset(as_of=when.date(), securities=sec, history=history_frame(self._rows[keep]),
                       prices=self.closes.loc[first:when], market=self.market.loc[first:when],
                       volumes=self.volumes.loc[first:when], provenance=self._provenance_at(when, index, close),
                       sources=self.sources)

    def table_at(self, when: pd.Timestamp, symbols: Sequence[str], closes: pd.DataFrame | None = None,
                 max_age_days: int = 7, is_cancelled: Callable[[], bool] | None = None) -> StockTable:
        """``compute_metrics`` on :meth:`dataset_at`, with the themes tagged once."""
        table = compute_metrics(self.dataset_at(when, symbols, closes, max_age_days), self.params,
                                is_cancelled=is_cancelled)
        return self._with_themes(table)

    def tables_at(self, whens: Sequence[pd.Timestamp], symbols: Sequence[Sequence[str]],
                  closes: Sequence[pd.DataFrame], fields: frozenset[str] | None = None,
                  explain: bool = True, progress: Callable[[int, int, str], None] | None = None,
                  is_cancelled: Callable[[], bool] | None = None) -> list[StockTable]:
        """:meth:`table_at` of several dates at once: the same tables, computed as one panel.

        The panel has one row per (stock, date), keyed ``"SYMBOL\\x1fk"``, each with the statement
        rows, reported values and close known at its date and its date as its as-of (``Context``'s
        ``stamp``): every metric of a stock is a function of that row alone, so one pass of the
        stages over the panel equals one pass per date, without paying the stages' fixed cost once
        per date. The price stage reads a window of closes per date, so it runs per date.

        Args:
            whens: the dates.
            symbols: per date, the stocks (securities of this dataset).
            closes: per date, its :meth:`last_closes` (which apply the price age limit).
            fields: the fields the caller reads (None: all); the stages that write none of them
                are left out, and so are their fields (``metrics.run_stages``).
            explain: False gives tables without notes, origins, zombie years and provenance, for a
                caller that reads values and states only (the backtest); their cost is then skipped.
            progress: ``progress(done, total, message)`` through the stages.
            is_cancelled: polled between stages and dates.
        """
        counts = [len(s) for s in symbols]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = [str(s) for syms in symbols for s in syms]
        pos = self._pos.reindex(flat)
        if pos.isna().any():
            raise KeyError(f"not a security of the dataset: {list(pos.index[pos.isna()])[:5]}")
        at = pos.to_numpy(dtype=np.int64)
        date_of = np.repeat(np.arange(len(whens)), counts)
        stamps = np.array([np.datetime64(w, "ns") for w in whens], dtype="datetime64[ns]")
        stamp = stamps[date_of]
        keys = np.array([f"{s}\x1f{k}" for s, k in zip(flat, date_of.tolist(), strict=True)], dtype=object)
        index = pd.Index(keys, dtype=object, name="symbol")
        price = np.concatenate([c["close"].reindex(pd.Index(list(s), dtype=object)).to_numpy(
            dtype="float64", na_value=np.nan) for s, c in zip(symbols, closes, strict=True)]) \
            if len(at) else np.array([], dtype="float64")
        sec = self._securities(at, stamp, index, price)
        dates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for f, (when, src) in self._dates.items():
            w = when[at]
            known = (w <= stamp) | (f == "shares_outstanding")  # SHARE_COUNT_RULE
            source = src[at]
            source[~known] = None
            dates[f] = (np.where(known, w, np.datetime64("NaT", "ns")), source)
        day = np.concatenate([c["day"].reindex(pd.Index(list(s), dtype=object)).to_numpy(dtype="datetime64[ns]")
                              for s, c in zip(symbols, closes, strict=True)]) if flat else np.array([], "datetime64[ns]")
        priced = np.full(len(day), None, dtype=object)
        priced[~np.isnat(day)] = "prices"
        dates["price"] = (day, priced)
        ctx = Context(index, stamp, self.params, sec, dates, explain)
        stage = self._price_stage(whens, symbols, offsets, keys)
        panel = run_stages(ctx, self._panel_rows(at, stamp, offsets, keys), stage, whens[-1].date(),
                           empty_provenance(), progress=progress, is_cancelled=is_cancelled, fields=fields)
        return self._split(panel, whens, symbols, offsets, keys, closes, explain)

    def _securities(self, at: np.ndarray, stamp: np.ndarray | np.datetime64, index: pd.Index,
                    price: np.ndarray) -> pd.DataFrame:
        """Securities rows of the stocks at positions ``at``, each with its values as known at its
        ``stamp`` (one date, or one per row) and its close then."""
        data: dict[str, np.ndarray] = {c: v[at] for c, v in self._static.items()}
        for c, v in self._numeric.items():
            known = self._observed[c][at] <= stamp
            if c == "shares_outstanding":
                known[:] = True  # SHARE_COUNT_RULE
            data[c] = np.where(known, v[at], np.nan)
        data["in_index"] = np.ones(len(at), dtype=bool)
        data["price"] = price
        return pd.DataFrame({c: pd.Series(v, index=index, dtype=v.dtype) for c, v in data.items()}, index=index)

    def _panel_rows(self, at: np.ndarray, stamp: np.ndarray, offsets: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
        """The statement rows of the panel: each row known at a date, once per date, keyed by the panel."""
        slot = np.full(len(self.symbols), -1, dtype=np.int64)
        picked: list[np.ndarray] = []
        rows_of: list[np.ndarray] = []
        for k in range(len(offsets) - 1):
            lo, hi = offsets[k], offsets[k + 1]
            slot[:] = -1
            slot[at[lo:hi]] = np.arange(lo, hi)
            panel_row = slot[self._rows_pos]
            keep = np.flatnonzero((panel_row >= 0) & (self._rows_known <= stamp[lo] if hi > lo else False))
            picked.append(keep)
            rows_of.append(panel_row[keep])
        idx = np.concatenate(picked) if picked else np.array([], dtype=np.int64)
        rows = self._rows.take(idx).reset_index(drop=True)
        rows["symbol"] = keys[np.concatenate(rows_of)] if rows_of else np.array([], dtype=object)
        return history_frame(rows)

    def _price_stage(self, whens: Sequence[pd.Timestamp], symbols: Sequence[Sequence[str]], offsets: np.ndarray,
                     keys: np.ndarray) -> PriceStage:
        """The price stage of a panel: per date, on the closes of its window, into the panel's rows."""

        def run(ctx: Context, cancel: Callable[[], None], parts: frozenset[str]) -> None:
            for k, when in enumerate(whens):
                cancel()
                rows = slice(int(offsets[k]), int(offsets[k + 1]))
                index = _symbol_index(symbols[k])
                part = Context(index, when, self.params, ctx.sec.iloc[rows].set_axis(index),
                               {f: (w[rows], s[rows]) for f, (w, s) in ctx.dates.items()}, ctx.explain)
                first = when - self.window
                px = self.closes.loc[first:when]
                if "rate_betas" in parts:
                    part.cols.update(price_metrics.rate_betas(px, self.market.loc[first:when], index, self.params,
                                                              cancel, part))
                if "momentum" in parts:
                    price_metrics.momentum(px, self.volumes.loc[first:when], part, cancel)
                ctx.absorb(part, rows, keys)

        return run

    def _split(self, panel: StockTable, whens: Sequence[pd.Timestamp], symbols: Sequence[Sequence[str]],
               offsets: np.ndarray, keys: np.ndarray, closes: Sequence[pd.DataFrame], explain: bool) -> list[StockTable]:
        """The panel's table cut into one table per date, keyed by symbol again."""
        where = {key: (k, s) for k, syms in enumerate(symbols)
                 for key, s in zip(keys[offsets[k]:offsets[k + 1]], syms, strict=True)} if explain else {}
        notes: list[dict[tuple[str, str], str]] = [{} for _ in whens]
        for (key, fld), text in panel.notes.items():
            k, s = where[key]
            notes[k][(s, fld)] = text
        zombies: list[dict[str, list[tuple[int, float]]]] = [{} for _ in whens]
        for key, years in panel.zombie_years.items():
            k, s = where[key]
            zombies[k][s] = years
        values = panel.values.copy(deep=False)
        at = self._pos.reindex([s for syms in symbols for s in syms]).to_numpy(dtype=np.int64)
        values["themes"] = pd.Series(self._themes[at], index=values.index, dtype=object)  # tagged once
        matches = self.theme_matches
        out = []
        for k, when in enumerate(whens):
            rows = slice(int(offsets[k]), int(offsets[k + 1]))
            index = _symbol_index(symbols[k])
            out.append(replace(
                panel, as_of=when.date(), values=values.iloc[rows].set_axis(index),
                            status=panel.status.iloc[rows].set_axis(index),
                            period_end=panel.period_end.iloc[rows].set_axis(index),
                            origin=panel.origin.iloc[rows].set_axis(index), notes=notes[k], zombie_years=zombies[k],
                            provenance=self._provenance_at(when, index, closes[k].reindex(index)) if explain
                            else empty_provenance(), theme_matches=matches[matches["symbol"].isin(index)], _cache={}))
        return out

    def static_table(self) -> StockTable:
        """Every security with its profile fields only (what no date changes): for the criteria that
        read nothing else."""
        sec = pd.DataFrame({c: pd.Series(v, index=self.symbols, dtype=object) for c, v in self._static.items()},
                           index=self.symbols)
        sec["in_index"] = True
        table = compute_metrics(Dataset(as_of=pd.Timestamp(0).date(), securities=sec), self.params,
                                fields=frozenset())
        return self._with_themes(table)

    def _with_themes(self, table: StockTable) -> StockTable:
        index = table.values.index
        values = table.values.copy(deep=False)
        values["themes"] = pd.Series(self._themes[self._pos.reindex(index).to_numpy(dtype=np.int64)], index=index,
                                     dtype=object)
        matches = self.theme_matches
        return replace(table, values=values, theme_matches=matches[matches["symbol"].isin(index)], _cache={})

    def _provenance_at(self, when: pd.Timestamp, index: pd.Index, close: pd.DataFrame) -> pd.DataFrame:
        """The chosen observations of the reported values known at ``when``, and the closes then."""
        member = np.zeros(len(self.symbols) + 1, dtype=bool)
        member[self._pos.reindex(index).to_numpy(dtype=np.int64)] = True
        at = np.where(np.isnan(self._prov_pos), len(self.symbols), self._prov_pos).astype(np.int64)
        known = member[at] & (self._prov_always | (self._prov_known <= np.datetime64(when, "ns")))
        priced = close.dropna(subset=["close"])
        prices = pd.DataFrame({
            "symbol": priced.index.to_numpy(dtype=object), "field": "price", "value_num": priced["close"].to_numpy(),
            "value_text": None, "source": "prices", "origin": "daily closes", "as_of": priced["day"].to_numpy(),
            "fetched_at": pd.NaT, "period": "point", "derived": False, "chosen": True,
        })
        parts = [p for p in (self._provenance[known], prices) if len(p)]
        if not parts:
            return empty_provenance()
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        return out.reindex(columns=list(PROVENANCE_COLUMNS))


def _symbol_index(symbols: Sequence[str]) -> pd.Index:
    """The symbol index of a table, as ``compute_metrics`` makes it."""
    return pd.Index(pd.Index(np.asarray(list(symbols), dtype=object)).astype(str), name="symbol")


def _observation_dates(chosen: pd.DataFrame, index: pd.Index, fields: list[str],
                       default: pd.Timestamp) -> dict[str, np.ndarray]:
    """field -> datetime64 per security: when its value was observed (its last chosen observation;
    ``default``, the snapshot's date, when no observation says)."""
    fallback = np.datetime64(default, "ns")
    out = {f: np.full(len(index), fallback, dtype="datetime64[ns]") for f in fields}
    part = chosen[chosen["field"].isin(fields)]
    if not len(part):
        return out
    pos = index.get_indexer(pd.Index(part["symbol"]))
    codes, names = pd.factorize(part["field"])
    last = ~pd.DataFrame({"field": codes, "pos": pos}).duplicated(keep="last").to_numpy() & (pos >= 0)
    when = pd.to_datetime(part["as_of"]).to_numpy(dtype="datetime64[ns]")
    for k, f in enumerate(names):
        rows = np.flatnonzero(last & (codes == k))
        out[str(f)][pos[rows]] = np.where(np.isnat(when[rows]), fallback, when[rows])
    return out
