"""Print setup (issue #17): landscape, one page wide, the header row on every page, a page header
naming the screen, the sheet and the data date, and page numbers - on every sheet that prints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desktop.export.content import ExportInput
from desktop.export.excel import SHEETS, write_workbook
from desktop.export.screen_sheet import MARKER


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory, run_input: ExportInput) -> Any:
    return load_workbook(write_workbook(tmp_path_factory.mktemp("print") / "p.xlsx", run_input))


@pytest.mark.parametrize("title", SHEETS)
def test_every_sheet_prints_one_page_wide_with_a_title(workbook: Any, title: str) -> None:
    ws = workbook[title]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)  # as many pages down as needed
    assert ws.page_setup.orientation == ("portrait" if title == "Summary" else "landscape")
    # "&" starts a code in a page header: the screen "Cash & =risk" is written with "&&"
    assert ws.oddHeader.left.text == "Pickaxe: Cash && =risk"
    assert ws.oddHeader.center.text == title
    assert ws.oddHeader.right.text == "data as of 2026-05-05"
    assert ws.oddFooter.left.text.startswith("snapshot 3, exported ")
    assert ws.oddFooter.right.text == "Page &P of &N"


@pytest.mark.parametrize(("title", "repeated"), [("Shortlist", True), ("Why", True), ("Near misses", True),
                                                 ("Screen", False), ("Provenance", False), ("Summary", False)])
def test_tables_repeat_their_header_row_on_every_page(workbook: Any, title: str, repeated: bool) -> None:
    assert workbook[title].print_title_rows == ("$1:$1" if repeated else None)


def test_the_screen_prints_in_words_without_its_json(workbook: Any) -> None:
    ws = workbook["Screen"]
    marker = next(c.row for c in ws["A"] if c.value == MARKER)
    assert ws.print_area == f"'Screen'!$A$1:$G${marker - 2}"  # up to the criteria, not the note nor the JSON
    assert ws.cell(marker - 1, 1).value.startswith("Screen definition (JSON)")


def test_page_header_text_is_made_safe(tmp_path: Path, run_input: ExportInput) -> None:
    data = replace(run_input, screen_name="A & B\r\n" + "x" * 200)
    ws = load_workbook(write_workbook(tmp_path / "h.xlsx", data))["Shortlist"]
    text = ws.oddHeader.left.text
    assert text.startswith("Pickaxe: A && B  x") and text.endswith("…")
    assert "\n" not in text and "\r" not in text and len(text.replace("&&", "&")) == 80


def test_a_long_shortlist_is_one_page_wide(tmp_path: Path) -> None:
    from tests.export.conftest import make_input

    ws = load_workbook(write_workbook(tmp_path / "long.xlsx", make_input(n_extra=300)))["Shortlist"]
    assert ws.max_row == 305 and ws.print_title_rows == "$1:$1"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)


def test_long_screen_facts_get_rows_tall_enough(workbook: Any) -> None:
    ws = workbook["Screen"]
    columns = next(c.row for c in ws["A"] if c.value == "Columns")
    text = ws.cell(columns, 2).value
    assert len(text) > 132 and ws.cell(columns, 2).alignment.wrap_text
    assert ws.row_dimensions[columns].height == 15 * 3  # three wrapped lines, not one overlapping the next
    assert ws.row_dimensions[columns - 1].height is None  # a short fact keeps the default height


def test_provenance_wraps_long_text_in_rows_tall_enough(workbook: Any) -> None:
    ws = workbook["Provenance"]
    legend = next(c.row for c in ws["A"] if c.value and str(c.value).startswith("Each value on the Shortlist"))
    assert f"A{legend}:H{legend}" in {str(r) for r in ws.merged_cells.ranges}  # spans the sheet's width
    assert ws.cell(legend, 1).alignment.wrap_text and ws.row_dimensions[legend].height >= 30
    widths = [ws.column_dimensions[letter].width for letter in "ABCDEFGH"]
    assert sum(widths) < 240  # one landscape page at a readable scale
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment.wrap_text and cell.column <= len(widths) \
                    and len(cell.value) > 1.2 * widths[cell.column - 1] \
                    and not any(cell.coordinate in merged for merged in ws.merged_cells.ranges):  # > 1 line
                assert (ws.row_dimensions[cell.row].height or 15) > 15, (cell.coordinate, cell.value)
