"""Reading a screen back from a workbook: committed exports keep importing, hostile ones are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.errors import ScreenDefinitionError
from desktop.export.excel import read_screen_definition

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "data_files" / "export"
HOSTILE = ROOT / "hostile" / "workbooks"


@pytest.mark.parametrize("name", ["shortlist_v1", "long_screen_v1"])
def test_committed_exports_still_import(name: str) -> None:
    expected = json.loads((GOOD / f"{name}.json").read_text(encoding="utf-8"))
    assert read_screen_definition(GOOD / f"{name}.xlsx") == expected


@pytest.mark.parametrize(("name", "message", "where"), [
    ("missing_screen_sheet.xlsx", "has no 'Screen' sheet", None),
    ("plain_workbook.xlsx", "has no 'Screen' sheet", None),
    ("not_a_workbook.xlsx", "not a readable Excel workbook", None),
    ("tampered_json.xlsx", "changed after export", "Screen!A"),
    ("broken_json.xlsx", "screen JSON is damaged", "Screen!A"),
    ("formula_in_json.xlsx", "holds a formula", "Screen!A"),
    ("huge_cell.xlsx", "longer than 30000 characters", "Screen!A"),
    ("huge_row_count.xlsx", "number of JSON rows", "Screen!B"),
    ("cut_short.xlsx", "cut short", "Screen!A"),
    ("newer_format.xlsx", "newer format", "Screen!A"),
    ("no_marker.xlsx", "holds no screen definition", "Screen"),
    ("json_not_object.xlsx", "not an object", "Screen!A"),
])
def test_hostile_workbooks_are_refused_clearly(name: str, message: str, where: str | None) -> None:
    path = HOSTILE / name
    with pytest.raises(ScreenDefinitionError) as info:
        read_screen_definition(path)
    error = info.value
    assert message in str(error)
    assert str(path) in str(error)  # the message names the file ...
    if where:
        assert error.field is not None and error.field.startswith(where)  # ... and the cell


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScreenDefinitionError, match="does not exist"):
        read_screen_definition(tmp_path / "nope.xlsx")


def test_oversized_file_is_not_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.export import screen_sheet

    monkeypatch.setattr(screen_sheet, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ScreenDefinitionError, match="larger than"):
        read_screen_definition(GOOD / "shortlist_v1.xlsx")
