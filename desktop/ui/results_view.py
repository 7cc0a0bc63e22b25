"""The results table view: selection by symbol, copy as TSV, a column chooser on the header."""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from desktop.engine import catalog
from desktop.ui.results_model import RawValueRole, ResultsTableModel


def _copy_text(value: object, display: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        # keep "n.m." (not meaningful) apart from an empty cell (missing)
        return "n.m." if display == "n.m." else ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return str(value).replace("\t", " ").replace("\n", " ")


class ResultsView(QTableView):
    """Rows of :class:`ResultsTableModel`.

    Signals:
        selection_symbols_changed(list): symbols of the selected rows, in view order.
        columns_requested(list): the user picked a new set of extra columns (field names).
    """

    selection_symbols_changed = Signal(list)
    columns_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsView")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(False)
        self.setWordWrap(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setDefaultSectionSize(22)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setDefaultSectionSize(96)
        header.setResizeContentsPrecision(60)  # measure a sample of rows, not all 2,000
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        copy = QAction(self.tr("Copy"), self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        self.addAction(copy)
        self._extra_columns: list[str] = []
        self._model: ResultsTableModel | None = None
        self._sized_for: tuple[str, ...] = ()

    def setModel(self, model: ResultsTableModel) -> None:  # type: ignore[override]  # noqa: N802
        super().setModel(model)
        self._model = model
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        model.modelReset.connect(self._after_reset)
        model.layoutChanged.connect(self._after_sort)

    def set_extra_columns(self, names: list[str]) -> None:
        self._extra_columns = list(names)

    # -- selection by symbol ----------------------------------------------------------------
    def selected_symbols(self) -> list[str]:
        if self._model is None:
            return []
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self._model.symbol_at(r) for r in rows]

    def select_symbols(self, symbols: Iterable[str], *, scroll: bool = True) -> None:
        """Select the rows of ``symbols`` (those not shown are ignored)."""
        if self._model is None:
            return
        model = self._model
        selection = QItemSelection()
        first = -1
        for symbol in symbols:
            row = model.row_of(symbol)
            if row >= 0:
                selection.select(model.index(row, 0), model.index(row, model.columnCount() - 1))
                first = row if first < 0 else first
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.selectionModel().select(selection, flags)
        if first >= 0:
            auto = self.hasAutoScroll()
            self.setAutoScroll(auto and scroll)  # a new current index scrolls to it unless told not to
            self.selectionModel().setCurrentIndex(model.index(first, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
            self.setAutoScroll(auto)
            if scroll:
                self.scrollTo(model.index(first, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def _selection_changed(self) -> None:
        self.selection_symbols_changed.emit(self.selected_symbols())

    def _after_sort(self) -> None:
        """Keep the selection in sight after a sort: its rows moved (still selected, the model
        remaps persistent indexes) but the scroll position did not, so they could be off screen."""
        current, selection = self.currentIndex(), self.selectionModel()
        if current.isValid() and selection.isRowSelected(current.row()):
            row = current.row()
        elif selection.hasSelection():
            row = min(i.row() for i in selection.selectedRows())
        else:
            return
        hbar = self.horizontalScrollBar()
        left = hbar.value()
        self.scrollTo(self.model().index(row, max(current.column(), 0)), QAbstractItemView.ScrollHint.EnsureVisible)
        hbar.setValue(left)  # vertically only: the header just clicked stays where it was

    def _after_reset(self) -> None:
        columns = tuple(spec.name for spec in self._model.columns()) if self._model else ()
        if columns != self._sized_for:  # fit widths when the column set changes, not per re-screen
            self._sized_for = columns
            self._fit_columns()
        self.selection_symbols_changed.emit(self.selected_symbols())

    def _fit_columns(self) -> None:
        """Each column as wide as its header and its longest texts (56-260 px).

        Measured from the model's preformatted texts: Qt's ``resizeColumnsToContents`` asks every
        sampled cell for its size through the style sheet, ~170 ms of each start (issue #17). The
        cell padding is the difference between one cell's size hint and its text's width.
        """
        model, header = self._model, self.horizontalHeader()
        if model is None:
            return
        metrics = self.fontMetrics()
        padding = 12
        if model.rowCount() and model.columnCount():
            first = model.index(0, 0)
            padding = self.sizeHintForIndex(first).width() - metrics.horizontalAdvance(str(model.data(first) or ""))
        for c in range(model.columnCount()):
            text = max((metrics.horizontalAdvance(t) for t in model.longest_texts(c)), default=0)
            header.resizeSection(c, min(max(text + padding, header.sectionSizeHint(c), 56), 260))

    # -- copy -------------------------------------------------------------------------------
    def selection_as_tsv(self) -> str:
        """Selected cells as tab-separated text with a header row; raw values, not display text."""
        if self._model is None:
            return ""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            return ""
        header = self.horizontalHeader()
        rows = sorted({i.row() for i in indexes})
        cols = sorted({i.column() for i in indexes}, key=header.visualIndex)
        cols = [c for c in cols if not header.isSectionHidden(c)]
        model = self._model
        lines = ["\t".join(str(model.headerData(c, Qt.Orientation.Horizontal)) for c in cols)]
        for r in rows:
            cells = []
            for c in cols:
                index = model.index(r, c)
                cells.append(_copy_text(model.data(index, RawValueRole), model.data(index)))
            lines.append("\t".join(cells))
        return "\n".join(lines) + "\n"

    def copy_selection(self) -> None:
        text = self.selection_as_tsv()
        if text:
            QGuiApplication.clipboard().setText(text)

    # -- column chooser ---------------------------------------------------------------------
    def column_menu(self) -> QMenu:
        """A menu of every numeric and category field, grouped; checked = shown as a column."""
        menu = QMenu(self.tr("Columns"), self)
        groups: dict[str, QMenu] = {}
        shown = set(self._extra_columns)
        fixed = {spec.name for spec in (self._model.columns() if self._model else [])} - shown
        for f in sorted(catalog.all_fields(), key=lambda f: (f.group, f.label)):
            if f.unit in ("text", "date") or f.name in fixed:
                continue
            sub = groups.get(f.group)
            if sub is None:
                sub = groups[f.group] = menu.addMenu(f.group)
                sub.setToolTipsVisible(True)
            action = sub.addAction(f.label)
            action.setCheckable(True)
            action.setChecked(f.name in shown)
            action.setToolTip(f.definition)
            action.setData(f.name)
            action.toggled.connect(lambda on, name=f.name: self._toggle_column(name, on))
        return menu

    def _toggle_column(self, name: str, on: bool) -> None:
        names = [n for n in self._extra_columns if n != name]
        if on:
            names.append(name)
        self._extra_columns = names
        self.columns_requested.emit(list(names))

    def _header_menu(self, pos: QPoint) -> None:
        self.column_menu().exec(self.horizontalHeader().mapToGlobal(pos))
