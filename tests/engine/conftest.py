"""Tiny hand-built datasets for the engine tests (fictional tickers, invented numbers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from desktop.engine.dataset import HISTORY_COLUMNS, Dataset, empty_history, history_frame
from desktop.engine.metrics import MetricParams, StockTable, compute_metrics
from desktop.engine.statements import STATEMENT_FIELDS

AS_OF = date(2026, 5, 5)


def securities(**columns: list[Any]) -> pd.DataFrame:
    """A securities frame; ``symbol`` gives the index, every other keyword one column."""
    symbols = columns.pop("symbol")
    frame = pd.DataFrame(columns, index=pd.Index(symbols, name="symbol"))
    if "in_index" not in frame:
        frame["in_index"] = True
    return frame


def history(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A history frame with every HISTORY_COLUMNS column; absent values are NaN."""
    if not rows:
        return empty_history()
    frame = pd.DataFrame(rows)
    for c in HISTORY_COLUMNS:
        if c not in frame:
            frame[c] = np.nan
    source = frame["source"].astype(object)
    frame["source"] = source.where(source.notna(), "simfin")
    frame["symbol"] = frame["symbol"].astype(object)
    if frame["period_end"].isna().any():  # fiscal-year rows given by year only end on 31 December
        frame["period_end"] = pd.to_datetime(frame["period_end"]).fillna(
            pd.to_datetime(frame["fiscal_year"].astype(int).astype(str) + "-12-31"))
    return history_frame(frame[list(HISTORY_COLUMNS)])


def table_of(sec: pd.DataFrame, hist: list[dict[str, Any]] | None = None, params: MetricParams | None = None,
             **kwargs: Any) -> StockTable:
    """compute_metrics on a Dataset made of ``sec`` and the history rows ``hist``.

    Statement lines given as ``sec`` columns become one "TTM" statement row per stock dated
    ``AS_OF`` (source yahoo), as ``canonical.merge`` does with a vendor's current figures.
    """
    lines = [c for c in sec.columns if c in STATEMENT_FIELDS]
    rows = list(hist or [])
    if lines:
        for sym, vals in sec[lines].iterrows():
            row = {k: v for k, v in vals.items() if pd.notna(v)}
            if row:
                rows.append({"symbol": sym, "fiscal_year": AS_OF.year, "period_end": pd.Timestamp(AS_OF),
                             "period_type": "TTM", "source": "yahoo", **row})
        sec = sec.drop(columns=lines)
    ds = Dataset(AS_OF, sec, history(rows), **kwargs)
    return compute_metrics(ds, params or MetricParams())


@pytest.fixture
def make_table() -> Callable[..., StockTable]:
    return table_of


def stock_table(values: dict[str, list[Any]], symbols: list[str] | None = None,
                status: dict[str, list[int]] | None = None) -> StockTable:
    """A StockTable straight from columns (no metrics): numeric columns get status from NaN;
    ``status`` overrides columns (e.g. 2 for not meaningful). ``in_index`` defaults to all 1.0."""
    n = len(next(iter(values.values())))
    index = pd.Index(symbols or [f"ZZ{i:03d}" for i in range(n)], name="symbol")
    cols: dict[str, pd.Series] = {}
    for k, v in values.items():
        arr = np.asarray(v, dtype=object)
        numeric = all(isinstance(x, int | float | np.floating) and not isinstance(x, bool) or x is None for x in v)
        if k == "themes":
            cols[k] = pd.Series([tuple(x) for x in v], index=index, dtype=object)
        elif numeric:
            cols[k] = pd.Series([np.nan if x is None else float(x) for x in v], index=index, dtype="float64")
        else:
            cols[k] = pd.Series(arr, index=index, dtype=object)
    if "in_index" not in cols:
        cols["in_index"] = pd.Series(1.0, index=index)
    frame = pd.DataFrame(cols, index=index)
    st = {k: np.where(frame[k].isna(), 1, 0).astype("int8") for k in frame if frame[k].dtype == np.float64}
    for k, v in (status or {}).items():
        st[k] = np.asarray(v, dtype="int8")
    themes = [(s, t) for s, ts in zip(index, cols["themes"], strict=True) for t in ts] if "themes" in cols else []
    matches = pd.DataFrame({"symbol": pd.Series([s for s, _ in themes], dtype=object),
                            "theme": pd.Series([t for _, t in themes], dtype=object),
                            "rule": pd.Series(["ticker"] * len(themes), dtype=object),
                            "matched": pd.Series([s for s, _ in themes], dtype=object)})
    return StockTable(AS_OF, frame, pd.DataFrame(st, index=index), {}, matches, {}, pd.DataFrame())
