"""First run through the real import service, and the --screenshot smoke test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from desktop.ui.application import SCREENSHOT_SIZE
from desktop.ui.dialogs.import_dialog import ImportDialog, guess_kind
from desktop.ui.dialogs.progress_dialog import format_eta
from desktop.ui.main_window import MainWindow
from desktop.ui.workers import read_pool
from tests.finviz_fixture import write_finviz

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _ui_row(ticker: str, company: str, sector: str, industry: str, numbers: str) -> dict[str, str]:
    """One invented Finviz row: ``numbers`` holds Market Cap, P/FCF, Sales, Income, EV, EV/EBITDA,
    Shares Outstanding, Current Ratio, Total Debt/Equity and Price ("" = empty)."""
    keys = ("Market Cap", "P/Free Cash Flow", "Sales", "Income", "Enterprise Value", "EV/EBITDA",
            "Shares Outstanding", "Current Ratio", "Total Debt/Equity", "Price")
    values = dict(zip(keys, numbers.split(","), strict=True))
    return {"Ticker": ticker, "Company": company, "Sector": sector, "Industry": industry, "Country": "USA",
            "Beta": "1.20", "Earnings Date": "5/27/2026 4:30:00 PM", "Change": "0.10%", **values}


# The same seven fictional companies as tests/data_files/ui/fund_holdings_fixture.csv.
UI_FINVIZ_ROWS = [
    _ui_row("ORBT", "Orbital Wafer Inc", "Technology", "Semiconductors",
            "2100.00,15.00,800.00,105.00,2150.00,10.75,49.88,2.40,0.33,42.10"),
    _ui_row("PLMB", "Plumbline Bancorp", "Financial", "Banks - Regional",
            "900.00,,300.00,60.00,,,48.91,,1.70,18.40"),
    _ui_row("QUIL", "Quillfeather Software Corp", "Technology", "Software - Application",
            "4500.00,,600.00,-40.00,4100.00,,58.44,3.10,0.18,77.00"),
    _ui_row("RVTN", "Riveton Freight Co", "Industrials", "Trucking",
            "600.00,12.00,500.00,35.00,1150.00,9.58,48.78,1.10,1.50,12.30"),
    _ui_row("SLTE", "Slatehouse Realty Trust", "Real Estate", "REIT - Office",
            "1300.00,18.60,200.00,30.00,2760.00,25.09,50.78,0.90,1.67,25.60"),
    _ui_row("TNDR", "Tinderbox Payments Inc", "Technology", "Software - Infrastructure",
            "3200.00,22.90,700.00,90.00,2850.00,19.00,62.50,2.80,0.04,51.20"),
    _ui_row("UMBA", "Umbra Biotherapeutics Inc", "Healthcare", "Biotechnology",
            "750.00,,10.00,-88.00,530.00,,85.71,6.50,0.07,8.75"),
]


def test_import_from_the_empty_state(qtbot: Any, tmp_path: Path, fixtures_dir: Path) -> None:
    window = MainWindow(db_url=str(tmp_path / "new.sqlite3"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.stack.currentWidget() is window.empty_state

    window.empty_state.import_button.click()
    dialog = window.import_dialog
    assert isinstance(dialog, ImportDialog)
    # "&Files:" is a mnemonic with the file list as its buddy, never a literal ampersand (issue #17).
    files_label = next(label for label in dialog.findChildren(QLabel) if label.text() == "&Files:")
    assert files_label.buddy() is dialog.files
    dialog.add_paths([fixtures_dir / "ui" / "fund_holdings_fixture.csv"])
    assert dialog.request()[0] == "ishares"  # guessed from the file name
    with qtbot.waitSignal(window.imported, timeout=30000):
        dialog.accept()
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=30000)
    assert window.stack.currentWidget() is window.workspace
    assert window.info_banner.isVisible() and "Imported ishares" in window.info_banner.text.text()
    assert len(window.bundle.table.values) == 7  # the cash row is skipped

    with qtbot.waitSignal(window.imported, timeout=30000):
        export = write_finviz(tmp_path / "finviz_export_fixture.csv", UI_FINVIZ_ROWS)
        window.tasks.start_import("finviz", [export], None)
    qtbot.waitUntil(lambda: window.snapshot_combo.count() == 2 and window.bundle.info.id == 2, timeout=30000)
    caps = window.bundle.table.values["market_cap"]
    # Market cap = the latest price (holdings file) x the latest share count (Finviz), issue #12.
    assert caps["ORBT"] == pytest.approx(2.1e9, rel=1e-3)
    window.close()
    read_pool().waitForDone(5000)


def test_import_dialog_guesses_kinds() -> None:
    assert guess_kind(Path("IWM_holdings.csv")) == "ishares"
    assert guess_kind(Path("finviz_export_2025.csv")) == "finviz"
    assert guess_kind(Path("us-income-annual.csv")) == "simfin"
    assert guess_kind(Path("DGS10.csv")) == "fred"
    assert guess_kind(Path("whatever.csv")) is None


def test_eta_text() -> None:
    assert format_eta(None) == ""
    assert format_eta(42) == "42 s"
    assert format_eta(125) == "2 min 05 s"
    assert format_eta(7260) == "2 h 01 min"


def test_screenshot_of_a_fixture_store(tmp_path: Path, store_path: Path) -> None:
    png = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "desktop", "--db", str(store_path), "--select", "ALFA",
                             "--screenshot", str(png)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
