"""What an export contains, independent of the file format.

:class:`ExportInput` gathers a screen run (screen definition, criteria, stock table, result and
snapshot facts) as plain values, so this layer needs neither the store nor the services.
:func:`shortlist_columns` and :func:`column_data` decide the shortlist's columns and their raw
values; the Excel, CSV and CLI writers only differ in how they render them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.screen import FlagCriterion, PercentileCriterion, Screen, SetCriterion, describe

if TYPE_CHECKING:
    from desktop.engine.evaluate import ScreenResult
    from desktop.engine.metrics import StockTable

# StockTable.status codes (docs/architecture.md).
OK, MISSING, NOT_MEANINGFUL = 0, 1, 2
# ScreenResult.states codes.
FAIL, PASS, UNKNOWN = 0, 1, 2
STATE_WORDS = {FAIL: "fail", PASS: "pass", UNKNOWN: "unknown"}

NOT_MEANINGFUL_TEXT = "n.m."


@dataclass(frozen=True)
class CriterionInfo:
    """One leaf criterion of the screen, as the export shows it."""

    id: str  # "c1", "c2", ... in document order (Screen.leaves())
    field: str
    description: str  # plain words, from engine.screen.describe
    missing: str = "unknown"  # the criterion's missing-value policy
    not_meaningful: str = ""  # its not-meaningful policy ("" where the criterion has none)
    kind: str = "range"  # "range" | "percentile" | "set" | "flag"


def criteria_of(screen: Screen) -> tuple[CriterionInfo, ...]:
    """The screen's leaf criteria as the export shows them."""
    out = []
    for leaf in screen.leaves():
        if isinstance(leaf, PercentileCriterion):
            kind = "percentile"
        elif isinstance(leaf, SetCriterion):
            kind = "set"
        elif isinstance(leaf, FlagCriterion):
            kind = "flag"
        else:
            kind = "range"
        out.append(CriterionInfo(leaf.id, leaf.field, describe(leaf), leaf.missing,
                                 getattr(leaf, "not_meaningful", ""), kind))
    return tuple(out)


@dataclass(frozen=True)
class ExportInput:
    """Everything an export writes. Build it with ``desktop.services.exporting``."""

    screen_name: str
    screen_definition: dict[str, Any]  # screen_to_dict(screen): restored exactly on import
    criteria: tuple[CriterionInfo, ...]
    table: StockTable
    result: ScreenResult
    as_of: date
    snapshot_id: int | None = None
    snapshot_created_at: datetime | None = None  # naive UTC, as the store keeps it
    sources: tuple[dict[str, Any], ...] = ()
    app_version: str = ""
    exported_at: datetime | None = None  # naive UTC
    run_id: int | None = None


@dataclass(frozen=True)
class Column:
    """A shortlist column: catalogue field name (the CSV/JSON header), label, unit, definition."""

    name: str
    label: str
    unit: str
    definition: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.unit in catalog.NUMERIC_UNITS or self.unit == "score"


# Columns the result adds that are not stock fields.
RANK = Column("rank", "Rank", "count", "Position in the screen's sort order (1 = first).")
SCORE = Column("score", "Score", "score",
               "Composite score: the screen's weighted percentile ranks, 0-100 (higher is better).")
_SPECIAL = {"rank": RANK, "score": SCORE}


def column_for(name: str, table: StockTable | None = None) -> Column:
    """The :class:`Column` for a field name (a catalogue field, or a formula field of ``table``);
    unknown names become plain text columns."""
    if name in _SPECIAL:
        return _SPECIAL[name]
    try:
        f = table.field(name) if table is not None else catalog.get(name)
    except KeyError:
        return Column(name, name.replace("_", " ").capitalize(), "text", "")
    return Column(f.name, f.label, f.unit, f.definition)


def shortlist_columns(data: ExportInput) -> list[Column]:
    """Rank, symbol, name, score (when the screen has one), then the screen's columns in order."""
    ranked = data.result.ranked
    names = ["rank", "symbol"]
    if "name" in ranked.columns or "name" in data.table.values.columns:
        names.append("name")
    if "score" in ranked.columns:
        names.append("score")
    names += [str(c) for c in ranked.columns if c not in names]
    return [column_for(n, data.table) for n in names]


@dataclass(frozen=True)
class ColumnData:
    """One column's raw values for a list of symbols.

    ``values`` is a float64 array (raw units, NaN for missing, may hold inf) for numeric columns,
    otherwise a list of ``str | tuple[str, ...] | date | bool | None``. ``status`` holds the
    StockTable codes (OK / MISSING / NOT_MEANINGFUL) per row.
    """

    column: Column
    values: Any
    status: np.ndarray


def column_data(data: ExportInput, column: Column, symbols: Sequence[str] | pd.Index | None = None,
                ) -> ColumnData:
    """Raw values and status of ``column`` for ``symbols`` (default: the ranked shortlist)."""
    ranked = data.result.ranked
    index = ranked.index if symbols is None else pd.Index(list(symbols))
    name = column.name
    if name == "symbol":
        raw: pd.Series = pd.Series(index.astype(object), index=index, dtype=object)
    elif name in ranked.columns and symbols is None:
        raw = ranked[name]
    elif name in ranked.columns and index.isin(ranked.index).all():
        raw = ranked[name].reindex(index)
    elif name in data.table.values.columns:
        raw = data.table.values[name].reindex(index)
    else:
        raw = pd.Series([None] * len(index), index=index, dtype=object)
    status_frame = data.table.status
    if name in status_frame.columns:
        status = status_frame[name].reindex(index).fillna(MISSING).to_numpy(dtype=np.int8)
    else:
        status = None
    if column.is_numeric:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if status is None:
            status = np.where(np.isnan(values), MISSING, OK).astype(np.int8)
        return ColumnData(column, values, status)
    converted = [_convert(v, column.unit) for v in raw.tolist()]
    if status is None:
        status = np.array([MISSING if v is None else OK for v in converted], dtype=np.int8)
    return ColumnData(column, converted, status)


def _convert(value: object, unit: str) -> object:
    """A non-numeric raw value as a plain Python object; None when missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if unit == "tags":
        if isinstance(value, str):
            return (value,) if value else ()
        return tuple(str(v) for v in value)  # type: ignore[attr-defined]
    if unit == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            return bool(value)
        return str(value).strip().lower() in {"true", "yes", "1"}
    if unit == "date":
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        return None if pd.isna(stamp) else stamp.date()
    return str(value)


def why_order(data: ExportInput) -> list[str]:
    """Rows of the Why sheet: the shortlist in rank order, then the others, closest first."""
    states = data.result.states
    ranked = [s for s in data.result.ranked.index if s in states.index]
    passed = set(ranked)
    rest = states.loc[[s for s in states.index if s not in passed]]
    fails = (rest == FAIL).sum(axis=1)
    unknowns = (rest == UNKNOWN).sum(axis=1)
    order = pd.DataFrame({"f": fails, "u": unknowns, "s": rest.index}, index=rest.index)
    order = order.sort_values(["f", "u", "s"], kind="stable")
    return ranked + [str(s) for s in order.index]


def exported_fields(data: ExportInput) -> list[str]:
    """Every stock field the export shows (shortlist columns, then criterion fields)."""
    names: list[str] = []
    for col in shortlist_columns(data):
        if col.name not in _SPECIAL and col.name not in names:
            names.append(col.name)
    for crit in data.criteria:
        if crit.field and crit.field not in names:
            names.append(crit.field)
    return names


def value_counts(values: pd.Series, symbols: Sequence[str] | pd.Index, *, tags: bool = False) -> pd.Series:
    """How many of ``symbols`` fall in each category (each theme, for tag tuples); missing = "(none)"."""
    sub = values.reindex(pd.Index(list(symbols)))
    if tags:
        sub = sub.map(lambda v: tuple(v) if isinstance(v, (tuple, list)) and v else ("(none)",))
        sub = sub.explode()
    else:
        sub = sub.astype(object).where(sub.notna(), "(none)")
    counts = sub.astype(str).value_counts()
    return counts.sort_values(ascending=False, kind="stable")
