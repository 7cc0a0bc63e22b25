"""What changed since the last run: stocks that entered and left the shortlist, and why, with the
screen's run history beneath."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


class WhatChangedDialog(QDialog):
    """Lists entered and exited symbols with a reason each (criterion, values before and after)."""

    def __init__(self, title: str, entered: Sequence[tuple[str, str]], exited: Sequence[tuple[str, str]],
                 parent: QWidget | None = None, note: str = "", history: Sequence[str] = (),
                 compared: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("What changed"))
        self.resize(640, 480)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{title}</b>" + (f"<br><span style='color:#666'>{note}</span>" if note else ""))
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels([self.tr("Stock"), self.tr("Why")])
        self.tree.setColumnWidth(0, 140)
        for label, rows in ((self.tr("Entered (%d)") % len(entered), entered),
                            (self.tr("Left (%d)") % len(exited), exited)):
            top = QTreeWidgetItem(self.tree, [label])
            for symbol, why in rows:
                QTreeWidgetItem(top, [symbol, why])
            top.setExpanded(True)
        if not entered and not exited:
            QTreeWidgetItem(self.tree, [self.tr("No change"), ""])
        self.tree.setVisible(compared)  # with no earlier run there is nothing to list, not "No change"
        layout.addWidget(self.tree, 3)
        if history:
            caption = QLabel(self.tr("Run history of this screen (newest first)"), self)
            caption.setObjectName("PaneTitle")
            layout.addWidget(caption)
            self.history = QListWidget(self)
            self.history.addItems(list(history))
            layout.addWidget(self.history, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
