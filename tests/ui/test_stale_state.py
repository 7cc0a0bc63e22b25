"""Views never show state that is no longer true (issue #17), one test per reported case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.ui.main_window import MainWindow, ScreenSource
from desktop.ui.workers import read_pool, write_pool
from tests.ui.conftest import make_dataset, save_fixture_snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

NUMERIC: dict[str, Any] = {"version": 1, "name": "Numeric", "universe": "russell2000", "match": "all",
                           "criteria": [{"field": "market_cap", "min": 1e9}]}
SECTORS_ONLY: dict[str, Any] = {"version": 1, "name": "Sectors", "universe": "russell2000", "match": "all",
                                "criteria": [{"field": "sector", "none_of": ["Utilities"]}]}


@pytest.fixture
def window(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow(db_url=str(store_path))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.ready, timeout=20000):
        w.show()
    with qtbot.waitSignal(w.screened):
        w.set_screen_document(dict(NUMERIC), ScreenSource("new", ""))
    yield w
    w.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def test_a_preset_switch_does_not_keep_the_previous_histogram(qtbot: Any, window: MainWindow) -> None:
    assert window.charts.histogram_field == "market_cap"
    assert window.histogram.minimum_line.isVisible()
    with qtbot.waitSignal(window.screened):
        window.set_screen_document(dict(SECTORS_ONLY), ScreenSource("preset", "Sectors"))
    assert window.charts.histogram_field is None
    assert "Pick a numeric criterion" in (window.histogram.message() or "")


def test_a_removed_criterion_is_not_left_drawn(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.screened):
        row = window.builder.add_criterion("interest_coverage")
    with qtbot.waitSignal(window.screened):
        qtbot.keyClicks(row.min_edit, "3")
    row.activated.emit(row)
    assert window.charts.histogram_field == "interest_coverage"
    with qtbot.waitSignal(window.screened):
        qtbot.mouseClick(row.remove, Qt.MouseButton.LeftButton)
    assert window.charts.histogram_field is None
    assert window.histogram.message()
    # The controls act on nothing now: Minimum must not bring the removed distribution back.
    assert not window.histogram.minimum_button.isEnabled()
    window.histogram.minimum_button.setEnabled(True)  # even if it could be pressed, it draws nothing
    with qtbot.assertNotEmitted(window.histogram.bounds_changed):
        window.histogram.minimum_button.click()
    assert window.histogram.message()
    assert not window.histogram.minimum_line.isVisible()
    assert window.histogram.bounds() == (None, None)


def test_a_new_result_starts_at_the_top_and_keeps_the_selection(qtbot: Any, window: MainWindow) -> None:
    window.resize(900, 420)
    window.show_failing.setChecked(True)  # all 12 stocks: more rows than the view shows
    qtbot.waitUntil(lambda: window.view.verticalScrollBar().maximum() > 0)
    last = window.model.symbols()[-1]
    window.select_symbol(last)
    window.view.verticalScrollBar().setValue(window.view.verticalScrollBar().maximum())
    with qtbot.waitSignal(window.screened):
        window.set_screen_document(dict(SECTORS_ONLY), ScreenSource("preset", "Sectors"))
    assert window.view.verticalScrollBar().value() == 0
    assert window.view.selected_symbols() == [last]  # still listed, still selected


def test_snapshots_made_outside_the_window_are_offered(qtbot: Any, window: MainWindow, store_path: Path) -> None:
    assert window.snapshot_combo.count() == 1
    new_id = save_fixture_snapshot(str(store_path), make_dataset(date(2026, 5, 29), bump=2.0))  # e.g. the CLI
    assert window.check_new_snapshots() == [new_id]
    assert window.snapshot_combo.count() == 2
    assert window.bundle.info.id != new_id  # nothing switched under the user's feet
    assert "A new snapshot was made outside this window" in window.info_banner.text.text()
    button = window.info_banner.actions_box.itemAt(0).widget()
    with qtbot.waitSignal(window.screened, timeout=20000):
        button.click()
    assert window.bundle.info.id == new_id
    assert window.check_new_snapshots() == []  # offered once


def test_menu_shortcuts_work_while_a_bound_field_has_focus(qtbot: Any, window: MainWindow,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("desktop.ui.tasks.ask_export_path", lambda *a, **k: asked.append("export"))
    window.activateWindow()
    row = window.builder.leaves()[0]
    row.min_edit.setFocus()
    qtbot.waitUntil(row.min_edit.hasFocus)
    qtbot.keyClick(row.min_edit, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["export"]  # Ctrl+E exported instead of moving the cursor to the end
    # Ctrl+Del is a line edit's "delete to end of word" on every platform: the menu's wins.
    with qtbot.waitSignal(window.screened):
        qtbot.keyClick(row.min_edit, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert window.builder.leaves() == []
    row = window.builder.add_criterion("market_cap")
    row.min_edit.setText("1B")
    row.min_edit.setFocus()
    text = row.min_edit.text()
    qtbot.keyClick(row.min_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # editing keys stay the field's
    assert row.min_edit.selectedText() == text


def test_the_watchlist_is_a_view_with_notes(qtbot: Any, window: MainWindow) -> None:
    # Issue #17: the watchlist existed only in the CLI.
    window.show_failing.setChecked(True)
    first, second = window.model.symbols()[:2]
    window.view.select_symbols([first])
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy):
        window.act_pin.trigger()
    window.act_watchlist.trigger()
    dialog = window.watchlist_dialog
    assert dialog.isVisible() and dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == first and dialog.table.item(0, 1).text() != ""
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy):
        dialog.table.item(0, 2).setText("  cash pile, watch the refinancing  ")
    assert [(e.symbol, e.note) for e in window.backend.watch_entries()] == [(first, "cash pile, watch the refinancing")]
    window.view.select_symbols([second])
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy):
        window.act_pin.trigger()
    assert dialog.table.rowCount() == 2  # the open view follows the pins
    dialog._double_clicked(1, 0)
    assert window.view.selected_symbols() == [second]
    dialog.table.selectRow(0)
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy):
        dialog.unpin.click()
    assert [e.symbol for e in window.backend.watch_entries()] == [second] and dialog.table.rowCount() == 1


def test_the_first_window_fills_most_of_the_screen(qtbot: Any, store_path: Path) -> None:
    # Issue #17: the first window opened at 1229×370 on a 1600×1000 screen; a saved sliver too.
    from PySide6.QtCore import QByteArray

    from desktop.ui.settings import Settings

    settings = Settings()
    settings.geometry = QByteArray()
    settings.sync()
    w = MainWindow(db_url=str(store_path))
    qtbot.addWidget(w)
    expected = w._first_size()
    area = w.screen().availableGeometry()
    assert expected == (min(1500, int(area.width() * 0.94)), min(940, int(area.height() * 0.94)))
    assert (w.width(), w.height()) == expected
    w.resize(400, 300)
    w.save_settings()
    again = MainWindow(db_url=str(store_path))
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == expected
    w.close()
    again.close()
