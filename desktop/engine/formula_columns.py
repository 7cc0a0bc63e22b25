"""A screen's formula fields as columns of the StockTable (issue #16).

:func:`with_formulas` returns a new table whose ``values``, ``status``, ``notes``, ``period_end``
and ``origin`` also hold the formula fields, so that screening, sorting, charts, the detail pane
and the exports treat them like any catalogue field. A formula value is dated by its oldest input
and its note says which input (or which operation) made it missing, n.m., stale or suspect.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from desktop.engine.metrics import StockTable
from desktop.engine.rules import MISSING, OK, STATE_NAMES
from desktop.engine.screen import FormulaField


def with_formulas(table: StockTable, formulas: Sequence[FormulaField]) -> StockTable:
    """``table`` plus one column per formula (cached: the latest set of formulas per table)."""
    if not formulas:
        return table
    key = tuple((f.name, f.expression, f.label, f.unit) for f in formulas)
    hit = table._cache.get("formulas")
    if hit is not None and hit[0] == key:
        return hit[1]
    n = len(table.values)
    symbols = table.values.index.tolist()
    values, status, ends, origin = {}, {}, {}, {}
    notes: dict[tuple[str, str], str] = {}  # the formulas' notes, in front of the table's (no copy)
    for f in formulas:
        assert f.parsed is not None, "formula fields come from screen.formula_field"
        v, st, why = f.parsed.evaluate(table.numeric, n)
        values[f.name], status[f.name] = v, st
        ends[f.name] = _oldest_input(table, f.parsed.fields, n)
        origin[f.name] = np.full(n, f"formula: {f.expression}", dtype=object)
        _explain(notes, symbols, table, f, st, why)
    index = table.values.index
    derived = replace(
        table,
        values=pd.concat([table.values.drop(columns=list(values), errors="ignore"),
                          pd.DataFrame(values, index=index)], axis=1),
        status=pd.concat([table.status.drop(columns=list(status), errors="ignore"),
                          pd.DataFrame(status, index=index)], axis=1),
        notes=LayeredNotes(notes, table.notes),
        period_end=pd.concat([table.period_end.drop(columns=list(ends), errors="ignore"),
                              pd.DataFrame(ends, index=index, dtype="datetime64[ns]")], axis=1),
        origin=pd.concat([table.origin.drop(columns=list(origin), errors="ignore"),
                          pd.DataFrame(origin, index=index, dtype=object)], axis=1),
        extra_fields={**table.extra_fields, **{f.name: f.field for f in formulas}},
        _cache={},
    )
    table._cache["formulas"] = (key, derived)
    return derived


class LayeredNotes(Mapping[tuple[str, str], str]):
    """The formulas' notes in front of the table's, read through without copying 100,000 notes."""

    def __init__(self, front: Mapping[tuple[str, str], str], back: Mapping[tuple[str, str], str]) -> None:
        self.front, self.back = front, back

    def __getitem__(self, key: tuple[str, str]) -> str:
        return self.front[key] if key in self.front else self.back[key]

    def __contains__(self, key: object) -> bool:
        return key in self.front or key in self.back

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self.front
        yield from (k for k in self.back if k not in self.front)

    def __len__(self) -> int:
        return len(self.front) + sum(1 for k in self.back if k not in self.front)


def _oldest_input(table: StockTable, fields: Sequence[str], n: int) -> np.ndarray:
    """Per stock, the earliest period end among the formula's dated inputs (NaT when none is dated)."""
    dated = [table.period_end[f].to_numpy(dtype="datetime64[ns]") for f in fields if f in table.period_end]
    if not dated:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    stacked = np.stack(dated).view("int64")
    nat = stacked == np.iinfo(np.int64).min  # NaT
    oldest = np.where(nat, np.iinfo(np.int64).max, stacked).min(axis=0)
    return np.where(nat.all(axis=0), np.iinfo(np.int64).min, oldest).view("datetime64[ns]")


def _explain(notes: dict[tuple[str, str], str], symbols: list[str], table: StockTable, f: FormulaField,
             st: np.ndarray, why: np.ndarray) -> None:
    """A note for every value that is not plainly ok: the first input in that state, or the operation."""
    todo = st != OK
    own = todo & (why != "")
    for k in np.flatnonzero(own).tolist():
        notes[(symbols[k], f.name)] = f"{STATE_NAMES[int(st[k])]}: {why[k]}"
    todo &= ~own
    assert f.parsed is not None
    for name in f.parsed.fields:
        if not todo.any():
            break
        inp = table.numeric(name)[1]
        hit = todo & (inp == st)
        label = table.field(name).label
        for k in np.flatnonzero(hit).tolist():
            state = STATE_NAMES[int(st[k])]
            detail = table.notes.get((symbols[k], name)) if st[k] != MISSING else None
            text = f"{state}: its input {label} is {state}"
            notes[(symbols[k], f.name)] = f"{text} ({detail})" if detail else text
        todo &= ~hit
