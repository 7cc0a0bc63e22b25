"""The screen builder edits the screen document: round trips, typed bounds, groups, funnel labels."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.engine.screen import parse_screen, screen_to_dict
from desktop.ui.screen_builder import CriterionRow, GroupWidget, ScreenBuilderWidget, quantity_text

DOC: dict[str, Any] = {
    "version": 1, "name": "Mixed", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "market_cap", "min": 3e8, "max": 2e9},
        {"field": "sector", "none_of": ["Real Estate"], "missing": "pass"},
        {"any": [{"field": "fcf_positive", "is": True, "stale": "use"},
                 {"field": "cash_runway_months", "min": 24.0, "suspect": "fail"}]},
        {"not": {"field": "zombie", "is": True}},
        {"field": "interest_coverage", "percentile_min": 60.0, "within": "sector", "not_meaningful": "unknown"},
    ],
    "columns": ["fcf_yield"],
}


@pytest.fixture
def builder(qtbot: Any) -> ScreenBuilderWidget:
    widget = ScreenBuilderWidget()
    qtbot.addWidget(widget)
    widget.set_choice_provider(lambda field: ["Technology", "Real Estate", "Energy"] if field == "sector" else [])
    widget.set_document(DOC)
    return widget


def test_document_round_trips_through_the_editors(builder: ScreenBuilderWidget) -> None:
    assert screen_to_dict(parse_screen(builder.document())) == screen_to_dict(parse_screen(DOC))


def test_leaves_are_numbered_like_the_engine(builder: ScreenBuilderWidget) -> None:
    fields = [row.field_name for row in builder.leaves()]
    assert fields == [c.field for c in parse_screen(DOC).leaves()]
    builder.set_funnel({"c1": (5, 100), "c3": (0, 90)})
    rows = builder.leaves()
    assert rows[0].funnel.text() == "removes 5"
    assert rows[2].funnel.text() == "removes 0"
    assert rows[1].funnel.text() == ""


@pytest.mark.parametrize(("typed", "expected"), [("300M", 3e8), ("2B", 2e9), ("1.5k", 1500.0), ("", None)])
def test_min_editor_reads_quantities_and_announces_the_change(qtbot: Any, builder: ScreenBuilderWidget,
                                                               typed: str, expected: float | None) -> None:
    row = builder.leaves()[0]
    row.min_edit.clear()
    with qtbot.waitSignal(builder.screen_changed):
        qtbot.keyClicks(row.min_edit, typed) if typed else row.min_edit.textEdited.emit("")
    assert builder.document()["criteria"][0].get("min") == expected


def test_percent_for_a_fraction_field(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    row = builder.add_criterion("fcf_yield")
    with qtbot.waitSignal(builder.screen_changed):
        qtbot.keyClicks(row.min_edit, "15%")
    assert builder.document()["criteria"][-1]["min"] == pytest.approx(0.15)
    assert quantity_text(0.15, "fraction") == "15%"


def test_garbage_is_flagged_and_not_applied(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    row = builder.leaves()[0]
    row.min_edit.clear()
    with qtbot.assertNotEmitted(builder.screen_changed, wait=50):
        qtbot.keyClicks(row.min_edit, "lots")
    assert row.min_edit.property("invalid") is True
    assert builder.document()["criteria"][0]["min"] == 3e8  # the last valid value stays


def test_changing_the_field_rebuilds_the_editors(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    row = builder.leaves()[0]
    index = row.picker.findData("industry", Qt.ItemDataRole.UserRole)
    with qtbot.waitSignal(builder.screen_changed):
        row.picker.setCurrentIndex(index)
        row.picker.activated.emit(index)
    assert row.kind == "set" and row.values.isVisibleTo(row)
    assert builder.document()["criteria"][0] == {"field": "industry", "any_of": [], "missing": "unknown"}


def test_remove_and_add_rows(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    first = builder.leaves()[0]
    first.activated.emit(first)
    assert builder.current_row() is first
    with qtbot.waitSignal(builder.screen_changed):
        builder.remove_current()
    assert len(builder.document()["criteria"]) == 4
    with qtbot.waitSignal(builder.screen_changed):
        builder.add_criterion("debt_to_equity")
    assert builder.document()["criteria"][-1]["field"] == "debt_to_equity"


def test_groups_change_kind(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    assert builder.root is not None
    group = next(w for w in builder.root.children_widgets() if isinstance(w, GroupWidget))
    with qtbot.waitSignal(builder.screen_changed):
        group.kind.setCurrentIndex(group.kind.findData("not"))
    doc = builder.document()["criteria"][2]
    assert doc == {"not": {"any": [{"field": "fcf_positive", "is": True, "missing": "unknown", "stale": "use"},
                                   {"field": "cash_runway_months", "min": 24.0, "missing": "unknown",
                                    "suspect": "fail"}]}}


def test_histogram_bounds_land_in_the_row(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    row: CriterionRow = builder.leaves()[0]
    with qtbot.waitSignal(builder.screen_changed):
        row.set_bounds(5e8, None)
    assert builder.document()["criteria"][0] == {"field": "market_cap", "min": 5e8, "missing": "unknown"}
    assert row.min_edit.text() == "500M"


def test_stale_and_suspect_policies_are_edited_per_criterion(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    # Issue #12: each numeric or flag criterion says what a missing, stale or suspect value does.
    rows = builder.leaves()
    assert rows[2].policies.policy("stale") == "use" and rows[3].policies.policy("suspect") == "fail"
    assert rows[2].policies.text() == "stale used"
    assert rows[0].policies.text() == "missing, stale, suspect: unknown"
    assert rows[1].policies.text() == "missing passes"  # a sector criterion has no stale / suspect states
    assert not rows[1].policies._actions["stale"]["fail"].isVisible()
    with qtbot.waitSignal(builder.screen_changed):
        rows[0].policies._actions["stale"]["fail"].trigger()
    assert builder.document()["criteria"][0]["stale"] == "fail"
    assert parse_screen(builder.document()).leaves()[0].stale == "fail"
    with qtbot.waitSignal(builder.screen_changed):
        rows[0].policies._actions["stale"]["unknown"].trigger()
    assert "stale" not in builder.document()["criteria"][0]  # the default is not written
    # Changing the field keeps the row's policies.
    rows[0].policies.set_policy("suspect", "pass")
    rows[0]._change_field("fcf_yield")
    assert builder.leaves()[0].to_dict()["suspect"] == "pass"


def test_field_pickers_show_how_many_members_have_a_value(builder: ScreenBuilderWidget) -> None:
    # Issue #12: a user sees at once that a field is empty in this snapshot.
    from desktop.engine.coverage import FieldCoverage

    builder.set_coverage({"market_cap": FieldCoverage(1914, 1800, stale=10), "fcf_yield": FieldCoverage(1914, 0)})
    row = builder.leaves()[0]
    assert "1,810 of 1,914 stocks have a value (10 stale)" in row.picker.toolTip()
    delegate = row.picker.view().itemDelegate()
    model = row.picker.model()
    shown = {str(model.index(i, 0).data(Qt.ItemDataRole.UserRole)): delegate._of(model.index(i, 0))
             for i in range(model.rowCount())}
    assert shown["market_cap"].short() == "1,810 of 1,914" and shown["fcf_yield"].short() == "0 of 1,914"
    assert shown["interest_coverage"] is None  # no coverage known: nothing drawn
    new = builder.add_criterion("fcf_yield")  # rows added later see the same coverage
    assert "0 of 1,914 stocks have a value" in new.picker.toolTip()


def test_field_pickers_share_the_catalogue_but_keep_their_own_rows(qtbot: Any, builder: ScreenBuilderWidget) -> None:
    # Issue #17: one catalogue model for every picker; a picker's own rows stay its own.
    from desktop.ui.screen_builder import FieldPicker

    first, second = FieldPicker(), FieldPicker()
    for picker in (first, second):
        qtbot.addWidget(picker)
    catalogue = first.model().sourceModels()[0]
    assert second.model().sourceModels()[0] is catalogue
    assert first.count() == second.count() == catalogue.rowCount() > 100
    first.set_field_name("a_field_from_the_future")
    assert first.field_name() == "a_field_from_the_future" and first.count() == catalogue.rowCount() + 1
    assert second.count() == catalogue.rowCount() and second.findData("a_field_from_the_future") < 0
    second.set_field_name("market_cap")
    assert second.field_name() == "market_cap" and first.field_name() == "a_field_from_the_future"


def test_a_field_pickers_search_list_shows_coverage_once_it_has_focus(qtbot: Any,
                                                                     builder: ScreenBuilderWidget) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent
    from PySide6.QtWidgets import QApplication

    from desktop.engine.coverage import FieldCoverage

    builder.set_coverage({"market_cap": FieldCoverage(1914, 1800)})
    row = builder.leaves()[0]
    popup = row.picker.completer().popup()
    assert popup.itemDelegate() is not row.picker.view().itemDelegate()  # not dressed until needed
    QApplication.sendEvent(row.picker, QFocusEvent(QEvent.Type.FocusIn))  # what focusing it delivers
    assert popup.itemDelegate() is row.picker.view().itemDelegate()
    assert popup.minimumWidth() == row.picker.view().minimumWidth() > 200
