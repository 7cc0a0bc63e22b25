"""Diff of one screen between two snapshots (issue #5): entered, exited, stayed, and why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import StockTable
from desktop.engine.screen import Criterion, PercentileCriterion, Screen, describe

CHANGE_COLUMNS = ("symbol", "change", "criterion_id", "label", "state_before", "state_after",
                  "value_before", "value_after")
UNIVERSE_ID = "universe"  # criterion_id of a change that is a stock joining or leaving the universe


@dataclass(frozen=True, eq=False)  # holds a DataFrame: identity equality and hash
class ScreenDiff:
    """The result of :func:`diff_results`.

    Attributes:
        entered: symbols passing after but not before (rank order of ``after``).
        exited: symbols passing before but not after (rank order of ``before``).
        stayed: symbols passing in both (rank order of ``after``).
        changes: for each entered/exited symbol, one row per criterion whose state changed:
            columns ``CHANGE_COLUMNS``; states are 0 FAIL, 1 PASS, 2 UNKNOWN, and -1 when the
            stock was not in that snapshot's universe (criterion_id ``"universe"``).
    """

    entered: list[str]
    exited: list[str]
    stayed: list[str]
    changes: pd.DataFrame


def _value(table: StockTable, c: Criterion, symbol: str, pct: pd.Series | None) -> object:
    if symbol not in table.values.index:
        return None
    if isinstance(c, PercentileCriterion) and pct is not None:
        return pct.get(symbol, np.nan)
    v = table.values.at[symbol, c.field]
    return float(v) if isinstance(v, float | np.floating) else v


def diff_results(screen: Screen, before: StockTable, after: StockTable) -> ScreenDiff:
    """Compare the passing stocks of ``screen`` on two snapshots.

    Returns:
        The :class:`ScreenDiff`; values of percentile criteria are the percentile ranks.
    """
    from desktop.engine.evaluate import percentile_ranks, universe_rows

    rb = evaluate(screen, before, near_misses=False)
    ra = evaluate(screen, after, near_misses=False)
    pb, pa = set(rb.ranked.index), set(ra.ranked.index)
    entered = [s for s in ra.ranked.index if s not in pb]
    exited = [s for s in rb.ranked.index if s not in pa]
    stayed = [s for s in ra.ranked.index if s in pb]
    leaves = screen.leaves()

    def pct_series(table: StockTable, res_index: pd.Index, c: Criterion) -> pd.Series | None:
        if not isinstance(c, PercentileCriterion):
            return None
        rows = universe_rows(table, screen.universe)
        idx = table.values.index if rows is None else table.values.index[rows]
        return pd.Series(percentile_ranks(table, c.field, c.within, screen.universe), index=idx)

    pcts = {c.id: (pct_series(before, rb.states.index, c), pct_series(after, ra.states.index, c)) for c in leaves}
    rows: list[tuple] = []
    for change, symbols in (("entered", entered), ("exited", exited)):
        for sym in symbols:
            in_b, in_a = sym in rb.states.index, sym in ra.states.index
            if not (in_b and in_a):
                rows.append((sym, change, UNIVERSE_ID,
                             "joined the universe" if in_a else "left the universe",
                             -1 if not in_b else 1, -1 if not in_a else 1, None, None))
                continue
            sb, sa = rb.states.loc[sym], ra.states.loc[sym]
            for c in leaves:
                if sb[c.id] != sa[c.id]:
                    rows.append((sym, change, c.id, describe(c), int(sb[c.id]), int(sa[c.id]),
                                 _value(before, c, sym, pcts[c.id][0]), _value(after, c, sym, pcts[c.id][1])))
    changes = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    for col in ("symbol", "change", "criterion_id", "label", "value_before", "value_after"):
        changes[col] = changes[col].astype(object)
    changes["state_before"] = changes["state_before"].astype("int8")
    changes["state_after"] = changes["state_after"].astype("int8")
    return ScreenDiff(entered, exited, stayed, changes)
