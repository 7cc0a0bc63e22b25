"""First run through the real import service, and the --screenshot smoke test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from desktop.ui.application import SCREENSHOT_SIZE
from desktop.ui.dialogs.import_dialog import ImportDialog, guess_kind
from desktop.ui.dialogs.progress_dialog import format_eta
from desktop.ui.main_window import MainWindow
from desktop.ui.workers import read_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_import_from_the_empty_state(qtbot: Any, tmp_path: Path, fixtures_dir: Path) -> None:
    window = MainWindow(db_url=str(tmp_path / "new.sqlite3"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.stack.currentWidget() is window.empty_state

    window.empty_state.import_button.click()
    dialog = window.import_dialog
    assert isinstance(dialog, ImportDialog)
    dialog.add_paths([fixtures_dir / "ui" / "IWM_holdings_fixture.csv"])
    assert dialog.request()[0] == "ishares"  # guessed from the file name
    with qtbot.waitSignal(window.imported, timeout=30000):
        dialog.accept()
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=30000)
    assert window.stack.currentWidget() is window.workspace
    assert window.info_banner.isVisible() and "Imported ishares" in window.info_banner.text.text()
    assert len(window.bundle.table.values) == 7  # the cash row is skipped

    with qtbot.waitSignal(window.imported, timeout=30000):
        window._start_import("finviz", [fixtures_dir / "ui" / "finviz_export_fixture.csv"], None)
    qtbot.waitUntil(lambda: window.snapshot_combo.count() == 2 and window.bundle.info.id == 2, timeout=30000)
    caps = window.bundle.table.values["market_cap"]
    assert caps["ORBT"] == pytest.approx(2.1e9)
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
