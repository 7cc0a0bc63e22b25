"""The results table: a thin Qt adapter over the engine's immutable result (STYLE.md section 2).

:class:`FormattedTable` pulls each column of a :class:`StockTable` into numpy arrays once - raw
values, display text and status - and caches them for the table's lifetime, so that a re-screen
(every threshold change) only fancy-indexes the rows that pass. :class:`ResultsTableModel` holds
those row arrays; ``data()`` only indexes. Sorting is a numpy argsort turned into a row
permutation, announced with layout signals and with persistent indexes remapped; where missing
values go is decided in one overridable method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.engine import catalog
from desktop.engine.formatting import format_value, mark_state
from desktop.engine.rules import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT

RawValueRole = Qt.ItemDataRole.UserRole + 1  # the unformatted value (float, str, tuple)
CellStateRole = Qt.ItemDataRole.UserRole + 2  # 0 FAIL, 1 PASS, 2 UNKNOWN, -1 no criterion
SymbolRole = Qt.ItemDataRole.UserRole + 3  # the row's symbol, any column

# Criterion states as the engine's ScreenResult.states encodes them.
FAIL, PASS, UNKNOWN, NO_CRITERION = 0, 1, 2, -1

_STATE_COLOURS = {
    PASS: QColor(222, 242, 226),
    FAIL: QColor(250, 222, 222),
    UNKNOWN: QColor(252, 240, 205),
}
_MUTED = QColor(128, 128, 128)

_IndexLike = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class ColumnSpec:
    """One results column: a catalogue field (or a result column such as ``rank``)."""

    name: str
    label: str
    unit: str
    tooltip: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.unit in catalog.NUMERIC_UNITS

    @staticmethod
    def for_field(name: str, lookup: Callable[[str], catalog.Field] = catalog.get) -> ColumnSpec:
        """The column for field ``name`` (label, unit, definition as tooltip); ``lookup`` also knows
        the screen's formula fields (``StockTable.field``, issue #16)."""
        if name == "rank":
            return ColumnSpec("rank", "#", "count", "Rank in the screen's sort order.")
        if name == "score":
            return ColumnSpec("score", "Score", "percentile", "Composite score: weighted percentile ranks.")
        try:
            f = lookup(name)
        except KeyError:
            return ColumnSpec(name, name, "text")
        unit_note = f" [{f.unit}]" if f.is_numeric else ""
        return ColumnSpec(f.name, f.label, f.unit, f"{f.label}{unit_note}: {f.definition}")


def _text_of(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


class FormattedTable:
    """Raw arrays and pre-formatted text per column of one StockTable, computed on first use.

    The table is immutable, so a column is formatted once however often the screen changes.
    """

    def __init__(self, values: pd.DataFrame, status: pd.DataFrame | None = None,
                 notes: Mapping[tuple[str, str], str] | None = None,
                 period_end: pd.DataFrame | None = None) -> None:
        self.values = values
        self.status = status
        # Aligned with ``values`` once: a stale cell prints the year of the period it describes.
        self.period_end = (period_end.reindex(values.index) if period_end is not None
                           else pd.DataFrame(index=values.index))
        self.notes = notes if notes is not None else {}  # read only: no copy of 100k notes
        self.symbols = np.asarray(values.index.astype(str), dtype=object)
        self._raw: dict[str, np.ndarray] = {}
        self._text: dict[str, np.ndarray] = {}
        self._formatted: dict[str, np.ndarray] = {}  # per column: which rows' text is made
        self._status: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.values)

    def has(self, name: str) -> bool:
        return name in self.values.columns

    def positions(self, symbols: Sequence[str] | pd.Index) -> np.ndarray:
        """Row positions of ``symbols`` in the table (unknown symbols are dropped)."""
        pos = self.values.index.get_indexer(pd.Index(symbols))
        return pos[pos >= 0].astype(np.intp)

    def status_of(self, name: str) -> np.ndarray:
        if name not in self._status:
            if self.status is not None and name in self.status.columns:
                self._status[name] = self.status[name].to_numpy(dtype=np.int8, na_value=MISSING)
            else:
                raw = self.raw(name)
                if raw.dtype.kind == "f":
                    self._status[name] = np.where(np.isnan(raw), MISSING, OK).astype(np.int8)
                else:
                    missing = np.fromiter((_text_of(v) == "" for v in raw), dtype=bool, count=len(raw))
                    self._status[name] = np.where(missing, MISSING, OK).astype(np.int8)
        return self._status[name]

    def raw(self, name: str) -> np.ndarray:
        if name not in self._raw:
            if name == "symbol" and name not in self.values.columns:  # the index, shown as a column
                self._raw[name] = self.symbols
            elif name not in self.values.columns:
                self._raw[name] = np.full(len(self.values), np.nan)
            else:
                col = self.values[name]
                if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                    self._raw[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
                elif pd.api.types.is_bool_dtype(col):
                    self._raw[name] = col.to_numpy(dtype=np.float64)
                else:
                    self._raw[name] = col.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        return self._raw[name]

    def text(self, spec: ColumnSpec, positions: np.ndarray | None = None) -> np.ndarray:
        """A column's display text, formatted for rows ``positions`` (None: every row) at least.

        Rows are formatted the first time they are shown, not all at once: the first screen shows
        a hundred of 2,000 rows, and formatting them all cost ~0.1 s of start-up (issue #17).
        """
        out = self._text.get(spec.name)
        if out is None:
            out = self._text[spec.name] = np.full(len(self.values), None, dtype=object)
            self._formatted[spec.name] = np.zeros(len(self.values), dtype=bool)
        done = self._formatted[spec.name]
        rows = np.arange(len(out)) if positions is None else np.asarray(positions, dtype=np.intp)
        todo = rows[~done[rows]]
        if not len(todo):
            return out
        raw = self.raw(spec.name)[todo]
        status = self.status_of(spec.name)[todo]
        if spec.is_numeric or spec.unit == "bool":
            texts = [format_value(v, spec.unit, int(s)) for v, s in zip(raw, status, strict=True)]
            ends = self.period_end[spec.name].to_numpy() if spec.name in self.period_end.columns else None
            for k in np.flatnonzero((status == STALE) | (status == SUSPECT)):
                end = pd.Timestamp(ends[todo[k]]) if ends is not None else None
                texts[k] = mark_state(texts[k], int(status[k]), end)
        else:
            texts = [_text_of(v) or format_value(None, spec.unit, MISSING) for v in raw]
        out[todo] = np.asarray(texts, dtype=object)
        done[todo] = True
        return out


class ResultsTableModel(QAbstractTableModel):
    """Rows = the stocks the screen shows (in rank order), columns = :class:`ColumnSpec`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns: list[ColumnSpec] = []
        self._symbols = np.empty(0, dtype=object)
        self._raw: list[np.ndarray] = []
        self._text: list[np.ndarray] = []
        self._status: list[np.ndarray] = []
        self._states: list[np.ndarray | None] = []
        self._notes: Mapping[tuple[str, str], str] = {}
        self._order = np.empty(0, dtype=np.intp)  # view row -> base row
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # -- loading ----------------------------------------------------------------------------
    def set_rows(
        self,
        table: FormattedTable,
        positions: np.ndarray,
        columns: Sequence[ColumnSpec],
        cell_states: Mapping[str, np.ndarray] | None = None,
        extra: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Show rows ``positions`` of ``table`` (base order = rank order).

        Args:
            table: the formatted snapshot table.
            positions: row positions into ``table``, in rank order.
            columns: the columns to show.
            cell_states: per column name, criterion states aligned with ``positions``.
            extra: per column name, raw values aligned with ``positions`` for columns that are
                not table fields (``rank``, ``score``).
        """
        cell_states = cell_states or {}
        extra = extra or {}
        self.beginResetModel()
        self._columns = list(columns)
        self._symbols = table.symbols[positions]
        self._raw, self._text, self._status, self._states = [], [], [], []
        for spec in self._columns:
            if spec.name in extra:
                raw = np.asarray(extra[spec.name], dtype=np.float64)
                status = np.where(np.isnan(raw), MISSING, OK).astype(np.int8)
                text = np.asarray([format_value(v, spec.unit, int(s)) for v, s in zip(raw, status, strict=True)],
                                  dtype=object)
            else:
                raw = table.raw(spec.name)[positions]
                text = table.text(spec, positions)[positions]
                status = table.status_of(spec.name)[positions]
            self._raw.append(raw)
            self._text.append(text)
            self._status.append(status)
            self._states.append(cell_states.get(spec.name))
        self._notes = table.notes  # looked up per tooltip; no per-reset work
        self._order = np.arange(len(self._symbols), dtype=np.intp)
        if self._sort is not None and self._sort[0] < len(self._columns):
            self._order = self._sorted_order(*self._sort)
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._columns, self._raw, self._text, self._status, self._states = [], [], [], [], []
        self._symbols = np.empty(0, dtype=object)
        self._order = np.empty(0, dtype=np.intp)
        self._notes = {}
        self.endResetModel()

    # -- Qt model API -----------------------------------------------------------------------
    def rowCount(self, parent: _IndexLike = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _IndexLike = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _IndexLike, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        c = index.column()
        base = int(self._order[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[c][base]
        if role == RawValueRole:
            value = self._raw[c][base]
            return float(value) if isinstance(value, np.floating) else value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if self._columns[c].is_numeric:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            states = self._states[c]
            if states is not None:
                colour = _STATE_COLOURS.get(int(states[base]))
                return QBrush(colour) if colour is not None else None
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._status[c][base] != OK:
                return QBrush(_MUTED)
            if self._states[c] is not None:
                return QBrush(QColor(30, 30, 30))  # stays dark on the pastel state colours
            return None
        if role == CellStateRole:
            states = self._states[c]
            return NO_CRITERION if states is None else int(states[base])
        if role == SymbolRole:
            return str(self._symbols[base])
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(base, c)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            spec = self._columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return spec.label
            if role == Qt.ItemDataRole.ToolTipRole:
                return spec.tooltip or spec.label
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int((Qt.AlignmentFlag.AlignRight if spec.is_numeric else Qt.AlignmentFlag.AlignLeft)
                           | Qt.AlignmentFlag.AlignVCenter)
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._order):
            return str(section + 1)
        return None

    def flags(self, index: _IndexLike) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` with numpy; persistent indexes follow their rows."""
        if not 0 <= column < len(self._columns):
            self._sort = None
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_order = self._order
        new_order = self._sorted_order(column, order)
        inverse = np.empty_like(new_order)
        inverse[new_order] = np.arange(len(new_order), dtype=np.intp)
        persistent = self.persistentIndexList()
        if persistent:
            new_indexes = [self.index(int(inverse[old_order[i.row()]]), i.column()) if i.isValid() else i
                           for i in persistent]
            self._order = new_order
            self.changePersistentIndexList(persistent, new_indexes)
        else:
            self._order = new_order
        self.layoutChanged.emit()

    # -- sorting helpers --------------------------------------------------------------------
    def _sorted_order(self, column: int, order: Qt.SortOrder) -> np.ndarray:
        raw = self._raw[column]
        if raw.dtype.kind == "f":
            keys: np.ndarray = raw
            missing = np.isnan(raw)
        else:
            text = np.asarray([_text_of(v).casefold() for v in raw], dtype=str)
            keys, missing = text, text == ""
        present = np.flatnonzero(~missing)
        ranked = present[np.argsort(keys[present], kind="stable")]
        if order == Qt.SortOrder.DescendingOrder:
            ranked = ranked[::-1]
        return self.place_missing(ranked, np.flatnonzero(missing), order)

    def place_missing(self, present: np.ndarray, missing: np.ndarray, order: Qt.SortOrder) -> np.ndarray:
        """Where rows without a value go: last in both directions (override to change)."""
        return np.concatenate([present, missing]).astype(np.intp)

    # -- helpers for views ------------------------------------------------------------------
    def columns(self) -> list[ColumnSpec]:
        return list(self._columns)

    def longest_texts(self, column: int, count: int = 3) -> list[str]:
        """The ``count`` longest display texts of ``column`` (by characters), for fitting its width."""
        texts = self._text[column]
        if not len(texts):
            return []
        lengths = np.fromiter((len(t) if isinstance(t, str) else 0 for t in texts), dtype=np.int64, count=len(texts))
        top = np.argpartition(lengths, -min(count, len(texts)))[-count:]
        return [str(texts[k]) for k in top if isinstance(texts[k], str)]

    def symbol_at(self, row: int) -> str:
        return str(self._symbols[self._order[row]])

    def row_of(self, symbol: str) -> int:
        """View row of ``symbol``, or -1 when it is not shown."""
        hits = np.flatnonzero(self._symbols[self._order] == symbol)
        return int(hits[0]) if len(hits) else -1

    def symbols(self) -> list[str]:
        """Symbols in view order."""
        return [str(s) for s in self._symbols[self._order]]

    def _tooltip(self, base: int, column: int) -> str | None:
        spec = self._columns[column]
        note = self._notes.get((str(self._symbols[base]), spec.name))
        status = int(self._status[column][base])
        if status == NOT_MEANINGFUL:
            return note or self.tr("Not meaningful for this company (%s).") % spec.label
        if status == MISSING and spec.is_numeric:
            return note or self.tr("No data for %s.") % spec.label
        return note
