"""A non-modal progress window for long work (refresh, import, export): progress, ETA, cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


def format_eta(seconds: float | None) -> str:
    """"about 3 min left" style text; empty while unknown."""
    if seconds is None:
        return ""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(round(seconds))} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class ProgressDialog(QDialog):
    """Shows one task's progress; the user can cancel or hide it and keep working.

    Signals:
        cancel_requested(): the Cancel button was pressed.
    """

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.message = QLabel(self.tr("Starting…"), self)
        self.message.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.eta = QLabel("", self)
        self.eta.setObjectName("Hint")
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.eta)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.hide_button = QPushButton(self.tr("Run in &background"), self)
        self.hide_button.clicked.connect(self.hide)
        self.cancel_button = QPushButton(self.tr("&Cancel"), self)
        self.cancel_button.clicked.connect(self._cancel)
        buttons.addWidget(self.hide_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

    def set_progress(self, done: int, total: int, message: str, eta_seconds: float | None) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        if message:
            self.message.setText(message)
        eta = format_eta(eta_seconds)
        self.eta.setText(self.tr("%s of %s · about %s left") % (f"{done:,}", f"{total:,}", eta) if eta and total
                         else (self.tr("%s of %s") % (f"{done:,}", f"{total:,}") if total else ""))

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.message.setText(self.tr("Cancelling… (what is already fetched is kept)"))
        self.cancel_requested.emit()
