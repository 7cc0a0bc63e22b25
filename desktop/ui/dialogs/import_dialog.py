"""Import files…: choose what kind of file, which files, and (optionally) the as-of date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# kind (as the import service names it) -> (label, file-dialog filter)
IMPORT_KINDS: dict[str, tuple[Any, str]] = {  # QT_TRANSLATE_NOOP is typed as returning object
    "ishares": (QT_TRANSLATE_NOOP("ImportDialog", "iShares holdings CSV (the universe)"), "CSV files (*.csv);;All files (*)"),
    "yahoo-json": (QT_TRANSLATE_NOOP("ImportDialog", "Yahoo info JSON"), "JSON files (*.json);;All files (*)"),
    "finviz": (QT_TRANSLATE_NOOP("ImportDialog", "Finviz screener export CSV"), "CSV files (*.csv);;All files (*)"),
    "simfin": (QT_TRANSLATE_NOOP("ImportDialog", "SimFin bulk files (income, balance, cash flow, companies, industries)"),
               "CSV files (*.csv);;All files (*)"),
    "fred": (QT_TRANSLATE_NOOP("ImportDialog", "FRED 10-year yield (DGS10) CSV"), "CSV files (*.csv);;All files (*)"),
    "prices": (QT_TRANSLATE_NOOP("ImportDialog", "Daily prices (Yahoo CSV, one per ticker, or a wide file of closes)"),
               "CSV files (*.csv);;All files (*)"),
    "sec-companyfacts": (QT_TRANSLATE_NOOP("ImportDialog", "SEC company facts (companyfacts.zip or folder)"),
                         "SEC company facts (*.zip *.json);;All files (*)"),
}
SEC_KIND = "sec-companyfacts"


def guess_kind(path: Path) -> str | None:
    """A best guess of the file kind from its name; None when unsure."""
    name = path.name.lower()
    if path.is_dir() or "companyfacts" in name or name.startswith(("company_tickers", "cik")):
        return SEC_KIND
    if "holdings" in name or name.startswith("iwm"):
        return "ishares"
    if name.startswith("finviz"):
        return "finviz"
    if name.startswith("us-") or name == "industries.csv":
        return "simfin"
    if "dgs10" in name or "fred" in name:
        return "fred"
    if name.endswith(".json"):
        return "yahoo-json"
    return None


class ImportDialog(QDialog):
    """Collects ``kind``, ``paths`` and ``as_of`` for ``import_files``."""

    def __init__(self, parent: QWidget | None = None, start_folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Import files"))
        self.setMinimumWidth(560)
        self._folder = start_folder
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Import data you already have. Start with the iShares IWM holdings file (the "
                               "Russell 2000 universe), then add fundamentals (SEC company facts, Finviz, Yahoo JSON, "
                               "SimFin), "
                               "the 10-year yield (FRED) and prices. Each import makes a new dated snapshot."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.kind = QComboBox(self)
        for kind, (label, _flt) in IMPORT_KINDS.items():
            self.kind.addItem(self.tr(str(label)), kind)  # marked with QT_TRANSLATE_NOOP above
        form.addRow(self.tr("&Kind:"), self.kind)
        self.files = QListWidget(self)
        self.files.setMinimumHeight(120)
        files_row = QHBoxLayout()
        files_row.addWidget(self.files, 1)
        buttons = QVBoxLayout()
        add = QPushButton(self.tr("&Add files…"), self)
        add.clicked.connect(self._add)
        # SEC bulk data may be a folder of CIK##########.json (issue #14).
        self.add_folder = QPushButton(self.tr("Add f&older…"), self)
        self.add_folder.clicked.connect(self._add_folder)
        remove = QPushButton(self.tr("&Remove"), self)
        remove.clicked.connect(lambda: [self.files.takeItem(self.files.row(i)) for i in self.files.selectedItems()])
        buttons.addWidget(add)
        buttons.addWidget(self.add_folder)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        files_row.addLayout(buttons)
        files_label = QLabel(self.tr("&Files:"), self)  # a buddy makes "&F" the mnemonic, not a literal "&"
        files_label.setBuddy(self.files)
        form.addRow(files_label, files_row)
        as_of_row = QHBoxLayout()
        self.use_as_of = QCheckBox(self.tr("Data date:"), self)
        self.as_of = QDateEdit(QDate.currentDate(), self)
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setEnabled(False)
        self.use_as_of.toggled.connect(self.as_of.setEnabled)
        as_of_row.addWidget(self.use_as_of)
        as_of_row.addWidget(self.as_of)
        as_of_row.addStretch(1)
        form.addRow(self.tr("As of:"), as_of_row)
        hint = QLabel(self.tr("Leave the date off to use the date inside the file (iShares files carry one)."))
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        form.addRow("", hint)
        self.sec_hint = QLabel(self.tr(
            "Add the SEC's companyfacts.zip (or a folder of CIK##########.json files) and, unless it lies "
            "beside the archive, the SEC's company_tickers.json: the bulk file names companies by CIK only."))
        self.sec_hint.setObjectName("Hint")
        self.sec_hint.setWordWrap(True)
        form.addRow("", self.sec_hint)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        layout.addLayout(form)
        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.box.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Import"))
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        layout.addWidget(self.box)
        self.files.model().rowsInserted.connect(self._update_ok)
        self.files.model().rowsRemoved.connect(self._update_ok)
        self._update_ok()

    def _kind_changed(self, _index: int = -1) -> None:
        sec = self.kind.currentData() == SEC_KIND
        self.add_folder.setVisible(sec)
        self.sec_hint.setVisible(sec)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder of company facts"), self._folder)
        if folder:
            self.add_paths([Path(folder)])

    def _update_ok(self) -> None:
        self.box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.files.count() > 0)

    def _add(self) -> None:
        _label, flt = IMPORT_KINDS[str(self.kind.currentData())]
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose files"), self._folder, flt)
        self.add_paths([Path(p) for p in paths])

    def add_paths(self, paths: list[Path]) -> None:
        """Add files; the kind follows the first file's name when it is recognisable."""
        for path in paths:
            if not self.files.findItems(str(path), Qt.MatchFlag.MatchExactly):
                self.files.addItem(str(path))
            self._folder = str(path.parent)
        if paths and self.files.count() == len(paths):
            kind = guess_kind(paths[0])
            if kind is not None:
                self.kind.setCurrentIndex(self.kind.findData(kind))

    def folder(self) -> str:
        return self._folder

    def request(self) -> tuple[str, list[Path], date | None]:
        """(kind, paths, as_of) as chosen."""
        paths = [Path(self.files.item(i).text()) for i in range(self.files.count())]
        as_of = self.as_of.date().toPython() if self.use_as_of.isChecked() else None
        return str(self.kind.currentData()), paths, as_of  # type: ignore[return-value]
