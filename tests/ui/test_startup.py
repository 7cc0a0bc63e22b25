"""Start-up (issue #17): what the window paints before its snapshot is shown, the hidden chart tabs
built on first use, and a start on a current store that never imports Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop.errors import StoreError
from desktop.services import screening
from desktop.ui.main_window import MainWindow
from desktop.ui.workers import read_pool, write_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _close(window: MainWindow) -> None:
    window.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def test_the_first_paint_is_a_calm_loading_page(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    load_table = screening.load_table

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(20)
        return load_table(*args, **kwargs)

    monkeypatch.setattr(screening, "load_table", slow)
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    # Before the snapshot is read: no empty table and no "Welcome" page, the loading page.
    assert window.stack.currentWidget() is window.loading_state
    window.show()
    qtbot.waitUntil(lambda: "Loading the snapshot of 2026-04-30" in window.loading_state.title.text())
    assert window.stack.currentWidget() is window.loading_state and not window.is_ready()
    with qtbot.waitSignal(window.ready, timeout=20000):
        release.set()
    assert window.stack.currentWidget() is window.workspace
    assert window.model.rowCount() > 0
    _close(window)


def test_a_snapshot_that_cannot_be_loaded_says_so_instead_of_an_empty_table(
        qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def damaged(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreError("Snapshot 1 (as of 2026-04-30) is damaged: its market part is missing; it was not used.")

    monkeypatch.setattr(screening, "load_table", damaged)
    monkeypatch.setattr(QMessageBox, "exec", lambda *_a: 0)
    monkeypatch.setattr(QMessageBox, "open", lambda *_a: None)
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.stack.currentWidget() is window.loading_state
    assert window.loading_state.title.text() == "The snapshot could not be shown"
    assert "market part is missing" in window.loading_state.detail.text()
    _close(window)


def test_hidden_chart_tabs_are_built_and_drawn_when_first_shown(qtbot: Any, store_path: Path) -> None:
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    charts = window.charts
    pages = (charts.breakdown_page, charts.price_page, charts.market_page)
    assert not any(page.built for page in pages)
    symbol = window.model.symbol_at(0)
    window.select_symbol(symbol)
    assert not charts.price_page.built  # a selection does not build (or read prices for) a hidden tab
    window.chart_tabs.setCurrentWidget(charts.price_page)
    assert charts.price_page.built
    assert symbol in _texts(charts.price_page)  # its closes, read when the tab was shown
    window.chart_tabs.setCurrentWidget(charts.market_page)
    assert charts.market_page.built
    window.chart_tabs.setCurrentWidget(charts.breakdown_page)
    assert charts.breakdown_page.built
    _close(window)


def _texts(widget: Any) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in widget.findChildren(QLabel))


START_AND_REPORT = """
import sys
from desktop.app import main
code = main(["--db", sys.argv[1], "--screenshot", sys.argv[2]])
print(code, "alembic" in sys.modules)
"""


def test_start_up_on_a_current_store_does_not_import_alembic(store_path: Path, tmp_path: Path) -> None:
    """Alembic is needed only to migrate (~0.1 s of every start otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PICKAXE_HOME=str(tmp_path / "home"))
    png = tmp_path / "window.png"
    done = subprocess.run([sys.executable, "-c", START_AND_REPORT, str(store_path), str(png)], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout
    assert png.stat().st_size > 0
