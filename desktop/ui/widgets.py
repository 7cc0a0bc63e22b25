"""Small window parts with no logic of their own: the message banner and the first-run state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget


class Banner(QFrame):
    """A calm, non-modal message strip above the workspace, with optional actions."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        layout.addWidget(self.text, 1)
        self.actions_box = QHBoxLayout()
        layout.addLayout(self.actions_box)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(self.tr("Dismiss"))
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, actions: tuple[tuple[str, Any], ...] = ()) -> None:
        self.text.setText(text)
        while self.actions_box.count():
            item = self.actions_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for label, slot in actions:
            button = QPushButton(label, self)
            button.clicked.connect(slot)
            self.actions_box.addWidget(button)
        self.show()


class EmptyState(QWidget):
    """First run: what Pickaxe needs and the two ways to get it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QVBoxLayout()
        title = QLabel(self.tr("Welcome to Pickaxe"), self)
        title.setObjectName("EmptyTitle")
        text = QLabel(self.tr(
            "Pickaxe screens the Russell 2000 for companies that live on real cash flow and can carry "
            "higher interest rates. It needs a snapshot of the index members and their fundamentals.<br><br>"
            "<b>Online:</b> download the current IWM holdings from iShares, the fundamentals from SEC EDGAR "
            "(Pickaxe asks once for the contact e-mail the SEC requires) and prices from Yahoo Finance "
            "(about 2,000 companies; this takes a while and runs in the background).<br>"
            "<b>Offline:</b> import files you already have: the iShares holdings CSV first, then the SEC's "
            "companyfacts.zip, a Finviz export, Yahoo JSON or SimFin bulk files, the FRED 10-year yield and "
            "daily prices."), self)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setMaximumWidth(640)
        self.download = QPushButton(self.tr("Download the Russell 2000 now"), self)
        self.download.setObjectName("PrimaryButton")
        self.import_button = QPushButton(self.tr("Import files…"), self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        box.addWidget(title)
        box.addWidget(text)
        box.addSpacing(12)
        box.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


class LoadingState(QWidget):
    """What the window shows until its first snapshot is on screen (issue #17): the store being
    opened, which snapshot is being read, or why it could not be - never an empty table that
    looks like a result.

    Signals:
        painted(): the page was painted for the first time (the window starts its slow work then).
    """

    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.was_painted = False
        self.setObjectName("LoadingState")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.title = QLabel(self.tr("Opening Pickaxe…"), self)
        self.title.setObjectName("LoadingTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel(self)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        outer.addWidget(self.title)
        outer.addWidget(self.detail)
        outer.addStretch(2)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self.was_painted:
            self.was_painted = True
            self.painted.emit()

    def opening(self, where: str) -> None:
        """Say that the store is being opened (the first thing a start does, issue #17)."""
        self.title.setText(self.tr("Opening the store…"))
        self.detail.setText(self.tr("Reading %s. The latest snapshot, the screen and the charts appear in a "
                                    "moment.") % where)

    def loading(self, what: str) -> None:
        """Say which snapshot is being read, e.g. "snapshot #6 as of 2026-05-05 (1,914 members)"."""
        self.title.setText(self.tr("Loading %s…") % what)
        self.detail.setText(self.tr("The metrics, the screen and the charts appear in a moment."))

    def failed(self, why: str, title: str = "") -> None:
        self.title.setText(title or self.tr("The snapshot could not be shown"))
        self.detail.setText(why + " " + self.tr("Pick another snapshot above, or import or refresh to make a new one."))
