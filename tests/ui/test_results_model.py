"""ResultsTableModel: Qt model contract, numpy sorting with missing last, persistent indexes, roles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from desktop.ui.results_model import (
    FAIL,
    PASS,
    UNKNOWN,
    CellStateRole,
    ColumnSpec,
    FormattedTable,
    RawValueRole,
    ResultsTableModel,
    SymbolRole,
)


def _table() -> FormattedTable:
    values = pd.DataFrame(
        {"name": ["Zeta Co", "alpha inc", "Mid Ltd", None],
         "market_cap": [2.1e9, np.nan, 3.0e8, 5.0e8],
         "fcf_yield": [0.05, 0.12, np.nan, -0.02],
         "themes": [("ai",), (), ("reit", "ai"), ()]},
        index=pd.Index(["ZZZ", "AAA", "MMM", "NNN"], name="symbol"))
    status = pd.DataFrame({"market_cap": [0, 1, 0, 0], "fcf_yield": [0, 0, 2, 0]}, index=values.index, dtype="int8")
    return FormattedTable(values, status, {("MMM", "fcf_yield"): "negative equity"})


COLUMNS = [ColumnSpec.for_field(n) for n in ("symbol", "name", "market_cap", "fcf_yield", "themes")]


@pytest.fixture
def model(qtbot: object) -> ResultsTableModel:
    m = ResultsTableModel()
    states = {"market_cap": np.array([PASS, UNKNOWN, FAIL, PASS], dtype=np.int8)}
    m.set_rows(_table(), np.arange(4), COLUMNS, states)
    return m


def test_model_passes_qt_model_tester(qtmodeltester: object, model: ResultsTableModel) -> None:
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_display_text_is_formatted_and_raw_role_keeps_the_value(model: ResultsTableModel) -> None:
    cap, fcf = 2, 3
    assert model.data(model.index(0, cap)) == "$2.1B"
    assert model.data(model.index(0, cap), RawValueRole) == pytest.approx(2.1e9)
    assert model.data(model.index(1, cap)) == "—"  # missing
    assert model.data(model.index(2, fcf)) == "n.m."  # not meaningful
    assert model.data(model.index(2, fcf), Qt.ItemDataRole.ToolTipRole) == "negative equity"
    assert model.data(model.index(0, fcf)) == "5.0 %"
    assert model.data(model.index(2, 4)) == "reit, ai"
    assert model.data(model.index(3, 1)) == "—"
    assert model.data(model.index(1, 0), SymbolRole) == "AAA"


def test_cell_state_role_and_background_follow_the_criterion(model: ResultsTableModel) -> None:
    assert model.data(model.index(0, 2), CellStateRole) == PASS
    assert model.data(model.index(2, 2), CellStateRole) == FAIL
    assert model.data(model.index(1, 2), CellStateRole) == UNKNOWN
    assert model.data(model.index(0, 1), CellStateRole) == -1
    assert model.data(model.index(0, 1), Qt.ItemDataRole.BackgroundRole) is None
    pass_bg = model.data(model.index(0, 2), Qt.ItemDataRole.BackgroundRole)
    fail_bg = model.data(model.index(2, 2), Qt.ItemDataRole.BackgroundRole)
    assert pass_bg.color() != fail_bg.color()


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_numeric_sort_puts_missing_last_both_ways(model: ResultsTableModel, order: Qt.SortOrder) -> None:
    model.sort(2, order)
    expected = ["MMM", "NNN", "ZZZ", "AAA"] if order == Qt.SortOrder.AscendingOrder else ["ZZZ", "NNN", "MMM", "AAA"]
    assert model.symbols() == expected


def test_text_sort_is_case_insensitive_with_missing_last(model: ResultsTableModel) -> None:
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert model.symbols() == ["AAA", "MMM", "ZZZ", "NNN"]


def test_sort_emits_layout_signals_and_remaps_persistent_indexes(qtbot: object, model: ResultsTableModel) -> None:
    keep = QPersistentModelIndex(model.index(0, 3))  # ZZZ, fcf_yield
    with qtbot.waitSignals([model.layoutAboutToBeChanged, model.layoutChanged]):  # type: ignore[attr-defined]
        model.sort(3, Qt.SortOrder.AscendingOrder)
    assert model.symbols() == ["NNN", "ZZZ", "AAA", "MMM"]
    assert keep.row() == 1 and keep.column() == 3
    assert model.data(model.index(keep.row(), 0)) == "ZZZ"


def test_sort_order_survives_a_reset(model: ResultsTableModel) -> None:
    model.sort(2, Qt.SortOrder.DescendingOrder)
    model.set_rows(_table(), np.array([3, 0]), COLUMNS)
    assert model.symbols() == ["ZZZ", "NNN"]


def test_extra_columns_and_row_lookup(qtmodeltester: object) -> None:
    m = ResultsTableModel()
    m.set_rows(_table(), np.array([2, 0]), [ColumnSpec.for_field("rank"), *COLUMNS],
               extra={"rank": np.array([1.0, 2.0])})
    assert m.data(m.index(0, 0)) == "1" and m.symbol_at(1) == "ZZZ"
    assert m.row_of("ZZZ") == 1 and m.row_of("AAA") == -1
    assert m.headerData(3, Qt.Orientation.Horizontal) == "Market cap"
    assert "Equity market value" in m.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(m)  # type: ignore[attr-defined]


def test_formatting_is_cached_per_table() -> None:
    table = _table()
    spec = ColumnSpec.for_field("market_cap")
    assert table.text(spec) is table.text(spec)


def test_stale_cells_print_their_year_and_suspect_cells_a_mark() -> None:
    # Issue #12: a stale value is shown greyed with the year it describes, a suspect one flagged.
    idx = pd.Index(["OLD", "ODD", "NEW", "NOY"], name="symbol")
    values = pd.DataFrame({"fcf_yield": [0.083, 4.55, 0.05, 0.07]}, index=idx)
    status = pd.DataFrame({"fcf_yield": [3, 4, 0, 3]}, index=idx, dtype="int8")
    ends = pd.DataFrame({"fcf_yield": pd.to_datetime(["2021-12-31", "2024-12-31", "2025-06-30", None])},
                        index=idx)
    table = FormattedTable(values, status, {}, ends.iloc[::-1])  # aligned by symbol, not by position
    text = list(table.text(ColumnSpec.for_field("fcf_yield")))
    assert text == ["8.3 % (2021)", "⚠ 455.0 %", "5.0 %", "7.0 % (stale)"]
    model = ResultsTableModel()
    model.set_rows(table, np.arange(4), [ColumnSpec.for_field("fcf_yield")], {})
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is not None  # muted
    assert model.data(model.index(0, 0), RawValueRole) == pytest.approx(0.083)  # sorts on the number


def test_columns_fit_their_header_and_longest_text(qtbot: object) -> None:
    # Widths come from the preformatted texts (not Qt's per-cell measuring, issue #17): no text
    # is cut short, a short column is as wide as its header, a very long one stops at 260 px.
    from desktop.ui.results_view import ResultsView

    values = pd.DataFrame({"name": ["A", "Extraordinarily Long Holdings Corporation of America", "Mid Ltd"],
                           "market_cap": [2.1e9, 3.0e8, 5.0e8]},
                          index=pd.Index(["A", "BB", "CCC"], name="symbol"))
    status = pd.DataFrame({"market_cap": [0, 0, 0]}, index=values.index, dtype="int8")
    table = FormattedTable(values, status, {})
    view = ResultsView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    model = ResultsTableModel()
    view.setModel(model)
    model.set_rows(table, np.arange(3), [ColumnSpec.for_field(n) for n in ("symbol", "name", "market_cap")])
    header, metrics = view.horizontalHeader(), view.fontMetrics()
    for c in range(model.columnCount()):
        texts = [str(model.data(model.index(r, c))) for r in range(model.rowCount())]
        needed = max(metrics.horizontalAdvance(t) for t in texts)
        assert header.sectionSize(c) >= min(needed, 250), (c, header.sectionSize(c), needed)
        assert header.sectionSize(c) >= header.sectionSizeHint(c) or header.sectionSize(c) == 260
        assert 56 <= header.sectionSize(c) <= 260
    assert header.sectionSize(1) == 260  # the long name is cut at the cap
    assert model.longest_texts(1, 1) == ["Extraordinarily Long Holdings Corporation of America"]


def test_a_header_sort_keeps_the_selection_and_scrolls_it_into_view(qtbot: object) -> None:
    # After a click on a header the selected rows moved but the scroll position did not: the
    # selection ended up off screen. It stays selected and the current one is scrolled into view,
    # vertically only (the clicked column stays where it was).
    from PySide6.QtCore import QPoint

    from desktop.ui.results_view import ResultsView

    n = 200
    symbols = [f"S{i:03d}" for i in range(n)]
    fields = ("market_cap", "revenue", "ebitda", "ebit", "cash", "total_debt", "total_equity", "fcf_yield")
    values = pd.DataFrame({f: np.arange(n, dtype=float) + k for k, f in enumerate(fields)},
                          index=pd.Index(symbols, name="symbol"))
    table = FormattedTable(values, pd.DataFrame(index=values.index), {})
    view = ResultsView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    model = ResultsTableModel()
    view.setModel(model)
    model.set_rows(table, np.arange(n), [ColumnSpec.for_field(f) for f in ("symbol", *fields)])
    view.resize(360, 300)
    view.show()
    qtbot.waitExposed(view)  # type: ignore[attr-defined]
    hbar, vbar = view.horizontalScrollBar(), view.verticalScrollBar()
    assert hbar.maximum() > 0 and vbar.maximum() > 0
    view.select_symbols(["S001", "S003"])  # near the top, in view
    hbar.setValue(hbar.maximum())  # the last column is in sight, the first is not
    h_before, v_before = hbar.value(), vbar.value()
    assert v_before == 0

    def visible(symbol: str) -> bool:
        rect = view.visualRect(model.index(model.row_of(symbol), 0))
        return 0 <= rect.top() and rect.bottom() <= view.viewport().height()

    header = view.horizontalHeader()
    last = model.columnCount() - 1
    click = QPoint(header.sectionViewportPosition(last) + header.sectionSize(last) // 2, header.height() // 2)
    for _ in range(2):  # ascending first (the rows stay), then descending: S001 near the bottom
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=click)  # type: ignore[attr-defined]
    assert header.sortIndicatorSection() == last and header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert model.row_of("S001") == n - 2
    assert view.selected_symbols() == ["S003", "S001"]  # both still selected, in view order
    assert view.currentIndex().row() == model.row_of("S001")
    assert vbar.value() > v_before and visible("S001")
    assert hbar.value() == h_before
