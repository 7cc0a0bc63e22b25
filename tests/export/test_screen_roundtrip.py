"""Every screen shape survives export and import exactly: presets, groups, not, percentiles, scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desktop.engine.screen import parse_screen, screen_to_dict
from desktop.export.excel import read_screen_definition, write_workbook
from desktop.export.screen_sheet import logic_words
from desktop.services import library
from desktop.services.exporting import export_input
from tests.export.conftest import make_outcome

SHAPES: dict[str, dict[str, Any]] = {
    "no criteria": {"version": 1, "name": "Everything", "universe": "all", "criteria": []},
    "match any": {"version": 1, "name": "Any", "match": "any", "criteria": [
        {"field": "sector", "any_of": ["Energy"]}, {"field": "interest_coverage", "min": 9}]},
    "not and percentile": {"version": 1, "name": "Not", "criteria": [
        {"not": {"field": "sector", "any_of": ["Healthcare"]}},
        {"field": "fcf_yield", "percentile_min": 20, "within": "universe"},
        {"field": "ocf_positive", "is": True, "missing": "fail"}],
        "score": {"weights": {"fcf_yield": 2, "net_debt_to_ebitda": -1}}},
    "nested": {"version": 1, "name": "Nested ünïcode ✓", "criteria": [
        {"all": [{"any": [{"field": "market_cap", "min": 1e8, "max": 5e9},
                          {"not": {"field": "themes", "none_of": ["semiconductors"]}}]},
                 {"field": "price", "min": 1}]}]},
}


@pytest.mark.parametrize("name", [*SHAPES, *library.presets()])
def test_screen_comes_back_exactly(tmp_path: Path, name: str) -> None:
    doc = SHAPES.get(name) or library.presets()[name]
    screen = parse_screen(doc)
    outcome = make_outcome(screen=screen_to_dict(screen))
    data = export_input(outcome)
    path = write_workbook(tmp_path / "s.xlsx", data)
    restored = read_screen_definition(path)
    assert restored == screen_to_dict(screen)
    assert parse_screen(restored) == screen
    wb = load_workbook(path)
    assert wb["Shortlist"].max_row == max(len(outcome.result.ranked) + 1, 3 if not len(outcome.result.ranked) else 0)
    why = [c.value for c in wb["Why"][1]]
    assert why[6::2] == [f"{c.id}: {c.description}" for c in data.criteria]
    assert [c.id for c in data.criteria] == [leaf.id for leaf in screen.leaves()]


def test_logic_words_follow_the_engine_ids() -> None:
    screen = parse_screen(SHAPES["nested"])
    assert [leaf.id for leaf in screen.leaves()] == ["c1", "c2", "c3"]
    assert logic_words(SHAPES["nested"]) == "(c1 or not c2) and c3"
    assert logic_words(SHAPES["match any"]) == "c1 or c2"
    assert logic_words(SHAPES["no criteria"]).startswith("no criteria")
