"""The main window over a small fixture store: live re-screening, linked charts, long work, safety nets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from desktop.engine.evaluate import evaluate
from desktop.engine.screen import parse_screen
from desktop.errors import Cancelled, SourceUnreachableError
from desktop.ui.main_window import MainWindow, ScreenSource
from desktop.ui.screen_document import normalised
from desktop.ui.workers import read_pool, write_pool

# The offscreen platform plugin warns when a window or popup is shown, raised or grabs the keyboard.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

SCREEN: dict[str, Any] = {"version": 1, "name": "Test screen", "universe": "russell2000", "match": "all",
                          "criteria": [{"field": "market_cap", "min": 1e9}]}


def _open(qtbot: Any, db: Path | str) -> MainWindow:
    window = MainWindow(db_url=str(db))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    return window


@pytest.fixture
def window(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    # Closing with unsaved edits asks; tests discard unless they say otherwise.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = _open(qtbot, store_path)
    with qtbot.waitSignal(w.screened):
        w.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    yield w
    w.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def _expected(window: MainWindow, doc: dict[str, Any]) -> list[str]:
    return list(evaluate(parse_screen(doc), window.bundle.table).ranked.index)


def test_first_run_shows_what_pickaxe_needs(qtbot: Any, tmp_path: Path) -> None:
    window = _open(qtbot, tmp_path / "empty.sqlite3")
    assert window.stack.currentWidget() is window.empty_state
    assert window.empty_state.download.text() == "Download the Russell 2000 now"
    assert window.empty_state.import_button.text() == "Import files…"
    assert not window.act_export.isEnabled()
    window.close()


def test_screen_runs_on_the_snapshot(window: MainWindow) -> None:
    expected = _expected(window, SCREEN)
    assert 0 < len(expected) < 12
    assert window.model.symbols() == expected
    assert window.builder.count.text() == f"{len(expected)} of 12 stocks match"
    assert window.builder.leaves()[0].funnel.text() == f"removes {12 - len(expected)}"


def test_adding_editing_and_removing_criteria_updates_table_and_funnel(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.screened):
        row = window.builder.add_criterion("free_cash_flow")
    with qtbot.waitSignal(window.screened):
        qtbot.keyClicks(row.min_edit, "100M")
    doc = window.builder.document()
    assert doc["criteria"][1]["min"] == 1e8
    expected = _expected(window, doc)
    assert window.model.symbols() == expected
    funnel = {s.criterion_id: s.removed for s in evaluate(parse_screen(doc), window.bundle.table).funnel}
    assert window.builder.leaves()[1].funnel.text() == f"removes {funnel['c2']}"
    # the new criterion's column is coloured by its state
    col = [c.name for c in window.model.columns()].index("free_cash_flow")
    from desktop.ui.results_model import PASS, CellStateRole

    assert all(window.model.data(window.model.index(r, col), CellStateRole) == PASS
               for r in range(window.model.rowCount()))
    row.activated.emit(row)
    with qtbot.waitSignal(window.screened):
        window.act_remove.trigger()
    assert window.model.symbols() == _expected(window, SCREEN)


def test_the_shortlist_title_counts_in_the_right_number(qtbot: Any, window: MainWindow) -> None:
    n = len(window.model.symbols())
    assert n > 1 and window.results_title.text() == f"Shortlist · {n:,} stocks"
    top = float(window.bundle.table.values["market_cap"].max())
    with qtbot.waitSignal(window.screened):
        window.set_screen_document({**SCREEN, "criteria": [{"field": "market_cap", "min": top}]},
                                   ScreenSource("new", ""))
    assert len(window.model.symbols()) == 1
    assert window.results_title.text() == "Shortlist · 1 stock"


def test_unfinished_criteria_are_ignored_and_invalid_ones_explained(qtbot: Any, window: MainWindow) -> None:
    before = window.model.symbols()
    with qtbot.waitSignal(window.screened):
        window.builder.add_criterion("sector")  # any_of with nothing chosen yet
    assert window.model.symbols() == before
    assert window.builder.problem.text().startswith("1 criterion without a condition is ignored")
    with qtbot.waitSignal(window.screened):
        window.builder.add_criterion("industry")
    assert window.builder.problem.text().startswith("2 criteria without a condition are ignored")
    row = window.builder.leaves()[0]
    with qtbot.assertNotEmitted(window.screened, wait=100):
        qtbot.keyClicks(row.max_edit, "5")  # max $5 below min $1B
    assert "min" in window.builder.problem.text() and "max" in window.builder.problem.text()
    assert window.builder.problem.isVisibleTo(window.builder)
    assert window.model.symbols() == before  # the last valid result stays


def test_dragging_the_histogram_line_edits_the_criterion(qtbot: Any, window: MainWindow) -> None:
    row = window.builder.leaves()[0]
    row.activated.emit(row)
    line = window.histogram.minimum_line
    assert line.isVisible()
    with qtbot.waitSignal(window.screened):
        line.setValue(2.0e9)
        line.sigPositionChangeFinished.emit(line)
    doc = window.builder.document()
    assert doc["criteria"][0]["min"] == pytest.approx(2.0e9, rel=0.01)
    assert window.model.symbols() == _expected(window, doc)
    assert row.min_edit.text().endswith("B")


def test_point_click_selects_the_row_and_row_selection_rings_points(qtbot: Any, window: MainWindow) -> None:
    symbol = window.model.symbols()[-1]
    window.scatter.point_clicked.emit(symbol)
    assert window.view.selected_symbols() == [symbol]
    assert window.scatter.highlighted() == [symbol]
    assert window.detail.symbol == symbol
    other = window.model.symbols()[0]
    window.view.selectionModel().select(window.model.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                        | QItemSelectionModel.SelectionFlag.Rows)
    assert window.scatter.highlighted() == [other]
    assert other in window.detail.browser.toPlainText()


def test_the_detail_pane_breaks_lines_between_words(window: MainWindow) -> None:
    assert window.select_symbol(window.model.symbols()[0])
    document = window.detail.browser.document()
    document.setTextWidth(150)  # narrow, so that many lines wrap
    document.documentLayout().documentSize()  # lay out now
    breaks = 0
    block = document.begin()
    while block.isValid():
        text, layout = block.text(), block.layout()
        for i in range(1, layout.lineCount()):
            start = layout.lineAt(i).textStart()
            breaks += 1
            assert not (text[start - 1].isalnum() and text[start].isalnum()), f"split mid-word: {text!r}"
        block = block.next()
    assert breaks > 10


def test_clicking_a_failing_stock_shows_failing_rows(window: MainWindow) -> None:
    failing = sorted(set(window.bundle.table.values.index) - set(window.model.symbols()))[0]
    assert window.select_symbol(failing)
    assert window.show_failing.isChecked()
    assert window.view.selected_symbols() == [failing]
    assert "fail" in window.detail.browser.toPlainText()


def test_copy_selection_as_tsv(window: MainWindow) -> None:
    window.view.selectAll()
    text = window.view.selection_as_tsv()
    lines = text.strip().split("\n")
    assert lines[0].split("\t")[:3] == ["#", "Symbol", "Name"]
    assert len(lines) == window.model.rowCount() + 1
    cap = lines[0].split("\t").index("Market cap")
    assert float(lines[1].split("\t")[cap]) >= 1e9  # raw numbers, not "$2.1B"


def test_refresh_shows_progress_and_can_be_cancelled(qtbot: Any, window: MainWindow) -> None:
    started = threading.Event()

    def fake_refresh(progress: Any, is_cancelled: Any) -> None:
        for i in range(10_000):
            progress(i, 10_000, f"ticker {i}")
            started.set()
            if is_cancelled():
                raise Cancelled()
            threading.Event().wait(0.002)
        raise AssertionError("the refresh was never cancelled")

    window.backend.refresh = fake_refresh  # type: ignore[method-assign]
    window.act_refresh.trigger()
    dialog = window.progress_dialogs["refresh"]
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=5000)
    assert dialog.isVisible() and "ticker" in dialog.message.text()
    assert not window.act_refresh.isEnabled() and window.act_cancel.isEnabled()
    assert window.model.rowCount() > 0  # the user keeps working meanwhile
    with qtbot.waitSignal(window.refresh_slot.busy_changed):
        dialog.cancel_button.click()
    read_pool().waitForDone(5000)
    assert not dialog.isVisible()
    assert window.act_refresh.isEnabled()


def test_unreachable_yahoo_shows_the_offline_banner(qtbot: Any, window: MainWindow) -> None:
    def offline(progress: Any, is_cancelled: Any) -> None:
        raise SourceUnreachableError("Yahoo Finance is unreachable (ConnectionError)")

    window.backend.refresh = offline  # type: ignore[method-assign]
    with qtbot.waitSignal(window.refresh_slot.busy_changed, check_params_cb=lambda busy: not busy):
        window.act_refresh.trigger()
    assert window.offline_banner.isVisible()
    # The banner names the source from the error and the snapshot actually shown (issue #17).
    text = window.offline_banner.text.text()
    assert "Yahoo Finance is unreachable" in text
    assert f"keeps working on snapshot #{window.bundle.info.id} as of {window.bundle.info.as_of}" in text
    assert window.model.rowCount() > 0


def test_export_writes_a_workbook(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    target = tmp_path / "shortlist.xlsx"
    with qtbot.waitSignal(window.exported, timeout=30000) as blocker:
        window.export(target)
    assert blocker.args == [str(target)]
    book = openpyxl.load_workbook(target)
    assert "Shortlist" in book.sheetnames
    sheet = book["Shortlist"]
    assert sheet.max_row - 1 == window.model.rowCount()


def test_unsaved_edits_are_kept_for_recovery(qtbot: Any, window: MainWindow, store_path: Path) -> None:
    with qtbot.waitSignal(window.screened):
        window.builder.add_criterion("debt_to_equity")
    assert window.is_dirty() and window.windowTitle().startswith("Test screen")
    window.document.write_recovery()
    recovery = window.document.recovery_file()
    saved = json.loads(recovery.read_text(encoding="utf-8"))
    assert saved["document"]["criteria"][-1]["field"] == "debt_to_equity"
    second = _open(qtbot, store_path)
    assert second.info_banner.isVisible()
    buttons = [second.info_banner.actions_box.itemAt(i).widget() for i in range(second.info_banner.actions_box.count())]
    with qtbot.waitSignal(second.screened):
        next(b for b in buttons if b.text() == "Restore").click()
    assert second.builder.document()["criteria"][-1]["field"] == "debt_to_equity"
    assert second.is_dirty()
    second.close()


def test_closing_with_unsaved_edits_asks(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def cancel(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    with qtbot.waitSignal(window.screened):
        window.builder.add_criterion("debt_to_equity")
    monkeypatch.setattr(QMessageBox, "question", cancel)
    assert not window.close()
    assert asked and "Test screen" in asked[0]
    assert window.isVisible()


def test_settings_persist_columns_and_splitters(qtbot: Any, window: MainWindow, store_path: Path) -> None:
    window.view.columns_requested.emit(["interest_coverage"])
    assert "interest_coverage" in [c.name for c in window.model.columns()]
    window.main_split.setSizes([400, 800, 300])
    sizes = window.main_split.sizes()
    window.save_settings()
    second = _open(qtbot, store_path)
    assert second.settings.visible_columns == ["interest_coverage"]
    assert bytes(second.settings.splitter_state("main").data()) == bytes(window.main_split.saveState().data())
    second.resize(window.size())
    qtbot.waitUntil(lambda: second.main_split.width() == window.main_split.width())
    assert second.main_split.sizes() == pytest.approx(sizes, abs=12)
    second.close()


def test_what_changed_compares_with_the_screens_last_run(qtbot: Any, two_snapshot_store: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue #17: "since the last run" means the screen's last recorded run, not the two newest
    # snapshots; asking records a run, and the dialog shows the screen's run history.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = _open(qtbot, two_snapshot_store)
    assert window.snapshot_combo.count() == 2
    with qtbot.waitSignal(window.screened):
        window.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    shortlist = window.model.symbols()
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        window.act_changes.trigger()  # no run yet: says so, and records this one
    assert "no recorded run yet" in window.changes_dialog.windowTitle() + window.changes_dialog.findChild(
        QLabel).text()
    assert [r.n_passed for r in window.backend.runs("Test screen")] == [len(shortlist)]
    window.changes_dialog.close()
    with qtbot.waitSignal(window.screened, timeout=20000):  # the older snapshot: caps half as large
        window.snapshot_combo.setCurrentIndex(1)
        window.snapshot_combo.activated.emit(1)
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        window.act_changes.trigger()
    dialog = window.changes_dialog
    left = dialog.tree.topLevelItem(1)
    assert left.childCount() == len(set(shortlist) - set(window.model.symbols())) > 0
    assert "Market cap" in left.child(0).text(1) and "→" in left.child(0).text(1)
    assert dialog.history.count() == 1 and "snapshot 2026-04-30" in dialog.history.item(0).text()
    assert len(window.backend.runs("Test screen")) == 2
    window.close()


def test_save_reload_and_restore_a_version(qtbot: Any, window: MainWindow, store_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("My screen", True))
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.act_save.trigger()  # a new screen: Save asks for a name
    assert window.source == ScreenSource("saved", "My screen")
    assert not window.is_dirty() and not window.isWindowModified()
    first = window.builder.document()["criteria"]

    with qtbot.waitSignal(window.screened):
        row = window.builder.add_criterion("free_cash_flow")
    with qtbot.waitSignal(window.screened):
        qtbot.keyClicks(row.min_edit, "0")
    assert window.is_dirty() and window.isWindowModified()
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.act_save.trigger()
    second_version = window.builder.document()["criteria"]
    assert len(second_version) == 2

    again = MainWindow(db_url=str(store_path), screen="My screen")
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.ready, timeout=20000):
        again.show()
    assert again.source == ScreenSource("saved", "My screen")
    assert again.builder.document()["criteria"] == second_version
    assert [v.version for v in again.backend.history("My screen")] == [1, 2] or \
        sorted(v.version for v in again.backend.history("My screen")) == [1, 2]

    again.act_history.trigger()
    dialog = again.document.history_dialog
    assert dialog.list.count() == 2
    # Read as a screen, not as JSON (issue #17): the criteria in words and the change from version 1.
    assert "Changes from version 1:" in dialog.preview.toPlainText() and "added:" in dialog.preview.toPlainText()
    item = next(dialog.list.item(i) for i in range(dialog.list.count()) if dialog.list.item(i).data(256) == 1)
    dialog.list.setCurrentItem(item)
    assert "Market cap" in dialog.preview.toPlainText() and '"market_cap"' not in dialog.preview.toPlainText()
    with qtbot.waitSignal(again.saved, timeout=10000):
        dialog.accept()
    qtbot.waitUntil(lambda: again.builder.document()["criteria"] == first)
    assert sorted(v.version for v in again.backend.history("My screen")) == [1, 2, 3]
    assert not again.is_dirty()
    again.close()


def test_saving_a_preset_makes_a_copy(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    presets = window.backend.presets()
    name = next(iter(presets))
    with qtbot.waitSignal(window.screened):
        assert window.open_screen(name)
    assert window.source.kind == "preset"
    suggested: list[str] = []

    def ask(*args: Any, **kwargs: Any) -> tuple[str, bool]:
        suggested.append(kwargs.get("text", ""))
        return kwargs.get("text", ""), True

    monkeypatch.setattr(QInputDialog, "getText", ask)
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.save()
    assert suggested == [f"{name} (my copy)"]
    assert window.source == ScreenSource("saved", f"{name} (my copy)")
    assert window.backend.presets()[name] == presets[name]


def test_pin_to_watchlist(qtbot: Any, window: MainWindow) -> None:
    symbol = window.model.symbols()[0]
    window.view.select_symbols([symbol])
    with qtbot.waitSignal(window.write_slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=10000):
        window.act_pin.trigger()
    assert symbol in window.backend.watchlist()
    assert "On your watchlist" in window.detail.browser.toPlainText()
    assert window.act_pin.text().replace("&", "") == "Unpin from watchlist"


def test_download_now_from_the_empty_state_runs_in_the_background(qtbot: Any, tmp_path: Path) -> None:
    window = _open(qtbot, tmp_path / "fresh.sqlite3")
    calls: list[str] = []

    def fake_download(progress: Any, is_cancelled: Any) -> None:
        calls.append("download")
        progress(1, 3, "Downloading the Russell 2000 holdings from iShares…")
        raise SourceUnreachableError("iShares is unreachable (ConnectionError)")

    window.backend.download_universe = fake_download  # type: ignore[method-assign]
    with qtbot.waitSignal(window.refresh_slot.busy_changed, check_params_cb=lambda busy: not busy):
        window.empty_state.download.click()
    assert calls == ["download"]
    assert window.offline_banner.isVisible()
    # With nothing imported yet there is no snapshot to name: the banner says so (issue #17).
    text = window.offline_banner.text.text()
    assert "iShares is unreachable" in text and "There is no snapshot yet" in text
    assert "keeps working on snapshot" not in text and "Yahoo" not in text
    assert window.stack.currentWidget() is window.empty_state
    window.close()


def test_switching_snapshots_reruns_the_screen(qtbot: Any, two_snapshot_store: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = _open(qtbot, two_snapshot_store)
    with qtbot.waitSignal(window.screened):
        window.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    latest = window.model.symbols()
    assert window.bundle.info.as_of.isoformat() == "2026-04-30"
    with qtbot.waitSignal(window.screened, timeout=20000):
        window.snapshot_combo.setCurrentIndex(1)
        window.snapshot_combo.activated.emit(1)
    assert window.bundle.info.as_of.isoformat() == "2026-03-31"
    assert window.model.symbols() == _expected(window, SCREEN)
    assert len(window.model.symbols()) < len(latest)  # market caps were half as large
    assert normalised(window.builder.document()) == normalised(SCREEN)  # the screen stays
    window.close()


def test_column_chooser_adds_a_column(qtbot: Any, window: MainWindow) -> None:
    menu = window.view.column_menu()
    actions = [a for sub in menu.actions() if sub.menu() for a in sub.menu().actions()]
    target = next(a for a in actions if a.data() == "interest_coverage")
    with qtbot.waitSignal(window.view.columns_requested):
        target.setChecked(True)
    assert "interest_coverage" in [c.name for c in window.model.columns()]
    assert window.settings.visible_columns == ["interest_coverage"]


def test_any_of_picker_lists_the_snapshot_values(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.screened):
        row = window.builder.add_criterion("sector")
    row.values.click()
    popup = next(w for w in row.values.children() if w.objectName() == "ChecklistPopup")
    values = [popup.list.item(i).text() for i in range(popup.list.count())]
    assert "Technology" in values and "Real Estate" in values
    popup.list.item(values.index("Technology")).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(window.screened):
        popup.close()
    doc = window.builder.document()
    assert doc["criteria"][-1]["any_of"] == ["Technology"]
    tech = set(window.bundle.table.values.index[window.bundle.table.values["sector"] == "Technology"])
    assert set(window.model.symbols()) <= tech


def test_screen_option_opens_a_json_file(qtbot: Any, store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(dict(SCREEN, name="From a file")), encoding="utf-8")
    window = MainWindow(db_url=str(store_path), screen=str(path), select="ALFA")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.source == ScreenSource("file", str(path))
    assert window.builder.document()["name"] == "From a file"
    assert window.view.selected_symbols() == ["ALFA"]
    assert window.settings.last_screen == str(path)
    window.close()
