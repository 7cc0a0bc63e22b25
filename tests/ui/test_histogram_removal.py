"""Removing the criterion the histogram shows (issue #13, root cause 11).

Reported: add "Debt / equity" with max 0.5 in the screen builder, click its ✕, and a RuntimeError
"Internal C++ object already deleted" dialog appears (twice in two tries). The builder kept the
removed row as its current row; the next re-screen asked that deleted row for its field and bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QMessageBox

from desktop.ui.main_window import MainWindow, ScreenSource
from desktop.ui.workers import read_pool, write_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

SCREEN: dict[str, Any] = {"version": 1, "name": "Test screen", "universe": "russell2000", "match": "all",
                          "criteria": [{"field": "market_cap", "min": 1e9}]}


@pytest.fixture
def window(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow(db_url=str(store_path))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.ready, timeout=20000):
        w.show()
    with qtbot.waitSignal(w.screened):
        w.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    yield w
    w.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def _flush_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.mark.parametrize("tries", [1, 2])
def test_removing_the_histogram_criterion_raises_nothing(qtbot: Any, window: MainWindow, tries: int) -> None:
    for _ in range(tries):
        with qtbot.waitSignal(window.screened):
            row = window.builder.add_criterion("debt_to_equity")
        with qtbot.waitSignal(window.screened):
            qtbot.keyClicks(row.max_edit, "0.5")
        row.activated.emit(row)  # what clicking into the row does
        assert window.chart_tabs.currentWidget() is window.histogram
        assert window.builder.current_row() is row
        with qtbot.waitSignal(window.screened):
            qtbot.mouseClick(row.remove, Qt.MouseButton.LeftButton)
        _flush_deletes()
        # Anything that asks the builder for its current row after the deletion must not touch it.
        window._update_histogram()
        window._histogram_bounds(0.0, 1.0)
        with qtbot.waitSignal(window.screened):
            window.builder.root.changed.emit()  # one more re-screen, as the next keystroke would do
        _flush_deletes()
        assert window.builder.current_row() is None
        assert [r.field_name for r in window.builder.leaves()] == ["market_cap"]
        assert "debt_to_equity" not in [c["field"] for c in window.builder.document()["criteria"]]
