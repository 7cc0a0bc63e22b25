"""The fast row writer (desktop.export.xlsx_writer) writes the very bytes openpyxl writes.

Every part of the package is compared with ``Workbook.save`` of the same workbook, except
``docProps/core.xml`` (it holds the save time). The hand-made sheet holds every kind of cell the
writer has a path for, and the ones it hands back to openpyxl (formulas, rich text).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from desktop.export import excel
from desktop.export.content import ExportInput
from desktop.export.xlsx_writer import save_workbook

TEXTS = [
    "plain", "", " leading space", "trailing space ", "a & b < c > d", "line\r\nbreak", "tab\tinside",
    "Société Générale", "emoji 😀 and CJK 日本", "\u2028 separator", "quote \" and ' apostrophe",
    "]]> not CDATA", "#N/A", "=1+1 guarded", "\x7f\x80 high controls", "€" * 300,
]
NUMBERS = [0, 1, -1, 0.1 + 0.2, 1e-300, 1.7976931348623157e308, 2**53 + 1, 12345678901234567890,
           float("nan"), float("inf"), float("-inf"), -0.0, 3.25]


def differing_parts(a: Path, b: Path) -> list[str]:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        return [n for n in za.namelist() if n != "docProps/core.xml" and za.read(n) != zb.read(n)]


def edge_workbook() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "Edges"
    bold = Font(bold=True)
    fill = PatternFill("solid", start_color="FFC6EFCE", end_color="FFC6EFCE")
    for col, text in enumerate(TEXTS, start=1):
        ws.cell(1, col, text)
        cell = ws.cell(2, col, text)
        cell.font = bold
        if text.startswith("="):
            cell.data_type = "s"
            cell.quotePrefix = True
    for col, number in enumerate(NUMBERS, start=1):
        ws.cell(3, col, number).number_format = "#,##0.0"
        ws.cell(4, col, number)
    ws.append([True, False, date(2024, 2, 29), datetime(2026, 5, 6, 9, 30), time(13, 5), None, "", 7])
    ws["F5"].fill = fill  # a styled empty cell is written, an unstyled one is not
    ws.row_dimensions[5].height = 33
    ws.row_dimensions[40].height = 20  # an empty row with a height
    ws.append(["linked", "noted"])
    ws["A6"].hyperlink = "https://finance.yahoo.com/quote/A&B?x=<1>"
    ws["B6"].comment = Comment("why n.m.", "Pickaxe")
    ws["C6"].alignment = Alignment(wrap_text=True)
    ws.append(["formula row", "=SUM(C3:D3)"])  # formulas are openpyxl's to write
    ws.append(["rich row", CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"))])
    ws.append([None, None, "after gaps"])
    ws.cell(1, 200, "far column")
    other = wb.create_sheet("Second")
    other.append(["x", 1])
    return wb


def test_edge_cells_are_written_byte_for_byte_like_openpyxl(tmp_path: Path) -> None:
    edge_workbook().save(tmp_path / "openpyxl.xlsx")
    save_workbook(edge_workbook(), tmp_path / "fast.xlsx")
    assert differing_parts(tmp_path / "openpyxl.xlsx", tmp_path / "fast.xlsx") == []


def test_edge_workbook_reads_back(tmp_path: Path) -> None:
    save_workbook(edge_workbook(), tmp_path / "fast.xlsx")
    ws = load_workbook(tmp_path / "fast.xlsx", rich_text=True)["Edges"]
    assert [ws.cell(1, c).value for c in range(1, len(TEXTS) + 1)] == [t or None for t in TEXTS]
    assert ws["B1"].value is None and ws["C1"].value == " leading space" and ws["E1"].value == "a & b < c > d"
    assert ws["F1"].value == "line\r\nbreak" and ws["I1"].value == "emoji 😀 and CJK 日本"
    assert ws["M2"].value == "#N/A" and ws["M2"].data_type == "e"  # as openpyxl binds error codes
    assert ws["N2"].value == "=1+1 guarded" and ws["N2"].data_type == "s" and ws["N2"].quotePrefix
    assert ws["D3"].value == pytest.approx(0.3) and ws["D3"].number_format == "#,##0.0"
    assert ws["H4"].value == 12345678901234567890 or ws["H4"].value == pytest.approx(1.2345678901234567e19)
    assert ws["A5"].value is True and ws["C5"].value == datetime(2024, 2, 29)
    assert ws["A6"].hyperlink.target == "https://finance.yahoo.com/quote/A&B?x=<1>"
    assert ws["B6"].comment.text == "why n.m."
    assert ws["B7"].value == "=SUM(C3:D3)" and ws["B7"].data_type == "f"
    assert str(ws["B8"].value) == "plain bold"
    assert ws.cell(1, 200).value == "far column"


@pytest.mark.parametrize("bad", ["\ud800 lone surrogate", "not a char \uffff"])
def test_text_xml_cannot_hold_fails_like_openpyxl(tmp_path: Path, bad: str) -> None:
    def book() -> Workbook:
        wb = Workbook()
        wb.active.append(["fine", bad])
        return wb

    with pytest.raises(ValueError):
        book().save(tmp_path / "openpyxl.xlsx")
    with pytest.raises(ValueError):
        save_workbook(book(), tmp_path / "fast.xlsx")


def test_export_is_the_workbook_openpyxl_would_save(tmp_path: Path, run_input: ExportInput,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Two exports of the same run, since saving changes a workbook (openpyxl fills in defaults).
    with monkeypatch.context() as patch:
        patch.setattr(excel, "save_workbook", lambda workbook, path: workbook.save(path))
        excel.write_workbook(tmp_path / "openpyxl.xlsx", run_input)
    target = excel.write_workbook(tmp_path / "fast.xlsx", run_input)
    assert differing_parts(tmp_path / "openpyxl.xlsx", target) == []


def test_write_only_workbooks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="write-only"):
        save_workbook(Workbook(write_only=True), tmp_path / "x.xlsx")
