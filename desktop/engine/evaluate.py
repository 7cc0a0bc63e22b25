"""Evaluate a screen on a StockTable, vectorised (issue #5; fast enough to re-screen per keystroke).

Three-valued logic per stock and criterion: PASS, FAIL, UNKNOWN. A missing value takes the
criterion's ``missing`` policy (default UNKNOWN); a not-meaningful value (status 2, e.g. debt /
negative EBITDA) takes ``not_meaningful`` (default FAIL). Groups combine like SQL's three-valued
logic (Kleene): ``all`` is FAIL if any child fails, else UNKNOWN if any is unknown, else PASS;
``any`` mirrors it; ``not`` swaps PASS and FAIL and keeps UNKNOWN. A stock is listed when the whole
screen is PASS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from desktop.engine.formula_columns import with_formulas
from desktop.engine.metrics import MISSING, OK, StockTable
from desktop.engine.screen import (
    LEAF_TYPES,
    Criterion,
    FlagCriterion,
    Group,
    Node,
    Not,
    PercentileCriterion,
    RangeCriterion,
    Screen,
    SetCriterion,
    describe,
)

FAIL, PASS, UNKNOWN = 0, 1, 2
# State <-> truth rank (FAIL 0 < UNKNOWN 1 < PASS 2): all = min, any = max, not = 2 - x.
# The mapping is its own inverse.
_SWAP = np.array([0, 2, 1], dtype=np.int8)
_POLICY = {"fail": FAIL, "pass": PASS, "unknown": UNKNOWN}
DEFAULT_COLUMNS = ("name", "sector", "industry", "market_cap")
NEAR_MISS_COLUMNS = ("symbol", "criterion_id", "label", "value", "threshold", "distance", "relative_distance")


@dataclass(frozen=True)
class FunnelStep:
    """How many stocks a top-level criterion removes, in document order.

    For ``"match": "any"`` screens the funnel counts admissions instead: ``remaining`` is how many
    stocks pass at least one of the criteria so far and ``removed`` is negative (minus the number
    the criterion admitted).
    """

    criterion_id: str
    label: str
    removed: int
    remaining: int


@dataclass(frozen=True, eq=False)  # holds DataFrames: identity equality and hash
class ScreenResult:
    """What one evaluation returns (see docs/architecture.md "Engine").

    Attributes:
        ranked: passing rows in rank order: index symbol, ``rank`` (1..n), ``score`` when the
            screen has one, then the screen's columns (raw values).
        states: int8, index symbol (the universe) x criterion id: 0 FAIL, 1 PASS, 2 UNKNOWN.
        funnel: one step per top-level criterion or group.
        near_misses: stocks that a single failing criterion keeps out, with the gap (computed on
            first access, so re-screening on every keystroke does not pay for it).
        universe_count: stocks in the screen's universe.
        criteria: the leaves with their ids (labels via ``screen.describe``).
        scores: composite score for the whole universe (NaN without a score).
        table: the table the screen ran on: the input table plus the screen's formula fields
            (issue #16); read values, states and notes of the result from it.
    """

    ranked: pd.DataFrame
    states: pd.DataFrame
    funnel: list[FunnelStep]
    near_misses_source: pd.DataFrame | Callable[[], pd.DataFrame] = field(repr=False)
    universe_count: int = 0
    criteria: tuple[Criterion, ...] = ()
    scores: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))
    table: StockTable | None = None
    _memo: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    @property
    def near_misses(self) -> pd.DataFrame:
        """Columns ``NEAR_MISS_COLUMNS``, closest first (relative distance to the threshold)."""
        hit = self._memo.get("near")
        if hit is None:
            src = self.near_misses_source
            hit = src() if callable(src) else src
            self._memo["near"] = hit
        return hit


def universe_rows(table: StockTable, universe: str) -> np.ndarray | None:
    """Row positions of the universe in ``table.values`` (None means every row)."""
    if universe == "all":
        return None
    key = ("universe", universe)
    hit = table._cache.get(key)
    if hit is None:
        if "in_index" in table.values:
            flag = table.values["in_index"].to_numpy(dtype="float64", na_value=np.nan)
            hit = np.flatnonzero(flag == 1.0)
        else:
            hit = np.arange(0)
        table._cache[key] = hit
    return hit


def percentile_ranks(table: StockTable, field_name: str, within: str = "universe",
                     universe: str = "russell2000") -> np.ndarray:
    """Percentile rank (0-100] of each universe stock's value, NaN when missing or n.m.

    ``100 x average rank / n`` among stocks with a meaningful value (the highest value gets 100),
    within the universe or within each sector. Cached per (field, within, universe).
    """
    key = ("pct", field_name, within, universe)
    hit = table._cache.get(key)
    if hit is not None:
        return hit
    rows = universe_rows(table, universe)
    vals, st = table.numeric(field_name)
    if rows is not None:
        vals, st = vals[rows], st[rows]
    s = pd.Series(np.where((st == OK) | (st >= 3), vals, np.nan))  # stale and suspect values keep a rank
    if within == "sector":
        sector = table.values["sector"].to_numpy(dtype=object) if "sector" in table.values else None
        if sector is None:
            hit = np.full(len(s), np.nan)
        else:
            sector = sector if rows is None else sector[rows]
            hit = (s.groupby(pd.Series(sector, dtype=object), dropna=True).rank(pct=True) * 100.0).to_numpy(
                dtype="float64", na_value=np.nan)
    else:
        hit = (s.rank(pct=True) * 100.0).to_numpy(dtype="float64", na_value=np.nan)
    table._cache[key] = hit
    return hit


def _state_pair(policy: str) -> list[int]:
    """LUT entries (condition false, condition true) of a stale/suspect policy."""
    return [FAIL, PASS] if policy == "use" else [_POLICY[policy], _POLICY[policy]]


def _policy_state(ok_cond: np.ndarray, st: np.ndarray, missing: str, nm: str, stale: str = "unknown",
                  suspect: str = "unknown") -> np.ndarray:
    # One table lookup instead of masked assignments: index = 2 x status + condition
    # (status 0 OK, 1 MISSING, 2 NOT_MEANINGFUL, 3 STALE, 4 SUSPECT).
    lut = np.array([FAIL, PASS, _POLICY[missing], _POLICY[missing], _POLICY[nm], _POLICY[nm],
                    *_state_pair(stale), *_state_pair(suspect)], dtype=np.int8)
    idx = st.astype(np.intp, copy=True)
    idx *= 2
    idx += ok_cond
    return lut[idx]


def _universe_numeric(table: StockTable, name: str, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if rows is None:
        return table.numeric(name)
    key = ("unum", name, id(rows))
    hit = table._cache.get(key)
    if hit is None:
        vals, st = table.numeric(name)
        hit = (vals[rows], st[rows])
        table._cache[key] = hit
    return hit


def _codes(table: StockTable, name: str, rows: np.ndarray | None) -> tuple[np.ndarray, dict[str, int]]:
    """Integer codes of a text column (casefolded; -1 when missing) and the code of each value."""
    key = ("codes", name, None if rows is None else id(rows))
    hit = table._cache.get(key)
    if hit is None:
        col = table.values[name]
        col = col if rows is None else col.iloc[rows]
        folded = pd.Series([v.casefold() if isinstance(v, str) else None for v in col], dtype=object)
        codes, uniques = pd.factorize(folded, use_na_sentinel=True)
        hit = (codes.astype(np.int32), {u: i for i, u in enumerate(uniques)})
        table._cache[key] = hit
    return hit


def leaf_state(table: StockTable, c: Criterion, universe: str, rows: np.ndarray | None) -> np.ndarray:
    """int8 states (FAIL/PASS/UNKNOWN) of one criterion for the universe rows."""
    if isinstance(c, RangeCriterion):
        vals, st = _universe_numeric(table, c.field, rows)
        if c.min is not None and c.max is not None:
            cond = (vals >= c.min) & (vals <= c.max)
        elif c.min is not None:
            cond = vals >= c.min
        else:
            cond = vals <= c.max
        return _policy_state(cond, st, c.missing, c.not_meaningful, c.stale, c.suspect)
    if isinstance(c, PercentileCriterion):
        pct = percentile_ranks(table, c.field, c.within, universe)
        _, st = _universe_numeric(table, c.field, rows)
        st = np.where((st == OK) & np.isnan(pct), MISSING, st)  # no sector: no rank
        return _policy_state(pct >= c.percentile_min, st, c.missing, c.not_meaningful, c.stale, c.suspect)
    if isinstance(c, SetCriterion):
        if c.field == "themes":
            n = len(table.values) if rows is None else len(rows)
            hit = np.zeros(n, dtype=bool)
            lookup = {t.casefold(): t for t in (table.theme_matches["theme"].unique() if len(table.theme_matches) else ())}
            for v in c.values:
                mask = table.tag_mask(lookup.get(v.casefold(), v))
                hit |= mask if rows is None else mask[rows]
            st = np.zeros(n, dtype=np.int8)
        else:
            codes, lookup = _codes(table, c.field, rows)
            wanted = [lookup[v.casefold()] for v in c.values if v.casefold() in lookup]
            hit = np.isin(codes, wanted) if wanted else np.zeros(len(codes), dtype=bool)
            st = (codes < 0).astype(np.int8)  # MISSING is 1
        return _policy_state(~hit if c.exclude else hit, st, c.missing, "fail")
    assert isinstance(c, FlagCriterion)
    vals, st = _universe_numeric(table, c.field, rows)
    return _policy_state(vals == (1.0 if c.is_ else 0.0), st, c.missing, "fail", c.stale, c.suspect)


def _truth(node: Node, leaf_truth: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, Group):
        parts = [_truth(c, leaf_truth) for c in node.children]
        if not parts:
            return np.full(next(iter(leaf_truth.values())).shape if leaf_truth else 0, 2, dtype=np.int8)
        out = parts[0].copy()
        f = np.minimum if node.op == "all" else np.maximum
        for p in parts[1:]:
            f(out, p, out=out)
        return out
    if isinstance(node, Not):
        return (2 - _truth(node.child, leaf_truth)).astype(np.int8)
    return leaf_truth[node.id]


def evaluate(screen: Screen, table: StockTable, *, near_misses: bool = True) -> ScreenResult:
    """Run ``screen`` on ``table``.

    Args:
        screen: the parsed screen.
        table: the computed metrics.
        near_misses: False gives an empty ``near_misses`` (they are computed lazily anyway).

    Returns:
        The :class:`ScreenResult`.
    """
    table = with_formulas(table, screen.formulas)
    rows = universe_rows(table, screen.universe)
    index = table.values.index if rows is None else table.values.index[rows]
    n = len(index)
    leaves = screen.leaves()
    states = {c.id: leaf_state(table, c, screen.universe, rows) for c in leaves}
    truth = {k: _SWAP[v] for k, v in states.items()}
    root = screen.root
    if root.children:
        top = [_truth(c, truth) for c in root.children]
        final = top[0].copy()
        f = np.minimum if root.op == "all" else np.maximum
        for t in top[1:]:
            f(final, t, out=final)
    else:
        top, final = [], np.full(n, 2, dtype=np.int8)
    passed = final == 2

    funnel = _funnel(root, top, n)
    matrix = np.column_stack([states[c.id] for c in leaves]) if leaves else np.empty((n, 0), dtype=np.int8)
    state_frame = pd.DataFrame(matrix, index=index, columns=[c.id for c in leaves], copy=False)
    scores = _scores(screen, table, n)
    ranked = _ranked(screen, table, rows, index, passed, scores)
    def misses() -> pd.DataFrame:
        return _near_misses(screen, table, rows, index, truth, final, leaves) if near_misses \
            else _empty_near_misses()

    score_series = pd.Series(scores, index=index, dtype="float64")
    return ScreenResult(ranked, state_frame, funnel, misses, n, tuple(leaves), score_series, table)


def _empty_near_misses() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("symbol", "criterion_id", "label") else "float64")
                         for c in NEAR_MISS_COLUMNS})


def _funnel(root: Group, top: list[np.ndarray], n: int) -> list[FunnelStep]:
    steps = []
    if root.op == "all":
        alive = np.ones(n, dtype=bool)
        for node, t in zip(root.children, top, strict=True):
            before = int(alive.sum())
            alive &= t == 2
            steps.append(FunnelStep(node.id, describe(node), before - int(alive.sum()), int(alive.sum())))
    else:
        admitted = np.zeros(n, dtype=bool)
        for node, t in zip(root.children, top, strict=True):
            before = int(admitted.sum())
            admitted |= t == 2
            steps.append(FunnelStep(node.id, describe(node), before - int(admitted.sum()), int(admitted.sum())))
    return steps


def _scores(screen: Screen, table: StockTable, n: int) -> np.ndarray:
    if screen.score is None:
        return np.full(n, np.nan)
    total = np.zeros(n)
    weight = np.zeros(n)
    for name, w in screen.score.weights:
        pct = percentile_ranks(table, name, "universe", screen.universe)
        known = ~np.isnan(pct)
        if w < 0:  # the rank of the negated value: 100 x (n + 1 - r) / n
            p = 100.0 - pct + 100.0 / max(int(np.count_nonzero(known)), 1)
        else:
            p = pct
        total += abs(w) * np.where(known, p, 0.0)
        weight += abs(w) * known
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, np.nan)


def _ranked(screen: Screen, table: StockTable, rows: np.ndarray | None, index: pd.Index, passed: np.ndarray,
            scores: np.ndarray) -> pd.DataFrame:
    # Without explicit columns: the defaults, the criteria's fields and the formula fields (issue #16).
    cols = list(screen.columns) or list(dict.fromkeys([*DEFAULT_COLUMNS, *screen.fields(),
                                                       *(f.name for f in screen.formulas)]))
    cols = [c for c in cols if c in table.values.columns]
    pos = np.flatnonzero(passed)
    take = pos if rows is None else rows[pos]
    keys = [k for k in screen.sort if k.field in table.values.columns]
    order = np.arange(len(pos))
    if keys:
        order = _sort_order(table, take, keys)
    elif screen.score is not None:
        s = scores[pos]
        order = np.argsort(np.where(np.isnan(s), np.inf, -s), kind="stable")
    sel = take[order]
    # Column by column from cached arrays: far cheaper than .iloc on the wide mixed-dtype frame.
    out_index = table.values.index[sel]
    data: dict[str, pd.Series] = {"rank": pd.Series(np.arange(1, len(sel) + 1, dtype="int64"), index=out_index)}
    if screen.score is not None:
        data["score"] = pd.Series(scores[pos][order], index=out_index)
    for c in cols:
        arr = _column_array(table, c)
        data[c] = pd.Series(arr[sel], index=out_index, dtype=arr.dtype, copy=False)
    return pd.DataFrame(data, index=out_index, copy=False)


def _column_array(table: StockTable, name: str) -> np.ndarray:
    key = ("col", name)
    hit = table._cache.get(key)
    if hit is None:
        col = table.values[name]
        hit = col.to_numpy(dtype=object) if col.dtype == object or str(col.dtype) in ("str", "string") \
            else col.to_numpy()
        table._cache[key] = hit
    return hit


def _sort_order(table: StockTable, take: np.ndarray, keys: list) -> np.ndarray:
    """Stable multi-key order; missing values go last whatever the direction."""
    lex: list[np.ndarray] = []  # np.lexsort: the last array is the primary key
    for k in reversed(keys):
        col = table.values[k.field]
        if col.dtype.kind in "fiub":
            v = col.to_numpy(dtype="float64", na_value=np.nan)[take]
        else:
            s = col.iloc[take].astype(object)
            folded = [str(x).casefold() if isinstance(x, str) or (x is not None and x == x) else None for x in s]
            codes = pd.factorize(pd.Series(folded, dtype=object), sort=True)[0].astype("float64")
            v = np.where(codes < 0, np.nan, codes)
        missing = np.isnan(v)
        lex.append(np.where(missing, 0.0, -v if k.descending else v))
        lex.append(missing)  # more significant than the value: missing rows after all others
    return np.lexsort(lex)


def _near_misses(screen: Screen, table: StockTable, rows: np.ndarray | None, index: pd.Index,
                 truth: dict[str, np.ndarray], final: np.ndarray, leaves: list[Criterion]) -> pd.DataFrame:
    """(stock, criterion) pairs where that criterion alone fails and passing it admits the stock.

    Only criteria with a threshold (min/max and percentile) and a real value are considered: a
    stock outside a theme or sector, with a flag the other way, or failing because its value is
    missing or not meaningful, is not "near" in any measurable sense.
    """
    cand = np.flatnonzero(final != 2)
    if not len(cand) or not leaves:
        return _empty_near_misses()
    sub = {k: v[cand] for k, v in truth.items()}
    root_truth = _truth(screen.root, sub)
    top_leaves: set[str] = set()
    nonpass = np.zeros(len(cand), dtype=np.int16)
    if screen.root.op == "all":
        top_leaves = {ch.id for ch in screen.root.children if isinstance(ch, LEAF_TYPES)}
        for ch in screen.root.children:
            nonpass += _truth(ch, sub) != 2
    parts: list[tuple[int, Criterion, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for order, c in enumerate(leaves):
        if not isinstance(c, RangeCriterion | PercentileCriterion):
            continue
        failing = sub[c.id] == 0
        if not failing.any():
            continue
        if c.id in top_leaves:
            # Fast path: a top-level leaf of an "all" screen rescues a stock exactly when it is the
            # only top-level node that does not pass.
            rescued = failing & (nonpass == 1)
        else:
            forced = dict(sub)
            forced[c.id] = np.where(failing, 2, sub[c.id]).astype(np.int8)
            rescued = failing & (_truth(screen.root, forced) == 2)
        rescued &= root_truth != 2
        if not rescued.any():
            continue
        where = cand[rescued]
        value, threshold, distance = _gap(table, c, screen.universe, rows, where)
        # A missing or not-meaningful value that fails by policy is not "near" anything.
        real = ~np.isnan(distance)
        if real.any():
            parts.append((order, c, where[real], value[real], threshold[real], distance[real]))
    if not parts:
        return _empty_near_misses()
    where = np.concatenate([p[2] for p in parts])
    order_of = np.concatenate([np.full(len(p[2]), p[0]) for p in parts])
    value = np.concatenate([p[3] for p in parts])
    threshold = np.concatenate([p[4] for p in parts])
    distance = np.concatenate([p[5] for p in parts])
    scale = np.abs(threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, distance / scale, distance)
    srt = np.lexsort((where, order_of, relative))  # closest first, then document order, then table order
    ids = np.array([p[1].id for p in parts], dtype=object)
    labels = np.array([describe(p[1]) for p in parts], dtype=object)
    part_of = np.concatenate([np.full(len(p[2]), k) for k, p in enumerate(parts)])[srt]
    return pd.DataFrame({
        "symbol": pd.Series(index.to_numpy(dtype=object)[where[srt]], dtype=object),
        "criterion_id": pd.Series(ids[part_of], dtype=object),
        "label": pd.Series(labels[part_of], dtype=object),
        "value": value[srt], "threshold": threshold[srt], "distance": distance[srt],
        "relative_distance": relative[srt],
    })


def _gap(table: StockTable, c: Criterion, universe: str, rows: np.ndarray | None,
         where: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(where)
    nan = np.full(n, np.nan)
    if isinstance(c, RangeCriterion):
        vals, _ = table.numeric(c.field)
        v = (vals if rows is None else vals[rows])[where]
        lo = -np.inf if c.min is None else c.min
        hi = np.inf if c.max is None else c.max
        below = v < lo
        thr = np.where(below, lo, hi).astype("float64")
        dist = np.where(below, lo - v, v - hi)
        return v, thr, dist
    if isinstance(c, PercentileCriterion):
        pct = percentile_ranks(table, c.field, c.within, universe)[where]
        return pct, np.full(n, float(c.percentile_min)), c.percentile_min - pct
    return nan, nan.copy(), nan.copy()
