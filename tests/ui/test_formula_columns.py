"""A formula column end to end in the window (issue #16): created in the builder, screened on, sorted,
charted, saved, reopened and exported; hostile formulas are explained in place; score weights are
edited in the builder."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.engine.evaluate import evaluate
from desktop.engine.screen import parse_screen
from desktop.ui.main_window import MainWindow, ScreenSource
from desktop.ui.results_model import RawValueRole
from desktop.ui.workers import read_pool, write_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

SCREEN: dict[str, Any] = {"version": 2, "name": "Formula test", "universe": "russell2000", "match": "all",
                          "criteria": [{"field": "market_cap", "min": 1e8}]}


def _open(qtbot: Any, db: Path | str, **kwargs: Any) -> MainWindow:
    window = MainWindow(db_url=str(db), **kwargs)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    return window


@pytest.fixture
def window(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = _open(qtbot, store_path)
    with qtbot.waitSignal(w.screened):
        w.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    yield w
    w.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def _type(qtbot: Any, window: MainWindow, edit: Any, text: str) -> None:
    """Replace an edit's text as a user would (select all, type), waiting for the re-screen."""
    with qtbot.waitSignal(window.screened, timeout=5000):
        edit.selectAll()
        qtbot.keyClicks(edit, text)


def _column(window: MainWindow, name: str) -> int:
    return [c.name for c in window.model.columns()].index(name)


def _values(window: MainWindow, col: int) -> list[float]:
    return [window.model.data(window.model.index(r, col), RawValueRole) for r in range(window.model.rowCount())]


def test_a_formula_column_is_created_screened_sorted_charted_saved_reopened_and_exported(
        qtbot: Any, window: MainWindow, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    # create: name, formula and title typed into a new formula row
    with qtbot.waitSignal(window.screened):
        row = window.builder.formulas.add_formula({}, focus=True)
    _type(qtbot, window, row.name, "cash_cover")
    _type(qtbot, window, row.expression, "cash / total_debt")
    _type(qtbot, window, row.label, "Cash cover")
    assert not row.error.isVisible()
    assert window.builder.document()["formulas"] == [
        {"name": "cash_cover", "expression": "cash / total_debt", "label": "Cash cover"}]
    col = _column(window, "cash_cover")  # a formula field is a column by default
    assert window.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == "Cash cover"
    table = window.bundle.table
    expected = {s: c / d if d else math.nan for s, c, d in zip(table.values.index, table.values["cash"],
                                                                 table.values["total_debt"], strict=True)}
    for symbol, value in zip(window.model.symbols(), _values(window, col), strict=True):
        want = expected[symbol]
        assert (math.isnan(value) and math.isnan(want)) or value == pytest.approx(want), symbol
    nm = next(s for s, d in zip(table.values.index, table.values["total_debt"], strict=True) if d == 0)
    texts = {window.model.data(window.model.index(r, 0), Qt.ItemDataRole.DisplayRole): r
             for r in range(window.model.rowCount())}
    if nm in texts:  # no debt: n.m., never a number
        assert window.model.data(window.model.index(texts[nm], col), Qt.ItemDataRole.DisplayRole) == "n.m."

    # screen on it: the field picker lists the formula; the result is the engine's
    with qtbot.waitSignal(window.screened):
        crit = window.builder.add_criterion()
    assert crit.picker.findData("cash_cover", Qt.ItemDataRole.UserRole) >= 0
    crit.picker.set_field_name("cash_cover")
    with qtbot.waitSignal(window.screened):
        crit.picker.activated.emit(crit.picker.currentIndex())
    _type(qtbot, window, crit.min_edit, "0.5")
    doc = window.builder.document()
    assert doc["criteria"][-1] == {"field": "cash_cover", "min": 0.5, "missing": "unknown"}
    expected_symbols = list(evaluate(parse_screen(doc), window.bundle.table).ranked.index)
    assert window.model.symbols() == expected_symbols and 0 < len(expected_symbols) < 12

    # sort on it (the header), highest first
    col = _column(window, "cash_cover")
    window.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    shown = [v for v in _values(window, col) if not math.isnan(v)]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 2

    # chart it: the histogram of the current criterion, and the scatter's x axis
    crit.activated.emit(crit)
    assert window.charts.histogram_field == "cash_cover"
    x = window.scatter.x_combo.findData("cash_cover")
    assert x >= 0
    window.scatter.x_combo.setCurrentIndex(x)
    window.scatter.x_combo.activated.emit(x)
    assert window.scatter.fields()[0] == "cash_cover"
    plotted = window.scatter.plotted_symbols()
    assert plotted and all(math.isfinite(expected[s]) for s in plotted)  # n.m. (no debt) has no point

    # save, reopen
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Formula screen", True))
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.act_save.trigger()
    again = _open(qtbot, store_path, screen="Formula screen")
    assert again.builder.document()["formulas"] == doc["formulas"]
    assert [r.name.text() for r in again.builder.formulas.rows()] == ["cash_cover"]
    assert again.model.symbols() == expected_symbols
    assert "cash_cover" in [c.name for c in again.model.columns()]

    # export: the formula on the Screen and Provenance sheets, the values in the Shortlist
    target = tmp_path / "formula.xlsx"
    with qtbot.waitSignal(again.exported, timeout=30000):
        again.export(target)
    book = openpyxl.load_workbook(target)
    screen_rows = [[c.value for c in r] for r in book["Screen"].iter_rows()]
    at = next(i for i, r in enumerate(screen_rows) if r[0] == "Formula field")
    assert screen_rows[at + 1][:3] == ["cash_cover", "cash / total_debt", "Cash cover"]
    prov = next(r for r in ([c.value for c in row] for row in book["Provenance"].iter_rows()) if r[0] == "cash_cover")
    assert prov[4] == "cash / total_debt"
    header = [c.value for c in next(book["Shortlist"].iter_rows(max_row=1))]
    assert any(str(h).startswith("Cash cover") for h in header)
    again.close()


@pytest.mark.parametrize(("text", "fragment"), [
    ("(" * 40 + "cash" + ")" * 40, "nested deeper than 24 levels"),
    ("cash + " * 1700, "the limit is 1,000"),
    ("fcff / interest_expense", "unknown field 'fcff'"),
    ("cash / 0", "division by zero"),
    ("cash.real", "attribute access"),
])
def test_hostile_formulas_are_explained_in_place(qtbot: Any, window: MainWindow, text: str, fragment: str) -> None:
    with qtbot.waitSignal(window.screened):
        row = window.builder.formulas.add_formula({"name": "bad", "expression": "cash"})
    before = window.model.symbols()
    row.expression.setText(text)
    row.expression.textEdited.emit(text)
    assert row.error.isVisibleTo(window.builder) and fragment in row.error.text()
    assert "expression" in row.error.text() and row.expression.property("invalid") is True
    assert "formulas" not in window.builder.document()  # an invalid formula stays out of the screen
    qtbot.wait(20)
    assert window.model.symbols() == before


def test_score_weights_are_edited_in_the_builder(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.screened):
        weight = window.builder.score.add_weight("fcf_yield", 2.0)
    assert window.builder.document()["score"] == {"weights": {"fcf_yield": 2.0}}
    assert "score" in [c.name for c in window.model.columns()]
    with qtbot.waitSignal(window.screened):
        weight.weight.setValue(-1.5)
    doc = window.builder.document()
    assert doc["score"] == {"weights": {"fcf_yield": -1.5}}
    ranked = evaluate(parse_screen(doc), window.bundle.table).ranked
    assert window.model.symbols() == list(ranked.index)  # ranked by the score
    with qtbot.waitSignal(window.screened):
        weight.remove_requested.emit(weight)
    assert "score" not in window.builder.document()
