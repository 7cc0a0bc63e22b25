"""The Backtest dialog: runs on a worker, charts linked to the holdings, cancel, export, errors."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PySide6.QtCore import QDate, QPoint, QPointF, Qt

from desktop.engine.backtest import SCREEN, BacktestResult, BacktestSettings, run_backtest
from desktop.errors import Cancelled, InputError
from desktop.export.backtest_workbook import write_backtest_workbook
from desktop.ui.dialogs import backtest_dialog
from desktop.ui.dialogs.backtest_dialog import BacktestDialog
from tests.engine.test_backtest import FCF_SCREEN, MEMBERS, universe


@dataclass
class Outcome:
    result: BacktestResult


def engine_run(settings: BacktestSettings, progress: Any, is_cancelled: Any) -> Outcome:
    return Outcome(run_backtest(FCF_SCREEN, universe(), MEMBERS, settings, progress=progress,
                                is_cancelled=is_cancelled))


def engine_export(path: Path, outcome: Outcome, progress: Any, is_cancelled: Any) -> Path:
    return write_backtest_workbook(path, outcome.result, progress=progress, is_cancelled=is_cancelled)


@pytest.fixture
def dialog(qtbot) -> BacktestDialog:  # type: ignore[no-untyped-def]
    d = BacktestDialog("FCF positive", engine_run, engine_export, (date(2024, 1, 2), date(2024, 4, 30)))
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def run_and_wait(qtbot, d: BacktestDialog) -> BacktestResult:  # type: ignore[no-untyped-def]
    d.start_edit.setDate(QDate(2024, 2, 1))
    d.end_edit.setDate(QDate(2024, 4, 1))
    with qtbot.waitSignal(d.finished_run, timeout=60_000) as blocker:
        d.start()
    return blocker.args[0]


def test_defaults_come_from_the_data_range(dialog: BacktestDialog) -> None:
    s = dialog.settings()
    assert (s.start, s.end) == (date(2024, 2, 1), date(2024, 4, 1))  # the first full month to the last
    assert (s.rebalance, s.weight, s.cost_bps) == ("monthly", "equal", 20.0)


def test_run_shows_curves_warnings_stats_and_holdings(qtbot, dialog: BacktestDialog) -> None:  # type: ignore[no-untyped-def]
    result = run_and_wait(qtbot, dialog)
    assert dialog.banner.isVisible() and "SURVIVORSHIP BIAS" in dialog.banner.text()
    x, y = dialog.curves[("equity", SCREEN)].getData()
    assert len(x) == len(result.curves) and y[0] == 1.0
    assert dialog.stats_model.rowCount() >= 5
    assert dialog.stats_model.data(dialog.stats_model.index(0, 0)) == "Total return"
    assert dialog.period_combo.count() == 3
    assert dialog.period_combo.currentIndex() == 2  # the last period is shown first
    symbols = {dialog.holdings_model.data(dialog.holdings_model.index(r, 0))
               for r in range(dialog.holdings_model.rowCount())}
    assert symbols == {"AAA", "BBB"}
    assert "first publication" in dialog.assumptions.toPlainText()
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_clicking_a_date_shows_that_periods_holdings(qtbot, dialog: BacktestDialog) -> None:  # type: ignore[no-untyped-def]
    run_and_wait(qtbot, dialog)
    plot = dialog.equity
    vb = plot.getPlotItem().vb
    day = pd.Timestamp("2024-02-15")
    scene = vb.mapViewToScene(QPointF(day.timestamp(), 1.05))
    pos = plot.mapFromScene(scene)
    qtbot.mousePress(plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    qtbot.mouseRelease(plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    qtbot.waitUntil(lambda: dialog.period_combo.currentIndex() == 0, timeout=3000)
    assert dialog.holdings_model.rowCount() == 1
    assert dialog.holdings_model.data(dialog.holdings_model.index(0, 0)) == "AAA"
    assert "Formed at the close of 2024-01-31" in dialog.period_label.text()
    lo, hi = dialog.regions[1].getRegion()  # the drawdown chart marks the same period
    assert lo == pd.Timestamp("2024-01-31").timestamp() and hi == pd.Timestamp("2024-02-29").timestamp()
    dialog.holdings_view.setCurrentIndex(dialog.holdings_model.index(0, 0))
    assert "✓ FCF positive: yes → yes" in dialog.why.text()


def test_holdings_model_is_a_valid_model(qtbot, qtmodeltester, dialog: BacktestDialog) -> None:  # type: ignore[no-untyped-def]
    run_and_wait(qtbot, dialog)
    qtmodeltester.check(dialog.holdings_model)
    qtmodeltester.check(dialog.stats_model)


def test_cancel_stops_the_worker_and_drops_its_result(qtbot) -> None:  # type: ignore[no-untyped-def]
    started, stopped = threading.Event(), threading.Event()

    def slow(settings: BacktestSettings, progress: Any, is_cancelled: Any) -> Outcome:
        started.set()
        while not is_cancelled():
            threading.Event().wait(0.01)
        stopped.set()
        raise Cancelled()

    d = BacktestDialog("Slow", slow, None, (date(2024, 1, 2), date(2024, 4, 30)))
    qtbot.addWidget(d)
    d.start()
    assert started.wait(5)
    assert d.cancel_button.isEnabled() and not d.run_button.isEnabled()
    qtbot.mouseClick(d.cancel_button, Qt.MouseButton.LeftButton)
    assert stopped.wait(5)
    assert d.run_button.isEnabled() and d.status.text() == "Cancelled."
    assert d.backtest_result is None


def test_export_writes_the_workbook(qtbot, dialog: BacktestDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_and_wait(qtbot, dialog)
    target = tmp_path / "bt.xlsx"
    dialog.export_to(target)
    qtbot.waitUntil(lambda: target.exists() and dialog.status.text().startswith("Exported"), timeout=30_000)


def test_a_failed_run_is_shown_plainly(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[BaseException] = []
    monkeypatch.setattr(backtest_dialog.messages, "show_error", lambda parent, exc, title="": shown.append(exc))

    def bad(settings: BacktestSettings, progress: Any, is_cancelled: Any) -> Outcome:
        raise InputError("the daily closes do not cover 2030-01 to 2030-03")

    d = BacktestDialog("Bad", bad, None, (date(2024, 1, 2), date(2024, 4, 30)))
    qtbot.addWidget(d)
    d.start()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "do not cover" in str(shown[0]) and d.run_button.isEnabled()
    d.end_edit.setDate(QDate(2023, 1, 1))  # before the start: refused before any work
    assert d.start() is None and "before it starts" in str(shown[-1])


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_the_window_opens_it_for_the_current_screen(qtbot, store_path: Path,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from desktop.ui.main_window import MainWindow, ScreenSource
    from desktop.ui.workers import read_pool

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(db_url=str(store_path))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    with qtbot.waitSignal(window.screened):
        window.set_screen_document({"version": 1, "name": "Big caps", "criteria": [{"field": "market_cap",
                                                                                    "min": 1e9}]},
                                   ScreenSource("new", ""))
    assert window.act_backtest.shortcut().toString() == "Ctrl+Shift+B"
    window.act_backtest.trigger()
    dialog = window.backtest_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Backtest — Big caps"
    dialog.close()
    window.close()
    read_pool().waitForDone(5000)
