"""The main window (issue #6 builds it out)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from desktop import APP_NAME


class MainWindow(QMainWindow):
    def __init__(self, db_url: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setCentralWidget(QLabel(self.tr("Pickaxe is starting…")))
