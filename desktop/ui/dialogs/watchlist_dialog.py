"""The watchlist as a view (issue #17): pinned stocks with their notes, editable in place.

Non-modal, so the user keeps screening beside it. A note is saved when its cell is edited;
double-clicking a stock selects it in the results; Unpin removes it. The dialog only shows and
asks; :class:`desktop.ui.watchlist.WatchlistController` does the writes (on the window's write
pool) and refreshes the dialog afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.formatting import counted

_SYMBOL, _NAME, _NOTE, _ADDED = range(4)


class WatchlistDialog(QDialog):
    """Pinned stocks with notes.

    Signals:
        note_edited(str, str): the note of a symbol was changed by the user.
        unpin_requested(list): the selected symbols should leave the watchlist.
        symbol_activated(str): the user wants this stock selected in the results.
    """

    note_edited = Signal(str, str)
    unpin_requested = Signal(list)
    symbol_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Watchlist"))
        self.resize(720, 420)
        layout = QVBoxLayout(self)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels([self.tr("Stock"), self.tr("Name"), self.tr("Note"),
                                              self.tr("Pinned (UTC)")])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(_NOTE, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.unpin = QPushButton(self.tr("&Unpin selected"), self)
        buttons.addButton(self.unpin, QDialogButtonBox.ButtonRole.ActionRole)
        self.unpin.clicked.connect(lambda: self.unpin_requested.emit(self.selected_symbols()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._filling = False

    def set_entries(self, entries: Sequence[Any], names: Mapping[str, str]) -> None:
        """Show ``entries`` (WatchEntry: symbol, note, added_at); ``names`` from the shown snapshot."""
        self._filling = True
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            symbol = str(entry.symbol)
            cells = (symbol, names.get(symbol, self.tr("(not in this snapshot)")), str(entry.note or ""),
                     str(entry.added_at)[:16])
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, symbol)
                if column != _NOTE:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(_SYMBOL)
        self.table.resizeColumnToContents(_NAME)
        self.table.resizeColumnToContents(_ADDED)  # "2026-12-04 13:45" on one line
        self._filling = False
        self.caption.setText(
            self.tr("%s pinned. Double-click a stock to select it; type in the Note column to keep a note "
                    "(saved as you leave the cell).") % counted(len(entries), self.tr("stock")) if entries else
            self.tr("Nothing is pinned yet: select stocks in the results and press Ctrl+B to pin them."))

    def selected_symbols(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        items = [self.table.item(r, _SYMBOL) for r in rows]
        return [item.text() for item in items if item is not None]

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == _NOTE:
            self.note_edited.emit(str(item.data(Qt.ItemDataRole.UserRole)), item.text().strip())

    def _double_clicked(self, row: int, column: int) -> None:
        item = self.table.item(row, _SYMBOL)
        if column != _NOTE and item is not None:
            self.symbol_activated.emit(item.text())
