"""What an export contains, independent of the file format.

:class:`ExportInput` gathers a screen run (screen definition, criteria, stock table, result and
snapshot facts) as plain values, so this layer needs neither the store nor the services.
:func:`shortlist_columns` and :func:`column_data` decide the shortlist's columns and their raw
values; the Excel, CSV and CLI writers only differ in how they render them.

Every value has a state (issue #12): :func:`with_states` puts after each column that has one a
"period" column (the period end or as-of date of the value) and a "state" column (ok, missing,
n.m., stale, suspect), and :func:`state_rows` lists every n.m., stale and suspect value an export
shows with the rule behind it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from desktop.engine import catalog

# StockTable.status codes, re-exported for the writers.
from desktop.engine.rules import (
    COMPANY_KINDS,
    MISSING,
    NOT_MEANINGFUL,
    OK,
    SANITY_RULES,
    STALE,
    STATE_NAMES,
    SUSPECT,
)
from desktop.engine.screen import FlagCriterion, PercentileCriterion, Screen, SetCriterion, describe

if TYPE_CHECKING:
    from desktop.engine.evaluate import ScreenResult
    from desktop.engine.metrics import StockTable

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
    stale: str = ""  # its stale and suspect policies ("" where the criterion has none)
    suspect: str = ""


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
                                 getattr(leaf, "not_meaningful", ""), kind, getattr(leaf, "stale", ""),
                                 getattr(leaf, "suspect", "")))
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


VALUE, PERIOD, STATE = "value", "period", "state"


@dataclass(frozen=True)
class Column:
    """A shortlist column: catalogue field name (the CSV/JSON header), label, unit, definition.

    ``role`` is ``"value"`` for a field's own values; a ``"period"`` or ``"state"`` column holds
    the period end or the state of the values of field ``of`` (see :func:`with_states`).
    """

    name: str
    label: str
    unit: str
    definition: str = ""
    role: str = VALUE
    of: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.unit in catalog.NUMERIC_UNITS or self.unit == "score"


# Columns the result adds that are not stock fields.
RANK = Column("rank", "Rank", "count", "Position in the screen's sort order (1 = first).")
SCORE = Column("score", "Score", "score",
               "Composite score: the screen's weighted percentile ranks, 0-100 (higher is better).")
_SPECIAL = {"rank": RANK, "score": SCORE}
# The score is a 0-100 composite of percentile ranks in the universe: its midpoint is fixed.
SCORE_THRESHOLDS = catalog.Thresholds(0.0, 50.0, 100.0)


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


def with_states(data: ExportInput, columns: Sequence[Column]) -> list[Column]:
    """``columns`` with, after each stock field that has a state, its period and state columns."""
    out: list[Column] = []
    for col in columns:
        out.append(col)
        if has_state(data, col):
            out += [period_column(col), state_column(col)]
    return out


def has_state(data: ExportInput, column: Column) -> bool:
    """True for a stock field whose values carry a state (the numeric and yes/no fields)."""
    return column.role == VALUE and column.name not in _SPECIAL and column.name in data.table.status.columns


def period_column(value: Column) -> Column:
    return Column(f"{value.name}_period", f"{value.label} period", "date",
                  f"Period end of the statement behind {value.label}, or the as-of date of a market or "
                  "source-reported value; empty when the value is missing or undated.", PERIOD, value.name)


def state_column(value: Column) -> Column:
    return Column(f"{value.name}_state", f"{value.label} state", "text",
                  f"State of {value.label}: ok, missing, n.m. (not meaningful), stale (older than the limit) "
                  "or suspect (breaks a sanity rule); the Provenance sheet names the rule.", STATE, value.name)


@dataclass(frozen=True)
class ColumnData:
    """One column's raw values for a list of symbols.

    ``values`` is a float64 array (raw units, NaN for missing, may hold inf) for numeric columns,
    otherwise a list of ``str | tuple[str, ...] | date | bool | None``. ``status`` holds the
    StockTable codes (OK / MISSING / NOT_MEANINGFUL / STALE / SUSPECT) per row; a period or state
    column's own status is OK or MISSING (its values say the state of the field it belongs to).
    """

    column: Column
    values: Any
    status: np.ndarray


def column_data(data: ExportInput, column: Column, symbols: Sequence[str] | pd.Index | None = None,
                ) -> ColumnData:
    """Raw values and status of ``column`` for ``symbols`` (default: the ranked shortlist)."""
    ranked = data.result.ranked
    index = ranked.index if symbols is None else pd.Index(list(symbols))
    if column.role != VALUE:
        return _companion_data(data, column, index)
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
    status = _status(data, name, index)
    if column.is_numeric:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if status is None:
            status = np.where(np.isnan(values), MISSING, OK).astype(np.int8)
        return ColumnData(column, values, status)
    converted = [_convert(v, column.unit) for v in raw.tolist()]
    if status is None:
        status = np.array([MISSING if v is None else OK for v in converted], dtype=np.int8)
    return ColumnData(column, converted, status)


def _status(data: ExportInput, name: str, index: pd.Index) -> np.ndarray | None:
    frame = data.table.status
    if name not in frame.columns:
        return None
    return frame[name].reindex(index).fillna(MISSING).to_numpy(dtype=np.int8)


def _companion_data(data: ExportInput, column: Column, index: pd.Index) -> ColumnData:
    """A period column (dates, empty where the value is missing) or a state column (state names)."""
    status = _status(data, column.of, index)
    if status is None:
        status = np.full(len(index), MISSING, dtype=np.int8)
    if column.role == STATE:
        return ColumnData(column, [STATE_NAMES[int(code)] for code in status.tolist()],
                          np.full(len(index), OK, dtype=np.int8))
    ends = period_ends(data.table, column.of).reindex(index).to_numpy(dtype="datetime64[D]")
    ends[status == MISSING] = np.datetime64("NaT")
    values: list[date | None] = ends.astype(object).tolist()  # datetime.date, None for NaT
    return ColumnData(column, values, np.where(np.isnat(ends), MISSING, OK).astype(np.int8))


def period_ends(table: StockTable, name: str) -> pd.Series:
    """Per symbol, the period end (or as-of date) of field ``name``'s value, datetime64.

    The engine dates the fields it resolves (``StockTable.period_end``); a value a source reports
    as is (a current ratio, a reported debt/equity) is dated by its chosen observation's as-of date.
    """
    if name in table.period_end.columns:
        return table.period_end[name]
    return _observed(table, name, "as_of").astype("datetime64[ns]")


def origin_of(table: StockTable, name: str) -> pd.Series:
    """Per symbol, where field ``name``'s value came from (the engine's origin, else the source)."""
    if name in table.origin.columns:
        return table.origin[name]
    return _observed(table, name, "source").astype(object)


def _observed(table: StockTable, name: str, column: str) -> pd.Series:
    prov = table.provenance
    if not len(prov) or not {"symbol", "field", column} <= set(prov.columns):
        return pd.Series(dtype=object)
    rows = prov[prov["field"] == name]
    if "chosen" in rows.columns:
        rows = rows[rows["chosen"].fillna(False).astype(bool)]
    rows = rows.drop_duplicates("symbol")
    return pd.Series(rows[column].to_numpy(), index=rows["symbol"].astype(str).to_numpy())


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


# --- the rule behind each state (the Provenance sheet) -------------------------------------------

EXPLAINED = (NOT_MEANINGFUL, STALE, SUSPECT)  # states whose rule the export names
_STALE_LIMIT = re.compile(r"(months|days) \(limit (\d+)\)")
_NM_SENTENCE = re.compile(r"n\.m\. [^.;]*")


@dataclass(frozen=True)
class StateRow:
    """One n.m., stale or suspect value an export shows, and why it has that state."""

    symbol: str
    field: str
    state: str  # "n.m." | "stale" | "suspect"
    rule: str  # a sanity rule id, "company kind: bank", "older than 18 months", "definition of ..."
    reason: str  # the engine's note for this state
    period: date | None
    origin: str | None


def state_rows(data: ExportInput) -> list[StateRow]:
    """Every n.m., stale and suspect value the export shows, in Why-sheet order, then field order.

    That is each shortlist field of each shortlisted stock, and each criterion's field for every
    stock of the Why sheet (the whole universe of the screen).
    """
    order = why_order(data)
    position = {s: i for i, s in enumerate(order)}
    shortlisted = [str(s) for s in data.result.ranked.index]
    status = data.table.status
    fields = [n for n in exported_fields(data) if n in status.columns]
    criterion_fields = {c.field for c in data.criteria}
    found: list[tuple[int, int, str, str, int]] = []
    for k, name in enumerate(fields):
        symbols = order if name in criterion_fields else shortlisted
        codes = status[name].reindex(pd.Index(symbols)).fillna(MISSING).to_numpy(dtype=np.int8)
        for i in np.flatnonzero(np.isin(codes, EXPLAINED)):
            symbol = symbols[int(i)]
            found.append((position.get(symbol, len(order)), k, symbol, name, int(codes[i])))
    found.sort()
    periods = {name: period_ends(data.table, name) for name in {f[3] for f in found}}
    origins = {name: origin_of(data.table, name) for name in periods}
    out = []
    for _, _, symbol, name, code in found:
        rule, reason = explain(code, name, data.table.notes.get((symbol, name)))
        end = periods[name].get(symbol)
        origin = origins[name].get(symbol)
        out.append(StateRow(symbol, name, STATE_NAMES[code], rule, reason,
                            None if end is None or pd.isna(end) else pd.Timestamp(end).date(),
                            origin if isinstance(origin, str) and origin else None))
    return out


def explain(code: int, name: str, note: str | None) -> tuple[str, str]:
    """(rule, reason) behind state ``code`` of field ``name``, from the engine's note on the value.

    The engine writes one note per value, its parts joined by "; ": "stale: ..." and "suspect: ..."
    parts name those states (the suspect reason is a sanity rule's sentence, so it gives the rule's
    id); any other part explains an n.m. (a kind of company, or the field's own definition).
    """
    parts = [p.strip() for p in (note or "").split("; ") if p.strip()]
    if code == SUSPECT:
        reason = _tagged(parts, "suspect: ") or "breaks a sanity rule"
        rule = next((r.id for r in SANITY_RULES if r.reason == reason), reason)
        return rule, reason
    if code == STALE:
        reason = _tagged(parts, "stale: ") or "older than the stale limit"
        limit = _STALE_LIMIT.search(reason)
        return (f"older than {limit.group(2)} {limit.group(1)}" if limit else "stale limit"), reason
    plain = [p for p in parts if not p.startswith(("stale: ", "suspect: "))]
    for kind in COMPANY_KINDS:
        for part in plain:
            if part == f"not meaningful for {kind.reason}":
                return f"company kind: {kind.kind}", part
    reason = "; ".join(plain) or _nm_caveat(name)
    return f"definition of {name}", reason


def _tagged(parts: list[str], tag: str) -> str:
    return next((p[len(tag):] for p in parts if p.startswith(tag)), "")


def _nm_caveat(name: str) -> str:
    """What the catalogue says makes ``name`` n.m. (the sentence of its caveats naming n.m.)."""
    try:
        caveats = catalog.get(name).caveats
    except KeyError:
        caveats = ""
    sentence = _NM_SENTENCE.search(caveats)
    return sentence.group(0) if sentence else "not meaningful for this company"
